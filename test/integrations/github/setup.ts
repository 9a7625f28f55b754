import type { Logger } from '../../../handlers/ports';
import { fromConfig, type GitHubAuth, type GitHubCodeHost, type GitHubTiming } from '../../../bot/integrations/github';
import { FAKE_GITHUB_TOKEN, FakeGitHub, type FakeGitHubOptions } from '../../fakes/github';

/** Real-time waits shrunk to milliseconds: a "60 s" retry-after costs 60 ms here. */
export const FAST: Partial<GitHubTiming> = { secondMs: 1, writeSpacingMs: 0, notifyingWriteSpacingMs: 0, requestTimeoutMs: 5000 };

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message?: string;
}

/** A Logger that keeps every line, bindings included, so tests can read what was logged. */
export function recordingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: LogLine['level']) => (obj: object, message?: string) => lines.push({ level, fields: { ...bindings, ...obj }, message });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => make({ ...bindings, ...more }) };
  };
  return { log: make({}), lines };
}

export interface GitHubRig {
  fake: FakeGitHub;
  host: GitHubCodeHost;
  lines: LogLine[];
  /** Another adapter on the same fake, e.g. with other credentials or another repository name. */
  hostWith(overrides: { apiUrl?: string; auth?: GitHubAuth; repo?: string; timing?: Partial<GitHubTiming> }): GitHubCodeHost;
}

export async function startGitHub(options: FakeGitHubOptions = {}): Promise<GitHubRig> {
  const fake = await FakeGitHub.start(options);
  const { log, lines } = recordingLogger();
  const hostWith: GitHubRig['hostWith'] = (overrides) =>
    fromConfig(
      {
        apiUrl: overrides.apiUrl ?? fake.url,
        owner: fake.owner,
        repo: overrides.repo ?? fake.repo,
        auth: overrides.auth ?? { kind: 'token', token: FAKE_GITHUB_TOKEN },
      },
      { log, timing: { ...FAST, ...overrides.timing } },
    );
  return { fake, host: hostWith({}), lines, hostWith };
}
