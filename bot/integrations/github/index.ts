/** GitHub: the CodeHost port over Octokit, and the webhook checks the HTTP route uses. */
export { fromConfig, GitHubCodeHost } from './codeHost';
export { createGitHubClient, DEFAULT_GITHUB_TIMING } from './client';
export { githubHealth } from './health';
export type { GitHubAuth, GitHubClient, GitHubConfig, GitHubDeps, GitHubTiming } from './client';
export { parseGitHubEvent, printable, verifyGitHubSignature } from './webhooks';
export type { GitHubEventParse } from './webhooks';
