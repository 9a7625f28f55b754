import { ConflictError, NotFoundError } from '../../handlers/errors';
import type { CodeHost } from '../../handlers/ports';
import type { BranchComparison, CommentRef, CommitState, CommitStatus, PullRequestDetails, PullRequestRef, PullRequestReview } from '../../handlers/model/code';
import type { DemoRepository } from './repository';

/**
 * The demo's GitHub, in process: promotion pull requests are opened and refreshed against the demo repository,
 * statuses and comments are kept. Its links point at `github.invalid`, a name that can never resolve, so nothing
 * in the demo can be mistaken for (or reach) a real repository.
 */

export const DEMO_REPO_URL = 'https://github.invalid/demo/infra';
const SELF = 'cockpit-demo[bot]';

type DemoPullRequest = PullRequestDetails & { body: string };

export class DemoCodeHost implements CodeHost {
  private readonly pulls: DemoPullRequest[] = [];
  private readonly statuses = new Map<string, CommitStatus[]>();
  private readonly comments = new Map<number, Array<{ id: number; marker: string; body: string }>>();
  private nextCommentId = 1;

  constructor(private readonly repo: DemoRepository) {}

  async compare(base: string, head: string): Promise<BranchComparison> {
    this.branch(base);
    this.branch(head);
    const ahead = this.repo.ahead(base, head);
    const files = [...new Set(ahead.flatMap((c) => Object.keys(c.files)))].map((filename) => ({ filename, status: 'modified' as const }));
    return {
      status: ahead.length === 0 ? (this.repo.tip(base) === this.repo.tip(head) ? 'identical' : 'behind') : this.repo.ahead(head, base).length > 0 ? 'diverged' : 'ahead',
      aheadBy: ahead.length,
      commits: ahead.map((c) => ({ sha: c.sha, message: c.message, author: c.author })),
      files,
      htmlUrl: `${DEMO_REPO_URL}/compare/${base}...${head}`,
    };
  }

  async findOpenPullRequest(base: string, head: string): Promise<PullRequestRef | undefined> {
    const open = this.pulls.find((p) => p.state === 'open' && p.base === base && p.head === head);
    return open && ref(open);
  }

  async openPullRequest(request: { base: string; head: string; title: string; body: string }): Promise<PullRequestRef> {
    if (await this.findOpenPullRequest(request.base, request.head)) throw new ConflictError(`A pull request from ${request.head} into ${request.base} is already open.`);
    this.branch(request.base);
    this.branch(request.head);
    if (this.repo.ahead(request.base, request.head).length === 0) throw new ConflictError(`${request.head} has nothing ${request.base} lacks.`);
    const number = this.pulls.length + 1;
    const pull: DemoPullRequest = {
      number,
      htmlUrl: `${DEMO_REPO_URL}/pull/${number}`,
      title: request.title,
      body: request.body,
      headSha: this.repo.tip(request.head)!,
      state: 'open',
      merged: false,
      draft: false,
      base: request.base,
      head: request.head,
      author: SELF,
      fromFork: false,
    };
    this.pulls.push(pull);
    return ref(pull);
  }

  async updatePullRequest(number: number, update: { title: string; body: string }): Promise<PullRequestRef> {
    const pull = this.pull(number);
    Object.assign(pull, update, { headSha: this.repo.tip(pull.head) ?? pull.headSha });
    return ref(pull);
  }

  async readFile(path: string, ref: string): Promise<string | undefined> {
    return this.repo.readFile(path, ref);
  }

  async setCommitStatus(sha: string, status: CommitStatus): Promise<void> {
    this.statuses.set(sha, [...(this.statuses.get(sha) ?? []), status]);
  }

  async commitStatus(sha: string, context: string): Promise<CommitState | undefined> {
    return this.statuses.get(sha)?.filter((s) => s.context === context).at(-1)?.state;
  }

  async upsertComment(issueNumber: number, marker: string, body: string): Promise<CommentRef> {
    this.pull(issueNumber);
    const comments = this.comments.get(issueNumber) ?? [];
    this.comments.set(issueNumber, comments);
    const mine = comments.find((c) => c.marker === marker);
    if (mine) mine.body = body;
    const id = mine?.id ?? this.nextCommentId++;
    if (!mine) comments.push({ id, marker, body });
    return { id, htmlUrl: `${DEMO_REPO_URL}/pull/${issueNumber}#issuecomment-${id}`, created: !mine };
  }

  async pullRequest(number: number): Promise<PullRequestDetails> {
    const { body: _body, ...details } = this.pull(number);
    return details;
  }

  async reviews(number: number): Promise<PullRequestReview[]> {
    this.pull(number);
    return [];
  }

  async mergedPullRequestsOf(): Promise<Array<{ number: number; base: string }>> {
    return [];
  }

  async selfLogin(): Promise<string> {
    return SELF;
  }

  /** The body of a pull request, for the demo's own checks. */
  bodyOf(number: number): string {
    return this.pull(number).body;
  }

  private pull(number: number): DemoPullRequest {
    const pull = this.pulls.find((p) => p.number === number);
    if (!pull) throw new NotFoundError(`No pull request #${number} in the demo repository.`);
    return pull;
  }

  private branch(name: string): void {
    if (!this.repo.history(name)) throw new NotFoundError(`No branch ${name} in the demo repository.`);
  }
}

function ref(pull: DemoPullRequest): PullRequestRef {
  return { number: pull.number, htmlUrl: pull.htmlUrl, title: pull.title, headSha: pull.headSha };
}
