import { Octokit } from '@octokit/rest';
import { throttling } from '@octokit/plugin-throttling';
import { retry } from '@octokit/plugin-retry';
import { createAppAuth } from '@octokit/auth-app';
import Bottleneck from 'bottleneck';
import type { Logger } from '../../../handlers/ports';

/** How Cockpit authenticates to GitHub: a token (fine-grained PAT) or a GitHub App installation. */
export type GitHubAuth =
  | { kind: 'token'; token: string }
  | { kind: 'app'; appId: string; privateKey: string; installationId: number };

export interface GitHubConfig {
  /** REST API root: `https://api.github.com`, or `https://<host>/api/v3` on GitHub Enterprise Server. */
  apiUrl: string;
  /** The infra repository's owner and name. */
  owner: string;
  repo: string;
  auth: GitHubAuth;
}

/** Timing of retries, rate-limit waits and write spacing; production uses the defaults, tests shrink them. */
export interface GitHubTiming {
  /** What one second of GitHub's `retry-after` / backoff is worth, in milliseconds (1000; a test passes 1). */
  secondMs: number;
  /** Least gap between two writes: GitHub asks integrations to wait a second between them. */
  writeSpacingMs: number;
  /** Least gap between two writes that notify people (new PR, comment): GitHub's secondary-limit guidance. */
  notifyingWriteSpacingMs: number;
  /** A request that has not answered by then is abandoned (and counts as GitHub being unreachable). */
  requestTimeoutMs: number;
  /** Retries of a 5xx or network failure, with backoff 1s, 4s, 9s… (never of a create: it may have happened). */
  retries: number;
  /** Retries after a rate-limit answer; more would keep a person waiting on a quota that is spent. */
  rateLimitRetries: number;
  /** A rate limit that resets later than this is reported at once instead of waited out. */
  maxRateLimitWaitSeconds: number;
}

export const DEFAULT_GITHUB_TIMING: GitHubTiming = {
  secondMs: 1000,
  writeSpacingMs: 1000,
  notifyingWriteSpacingMs: 3000,
  requestTimeoutMs: 30_000,
  retries: 2,
  rateLimitRetries: 1,
  maxRateLimitWaitSeconds: 60,
};

export interface GitHubDeps {
  log?: Logger;
  /** Reaches GitHub (or a fake of it); defaults to the global fetch. */
  fetch?: typeof fetch;
  timing?: Partial<GitHubTiming>;
}

const CockpitOctokit = Octokit.plugin(throttling, retry);
export type GitHubClient = InstanceType<typeof CockpitOctokit>;

/** The one Octokit the adapter uses: auth, throttling (spaced writes, bounded rate-limit waits), retries, timeouts. */
export function createGitHubClient(config: GitHubConfig, deps: GitHubDeps = {}): GitHubClient {
  const timing = { ...DEFAULT_GITHUB_TIMING, ...deps.timing };
  const log = (deps.log ?? silentLogger).child({ integration: 'github', repository: `${config.owner}/${config.repo}` });
  const baseFetch = deps.fetch ?? globalThis.fetch;
  const fetchWithTimeout: typeof fetch = (input, init) => {
    const timeout = AbortSignal.timeout(timing.requestTimeoutMs);
    return baseFetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  };

  const onLimit =
    (kind: 'primary' | 'secondary') =>
    (retryAfterSeconds: number, options: { method?: string; url?: string }, _octokit: unknown, retryCount: number): boolean => {
      const retrying = retryCount < timing.rateLimitRetries && retryAfterSeconds <= timing.maxRateLimitWaitSeconds;
      log.warn(
        { rateLimit: kind, method: options.method, route: options.url, retryAfterSeconds, attempt: retryCount + 1, retrying },
        retrying ? 'GitHub rate limit hit; retrying once it resets' : 'GitHub rate limit hit; giving up',
      );
      return retrying;
    };

  return new CockpitOctokit({
    baseUrl: config.apiUrl.replace(/\/+$/, ''),
    userAgent: 'cockpit',
    request: { fetch: fetchWithTimeout },
    log: octokitLog(log),
    ...(config.auth.kind === 'token'
      ? { auth: config.auth.token }
      : {
          authStrategy: createAppAuth,
          auth: { appId: config.auth.appId, privateKey: config.auth.privateKey, installationId: config.auth.installationId },
        }),
    throttle: {
      id: `${config.owner}/${config.repo}`,
      retryAfterBaseValue: timing.secondMs,
      // Groups of our own rather than the plugin's process-wide ones, so the spacing is ours to set.
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: timing.writeSpacingMs }),
      notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: timing.notifyingWriteSpacingMs }),
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
    },
    retry: {
      retries: timing.retries,
      retryAfterBaseValue: timing.secondMs,
      // 429 is the throttling plugin's to handle; retrying it here too would double the waits.
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
    },
  });
}

/**
 * Octokit's own log lines go to debug: it reports every failed request at error level, and most of those (a 404
 * that means "no such file", a 422 that means "already open") are answers the adapter handles. The adapter logs
 * the failures that matter, with context. Only the message is passed on: Octokit's extra arguments include the
 * request options, and no header should reach a log.
 */
function octokitLog(log: Logger) {
  return {
    debug: (message: string) => log.debug({ source: 'octokit' }, message),
    info: (message: string) => log.debug({ source: 'octokit' }, message),
    warn: (message: string) => log.warn({ source: 'octokit' }, message),
    error: (message: string) => log.debug({ source: 'octokit' }, message),
  };
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
