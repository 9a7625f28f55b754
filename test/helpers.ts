import { join } from 'node:path';
import type { CoreDeps } from '../bot/commands';
import { loadConfig, type Config } from '../bot/config';
import type { Store } from '../bot/store/connect';
import type { Clock } from '../handlers/ports';
import { FakeInfraEngine } from './fakes/pulumiEngine';
import { createLogger, type Logger } from '../bot/log';
import { loadTeamConfig } from '../bot/teamConfig';
import type { Team } from '../handlers/team';

/** The shipped example team file: tests run against what a newcomer runs. */
export function exampleTeam(): Team {
  return loadTeamConfig(join(__dirname, '..', 'cockpit.yml'));
}

/** Cockpit's own logger (same redaction) writing into memory, so tests can assert on what was logged. */
export function memoryLogger(level = 'debug'): { log: Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const log = createLogger({ level, destination: { write: (chunk: string) => void chunks.push(chunk) } });
  const text = () => chunks.join('');
  return {
    log,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Cockpit configured for Slack over HTTP against a fake Web API at `apiUrl`, on the in-memory store. */
export function slackTestConfig(apiUrl: string, secrets: { botToken: string; signingSecret: string }, env: NodeJS.ProcessEnv = {}): Config {
  return {
    ...loadConfig({
      SLACK_BOT_TOKEN: secrets.botToken,
      SLACK_SIGNING_SECRET: secrets.signingSecret,
      SLACK_API_URL: apiUrl,
      SLACK_BOT_ID: 'B0COCKPIT1',
      SLACK_BOT_USER_ID: 'U0COCKPIT1',
      ...env,
    }),
    // A free port picked by the OS: a test's own choice; the environment may not ask for it (PORT=0 is refused).
    port: 0,
    store: { kind: 'sqlite', file: ':memory:' },
  };
}

/** What CommandCore needs, from a store and the example team; tests override what they look at. */
export function coreDeps(store: Store, clock: Clock, overrides: Partial<CoreDeps> = {}): CoreDeps {
  return {
    team: exampleTeam(),
    audit: store.audit,
    locks: store.locks,
    store: store.probe,
    engine: new FakeInfraEngine(),
    environments: store.environments,
    clock,
    version: '1.0.0',
    ...overrides,
  };
}

/** A clock tests move by hand. */
export function manualClock(iso = '2026-11-25T12:00:00Z') {
  let now = new Date(iso).getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}
