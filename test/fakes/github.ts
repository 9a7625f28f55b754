import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, createPublicKey, randomBytes, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { GitHubOpenApi, type SpecOperation } from './githubOpenApi';

/**
 * A fake GitHub REST API on loopback, reached through the real Octokit (`baseUrl`). Every request is checked
 * against GitHub's OpenAPI description first: an unknown route or a malformed request answers 4xx AND is recorded,
 * so `assertNoViolations()` fails the test even when the code under test swallowed the error. Behind that sits a
 * small model of one repository — branches over a commit graph, files, pull requests, issue comments, commit
 * statuses — answering with GitHub's own documented example bodies overlaid with the model's values.
 */

export type Permission = 'metadata' | 'contents' | 'pull_requests' | 'issues' | 'statuses';
export type Access = 'read' | 'write';

/** Who a token authenticates as, and what a fine-grained token or app installation may do. */
export interface FakeIdentity {
  login: string;
  permissions: Partial<Record<Permission, Access>>;
}

export const ALL_PERMISSIONS: Record<Permission, Access> = {
  metadata: 'read',
  contents: 'write',
  pull_requests: 'write',
  issues: 'write',
  statuses: 'write',
};

/** Accepted by every fake unless the test says otherwise; authenticates as `cockpit-bot` with every permission. */
export const FAKE_GITHUB_TOKEN = 'ghp_FakeTokenForCockpitTests0000000000000';

export interface FakeGitHubOptions {
  owner?: string;
  repo?: string;
  defaultBranch?: string;
  /** Tokens the fake accepts; default: FAKE_GITHUB_TOKEN as `cockpit-bot` with ALL_PERMISSIONS. */
  tokens?: Record<string, FakeIdentity>;
  now?: () => Date;
}

export interface CommitInput {
  message: string;
  /** Files to write (text) or delete (null); the rest of the tree is inherited. */
  files?: Record<string, string | null>;
  author?: { name?: string; email?: string; login?: string };
}

export interface FakePullRequest {
  number: number;
  title: string;
  body: string | null;
  base: string;
  head: string;
  headSha: string;
  author: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergeSha?: string;
  mergedBy?: string;
}

export interface FakeComment {
  id: number;
  issueNumber: number;
  body: string;
  author: string;
  createdAt: string;
  updatedAt: string;
}

export interface FakeReview {
  id: number;
  pullRequest: number;
  reviewer: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  commitSha: string;
  submittedAt: string;
}

export interface FakeStatus {
  id: number;
  sha: string;
  state: string;
  context: string;
  description: string | null;
  targetUrl: string | null;
  creator: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The spec operation the request matched; undefined for an unknown route. */
  operationId?: string;
  status: number;
}

interface StoredCommit {
  sha: string;
  parents: string[];
  tree: Map<string, string>;
  message: string;
  author: { name: string; email: string; login?: string };
  date: string;
  /** Longest path from a root: orders commits and picks the best merge base. */
  generation: number;
}

interface StoredPullRequest {
  number: number;
  id: number;
  title: string;
  body: string | null;
  base: string;
  head: string;
  author: string;
  state: 'open' | 'closed';
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  merged: boolean;
  mergedAt: string | null;
  mergeSha: string | null;
  mergedBy: string | null;
  /** A closed PR keeps the head it had; an open one follows its branch. */
  frozenHeadSha?: string;
}

interface StoredStatus extends FakeStatus {
  createdAt: string;
}

interface Reply {
  /** Never answer: the connection stays open until the client gives up or the fake closes. */
  stall?: boolean;
  status: number;
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

interface Fault {
  operationId: string;
  remaining: number;
  reply: () => Reply;
}

interface Context {
  operation: SpecOperation;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  pathname: string;
  accept: string;
  identity: FakeIdentity;
}

interface RegisteredApp {
  appId: string;
  publicKey: KeyObject;
  installationId: number;
  login: string;
  permissions: Partial<Record<Permission, Access>>;
}

/** Which permission (any one of the alternatives) each operation needs, as GitHub lists it for fine-grained actors. */
const NEEDS: Record<string, Array<[Permission, Access]>> = {
  'repos/get': [['metadata', 'read']],
  'repos/compare-commits-with-basehead': [['contents', 'read']],
  'repos/get-content': [['contents', 'read']],
  'pulls/list': [['pull_requests', 'read']],
  'pulls/get': [['pull_requests', 'read']],
  'pulls/create': [['pull_requests', 'write']],
  'pulls/update': [['pull_requests', 'write']],
  'repos/create-commit-status': [['statuses', 'write']],
  'issues/list-comments': [['issues', 'read'], ['pull_requests', 'read']],
  'issues/create-comment': [['issues', 'write'], ['pull_requests', 'write']],
  'issues/update-comment': [['issues', 'write'], ['pull_requests', 'write']],
  'pulls/list-reviews': [['pull_requests', 'read']],
  'repos/get-combined-status-for-ref': [['statuses', 'read']],
  'repos/list-pull-requests-associated-with-commit': [['contents', 'read']],
};

/** GitHub's limit on issue, PR and comment bodies. */
const MAX_BODY = 65536;
const COMPARE_COMMITS_LIMIT = 250;
const COMPARE_FILES_LIMIT = 300;
const HTML_BASE = 'https://github.com';

export class FakeGitHub {
  readonly owner: string;
  readonly repo: string;
  readonly defaultBranch: string;
  /** Every request in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Requests GitHub's description does not allow, and answers the fake gave that break it. */
  readonly violations: string[] = [];
  /** Installation tokens minted for apps, in order. */
  readonly issuedInstallationTokens: string[] = [];

  private readonly spec = GitHubOpenApi.load();
  private readonly server: Server;
  private baseUrl = '';
  private readonly now: () => Date;
  private readonly tokens = new Map<string, FakeIdentity>();
  private readonly apps = new Map<number, RegisteredApp>();
  private readonly commits = new Map<string, StoredCommit>();
  private readonly branches = new Map<string, string>();
  private readonly pulls = new Map<number, StoredPullRequest>();
  private readonly issueComments: FakeComment[] = [];
  private readonly commitStatuses: StoredStatus[] = [];
  private readonly pullReviews: FakeReview[] = [];
  private faults: Fault[] = [];
  private nextIssueNumber = 1;
  private nextId = 1000;
  private commitCounter = 0;

  private readonly handlers: Record<string, (ctx: Context) => Reply> = {
    'repos/get': () => ({ status: 200, body: this.repositoryJson('repos/get') }),
    'repos/compare-commits-with-basehead': (ctx) => this.compare(ctx),
    'repos/get-content': (ctx) => this.getContent(ctx),
    'pulls/list': (ctx) => this.listPulls(ctx),
    'pulls/get': (ctx) => this.getPull(ctx),
    'pulls/create': (ctx) => this.createPull(ctx),
    'pulls/update': (ctx) => this.updatePull(ctx),
    'repos/create-commit-status': (ctx) => this.createStatus(ctx),
    'issues/list-comments': (ctx) => this.listComments(ctx),
    'issues/create-comment': (ctx) => this.createComment(ctx),
    'issues/update-comment': (ctx) => this.updateComment(ctx),
    'pulls/list-reviews': (ctx) => this.listReviews(ctx),
    'repos/get-combined-status-for-ref': (ctx) => this.combinedStatus(ctx),
    'repos/list-pull-requests-associated-with-commit': (ctx) => this.pullsOfCommit(ctx),
    'users/get-authenticated': (ctx) => ({ status: 200, body: { ...this.spec.example(ctx.operation), ...this.userJson(ctx.identity.login) } }),
  };

  private constructor(options: FakeGitHubOptions) {
    this.owner = options.owner ?? 'acme';
    this.repo = options.repo ?? 'infra';
    this.defaultBranch = options.defaultBranch ?? 'master';
    this.now = options.now ?? (() => new Date());
    for (const [token, identity] of Object.entries(options.tokens ?? { [FAKE_GITHUB_TOKEN]: { login: 'cockpit-bot', permissions: ALL_PERMISSIONS } })) {
      this.tokens.set(token, identity);
    }
    const root = this.storeCommit([], new Map([['README.md', '# infra\n']]), { message: 'Initial commit' });
    this.branches.set(this.defaultBranch, root);
    this.server = createServer((req, res) => void this.serve(req, res));
  }

  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    const fake = new FakeGitHub(options);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.baseUrl = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The API root to give Octokit as `baseUrl`. */
  get url(): string {
    return this.baseUrl;
  }

  async close(): Promise<void> {
    // Octokit's fetch keeps connections alive; close them or server.close() waits for their idle timeout.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Throws with every violation recorded: a test ends with this so a swallowed 4xx still fails it. */
  assertNoViolations(): void {
    if (this.violations.length > 0) {
      throw new Error(`the fake GitHub recorded violations of GitHub's API description:\n${this.violations.map((v) => `  - ${v}`).join('\n')}`);
    }
  }

  // ---- seeding -------------------------------------------------------------------------------------------------

  /** Accepts another token, e.g. one with fewer permissions. */
  grantToken(token: string, identity: FakeIdentity): void {
    this.tokens.set(token, identity);
  }

  /** Registers a GitHub App installation: its JWTs are checked with the public key, its tokens act as `login`. */
  registerApp(app: { appId: string | number; publicKeyPem: string; installationId: number; login?: string; permissions?: Partial<Record<Permission, Access>> }): void {
    this.apps.set(app.installationId, {
      appId: String(app.appId),
      publicKey: createPublicKey(app.publicKeyPem),
      installationId: app.installationId,
      login: app.login ?? 'cockpit[bot]',
      permissions: app.permissions ?? ALL_PERMISSIONS,
    });
  }

  /** Creates a branch at another branch's tip (or a commit). */
  createBranch(name: string, from: string = this.defaultBranch): string {
    const sha = this.resolveRef(from);
    if (!sha) throw new Error(`createBranch: unknown ref ${from}`);
    if (this.branches.has(name)) throw new Error(`createBranch: ${name} exists`);
    this.branches.set(name, sha);
    return sha;
  }

  /** Adds a commit on top of a branch (a push); returns its sha. Open PRs from the branch follow it. */
  commit(branch: string, input: CommitInput): string {
    const parent = this.branches.get(branch);
    if (!parent) throw new Error(`commit: unknown branch ${branch}`);
    const tree = new Map(this.commitOf(parent).tree);
    for (const [path, content] of Object.entries(input.files ?? {})) {
      if (content === null) tree.delete(path);
      else tree.set(path, content);
    }
    const sha = this.storeCommit([parent], tree, input);
    this.branches.set(branch, sha);
    return sha;
  }

  /** Merges an open PR the way the merge button does (a merge commit on base); returns the merge commit's sha. */
  mergePullRequest(number: number, mergedBy: string): string {
    const pr = this.pulls.get(number);
    if (!pr || pr.state !== 'open') throw new Error(`mergePullRequest: #${number} is not an open pull request`);
    const baseTip = this.branchTip(pr.base);
    const headTip = this.branchTip(pr.head);
    const mergeBase = this.mergeBase(baseTip, headTip);
    const tree = new Map(this.commitOf(baseTip).tree);
    for (const change of diffTrees(this.commitOf(mergeBase).tree, this.commitOf(headTip).tree)) {
      if (change.status === 'removed') tree.delete(change.path);
      else tree.set(change.path, change.content ?? '');
    }
    const sha = this.storeCommit([baseTip, headTip], tree, {
      message: `Merge pull request #${number} from ${this.owner}/${pr.head}\n\n${pr.title}`,
      author: { login: mergedBy },
    });
    this.branches.set(pr.base, sha);
    const at = this.timestamp();
    Object.assign(pr, { state: 'closed', merged: true, mergedAt: at, closedAt: at, updatedAt: at, mergeSha: sha, mergedBy, frozenHeadSha: headTip });
    return sha;
  }

  /** Answers the next `times` requests for an operation (or '*' for any) with this reply instead. */
  failNext(operationId: string, reply: { status: number; body?: unknown; headers?: Record<string, string> }, times = 1): void {
    this.faults.push({ operationId, remaining: times, reply: () => ({ ...reply, headers: { ...reply.headers } }) });
  }

  /** Leaves the next `times` requests for an operation unanswered, as a hung connection would. */
  stallNext(operationId: string, times = 1): void {
    this.faults.push({ operationId, remaining: times, reply: () => ({ stall: true, status: 0 }) });
  }

  /** GitHub's rate-limit answers: primary (quota used up until reset) or secondary (abuse detection, retry-after). */
  rateLimitNext(
    operationId: string,
    limit: { kind: 'primary'; resetInSeconds: number } | { kind: 'secondary'; retryAfterSeconds: number },
    times = 1,
  ): void {
    const docs = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api';
    this.faults.push({
      operationId,
      remaining: times,
      reply: (): Reply =>
        limit.kind === 'primary'
          ? {
              status: 403,
              headers: {
                'x-ratelimit-limit': '5000',
                'x-ratelimit-remaining': '0',
                'x-ratelimit-used': '5000',
                'x-ratelimit-resource': 'core',
                'x-ratelimit-reset': String(Math.floor(this.now().getTime() / 1000) + limit.resetInSeconds),
              },
              body: { message: 'API rate limit exceeded for installation ID 1.', documentation_url: docs, status: '403' },
            }
          : {
              status: 403,
              headers: { 'retry-after': String(limit.retryAfterSeconds) },
              body: {
                message:
                  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.',
                documentation_url: docs,
                status: '403',
              },
            },
    });
  }

  // ---- reading what was done -----------------------------------------------------------------------------------

  branchTip(name: string): string {
    const sha = this.branches.get(name);
    if (!sha) throw new Error(`unknown branch ${name}`);
    return sha;
  }

  pullRequests(): FakePullRequest[] {
    return [...this.pulls.values()].map((pr) => ({
      number: pr.number,
      title: pr.title,
      body: pr.body,
      base: pr.base,
      head: pr.head,
      headSha: this.headShaOf(pr),
      author: pr.author,
      state: pr.state,
      merged: pr.merged,
      mergeSha: pr.mergeSha ?? undefined,
      mergedBy: pr.mergedBy ?? undefined,
    }));
  }

  comments(issueNumber: number): FakeComment[] {
    return this.issueComments.filter((c) => c.issueNumber === issueNumber).map((c) => ({ ...c }));
  }

  /** Statuses set on a commit, oldest first. */
  statuses(sha: string): FakeStatus[] {
    return this.commitStatuses.filter((s) => s.sha === sha).map(({ createdAt: _createdAt, ...s }) => s);
  }

  /** Requests that matched an operation, by operationId, e.g. `requestsTo('pulls/create')`. */
  requestsTo(operationId: string): RecordedRequest[] {
    return this.requests.filter((r) => r.operationId === operationId);
  }

  /** Someone (a person, not Cockpit) opens a PR from a branch of this repository; returns its number. */
  openPullRequest(input: { base: string; head: string; title: string; author: string; body?: string }): number {
    if (!this.branches.has(input.base) || !this.branches.has(input.head)) throw new Error('openPullRequest: unknown branch');
    return this.storePull({ title: input.title, body: input.body ?? null, base: input.base, head: input.head, author: input.author }).number;
  }

  private storePull(input: Pick<StoredPullRequest, 'title' | 'body' | 'base' | 'head' | 'author'>): StoredPullRequest {
    const at = this.timestamp();
    const pr: StoredPullRequest = { ...input, number: this.nextIssueNumber++, id: this.nextId++, state: 'open', createdAt: at, updatedAt: at, closedAt: null, merged: false, mergedAt: null, mergeSha: null, mergedBy: null };
    this.pulls.set(pr.number, pr);
    return pr;
  }

  /** Someone reviews a PR, by default at its current head. */
  addReview(pullRequest: number, reviewer: string, state: FakeReview['state'], commitSha?: string): FakeReview {
    const pr = this.pulls.get(pullRequest);
    if (!pr) throw new Error(`addReview: #${pullRequest} is not a pull request`);
    const review: FakeReview = { id: this.nextId++, pullRequest, reviewer, state, commitSha: commitSha ?? this.headShaOf(pr), submittedAt: this.timestamp() };
    this.pullReviews.push(review);
    return { ...review };
  }

  /** Seeds a commit status set by someone else (the restore drill, another CI). */
  addStatus(sha: string, context: string, state: 'pending' | 'success' | 'failure' | 'error', creator = 'drill-bot'): void {
    if (!this.commits.has(sha)) throw new Error(`addStatus: unknown commit ${sha}`);
    this.commitStatuses.push({ id: this.nextId++, sha, state, context, description: null, targetUrl: null, creator, createdAt: this.timestamp() });
  }

  /** Seeds a comment written by someone else (a person, another bot). */
  addComment(issueNumber: number, body: string, author = 'someone'): FakeComment {
    if (!this.pulls.has(issueNumber)) throw new Error(`addComment: #${issueNumber} is not a pull request`);
    const at = this.timestamp();
    const comment: FakeComment = { id: this.nextId++, issueNumber, body, author, createdAt: at, updatedAt: at };
    this.issueComments.push(comment);
    return { ...comment };
  }

  // ---- HTTP ----------------------------------------------------------------------------------------------------

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const record: RecordedRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), body: undefined, status: 0 };
    this.requests.push(record);
    let reply: Reply;
    try {
      reply = this.route(method, url, rawBody, req.headers, record);
    } catch (err) {
      this.violations.push(`the fake failed on ${method} ${url.pathname}: ${(err as Error).stack ?? String(err)}`);
      reply = { status: 500, body: { message: 'Server Error' } };
    }
    record.status = reply.status;
    if (reply.stall) return;
    const headers: Record<string, string> = {
      'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-used': '1',
      'x-ratelimit-resource': 'core',
      'x-ratelimit-reset': String(Math.floor(this.now().getTime() / 1000) + 3600),
      ...reply.headers,
    };
    if (reply.text !== undefined) {
      res.writeHead(reply.status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(reply.text);
    } else if (reply.body !== undefined) {
      res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(reply.body));
    } else {
      res.writeHead(reply.status, headers);
      res.end();
    }
  }

  private route(method: string, url: URL, rawBody: string, headers: IncomingMessage['headers'], record: RecordedRequest): Reply {
    const match = this.spec.match(method, url.pathname);
    if (!match) {
      this.violations.push(`${method} ${url.pathname} is not an operation of GitHub's REST API`);
      return this.error(undefined, 404, 'Not Found');
    }
    const { operation, pathParams } = match;
    record.operationId = operation.operationId;

    let body: unknown;
    if (rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        this.violations.push(`${operation.operationId}: the body is not JSON`);
        return this.error(operation, 400, 'Problems parsing JSON');
      }
    }
    record.body = body;
    const problems = this.spec.checkRequest(operation, { pathParams, query: url.searchParams, contentType: headers['content-type'], body });
    if (problems.length > 0) {
      this.violations.push(`${operation.operationId} (${method} ${url.pathname}): ${problems.join('; ')}`);
      return this.error(operation, 422, `Invalid request.\n\n${problems.join('\n')}`);
    }

    if (operation.operationId === 'apps/create-installation-access-token') {
      return this.createInstallationToken(operation, pathParams, headers.authorization);
    }
    if (operation.operationId === 'apps/get-authenticated') return this.getApp(operation, headers.authorization);

    const identity = this.authenticate(headers.authorization);
    if (identity === 'bad') return this.error(operation, 401, 'Bad credentials');

    const fault = this.takeFault(operation.operationId);
    if (fault) return fault;

    const isRepoRoute = 'owner' in pathParams && 'repo' in pathParams;
    const sameRepo =
      pathParams.owner?.toLowerCase() === this.owner.toLowerCase() && pathParams.repo?.toLowerCase() === this.repo.toLowerCase();
    // A private repository is indistinguishable from a missing one to whoever may not see it.
    if (isRepoRoute && (!sameRepo || identity === undefined)) return this.error(operation, 404, 'Not Found');
    if (!identity) return this.error(operation, 401, 'Requires authentication');

    const needs = NEEDS[operation.operationId];
    if (needs && !needs.some(([perm, access]) => allows(identity.permissions[perm], access))) {
      return {
        ...this.error(operation, 403, 'Resource not accessible by integration'),
        headers: { 'x-accepted-github-permissions': needs.map(([p, a]) => `${p}=${a}`).join('; ') },
      };
    }

    const handler = this.handlers[operation.operationId];
    if (!handler) {
      this.violations.push(`the fake does not implement ${operation.operationId} (${method} ${operation.template})`);
      return this.error(operation, 501, `the fake GitHub does not implement ${operation.operationId}`);
    }
    const reply = handler({
      operation,
      params: pathParams,
      query: url.searchParams,
      body: (body ?? {}) as Record<string, unknown>,
      pathname: url.pathname,
      accept: String(headers.accept ?? ''),
      identity,
    });
    if (reply.status < 300 && reply.body !== undefined) {
      for (const p of this.spec.checkResponse(operation, reply.status, reply.body)) this.violations.push(`the fake's ${operation.operationId} answer: ${p}`);
    }
    return reply;
  }

  private authenticate(header: string | undefined): FakeIdentity | 'bad' | undefined {
    if (!header) return undefined;
    const m = /^(?:token|bearer)\s+(\S+)$/i.exec(header);
    const identity = m?.[1] ? this.tokens.get(m[1]) : undefined;
    return identity ?? 'bad';
  }

  private takeFault(operationId: string): Reply | undefined {
    const fault = this.faults.find((f) => f.operationId === operationId || f.operationId === '*');
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault.reply();
  }

  private error(operation: SpecOperation | undefined, status: number, message: string, errors?: unknown[]): Reply {
    return {
      status,
      body: {
        message,
        ...(errors ? { errors } : {}),
        documentation_url: operation?.documentationUrl ?? 'https://docs.github.com/rest',
        status: String(status),
      },
    };
  }

  private validationFailed(operation: SpecOperation, errors: unknown[]): Reply {
    return this.error(operation, 422, 'Validation Failed', errors);
  }

  // ---- apps ----------------------------------------------------------------------------------------------------

  private createInstallationToken(operation: SpecOperation, params: Record<string, string>, authorization: string | undefined): Reply {
    const app = this.apps.get(Number(params.installation_id));
    const jwt = /^bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!jwt) return this.error(operation, 401, 'A JSON web token could not be decoded');
    const claims = app && verifyJwt(jwt, app.publicKey);
    if (!app || !claims) return this.error(operation, 401, 'A JSON web token could not be decoded');
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    if (String(claims.iss) !== app.appId) return this.error(operation, 401, "'Issuer' claim ('iss') must be an Integer");
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds || claims.exp - nowSeconds > 600) {
      return this.error(operation, 401, "'Expiration time' claim ('exp') is too far in the future");
    }
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    this.tokens.set(token, { login: app.login, permissions: app.permissions });
    this.issuedInstallationTokens.push(token);
    return {
      status: 201,
      body: {
        ...this.spec.example(operation),
        token,
        expires_at: new Date((nowSeconds + 3600) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: app.permissions,
        repository_selection: 'selected',
      },
    };
  }

  /** GET /app answers to the app's JWT (an installation token is refused, as GitHub refuses it). */
  private getApp(operation: SpecOperation, authorization: string | undefined): Reply {
    const jwt = /^bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    const app = jwt ? [...this.apps.values()].find((a) => verifyJwt(jwt, a.publicKey)) : undefined;
    if (!app) return this.error(operation, 401, 'A JSON web token could not be decoded');
    const slug = app.login.replace(/\[bot\]$/, '');
    return { status: 200, body: { ...this.spec.example(operation), id: Number(app.appId), slug, name: slug, owner: this.userJson(this.owner) } };
  }

  // ---- repository content --------------------------------------------------------------------------------------

  private compare(ctx: Context): Reply {
    const basehead = ctx.params.basehead ?? '';
    const parts = basehead.split('...');
    const base = parts.length === 2 && parts[0] ? this.resolveRef(parts[0]) : undefined;
    const head = parts.length === 2 && parts[1] ? this.resolveRef(parts[1]) : undefined;
    if (!base || !head) return this.error(ctx.operation, 404, 'Not Found');
    const baseAncestors = this.ancestors(base);
    const headAncestors = this.ancestors(head);
    const byAge = (a: string, b: string) => this.commitOf(a).generation - this.commitOf(b).generation;
    const ahead = [...headAncestors].filter((s) => !baseAncestors.has(s)).sort(byAge);
    const behind = [...baseAncestors].filter((s) => !headAncestors.has(s));
    const mergeBase = this.mergeBase(base, head);
    const status = ahead.length === 0 ? (behind.length === 0 ? 'identical' : 'behind') : behind.length === 0 ? 'ahead' : 'diverged';
    const paged = ctx.query.has('page') || ctx.query.has('per_page');
    const commits = paged ? this.page(ctx, ahead).items : ahead.slice(0, COMPARE_COMMITS_LIMIT);
    const files = diffTrees(this.commitOf(mergeBase).tree, this.commitOf(head).tree).slice(0, COMPARE_FILES_LIMIT);
    const api = this.apiRepoUrl();
    const html = this.htmlRepoUrl();
    const template = this.spec.example(ctx.operation);
    return {
      status: 200,
      body: {
        ...template,
        url: `${api}/compare/${basehead}`,
        html_url: `${html}/compare/${basehead}`,
        permalink_url: `${html}/compare/${this.owner}:${base.slice(0, 7)}...${this.owner}:${head.slice(0, 7)}`,
        diff_url: `${html}/compare/${basehead}.diff`,
        patch_url: `${html}/compare/${basehead}.patch`,
        base_commit: this.commitJson(template.base_commit, base),
        merge_base_commit: this.commitJson(template.base_commit, mergeBase),
        status,
        ahead_by: ahead.length,
        behind_by: behind.length,
        total_commits: ahead.length,
        commits: commits.map((sha) => this.commitJson(template.base_commit, sha)),
        files: files.map((f) => ({
          sha: f.content === undefined ? '0000000000000000000000000000000000000000' : blobSha(f.content),
          filename: f.path,
          status: f.status,
          additions: f.additions,
          deletions: f.deletions,
          changes: f.additions + f.deletions,
          blob_url: `${html}/blob/${head}/${f.path}`,
          raw_url: `${html}/raw/${head}/${f.path}`,
          contents_url: `${api}/contents/${f.path}?ref=${head}`,
        })),
      },
    };
  }

  private getContent(ctx: Context): Reply {
    const ref = ctx.query.get('ref') ?? this.defaultBranch;
    const sha = this.resolveRef(ref);
    if (!sha) return this.error(ctx.operation, 404, `No commit found for the ref ${ref}`);
    const path = (ctx.params.path ?? '').replace(/^\/+|\/+$/g, '');
    const tree = this.commitOf(sha).tree;
    const content = tree.get(path);
    const api = this.apiRepoUrl();
    const html = this.htmlRepoUrl();
    const entry = (p: string, type: 'file' | 'dir', text?: string) => ({
      type,
      name: p.split('/').pop() ?? p,
      path: p,
      sha: text === undefined ? treeSha(p, sha) : blobSha(text),
      size: text === undefined ? 0 : Buffer.byteLength(text),
      url: `${api}/contents/${p}?ref=${encodeURIComponent(ref)}`,
      html_url: `${html}/${type === 'dir' ? 'tree' : 'blob'}/${ref}/${p}`,
      git_url: `${api}/git/${type === 'dir' ? 'trees' : 'blobs'}/${text === undefined ? treeSha(p, sha) : blobSha(text)}`,
      download_url: type === 'file' ? `https://raw.githubusercontent.com/${this.owner}/${this.repo}/${ref}/${p}` : null,
      _links: {
        self: `${api}/contents/${p}?ref=${encodeURIComponent(ref)}`,
        git: `${api}/git/${type === 'dir' ? 'trees' : 'blobs'}/${text === undefined ? treeSha(p, sha) : blobSha(text)}`,
        html: `${html}/${type === 'dir' ? 'tree' : 'blob'}/${ref}/${p}`,
      },
    });
    if (content !== undefined) {
      // Octokit's `mediaType: { format: 'raw' }` asks for the bytes themselves.
      if (/application\/vnd\.github(\.v3)?\.raw/.test(ctx.accept)) return { status: 200, text: content };
      const base64 = Buffer.from(content).toString('base64').replace(/(.{60})/g, '$1\n');
      return { status: 200, body: { ...entry(path, 'file', content), encoding: 'base64', content: `${base64}\n` } };
    }
    const prefix = path === '' ? '' : `${path}/`;
    const children = new Map<string, 'file' | 'dir'>();
    for (const p of tree.keys()) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length).split('/');
      children.set(prefix + rest[0], rest.length > 1 ? 'dir' : 'file');
    }
    if (children.size === 0) return this.error(ctx.operation, 404, 'Not Found');
    return { status: 200, body: [...children].sort().map(([p, type]) => entry(p, type, type === 'file' ? tree.get(p) : undefined)) };
  }

  // ---- pull requests -------------------------------------------------------------------------------------------

  private listPulls(ctx: Context): Reply {
    const state = ctx.query.get('state') ?? 'open';
    const base = ctx.query.get('base');
    const headFilter = ctx.query.get('head');
    let head: string | undefined;
    if (headFilter !== null) {
      const [owner, ref] = headFilter.includes(':') ? headFilter.split(/:(.*)/s) : [this.owner, headFilter];
      // A head in another account's fork matches none of this model's PRs.
      head = owner?.toLowerCase() === this.owner.toLowerCase() ? ref : '\0no-such-branch';
    }
    const direction = ctx.query.get('direction') ?? 'desc';
    const matching = [...this.pulls.values()]
      .filter((pr) => state === 'all' || pr.state === state)
      .filter((pr) => base === null || pr.base === base)
      .filter((pr) => head === undefined || pr.head === head)
      .sort((a, b) => (direction === 'asc' ? a.number - b.number : b.number - a.number));
    const { items, link } = this.page(ctx, matching);
    const template = this.spec.example(ctx.operation);
    return { status: 200, body: items.map((pr) => this.pullJson(template, pr, false)), headers: link ? { link } : {} };
  }

  private getPull(ctx: Context): Reply {
    const pr = this.pulls.get(Number(ctx.params.pull_number));
    if (!pr) return this.error(ctx.operation, 404, 'Not Found');
    return { status: 200, body: this.pullJson(this.spec.example(ctx.operation), pr, true) };
  }

  private createPull(ctx: Context): Reply {
    const { title, body, base } = ctx.body as { title?: string; body?: string; base: string };
    const headParam = String(ctx.body.head);
    const [headOwner, head] = headParam.includes(':') ? headParam.split(/:(.*)/s) : [this.owner, headParam];
    if (ctx.body.issue !== undefined) {
      return this.error(ctx.operation, 422, 'the fake GitHub models no issues to convert; open the PR with a title');
    }
    if (!title) return this.validationFailed(ctx.operation, [{ resource: 'PullRequest', code: 'missing_field', field: 'title' }]);
    if (!this.branches.has(base)) return this.validationFailed(ctx.operation, [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
    if (headOwner?.toLowerCase() !== this.owner.toLowerCase() || !head || !this.branches.has(head)) {
      return this.validationFailed(ctx.operation, [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
    }
    if ([...this.pulls.values()].some((pr) => pr.state === 'open' && pr.base === base && pr.head === head)) {
      return this.validationFailed(ctx.operation, [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${this.owner}:${head}.` }]);
    }
    const baseAncestors = this.ancestors(this.branchTip(base));
    if ([...this.ancestors(this.branchTip(head))].every((s) => baseAncestors.has(s))) {
      return this.validationFailed(ctx.operation, [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }]);
    }
    if (body !== undefined && body.length > MAX_BODY) {
      return this.validationFailed(ctx.operation, [{ resource: 'PullRequest', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY} characters)` }]);
    }
    const pr = this.storePull({ title, body: body ?? null, base, head, author: ctx.identity.login });
    const json = this.pullJson(this.spec.example(ctx.operation), pr, true);
    return { status: 201, body: json, headers: { location: String(json.url) } };
  }

  private updatePull(ctx: Context): Reply {
    const pr = this.pulls.get(Number(ctx.params.pull_number));
    if (!pr) return this.error(ctx.operation, 404, 'Not Found');
    const update = ctx.body as { title?: string; body?: string; state?: 'open' | 'closed'; base?: string };
    if (update.body !== undefined && update.body.length > MAX_BODY) {
      return this.validationFailed(ctx.operation, [{ resource: 'PullRequest', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY} characters)` }]);
    }
    if (update.base !== undefined && !this.branches.has(update.base)) {
      return this.validationFailed(ctx.operation, [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
    }
    if (update.title !== undefined) pr.title = update.title;
    if (update.body !== undefined) pr.body = update.body;
    if (update.base !== undefined) pr.base = update.base;
    if (update.state !== undefined && update.state !== pr.state && !pr.merged) {
      if (update.state === 'closed') pr.frozenHeadSha = this.branchTip(pr.head);
      else delete pr.frozenHeadSha;
      pr.state = update.state;
      pr.closedAt = update.state === 'closed' ? this.timestamp() : null;
    }
    pr.updatedAt = this.timestamp();
    return { status: 200, body: this.pullJson(this.spec.example(ctx.operation), pr, true) };
  }

  // ---- statuses and comments -----------------------------------------------------------------------------------

  private createStatus(ctx: Context): Reply {
    const sha = ctx.params.sha ?? '';
    if (!this.commits.has(sha)) return this.error(ctx.operation, 422, `No commit found for SHA: ${sha}`);
    const input = ctx.body as { state: string; target_url?: string | null; description?: string | null; context?: string };
    const at = this.timestamp();
    const status: StoredStatus = {
      id: this.nextId++,
      sha,
      state: input.state,
      context: input.context ?? 'default',
      description: input.description ?? null,
      targetUrl: input.target_url ?? null,
      creator: ctx.identity.login,
      createdAt: at,
    };
    this.commitStatuses.push(status);
    const body = {
      ...this.spec.example(ctx.operation),
      url: `${this.apiRepoUrl()}/statuses/${sha}`,
      id: status.id,
      node_id: nodeId('SC', status.id),
      state: status.state,
      description: status.description,
      target_url: status.targetUrl,
      context: status.context,
      created_at: at,
      updated_at: at,
      creator: this.userJson(status.creator),
    };
    return { status: 201, body, headers: { location: body.url } };
  }

  private combinedStatus(ctx: Context): Reply {
    const sha = this.resolveRef(ctx.params.ref ?? '');
    if (!sha) return this.error(ctx.operation, 404, 'Not Found');
    const latest = new Map<string, StoredStatus>();
    for (const status of this.commitStatuses) if (status.sha === sha) latest.set(status.context, status);
    const statuses = [...latest.values()];
    const template = this.spec.example(ctx.operation);
    const itemTemplate = ((template.statuses as unknown[] | undefined) ?? [])[0] as Record<string, unknown> | undefined;
    const states = statuses.map((s) => s.state);
    const state = states.some((s) => s === 'failure' || s === 'error') ? 'failure' : states.length === 0 || states.some((s) => s === 'pending') ? 'pending' : 'success';
    return {
      status: 200,
      body: {
        ...template,
        state,
        sha,
        total_count: statuses.length,
        statuses: statuses.map((s) => ({
          ...itemTemplate,
          id: s.id,
          node_id: nodeId('SC', s.id),
          url: `${this.apiRepoUrl()}/statuses/${sha}`,
          state: s.state,
          description: s.description,
          target_url: s.targetUrl,
          context: s.context,
          created_at: s.createdAt,
          updated_at: s.createdAt,
        })),
        repository: this.repositoryJson('repos/get'),
        commit_url: `${this.apiRepoUrl()}/commits/${sha}`,
        url: `${this.apiRepoUrl()}/commits/${sha}/status`,
      },
    };
  }

  private listReviews(ctx: Context): Reply {
    const number = Number(ctx.params.pull_number);
    if (!this.pulls.has(number)) return this.error(ctx.operation, 404, 'Not Found');
    const { items, link } = this.page(ctx, this.pullReviews.filter((r) => r.pullRequest === number));
    const template = this.spec.example(ctx.operation);
    const body = items.map((r) => ({
      ...template,
      id: r.id,
      node_id: nodeId('PRR_', r.id),
      user: this.userJson(r.reviewer),
      body: '',
      state: r.state,
      html_url: `${this.htmlRepoUrl()}/pull/${number}#pullrequestreview-${r.id}`,
      pull_request_url: `${this.apiRepoUrl()}/pulls/${number}`,
      submitted_at: r.submittedAt,
      commit_id: r.commitSha,
      author_association: 'MEMBER',
    }));
    return { status: 200, body, headers: link ? { link } : {} };
  }

  private pullsOfCommit(ctx: Context): Reply {
    const sha = ctx.params.commit_sha ?? '';
    if (!this.commits.has(sha)) return this.error(ctx.operation, 422, `No commit found for SHA: ${sha}`);
    // GitHub lists the PRs whose head contains the commit and the merged PR whose merge made it.
    const matching = [...this.pulls.values()].filter((pr) => pr.mergeSha === sha || this.ancestors(this.headShaOf(pr)).has(sha));
    const template = this.spec.example(ctx.operation);
    return { status: 200, body: matching.map((pr) => this.pullJson(template, pr, false)) };
  }

  private listComments(ctx: Context): Reply {
    const number = Number(ctx.params.issue_number);
    if (!this.pulls.has(number)) return this.error(ctx.operation, 404, 'Not Found');
    const since = ctx.query.get('since');
    const all = this.issueComments.filter((c) => c.issueNumber === number && (since === null || c.updatedAt >= since));
    const { items, link } = this.page(ctx, all);
    const template = this.spec.example(ctx.operation);
    return { status: 200, body: items.map((c) => this.commentJson(template, c)), headers: link ? { link } : {} };
  }

  private createComment(ctx: Context): Reply {
    const number = Number(ctx.params.issue_number);
    if (!this.pulls.has(number)) return this.error(ctx.operation, 404, 'Not Found');
    const body = String(ctx.body.body);
    if (body.length > MAX_BODY) {
      return this.validationFailed(ctx.operation, [{ resource: 'IssueComment', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY} characters)` }]);
    }
    const at = this.timestamp();
    const comment: FakeComment = { id: this.nextId++, issueNumber: number, body, author: ctx.identity.login, createdAt: at, updatedAt: at };
    this.issueComments.push(comment);
    const json = this.commentJson(this.spec.example(ctx.operation), comment);
    return { status: 201, body: json, headers: { location: String(json.url) } };
  }

  private updateComment(ctx: Context): Reply {
    const comment = this.issueComments.find((c) => c.id === Number(ctx.params.comment_id));
    if (!comment) return this.error(ctx.operation, 404, 'Not Found');
    const body = String(ctx.body.body);
    if (body.length > MAX_BODY) {
      return this.validationFailed(ctx.operation, [{ resource: 'IssueComment', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY} characters)` }]);
    }
    comment.body = body;
    comment.updatedAt = this.timestamp();
    return { status: 200, body: this.commentJson(this.spec.example(ctx.operation), comment) };
  }

  // ---- JSON shapes: GitHub's documented examples, overlaid with the model ---------------------------------------

  private apiRepoUrl(): string {
    return `${this.baseUrl}/repos/${this.owner}/${this.repo}`;
  }

  private htmlRepoUrl(): string {
    return `${HTML_BASE}/${this.owner}/${this.repo}`;
  }

  private userJson(login: string): Record<string, unknown> {
    const id = numericId(login);
    return {
      login,
      id,
      node_id: nodeId('U', id),
      avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
      gravatar_id: '',
      url: `${this.baseUrl}/users/${encodeURIComponent(login)}`,
      html_url: `${HTML_BASE}/${login.replace(/\[bot\]$/, '')}`,
      followers_url: `${this.baseUrl}/users/${login}/followers`,
      following_url: `${this.baseUrl}/users/${login}/following{/other_user}`,
      gists_url: `${this.baseUrl}/users/${login}/gists{/gist_id}`,
      starred_url: `${this.baseUrl}/users/${login}/starred{/owner}{/repo}`,
      subscriptions_url: `${this.baseUrl}/users/${login}/subscriptions`,
      organizations_url: `${this.baseUrl}/users/${login}/orgs`,
      repos_url: `${this.baseUrl}/users/${login}/repos`,
      events_url: `${this.baseUrl}/users/${login}/events{/privacy}`,
      received_events_url: `${this.baseUrl}/users/${login}/received_events`,
      type: login.endsWith('[bot]') ? 'Bot' : 'User',
      site_admin: false,
    };
  }

  private repositoryJson(operationId: string): Record<string, unknown> {
    const operation = this.spec.match('GET', `/repos/${this.owner}/${this.repo}`)?.operation;
    if (!operation || operation.operationId !== operationId) throw new Error('repos/get is missing from the description');
    return {
      ...this.spec.example(operation),
      id: numericId(`${this.owner}/${this.repo}`),
      node_id: nodeId('R', numericId(`${this.owner}/${this.repo}`)),
      name: this.repo,
      full_name: `${this.owner}/${this.repo}`,
      owner: this.userJson(this.owner),
      private: true,
      visibility: 'private',
      fork: false,
      html_url: this.htmlRepoUrl(),
      url: this.apiRepoUrl(),
      default_branch: this.defaultBranch,
      // Required by the schema, absent from GitHub's own example.
      language: 'TypeScript',
    };
  }

  private commitJson(template: unknown, sha: string): Record<string, unknown> {
    const c = this.commitOf(sha);
    const base = (typeof template === 'object' && template !== null ? template : {}) as Record<string, unknown>;
    const person = { name: c.author.name, email: c.author.email, date: c.date };
    return {
      ...base,
      sha,
      node_id: nodeId('C', numericId(sha)),
      url: `${this.apiRepoUrl()}/commits/${sha}`,
      html_url: `${this.htmlRepoUrl()}/commit/${sha}`,
      comments_url: `${this.apiRepoUrl()}/commits/${sha}/comments`,
      commit: {
        url: `${this.apiRepoUrl()}/git/commits/${sha}`,
        author: person,
        committer: person,
        message: c.message,
        tree: { sha: treeSha('', sha), url: `${this.apiRepoUrl()}/git/trees/${treeSha('', sha)}` },
        comment_count: 0,
        verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
      },
      author: c.author.login ? this.userJson(c.author.login) : null,
      committer: c.author.login ? this.userJson(c.author.login) : null,
      parents: c.parents.map((p) => ({ sha: p, url: `${this.apiRepoUrl()}/commits/${p}`, html_url: `${this.htmlRepoUrl()}/commit/${p}` })),
    };
  }

  private pullJson(template: Record<string, unknown>, pr: StoredPullRequest, full: boolean): Record<string, unknown> {
    const api = this.apiRepoUrl();
    const n = pr.number;
    const headSha = this.headShaOf(pr);
    const baseSha = this.branches.get(pr.base) ?? headSha;
    const repo = this.repositoryJson('repos/get');
    const side = (ref: string, sha: string) => ({ label: `${this.owner}:${ref}`, ref, sha, user: this.userJson(this.owner), repo });
    const json: Record<string, unknown> = {
      ...template,
      url: `${api}/pulls/${n}`,
      id: pr.id,
      node_id: nodeId('PR_', pr.id),
      html_url: `${this.htmlRepoUrl()}/pull/${n}`,
      diff_url: `${this.htmlRepoUrl()}/pull/${n}.diff`,
      patch_url: `${this.htmlRepoUrl()}/pull/${n}.patch`,
      issue_url: `${api}/issues/${n}`,
      commits_url: `${api}/pulls/${n}/commits`,
      review_comments_url: `${api}/pulls/${n}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${n}/comments`,
      statuses_url: `${api}/statuses/${headSha}`,
      number: n,
      state: pr.state,
      locked: false,
      title: pr.title,
      user: this.userJson(pr.author),
      body: pr.body,
      labels: [],
      milestone: null,
      active_lock_reason: null,
      created_at: pr.createdAt,
      updated_at: pr.updatedAt,
      closed_at: pr.closedAt,
      merged_at: pr.mergedAt,
      merge_commit_sha: pr.mergeSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: side(pr.head, headSha),
      base: side(pr.base, baseSha),
      _links: {
        self: { href: `${api}/pulls/${n}` },
        html: { href: `${this.htmlRepoUrl()}/pull/${n}` },
        issue: { href: `${api}/issues/${n}` },
        comments: { href: `${api}/issues/${n}/comments` },
        review_comments: { href: `${api}/pulls/${n}/comments` },
        review_comment: { href: `${api}/pulls/comments{/number}` },
        commits: { href: `${api}/pulls/${n}/commits` },
        statuses: { href: `${api}/statuses/${headSha}` },
      },
      author_association: 'MEMBER',
      auto_merge: null,
      draft: false,
    };
    if (full) {
      const ahead = pr.merged ? 0 : [...this.ancestors(headSha)].filter((s) => !this.ancestors(baseSha).has(s)).length;
      const files = diffTrees(this.commitOf(this.mergeBase(baseSha, headSha)).tree, this.commitOf(headSha).tree);
      Object.assign(json, {
        merged: pr.merged,
        mergeable: pr.state === 'open' ? true : null,
        rebaseable: pr.state === 'open' ? true : null,
        mergeable_state: pr.state === 'open' ? 'clean' : 'unknown',
        merged_by: pr.mergedBy ? this.userJson(pr.mergedBy) : null,
        comments: this.issueComments.filter((c) => c.issueNumber === n).length,
        review_comments: 0,
        maintainer_can_modify: false,
        commits: ahead,
        additions: files.reduce((sum, f) => sum + f.additions, 0),
        deletions: files.reduce((sum, f) => sum + f.deletions, 0),
        changed_files: files.length,
      });
    }
    return json;
  }

  private commentJson(template: Record<string, unknown>, c: FakeComment): Record<string, unknown> {
    return {
      ...template,
      id: c.id,
      node_id: nodeId('IC_', c.id),
      url: `${this.apiRepoUrl()}/issues/comments/${c.id}`,
      html_url: `${this.htmlRepoUrl()}/pull/${c.issueNumber}#issuecomment-${c.id}`,
      body: c.body,
      user: this.userJson(c.author),
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      issue_url: `${this.apiRepoUrl()}/issues/${c.issueNumber}`,
      author_association: 'MEMBER',
      performed_via_github_app: null,
    };
  }

  // ---- the commit graph ----------------------------------------------------------------------------------------

  private storeCommit(parents: string[], tree: Map<string, string>, input: CommitInput): string {
    const author = {
      name: input.author?.name ?? input.author?.login ?? 'Cockpit Tests',
      email: input.author?.email ?? `${input.author?.login ?? 'tests'}@users.noreply.github.com`,
      login: input.author?.login,
    };
    const sha = createHash('sha1')
      .update(JSON.stringify([parents, input.message, [...tree], author, this.commitCounter++]))
      .digest('hex');
    const generation = Math.max(0, ...parents.map((p) => this.commitOf(p).generation + 1));
    this.commits.set(sha, { sha, parents, tree, message: input.message, author, date: this.timestamp(), generation });
    return sha;
  }

  private commitOf(sha: string): StoredCommit {
    const c = this.commits.get(sha);
    if (!c) throw new Error(`unknown commit ${sha}`);
    return c;
  }

  /** A branch name, a full sha, or an unambiguous sha prefix of at least 7 characters. */
  private resolveRef(ref: string): string | undefined {
    const branch = this.branches.get(ref.replace(/^refs\/heads\//, ''));
    if (branch) return branch;
    if (this.commits.has(ref)) return ref;
    if (/^[0-9a-f]{7,39}$/.test(ref)) {
      const found = [...this.commits.keys()].filter((s) => s.startsWith(ref));
      if (found.length === 1) return found[0];
    }
    return undefined;
  }

  private ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length > 0) {
      const s = stack.pop() as string;
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(...this.commitOf(s).parents);
    }
    return seen;
  }

  /** The common ancestor furthest from the roots: the best merge base for this model's graphs. */
  private mergeBase(a: string, b: string): string {
    const of = this.ancestors(a);
    const common = [...this.ancestors(b)].filter((s) => of.has(s));
    common.sort((x, y) => this.commitOf(y).generation - this.commitOf(x).generation);
    if (!common[0]) throw new Error(`no common history between ${a} and ${b}`);
    return common[0];
  }

  private headShaOf(pr: StoredPullRequest): string {
    return pr.frozenHeadSha ?? this.branches.get(pr.head) ?? '';
  }

  private page<T>(ctx: Context, all: T[]): { items: T[]; link?: string } {
    const perPage = Math.min(Math.max(Number(ctx.query.get('per_page') ?? 30), 1), 100);
    const page = Math.max(Number(ctx.query.get('page') ?? 1), 1);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const href = (p: number) => {
      const q = new URLSearchParams(ctx.query);
      q.set('page', String(p));
      return `<${this.baseUrl}${ctx.pathname}?${q.toString()}>`;
    };
    const links: string[] = [];
    if (page < last) links.push(`${href(page + 1)}; rel="next"`, `${href(last)}; rel="last"`);
    if (page > 1) links.push(`${href(page - 1)}; rel="prev"`, `${href(1)}; rel="first"`);
    return { items: all.slice((page - 1) * perPage, page * perPage), link: links.length > 0 ? links.join(', ') : undefined };
  }

  private timestamp(): string {
    return this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

function allows(granted: Access | undefined, needed: Access): boolean {
  return granted === 'write' || (granted === 'read' && needed === 'read');
}

interface TreeChange {
  path: string;
  status: 'added' | 'removed' | 'modified';
  content?: string;
  additions: number;
  deletions: number;
}

function diffTrees(from: Map<string, string>, to: Map<string, string>): TreeChange[] {
  const changes: TreeChange[] = [];
  const lines = (text: string | undefined) => (text === undefined || text === '' ? [] : text.replace(/\n$/, '').split('\n'));
  for (const path of [...new Set([...from.keys(), ...to.keys()])].sort()) {
    const before = from.get(path);
    const after = to.get(path);
    if (before === after) continue;
    const old = lines(before);
    const now = lines(after);
    const oldSet = new Set(old);
    const newSet = new Set(now);
    changes.push({
      path,
      status: before === undefined ? 'added' : after === undefined ? 'removed' : 'modified',
      content: after,
      additions: now.filter((l) => !oldSet.has(l)).length,
      deletions: old.filter((l) => !newSet.has(l)).length,
    });
  }
  return changes;
}

/** git's own blob id, so shas look and behave like GitHub's. */
function blobSha(content: string): string {
  const bytes = Buffer.from(content);
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

function treeSha(path: string, commit: string): string {
  return createHash('sha1').update(`tree ${commit} ${path}`).digest('hex');
}

function numericId(seed: string): number {
  return createHash('sha1').update(seed).digest().readUInt32BE(0) % 100_000_000;
}

function nodeId(prefix: string, id: number): string {
  return `${prefix}${Buffer.from(String(id)).toString('base64url')}`;
}

/** Checks an RS256 JWT as GitHub does for an app: signature with the registered key; returns its claims. */
function verifyJwt(jwt: string, key: KeyObject): Record<string, unknown> | undefined {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) return undefined;
  try {
    const alg = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string }).alg;
    if (alg !== 'RS256') return undefined;
    const ok = verifySignature('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'));
    return ok ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
