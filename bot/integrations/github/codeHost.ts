import type { CodeHost, Logger } from '../../../handlers/ports';
import type { BranchComparison, CommentRef, CommitState, CommitStatus, PullRequestDetails, PullRequestRef, PullRequestReview } from '../../../handlers/model/code';
import { NotFoundError } from '../../../handlers/errors';
import { createGitHubClient, type GitHubClient, type GitHubConfig, type GitHubDeps, silentLogger } from './client';
import { type GitHubCall, isGitHubRequestError, pullRequestConflict, translateGitHubError } from './errors';

/** GitHub's limits, in characters: longer text is refused with a 422, so it is cut to fit first. */
const MAX_BODY = 65536;
const MAX_TITLE = 256;
const MAX_STATUS_DESCRIPTION = 140;

/** Markers become `<!-- marker -->`: nothing that could close the HTML comment or break the first line. */
const MARKER = /^[A-Za-z0-9][A-Za-z0-9:._/-]{0,99}$/;

const REVIEW_STATES: ReadonlySet<PullRequestReview['state']> = new Set(['APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED', 'PENDING']);

/** The infra repository on GitHub, through Octokit. */
export class GitHubCodeHost implements CodeHost {
  private readonly repository: string;
  private ownLogin?: Promise<string>;

  constructor(
    private readonly client: () => GitHubClient,
    private readonly target: { owner: string; repo: string },
    private readonly log: Logger,
    private readonly auth: GitHubConfig['auth']['kind'],
  ) {
    this.repository = `${target.owner}/${target.repo}`;
  }

  /** Octokit and its plugins load on the first call, not at start-up: the console never needs them. */
  private get octokit(): GitHubClient {
    return this.client();
  }

  async compare(base: string, head: string): Promise<BranchComparison> {
    const { data } = await this.call(
      {
        action: `compare ${base} with ${head}`,
        permission: 'contents: read',
        notFound: `Branch ${base} or ${head} does not exist in ${this.repository}.`,
      },
      () => this.octokit.rest.repos.compareCommitsWithBasehead({ ...this.target, basehead: `${base}...${head}` }),
    );
    return {
      status: data.status,
      aheadBy: data.ahead_by,
      commits: data.commits.map((c) => ({
        sha: c.sha,
        message: c.commit.message,
        author: c.author?.login ?? c.commit.author?.name ?? 'unknown',
      })),
      files: (data.files ?? []).map((f) => ({ filename: f.filename, status: f.status })),
      htmlUrl: data.html_url,
    };
  }

  async findOpenPullRequest(base: string, head: string): Promise<PullRequestRef | undefined> {
    const { data } = await this.call(
      { action: `look for an open pull request from ${head} into ${base}`, permission: 'pull_requests: read', notFound: `${this.repository} has no pull requests to list.` },
      // GitHub filters by head only in `owner:branch` form; a bare branch name would be ignored and match every PR.
      () => this.octokit.rest.pulls.list({ ...this.target, state: 'open', base, head: `${this.target.owner}:${head}`, per_page: 1 }),
    );
    const pr = data[0];
    return pr && { number: pr.number, htmlUrl: pr.html_url, title: pr.title, headSha: pr.head.sha };
  }

  async openPullRequest(request: { base: string; head: string; title: string; body: string }): Promise<PullRequestRef> {
    const { base, head } = request;
    const { data } = await this.call(
      {
        action: `open a pull request from ${head} into ${base}`,
        permission: 'pull_requests: write',
        notFound: `Branch ${base} or ${head} does not exist in ${this.repository}.`,
        onValidationFailed: pullRequestConflict(base, head),
      },
      () =>
        this.octokit.rest.pulls.create({
          ...this.target,
          base,
          head,
          title: fitLine(request.title, MAX_TITLE),
          body: fitBody(request.body),
          // A create is not idempotent: after a timeout the PR may exist, and a retry would answer "already exists".
          request: { retries: 0 },
        }),
    );
    return { number: data.number, htmlUrl: data.html_url, title: data.title, headSha: data.head.sha };
  }

  async updatePullRequest(number: number, update: { title: string; body: string }): Promise<PullRequestRef> {
    const { data } = await this.call(
      { action: `update pull request #${number}`, permission: 'pull_requests: write', notFound: `Pull request #${number} does not exist in ${this.repository}.` },
      () => this.octokit.rest.pulls.update({ ...this.target, pull_number: number, title: fitLine(update.title, MAX_TITLE), body: fitBody(update.body) }),
    );
    return { number: data.number, htmlUrl: data.html_url, title: data.title, headSha: data.head.sha };
  }

  async readFile(path: string, ref: string): Promise<string | undefined> {
    const call: GitHubCall = {
      repository: this.repository,
      action: `read ${path} at ${ref}`,
      permission: 'contents: read',
      notFound: `No branch or commit ${ref} in ${this.repository}.`,
    };
    let data: unknown;
    try {
      // The raw media type returns the file itself, and works up to 100 MB where the JSON form stops at 1 MB.
      ({ data } = await this.octokit.rest.repos.getContent({ ...this.target, path, ref, mediaType: { format: 'raw' } }));
    } catch (err) {
      if (isGitHubRequestError(err) && err.status === 404) {
        const missingRef = /no commit found for the ref/i.test(JSON.stringify(err.response?.data ?? ''));
        const visible = await this.repositoryVisible();
        if (visible && !missingRef) return undefined;
        throw this.failed(err, call, visible);
      }
      throw this.failed(err, call);
    }
    if (typeof data !== 'string') throw new NotFoundError(`${path} at ${ref} in ${this.repository} is a directory, not a file.`);
    return data;
  }

  async setCommitStatus(sha: string, status: CommitStatus): Promise<void> {
    await this.call(
      {
        action: `set the ${status.context} status on ${sha.slice(0, 7)}`,
        permission: 'statuses: write',
        notFound: `Commit ${sha} does not exist in ${this.repository}.`,
        // GitHub answers an unknown sha with 422 "No commit found for SHA: …".
        onValidationFailed: (details) =>
          details.some((d) => /no commit found/i.test(d)) ? new NotFoundError(`Commit ${sha} does not exist in ${this.repository}.`) : undefined,
      },
      () =>
        this.octokit.rest.repos.createCommitStatus({
          ...this.target,
          sha,
          state: status.state,
          context: status.context,
          description: fitLine(status.description, MAX_STATUS_DESCRIPTION),
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
        }),
    );
  }

  async commitStatus(sha: string, context: string): Promise<CommitState | undefined> {
    const { data } = await this.call(
      { action: `read the statuses of ${sha.slice(0, 7)}`, permission: 'statuses: read', notFound: `Commit ${sha} does not exist in ${this.repository}.` },
      // The combined status holds the latest status of each context, which is the one that counts.
      () => this.octokit.rest.repos.getCombinedStatusForRef({ ...this.target, ref: sha, per_page: 100 }),
    );
    return data.statuses.find((s) => s.context === context)?.state as CommitState | undefined;
  }

  async pullRequest(number: number): Promise<PullRequestDetails> {
    const { data } = await this.call(
      { action: `read pull request #${number}`, permission: 'pull_requests: read', notFound: `Pull request #${number} does not exist in ${this.repository}.` },
      () => this.octokit.rest.pulls.get({ ...this.target, pull_number: number }),
    );
    return {
      number: data.number,
      htmlUrl: data.html_url,
      title: data.title,
      headSha: data.head.sha,
      state: data.state === 'open' ? 'open' : 'closed',
      merged: data.merged,
      draft: data.draft === true,
      base: data.base.ref,
      head: data.head.ref,
      author: data.user.login,
      fromFork: data.head.repo?.full_name.toLowerCase() !== data.base.repo.full_name.toLowerCase(),
    };
  }

  async reviews(number: number): Promise<PullRequestReview[]> {
    const reviews = await this.call(
      { action: `read the reviews of #${number}`, permission: 'pull_requests: read', notFound: `Pull request #${number} does not exist in ${this.repository}.` },
      () => this.octokit.paginate(this.octokit.rest.pulls.listReviews, { ...this.target, pull_number: number, per_page: 100 }),
    );
    return reviews.flatMap((r): PullRequestReview[] => {
      const state = r.state as PullRequestReview['state'];
      // A review by a deleted account has no user; one without a commit or time cannot approve anything.
      if (!r.user || !r.commit_id || !r.submitted_at || !REVIEW_STATES.has(state)) return [];
      return [{ reviewer: r.user.login, state, commitSha: r.commit_id, submittedAt: new Date(r.submitted_at) }];
    });
  }

  async mergedPullRequestsOf(sha: string): Promise<Array<{ number: number; base: string }>> {
    const { data } = await this.call(
      { action: `find the pull requests of ${sha.slice(0, 7)}`, permission: 'contents: read', notFound: `Commit ${sha} does not exist in ${this.repository}.` },
      () => this.octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...this.target, commit_sha: sha, per_page: 100 }),
    );
    return data.filter((pr) => pr.merged_at !== null && pr.merge_commit_sha === sha).map((pr) => ({ number: pr.number, base: pr.base.ref }));
  }

  async upsertComment(issueNumber: number, marker: string, body: string): Promise<CommentRef> {
    if (!MARKER.test(marker)) throw new TypeError(`upsertComment: marker must match ${MARKER}, got ${JSON.stringify(marker.slice(0, 40))}`);
    const markerLine = `<!-- ${marker} -->`;
    const text = fitBody(`${markerLine}\n${body}`);
    const notFound = `Pull request #${issueNumber} does not exist in ${this.repository}.`;

    const existing = await this.call(
      { action: `read the comments of #${issueNumber}`, permission: 'pull_requests: read', notFound },
      async () => {
        // Cockpit's own comment starts with the marker; anyone can write the marker, so the author must be us too.
        const self = await this.selfLogin();
        const pages = this.octokit.paginate.iterator(this.octokit.rest.issues.listComments, { ...this.target, issue_number: issueNumber, per_page: 100 });
        for await (const { data } of pages) {
          const found = data.find((c) => c.user?.login.toLowerCase() === self.toLowerCase() && (c.body === markerLine || c.body?.startsWith(`${markerLine}\n`)));
          if (found) return found;
        }
        return undefined;
      },
    );

    if (existing) {
      if (existing.body === text) return { id: existing.id, htmlUrl: existing.html_url, created: false };
      const { data } = await this.call(
        { action: `edit comment ${existing.id} on #${issueNumber}`, permission: 'pull_requests: write', notFound },
        () => this.octokit.rest.issues.updateComment({ ...this.target, comment_id: existing.id, body: text }),
      );
      return { id: data.id, htmlUrl: data.html_url, created: false };
    }
    const { data } = await this.call(
      { action: `comment on #${issueNumber}`, permission: 'pull_requests: write', notFound },
      // Not retried: a comment created before a timeout would be created twice.
      () => this.octokit.rest.issues.createComment({ ...this.target, issue_number: issueNumber, body: text, request: { retries: 0 } }),
    );
    return { id: data.id, htmlUrl: data.html_url, created: true };
  }

  /** The login Cockpit acts as on GitHub: the token's user, or the app's `<slug>[bot]`. Asked once. */
  selfLogin(): Promise<string> {
    this.ownLogin ??= (async () => {
      if (this.auth === 'token') return (await this.octokit.rest.users.getAuthenticated()).data.login;
      // auth-app answers /app with the app's JWT, not the installation token.
      const { data } = await this.octokit.rest.apps.getAuthenticated();
      if (!data?.slug) throw new Error('GitHub did not say which app this is');
      return `${data.slug}[bot]`;
    })().catch((err: unknown) => {
      this.ownLogin = undefined;
      throw err;
    });
    return this.ownLogin;
  }

  private async call<T>(call: Omit<GitHubCall, 'repository'>, run: () => Promise<T>): Promise<T> {
    const full = { ...call, repository: this.repository };
    try {
      return await run();
    } catch (err) {
      const visible = isGitHubRequestError(err) && err.status === 404 ? await this.repositoryVisible() : undefined;
      throw this.failed(err, full, visible);
    }
  }

  private failed(err: unknown, call: GitHubCall, repositoryVisible?: boolean): unknown {
    const status = isGitHubRequestError(err) ? err.status : undefined;
    const githubRequestId = isGitHubRequestError(err) ? err.response?.headers['x-github-request-id'] : undefined;
    this.log.warn({ action: call.action, status, githubRequestId, error: err instanceof Error ? err.message : String(err) }, 'GitHub call failed');
    return translateGitHubError(err, call, repositoryVisible);
  }

  /** Whether the credentials can see the repository: tells "no such branch or PR" from "no such repository". */
  private async repositoryVisible(): Promise<boolean> {
    try {
      await this.octokit.rest.repos.get(this.target);
      return true;
    } catch (err) {
      if (isGitHubRequestError(err) && err.status === 404) return false;
      // Unknown (unreachable, rate limited): assume visible, so the caller's own error message stands.
      return true;
    }
  }
}

/** Builds the adapter from configuration: the composition root calls this once. */
export function fromConfig(config: GitHubConfig, deps: GitHubDeps = {}): GitHubCodeHost {
  const log = (deps.log ?? silentLogger).child({ integration: 'github', repository: `${config.owner}/${config.repo}` });
  let client: GitHubClient | undefined;
  return new GitHubCodeHost(() => (client ??= createGitHubClient(config, deps)), { owner: config.owner, repo: config.repo }, log, config.auth.kind);
}

/** One line of at most `max` characters: GitHub refuses longer titles and cuts status descriptions. */
function fitLine(text: string, max: number): string {
  const line = text.replace(/\s*\n[\s\S]*$/, '');
  return line.length <= max ? line : `${cut(line, max - 1)}…`;
}

/** A body within GitHub's limit; a cut one says so, so a reader knows the rest is missing. */
function fitBody(text: string): string {
  if (text.length <= MAX_BODY) return text;
  const note = (dropped: number) => `\n\n…cut to fit GitHub's ${MAX_BODY}-character limit (${dropped} characters left out).`;
  const kept = cut(text, MAX_BODY - note(text.length).length);
  return kept + note(text.length - kept.length);
}

/** Cuts to at most `max` UTF-16 units without splitting a surrogate pair. */
function cut(text: string, max: number): string {
  const head = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head;
}
