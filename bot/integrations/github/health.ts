import type { HealthProbe } from '../../../handlers/ports';
import { healthProbe } from '../../health';
import { createGitHubClient, type GitHubConfig, type GitHubDeps } from './client';
import { translateGitHubError } from './errors';

/**
 * Whether GitHub answers Cockpit's credentials on the infra repository, for /cockpit status: one read of the
 * repository (no retries, a short timeout), its answer reused for a while. The answer also tells how much of the
 * hour's API quota is left, which is what runs out first on a busy day.
 */
export function githubHealth(config: GitHubConfig, deps: GitHubDeps & { now?: () => number; timeoutMs?: number; cacheMs?: number } = {}): HealthProbe {
  const timeoutMs = deps.timeoutMs ?? 5_000;
  const client = createGitHubClient(config, { ...deps, timing: { ...deps.timing, retries: 0, rateLimitRetries: 0, requestTimeoutMs: timeoutMs } });
  const repository = `${config.owner}/${config.repo}`;
  return healthProbe(
    async () => {
      try {
        const { headers } = await client.rest.repos.get({ owner: config.owner, repo: config.repo });
        const left = headers['x-ratelimit-remaining'];
        return left === undefined ? `${repository} readable` : `${repository} readable, ${left} API calls left this hour`;
      } catch (err) {
        const translated = translateGitHubError(err, { repository, action: 'read the repository', permission: 'metadata: read', notFound: `GitHub repository ${repository} not found` }, false);
        throw translated instanceof Error ? translated : new Error(String(translated));
      }
    },
    { timeoutMs, cacheMs: deps.cacheMs ?? 30_000, now: deps.now ?? Date.now },
  );
}
