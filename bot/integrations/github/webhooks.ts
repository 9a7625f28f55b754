import { z } from 'zod';
import type { CodeHostEvent } from '../../../handlers/ports';

/**
 * GitHub webhooks: is a delivery really from GitHub (X-Hub-Signature-256), and what does it tell the domain.
 * Everything else (raw body capture, size limit, answering 2xx/4xx, de-duplicating by X-GitHub-Delivery) is the
 * HTTP route's.
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

export type PullRequestEventParse =
  | { event: CodeHostEvent; reason?: undefined }
  /** Nothing for the domain. `malformed`: the payload breaks GitHub's shape (answer 400); else an event we skip. */
  | { event: undefined; reason: string; malformed: boolean };

const CHANGED = ['opened', 'synchronize', 'reopened', 'ready_for_review'] as const;
type ChangedAction = (typeof CHANGED)[number];

// Bounds are GitHub's own where it has them (refs 255 bytes, logins 39 characters) with room to spare; they keep
// a hostile payload's megabyte strings out of the domain, the logs and Slack.
const login = z.string().min(1).max(100);
const account = z.object({ login });
const ref = z.string().min(1).max(255);
const sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a commit sha');
const repository = z.object({ full_name: z.string().max(200).regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name') });

const pullRequestPayload = z.object({
  action: z.string(),
  repository,
  sender: account,
  pull_request: z.object({
    number: z.number().int().positive().max(2 ** 31),
    html_url: z.url({ protocol: /^https?$/ }).max(2048),
    user: account.nullable(),
    base: z.object({ ref, sha, repo: repository }),
    // A fork deleted after the PR was opened leaves head.repo null.
    head: z.object({ ref, sha, repo: repository.nullable() }),
    merged: z.boolean().nullable().optional(),
    draft: z.boolean().optional(),
    merge_commit_sha: sha.nullable().optional(),
    merged_by: account.nullable().optional(),
  }),
});

/**
 * Reads a `pull_request` delivery (event name from X-GitHub-Event) into the domain's event: opened, synchronize
 * and reopened become `pull_request.changed`; closed with merged=true becomes `pull_request.merged`. Every other
 * event or action, and a PR closed without merging, comes back with `event: undefined` and the reason.
 */
export function parsePullRequestEvent(eventName: string | undefined, payload: unknown): PullRequestEventParse {
  if (eventName !== 'pull_request') return skip(`event "${printable(eventName)}" is not handled`);
  const action = z.object({ action: z.string().max(64) }).safeParse(payload);
  if (!action.success) return malformed(`payload: ${describe(action.error)}`);
  const name = action.data.action;
  // `edited` matters only when the base changed (a retarget): the PR now deploys another stack, so its preview
  // must be redone; a new title or body changes nothing Cockpit measured.
  const retargeted = name === 'edited' && z.object({ changes: z.object({ base: z.object({}).passthrough() }) }).safeParse(payload).success;
  if (name === 'edited' && !retargeted) return skip('pull_request edited without a base change');
  if (name !== 'closed' && name !== 'edited' && !CHANGED.includes(name as ChangedAction)) return skip(`pull_request action "${printable(name)}" is not handled`);

  const parsed = pullRequestPayload.safeParse(payload);
  if (!parsed.success) return malformed(`pull_request.${name}: ${describe(parsed.error)}`);
  const { pull_request: pr, repository: repo, sender } = parsed.data;

  if (name === 'closed') {
    if (pr.merged !== true) return skip(`pull request #${pr.number} was closed without merging`);
    if (!pr.merge_commit_sha) return malformed(`pull request #${pr.number} is merged but has no merge_commit_sha`);
    return {
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
  return {
    event: {
      kind: 'pull_request.changed',
      action: retargeted ? 'retargeted' : (name as ChangedAction),
      repository: repo.full_name,
      number: pr.number,
      base: pr.base.ref,
      head: pr.head.ref,
      headSha: pr.head.sha,
      author: pr.user?.login ?? sender.login,
      htmlUrl: pr.html_url,
      fromFork: pr.head.repo?.full_name.toLowerCase() !== pr.base.repo.full_name.toLowerCase(),
      draft: pr.draft === true,
    },
  };
}

function skip(reason: string): PullRequestEventParse {
  return { event: undefined, reason, malformed: false };
}

function malformed(reason: string): PullRequestEventParse {
  return { event: undefined, reason, malformed: true };
}

/** zod's messages name the rule broken, never the value: safe to log however hostile the payload. */
function describe(error: z.ZodError): string {
  const issues = error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return error.issues.length > 5 ? `${issues.join('; ')}; and ${error.issues.length - 5} more` : issues.join('; ');
}

/** A header value fit to quote in a reason: short, printable. */
function printable(value: string | undefined): string {
  return String(value ?? '').slice(0, 64).replace(/[^\w.:-]/g, '?');
}
