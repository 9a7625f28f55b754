import { z } from 'zod';
import type { CodeHostEvent, PullRequestChanged } from '../../../handlers/model/code';
import { describeIssues } from '../../zodIssues';

/**
 * GitHub webhooks: is a delivery really from GitHub (X-Hub-Signature-256), and what does it tell the domain.
 * Everything else (raw body capture, size limit, content types, answering 2xx/4xx, de-duplicating) is the HTTP
 * route's.
 */

// @octokit/webhooks-methods ships as ES module only and has no `require` export, so it is loaded with import().
const webhooksMethods = () => import('@octokit/webhooks-methods');

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

/**
 * True only when `signatureHeader` is GitHub's HMAC-SHA256 of exactly these bytes under `secret`, compared in
 * constant time. A missing, repeated or malformed header is false, never an exception.
 */
export async function verifyGitHubSignature(
  secret: string,
  rawBody: string | Uint8Array,
  signatureHeader: string | string[] | undefined,
): Promise<boolean> {
  if (!secret) throw new TypeError('verifyGitHubSignature: the webhook secret is empty; refuse to start without one');
  if (typeof signatureHeader !== 'string' || !SIGNATURE.test(signatureHeader)) return false;
  // GitHub signs the UTF-8 bytes it sends. A body that is not valid UTF-8 cannot be one of those, and decoding
  // changes it, so its signature fails to match as it should.
  const payload = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength).toString('utf8');
  if (payload.length === 0) return false;
  const { verify } = await webhooksMethods();
  return verify(secret, payload, signatureHeader);
}

export type GitHubEventParse =
  /**
   * `key` names the delivery for de-duplication, from fields the signature covers (GitHub's X-GitHub-Delivery is
   * not signed, and a replayed body may carry any id): the same event sent twice has the same key.
   */
  | { event: CodeHostEvent; key: string; reason?: undefined }
  /** Nothing for the domain. `malformed`: the payload breaks GitHub's shape (answer 400); else an event we skip. */
  | { event: undefined; reason: string; malformed: boolean };

// Bounds are GitHub's own where it has them (refs 255 bytes, logins 39 characters) with room to spare; they keep
// a hostile payload's megabyte strings out of the domain, the logs and Slack.
const login = z.string().min(1).max(100);
const account = z.object({ login });
const ref = z.string().min(1).max(255);
const sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a commit sha');
const repository = z.object({ full_name: z.string().max(200).regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name') });
const number = z.number().int().positive().max(2 ** 31);
const htmlUrl = z.url({ protocol: /^https?$/ }).max(2048);
/** A timestamp as GitHub writes it; only ever compared, so its format is not checked beyond its size. */
const stamp = z.union([z.string().max(64), z.number()]);

const pullRequestPayload = z.object({
  action: z.string(),
  repository,
  sender: account,
  pull_request: z.object({
    number,
    html_url: htmlUrl,
    user: account.nullable(),
    base: z.object({ ref, sha, repo: repository }),
    // A fork deleted after the PR was opened leaves head.repo null.
    head: z.object({ ref, sha, repo: repository.nullable() }),
    draft: z.boolean().optional(),
    updated_at: stamp.optional(),
    merged: z.boolean().nullable().optional(),
    merge_commit_sha: sha.nullable().optional(),
    merged_by: account.nullable().optional(),
  }),
});

/** The actions that change what a PR's preview shows; `edited` counts only when it changes the base. */
const CHANGED = ['opened', 'synchronize', 'reopened', 'ready_for_review', 'converted_to_draft'] as const;
type ChangedAction = (typeof CHANGED)[number];

function parsePullRequest(payload: unknown): GitHubEventParse {
  const action = z.object({ action: z.string().max(64) }).safeParse(payload);
  if (!action.success) return malformed(`payload: ${describeIssues(action.error)}`);
  const name = action.data.action;
  // `edited` matters only when the base changed (a retarget): the PR now deploys another stack, so its preview
  // must be redone; a new title or body changes nothing Cockpit measured.
  const retargeted = name === 'edited' && z.object({ changes: z.object({ base: z.object({}).passthrough() }) }).safeParse(payload).success;
  if (name === 'edited' && !retargeted) return skip('pull_request edited without a base change');
  if (name !== 'closed' && name !== 'edited' && !CHANGED.includes(name as ChangedAction)) return skip(`pull_request action "${printable(name)}" is not handled`);

  const parsed = pullRequestPayload.safeParse(payload);
  if (!parsed.success) return malformed(`pull_request.${name}: ${describeIssues(parsed.error)}`);
  const { pull_request: pr, repository: repo, sender } = parsed.data;
  const pullRequest = `github:${repo.full_name}#${pr.number}`;

  if (name === 'closed') {
    if (pr.merged !== true) return skip(`pull request #${pr.number} was closed without merging`);
    if (!pr.merge_commit_sha) return malformed(`pull request #${pr.number} is merged but has no merge_commit_sha`);
    return {
      // A PR merges once: its number and merge commit name the merge whoever replays it.
      key: `${pullRequest}:merged:${pr.merge_commit_sha}`,
      event: {
        kind: 'pull_request.merged',
        repository: repo.full_name,
        number: pr.number,
        base: pr.base.ref,
        mergeSha: pr.merge_commit_sha,
        headSha: pr.head.sha,
        // merged_by can be null on some merges; the sender of the closing event is then who merged.
        mergedBy: pr.merged_by?.login ?? sender.login,
        author: pr.user?.login ?? sender.login,
        htmlUrl: pr.html_url,
      },
    };
  }
  const changedAction: PullRequestChanged['action'] = retargeted ? 'retargeted' : (name as ChangedAction);
  return {
    // updated_at moves with every change to the PR, so a head that comes back (force-pushed A, B, then A again)
    // is a new delivery, while the same body sent twice is not.
    key: `${pullRequest}:${changedAction}:${pr.base.ref}:${pr.head.sha}:${pr.updated_at ?? ''}`,
    event: {
      kind: 'pull_request.changed',
      action: changedAction,
      repository: repo.full_name,
      number: pr.number,
      base: pr.base.ref,
      head: pr.head.ref,
      headSha: pr.head.sha,
      author: pr.user?.login ?? sender.login,
      htmlUrl: pr.html_url,
      fromFork: pr.head.repo?.full_name.toLowerCase() !== pr.base.repo.full_name.toLowerCase(),
      draft: pr.draft ?? false,
    },
  };
}

/** The comment that asks for a preview: the whole comment, nothing around it, so a quote or a sentence never does. */
const PREVIEW_COMMAND = /^\s*cockpit\s+preview\s*$/i;

const issueCommentPayload = z.object({
  action: z.literal('created'),
  repository,
  sender: account,
  issue: z.object({ number, html_url: htmlUrl }),
  comment: z.object({ id: number.max(Number.MAX_SAFE_INTEGER), user: account.nullable() }),
});

function parseIssueComment(payload: unknown): GitHubEventParse {
  const head = z
    .object({
      action: z.string().max(64),
      issue: z.object({ pull_request: z.object({}).passthrough().optional() }),
      // GitHub caps a comment at 65536 characters.
      comment: z.object({ body: z.string().max(65536).nullable() }),
    })
    .safeParse(payload);
  if (!head.success) return malformed(`issue_comment: ${describeIssues(head.error)}`);
  const { action, issue, comment } = head.data;
  if (action !== 'created') return skip(`issue_comment action "${printable(action)}" is not handled`);
  if (!issue.pull_request) return skip('comment on an issue, not on a pull request');
  if (!PREVIEW_COMMAND.test(comment.body ?? '')) return skip('comment is not a Cockpit command');

  const parsed = issueCommentPayload.safeParse(payload);
  if (!parsed.success) return malformed(`issue_comment.created: ${describeIssues(parsed.error)}`);
  const { repository: repo, issue: pr, comment: asked, sender } = parsed.data;
  return {
    // A comment is created once: its id names the request.
    key: `github:${repo.full_name}#${pr.number}:comment:${asked.id}`,
    event: {
      kind: 'pull_request.preview_requested',
      repository: repo.full_name,
      number: pr.number,
      commenter: asked.user?.login ?? sender.login,
      commentId: asked.id,
      htmlUrl: pr.html_url,
    },
  };
}

const HEADS = 'refs/heads/';
const HEAD_COMMIT_MESSAGE_LIMIT = 500;

const pushPayload = z.object({
  ref: z.string().max(HEADS.length + 255),
  before: sha,
  after: sha,
  forced: z.boolean(),
  deleted: z.boolean().optional(),
  repository: repository.extend({ pushed_at: stamp.nullable().optional() }),
  sender: account,
  head_commit: z.object({ message: z.string() }).nullable().optional(),
});

function parsePush(payload: unknown): GitHubEventParse {
  const parsed = pushPayload.safeParse(payload);
  if (!parsed.success) return malformed(`push: ${describeIssues(parsed.error)}`);
  const push = parsed.data;
  if (!push.ref.startsWith(HEADS)) return skip('push to a tag or another ref, not a branch');
  const branch = ref.safeParse(push.ref.slice(HEADS.length));
  if (!branch.success) return malformed(`push: ref: ${describeIssues(branch.error)}`);
  if (push.deleted) return skip(`branch ${printable(branch.data)} was deleted`);
  const message = push.head_commit?.message;
  return {
    // before..after alone repeats when a branch goes A, B, A, B; the push time does not.
    key: `github:${push.repository.full_name}:push:${branch.data}:${push.before}..${push.after}@${push.repository.pushed_at ?? ''}`,
    event: {
      kind: 'branch.pushed',
      repository: push.repository.full_name,
      branch: branch.data,
      before: push.before,
      after: push.after,
      // The sender is the GitHub account that pushed; `pusher` carries only a git name and email.
      pusher: push.sender.login,
      forced: push.forced,
      ...(message !== undefined ? { headCommitMessage: message.length > HEAD_COMMIT_MESSAGE_LIMIT ? `${message.slice(0, HEAD_COMMIT_MESSAGE_LIMIT - 1)}…` : message } : {}),
    },
  };
}

/** One parser per X-GitHub-Event the domain hears about; a new event kind is one more entry. */
const PARSERS: Readonly<Record<string, (payload: unknown) => GitHubEventParse>> = {
  pull_request: parsePullRequest,
  issue_comment: parseIssueComment,
  push: parsePush,
};

/**
 * Reads a delivery (event name from X-GitHub-Event) into the domain's event and its de-duplication key:
 * `pull_request` opened, synchronize, reopened, ready_for_review, converted_to_draft and a retarget become
 * `pull_request.changed`, closed with merged=true `pull_request.merged`; an `issue_comment` created on a pull
 * request that is exactly `cockpit preview` becomes `pull_request.preview_requested`; a `push` to a branch
 * `branch.pushed`. Everything else comes back with `event: undefined` and the reason.
 */
export function parseGitHubEvent(eventName: string | undefined, payload: unknown): GitHubEventParse {
  const parse = eventName !== undefined && Object.hasOwn(PARSERS, eventName) ? PARSERS[eventName] : undefined;
  return parse ? parse(payload) : skip(`event "${printable(eventName)}" is not handled`);
}

function skip(reason: string): GitHubEventParse {
  return { event: undefined, reason, malformed: false };
}

function malformed(reason: string): GitHubEventParse {
  return { event: undefined, reason, malformed: true };
}

/** A header value fit to quote in a reason: short, printable. */
export function printable(value: string | undefined): string {
  return String(value ?? '').slice(0, 64).replace(/[^\w.:/+-]/g, '?');
}
