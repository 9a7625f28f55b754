import type { ForumBacklog, ForumWrite } from './forum';
import type { IncidentRecord, NewTimelineEntry, TimelineEntry } from './incidentModel';

/**
 * Ports: what the domain needs from the outside world. Adapters in bot/ implement them; tests use in-memory
 * fakes that `implements` the same interfaces, so the compiler keeps both honest.
 */

/** The wall clock, injected so tests control time. */
export interface Clock {
  now(): Date;
}

/** Structured logger; pino's Logger satisfies it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * What vouches for an identity, which decides how far it is trusted (handlers/policy.ts):
 * - `slack`: Slack signed the request that names the user;
 * - `github`: GitHub signed the delivery and the login is a person's of the team file;
 * - `console`, `cli`: someone at a terminal of the host says they act for a member: nothing proves it;
 * - `demo`: the demo console, on a throwaway store with simulated adapters: nothing real is at stake;
 * - `scheduler`: Cockpit's own schedule, acting for nobody.
 */
export type IdentitySource = 'slack' | 'github' | 'console' | 'cli' | 'demo' | 'scheduler';

/** Who asked, and how we know: travels with every act and into every record. */
export interface Actor {
  /** The team member's Slack user id (U…) the act is done for; `scheduler` for the scheduler. */
  id: string;
  /** Display name when known, for messages. */
  name?: string;
  via: IdentitySource;
  /** Who is really there when it is not Slack: the OS user at the console or CLI, the GitHub login. */
  as?: string;
}

export type AuditOutcome = 'requested' | 'started' | 'succeeded' | 'failed' | 'refused' | 'cancelled';

export interface AuditEntry {
  at: Date;
  requestId: string;
  actor: string;
  /** What was done, as a stable dotted name: `deploy.preview`, `lock.break`, `command.status`. */
  action: string;
  /** What it was done to, e.g. the stack name; empty when none. */
  target: string;
  outcome: AuditOutcome;
  /** Small JSON-serialisable details (reason, counts, PR url); never secrets. */
  detail: Record<string, unknown>;
}

export interface AuditQuery {
  target?: string;
  action?: string;
  /** Any of these actions. */
  actions?: readonly string[];
  outcomes?: readonly AuditOutcome[];
  /** Entries at or after this time. */
  since?: Date;
  requestId?: string;
  /** How many of the newest entries: 100 when absent, at most 1000. */
  limit?: number;
}

/** Append-only record of who did what, when, with which outcome. */
export interface AuditLog {
  record(entry: Omit<AuditEntry, 'at' | 'detail'> & { at?: Date; detail?: Record<string, unknown> }): Promise<void>;
  /** Newest first. */
  query(query?: AuditQuery): Promise<AuditEntry[]>;
}

export interface StackLock {
  stack: string;
  /** The member (Slack id) the operation runs for, or `scheduler`. */
  holder: string;
  /** What the lock is for, shown to whoever is refused: "deploy", "drill", "destroy". */
  purpose: string;
  requestId: string;
  /** The process (replica) running the operation; used to tell a live lock from one a crash left behind. */
  owner: string;
  acquiredAt: Date;
  /** Renewed by the owner while it works; a lock whose heartbeat is old is stale. */
  heartbeatAt: Date;
}

export type LockAttempt = { acquired: true; lock: StackLock } | { acquired: false; heldBy: StackLock };

/** One operation per stack at a time, held in the store so it holds across replicas. */
export interface StackLocks {
  /** Atomic across replicas: of two racing requests exactly one wins. The request already holding it gets it again. */
  acquire(request: Omit<StackLock, 'acquiredAt' | 'heartbeatAt'>): Promise<LockAttempt>;
  /** Refreshes the heartbeat; false when the lock is no longer ours (broken by someone). */
  heartbeat(stack: string, requestId: string): Promise<boolean>;
  /** Releases only the lock taken by that request; false when it was not held by it. */
  release(stack: string, requestId: string): Promise<boolean>;
  get(stack: string): Promise<StackLock | undefined>;
  list(): Promise<StackLock[]>;
  /**
   * Removes whatever lock is on the stack (a person breaking a stale lock); returns what was removed. To break
   * exactly the lock a person was shown and confirmed, `release(stack, shownRequestId)` is the safer call.
   */
  forceRelease(stack: string): Promise<StackLock | undefined>;
}

/** A named, expiring lease: lets one replica at a time run a scheduled job. */
export interface Leases {
  /** Takes or renews the lease when free, expired, or already ours. */
  tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
}

export interface StoreHealth {
  /** `sqlite` or `postgres`. */
  dialect: string;
  reachable: boolean;
  /** 0 when the database could not be asked. */
  migrationsApplied: number;
  migrationsPending: number;
  /** Why it is unhealthy; never contains credentials. */
  error?: string;
}

export interface StoreProbe {
  health(): Promise<StoreHealth>;
}

/** Whether a service Cockpit works with answers now, and what was seen or why it is down (never a secret). */
export interface ServiceHealth {
  up: boolean;
  detail: string;
}

/** Asks a service (Slack, GitHub) whether it answers; bounded in time, answers reused briefly, never throws. */
export interface HealthProbe {
  check(): Promise<ServiceHealth>;
}

/** Remembers request deliveries so a retried one is recognised and not run twice. */
export interface DeliveryLog {
  /** True the first time a key is seen within `ttlMs`, and the key is then taken; false for a repeat. */
  firstSeen(key: string, ttlMs: number): Promise<boolean>;
  /** Remembers a key for `ttlMs` from now, whether or not it was seen (a delivery whose work is done). */
  keep(key: string, ttlMs: number): Promise<void>;
  /** Forgets a key, so the same delivery runs when it comes again (its work failed). */
  forget(key: string): Promise<void>;
}

/** A stack as the infra engine sees it: Cockpit's name, the Pulumi stack, and the infra branch it runs. */
export interface StackTarget {
  /** Cockpit's name for the stack (the key in cockpit.yml). */
  stack: string;
  /** The Pulumi stack name. */
  pulumiStack: string;
  /** The infra repo branch whose code the stack runs. */
  branch: string;
}

/** Pulumi's step operations. In previews the halves of a replacement fold into one `replace`. */
export type ResourceOp =
  | 'create'
  | 'update'
  | 'replace'
  | 'delete'
  | 'same'
  | 'create-replacement'
  | 'delete-replaced'
  | 'read'
  | 'read-replacement'
  | 'refresh'
  | 'discard'
  | 'discard-replaced'
  | 'import'
  | 'import-replacement'
  | 'remove-pending-replace';

/** One resource a preview would touch. */
export interface ResourceChange {
  /** What happens to it; a replacement appears once, as `replace`. */
  op: ResourceOp;
  /** The Pulumi type token, e.g. `kubernetes:core/v1:PersistentVolumeClaim`. */
  type: string;
  /** The resource's logical name (the last part of its URN). */
  name: string;
  /** The full Pulumi URN. */
  urn: string;
}

/** How many resources each kind of change touches, as Pulumi's own summary counts them. */
export type ChangeCounts = Record<'create' | 'update' | 'replace' | 'delete' | 'same', number>;

export interface PreviewResult {
  /** Pulumi's summary counts; a replacement counts once, as `replace`. */
  counts: ChangeCounts;
  /** Every step that is not `same`, one entry per resource, in the engine's order. */
  changes: ResourceChange[];
  /** How many steps an update would walk (sames and both halves of replacements included); feeds progress. */
  steps: number;
  /** Wall time of the preview, checkout included. */
  durationMs: number;
  /** The infra repo commit the preview ran at (for a pull request, the merge of its head into the stack's branch); absent when the program is a local directory. */
  revision?: string;
  /** For a pull request: the tip of the stack's branch the head was merged into. */
  baseRevision?: string;
  /** For a pull request: its head commit, the one asked for. */
  headRevision?: string;
}

/**
 * Code to preview other than the tip of the stack's own branch: a branch (a promotion's source) or a pull request
 * (previewed as its merge into the stack's branch would deploy it). It runs in a workspace of its own, never in
 * the checkout the stack's deploys use.
 */
export type PreviewCode = { kind: 'branch'; branch: string } | { kind: 'pull_request'; number: number; headSha: string };

export interface PreviewOptions {
  onEvent?(progress: EngineProgress): void;
  signal?: AbortSignal;
  /** Absent: the tip of `StackTarget.branch`, which must be the stack's own branch. */
  code?: PreviewCode;
  /**
   * A commit of the stack's own branch to preview instead of its tip (a merge being deployed), so that what is
   * previewed is what runs; ConflictError when the branch no longer contains it.
   */
  revision?: string;
}

/** How far an update has got; sent on every step start and finish, unthrottled. */
export interface EngineProgress {
  /** Steps finished (succeeded or failed). */
  done: number;
  /** Steps expected: the preview's count when given, else the steps started so far. */
  total: number;
  /** The step in flight most recently started, e.g. `updating kubernetes:apps/v1:Deployment web`. */
  current?: string;
}

export interface UpdateResult {
  /** A failed or cancelled run is reported here; only conflicts and outages throw. */
  outcome: 'succeeded' | 'failed' | 'cancelled';
  /** Wall time of the run, checkout included. */
  durationMs: number;
  /** The changes made (from the engine's summary, or counted from finished steps when there is none). */
  counts: ChangeCounts;
  /** Stack outputs after the update; secret values are replaced by `[secret]`. */
  outputs: Record<string, { value: unknown; secret: boolean }>;
  /** A few short diagnostic lines saying why it failed; never secrets. */
  error?: string;
  /** The last engine diagnostics, oldest first, for a "show log" view. */
  logTail: string[];
  /** The infra repo commit the update ran at; absent when the program is a local directory. */
  revision?: string;
}

/** Whether the engine can run here, and if not what to install. */
export type EngineAvailability = { available: true; version: string } | { available: false; reason: string; install: string };

export interface UpdateOptions {
  /** Called on every step start and finish; throttling (e.g. of Slack edits) is the caller's job. */
  onEvent?(progress: EngineProgress): void;
  /** The preview's `steps`, so progress has a total from the first event. */
  expectedSteps?: number;
  /** The commit the preview ran at: the update runs that code, and fails if the branch no longer contains it. */
  revision?: string;
}

/**
 * Previews and applies infrastructure changes (Pulumi). Throws ConflictError (the stack is busy here or locked
 * in the backend, or the previewed commit left the branch), NotFoundError (stack, branch or program missing),
 * UnavailableError (no CLI or git, the infra repo unreachable, or a preview the program or a provider refused —
 * their diagnostics in `hint`).
 */
export interface InfraEngine {
  /** Whether the engine's CLI is installed and usable; never throws. */
  availability(): Promise<EngineAvailability>;
  /**
   * A dry run: what an update would change, at the tip of the stack's branch or with `opts.code`. Previews of
   * `code` throw ConflictError when a pull request moved past `headSha` or does not merge cleanly, and
   * UnavailableError when the program is a local directory (they need the infra repo's git remote).
   */
  preview(stack: StackTarget, opts?: PreviewOptions): Promise<PreviewResult>;
  /** A dry run of a tear-down: every resource a `destroy` would delete, for the confirmation a person reads. */
  previewDestroy(stack: StackTarget, opts?: { signal?: AbortSignal }): Promise<PreviewResult>;
  /** Applies the stack; a failed or cancelled run is an outcome, not an exception. */
  up(stack: StackTarget, opts?: UpdateOptions): Promise<UpdateResult>;
  /** Deletes every resource of the stack (ephemeral stacks). */
  destroy(stack: StackTarget, opts?: UpdateOptions): Promise<UpdateResult>;
  /** Stops the stack's running operation: gracefully when it runs here, else through the backend (`pulumi cancel`). */
  cancel(stack: StackTarget): Promise<void>;
}

/** A run of inline text from a runbook; links are absolute, so any front can show them as they are. */
export interface TextSpan {
  text: string;
  code?: boolean;
  strong?: boolean;
  emphasis?: boolean;
  href?: string;
}

/** Inline text as spans in reading order: the shape runbook text has once parsed, free of Markdown syntax. */
export type RichText = TextSpan[];

export interface RunbookStep {
  text: RichText;
  /** The items of a list nested under the step, one level deep. */
  details: RichText[];
  /** Code blocks inside the step, verbatim: the commands to type. */
  commands: string[];
}

export interface Runbook {
  /** Path under runbooks/ without `.md`, e.g. `on-call` or `alerts/KubePodCrashLooping`. */
  name: string;
  title: string;
  /** The first paragraph under the title. */
  summary: RichText;
  /** The numbered list under the `## Steps` section, else the first numbered list of the page. */
  steps: RunbookStep[];
  /** Where a person reads the whole page. */
  url: string;
}

/** The team's written process (runbooks/**\/*.md), parsed; message templates are not runbooks. */
export interface RunbookLibrary {
  list(): Promise<Runbook[]>;
}

/** The customer-facing message templates (runbooks/templates/<name>.md), as raw text. */
export interface MessageTemplateSource {
  /** Undefined when the team has no template of that name. */
  get(name: string): Promise<string | undefined>;
}

/** One commit a promotion carries. */
export interface CommitSummary {
  sha: string;
  /** The whole commit message; its first line is the subject. */
  message: string;
  /** The GitHub login when the commit maps to an account, else the git author name. */
  author: string;
}

/** How a file differs between two branches, in GitHub's words. */
export type ChangedFileStatus = 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';

export interface ChangedFile {
  filename: string;
  status: ChangedFileStatus;
}

/** What `head` carries that `base` lacks (a three-dot compare: from their merge base to head). */
export interface BranchComparison {
  /** `behind` or `identical`: head is an ancestor of base (or the same commit), so it brings nothing new. */
  status: 'ahead' | 'behind' | 'identical' | 'diverged';
  /** Commits on head and not on base: the true count, even when `commits` is cut short. */
  aheadBy: number;
  /** Oldest first; the code host may cut the list short (GitHub stops at 250). */
  commits: CommitSummary[];
  /** The code host may cut the list short (GitHub stops at 300). */
  files: ChangedFile[];
  /** Where a person reads the comparison. */
  htmlUrl: string;
}

/** A pull request as the domain refers to it. */
export interface PullRequestRef {
  number: number;
  htmlUrl: string;
  title: string;
  /** The commit at the tip of the PR's head branch: what a preview runs and a status is set on. */
  headSha: string;
}

/** A pull request read whole: what deciding to preview it needs. */
export interface PullRequestDetails extends PullRequestRef {
  state: 'open' | 'closed';
  merged: boolean;
  draft: boolean;
  /** The branch it merges into. */
  base: string;
  head: string;
  /** GitHub login of its author. */
  author: string;
  /** The head lives in another repository. */
  fromFork: boolean;
}

/** One review of a pull request, as GitHub keeps it. */
export interface PullRequestReview {
  /** GitHub login. */
  reviewer: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';
  /** The head the review was given on: an approval of an older commit does not approve newer code. */
  commitSha: string;
  submittedAt: Date;
}

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

/** A status on a commit, shown as a check on every PR whose head it is. */
export interface CommitStatus {
  state: CommitState;
  /** The check's name, e.g. `cockpit/preview`; a later status with the same context replaces the earlier one. */
  context: string;
  /** One short line; GitHub keeps 140 characters of it. */
  description: string;
  /** Where the check's details link points. */
  targetUrl?: string;
}

/** The comment `upsertComment` wrote, and whether it was new. */
export interface CommentRef {
  id: number;
  htmlUrl: string;
  created: boolean;
}

/**
 * The infra repository on its code host (GitHub): promotion PRs, previews posted back, files read at a branch.
 * Errors: NotFoundError (repo, branch or PR absent), ConflictError (PR already open, nothing to promote),
 * UnavailableError (unreachable, rate limited, credentials rejected or missing a permission).
 */
export interface CodeHost {
  /** What `head` carries that `base` lacks. */
  compare(base: string, head: string): Promise<BranchComparison>;
  /** The open pull request from `head` into `base`, if there is one. */
  findOpenPullRequest(base: string, head: string): Promise<PullRequestRef | undefined>;
  /** Opens a pull request; ConflictError when one is already open for the same branches or there is nothing to merge. */
  openPullRequest(request: { base: string; head: string; title: string; body: string }): Promise<PullRequestRef>;
  /** Rewrites a pull request's title and body. */
  updatePullRequest(number: number, update: { title: string; body: string }): Promise<PullRequestRef>;
  /** A file's text at a branch or commit; undefined when the file does not exist there. */
  readFile(path: string, ref: string): Promise<string | undefined>;
  /** Sets a status on a commit. */
  setCommitStatus(sha: string, status: CommitStatus): Promise<void>;
  /** The latest state of one status context on a commit; undefined when nobody set it. */
  commitStatus(sha: string, context: string): Promise<CommitState | undefined>;
  /**
   * Edits in place the one comment on the PR that carries `marker` and that Cockpit itself wrote, or creates it:
   * re-runs never add a second, and a person's comment quoting the marker is never edited.
   */
  upsertComment(issueNumber: number, marker: string, body: string): Promise<CommentRef>;
  /** One pull request. */
  pullRequest(number: number): Promise<PullRequestDetails>;
  /** Every review of a pull request, oldest first. */
  reviews(number: number): Promise<PullRequestReview[]>;
  /** The merged pull requests whose merge made this commit (a push that is a merge, as opposed to a direct push). */
  mergedPullRequestsOf(sha: string): Promise<Array<{ number: number; base: string }>>;
  /** The login Cockpit itself acts as: the author of the promotion PRs it opens. */
  selfLogin(): Promise<string>;
}

/** A pull request was opened, reopened, retargeted, got new commits, or left or entered draft. */
export interface PullRequestChanged {
  kind: 'pull_request.changed';
  /** `retargeted`: its base branch changed, so it now merges into (and deploys) another stack. */
  action: 'opened' | 'synchronize' | 'reopened' | 'retargeted' | 'ready_for_review' | 'converted_to_draft';
  /** `owner/name` of the repository the PR targets. */
  repository: string;
  number: number;
  /** The branch the PR merges into. */
  base: string;
  /** The branch the PR merges from. */
  head: string;
  headSha: string;
  /** Login of the person who opened the PR. */
  author: string;
  htmlUrl: string;
  /** The head lives in another repository: its code is not ours to run with our credentials. */
  fromFork: boolean;
  /** A draft PR: its author says it is not ready to be reviewed (or previewed) yet. */
  draft: boolean;
}

/** A pull request was merged: its base branch has new code to deploy. */
export interface PullRequestMerged {
  kind: 'pull_request.merged';
  /** `owner/name` of the repository the PR targets. */
  repository: string;
  number: number;
  /** The branch that received the merge. */
  base: string;
  /** The commit the merge made on `base` (merge, squash or rebase). */
  mergeSha: string;
  /** The PR's head when it merged: what its reviews approved and its drill status is on. */
  headSha: string;
  /** Login of the person who merged. */
  mergedBy: string;
  /** Login of the person who opened the PR. */
  author: string;
  htmlUrl: string;
}

/** Someone commented `cockpit preview` on a pull request (Atlantis-style): preview it on their say-so. */
export interface PullRequestPreviewRequested {
  kind: 'pull_request.preview_requested';
  /** `owner/name` of the repository the PR targets. */
  repository: string;
  number: number;
  /** Login of the person who wrote the comment. */
  commenter: string;
  commentId: number;
  /** The pull request's page. */
  htmlUrl: string;
}

/** A branch moved: a push, a force-push or a revert, with or without a pull request behind it. */
export interface BranchPushed {
  kind: 'branch.pushed';
  /** `owner/name` of the repository pushed to. */
  repository: string;
  /** The branch name, without `refs/heads/`. */
  branch: string;
  /** The branch tip before the push; all zeros when the push created the branch. */
  before: string;
  /** The branch tip after the push. */
  after: string;
  /** Login of the GitHub account that pushed. */
  pusher: string;
  /** A force-push: `before` is no longer in the branch's history. */
  forced: boolean;
  /** The new tip's commit message, cut to a few hundred characters; absent when the push carried no commit. */
  headCommitMessage?: string;
}

/** What the code host tells the domain through its webhooks. */
export type CodeHostEvent = PullRequestChanged | PullRequestMerged | PullRequestPreviewRequested | BranchPushed;

/** Where a deploy plan is in its life; each arrow is one `transition`, so a double press cannot start two runs. */
export type DeployPlanStatus =
  | 'awaiting_confirmation' // previewed; Deploy / Cancel shown
  | 'awaiting_approval' // confirmed on a stack that needs a second person
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled' // by a person, before or during the run
  | 'expired'; // left unconfirmed past its time; the preview no longer describes the stack

/** Where a plan came from when no person previewed it: a merged pull request. */
export interface MergeSource {
  kind: 'merge';
  pullRequest: number;
  /** The commit the merge made on the stack's branch: what the plan previews and runs. */
  mergeSha: string;
  /** GitHub logins. */
  mergedBy: string;
  author?: string;
  htmlUrl: string;
  /** Earlier merges this deploy carries too, when they were queued behind a busy lock. */
  carries?: number[];
}

/** What the risk report measured when the plan was made; kept with the plan so the record shows what people saw. */
export interface RiskAssessment {
  /** Replaced or deleted resources whose loss loses data or an environment (PVC, StatefulSet, Namespace, …). */
  stateful: ResourceChange[];
  lastDrill?: DrillRecord;
  /** The last drill that passed, which may be older than the last drill. */
  lastPassedDrill?: DrillRecord;
  openIncidents: IncidentSummary[];
  /** Open SEV1/SEV2 incidents on the stack freeze its deploys. */
  frozen: boolean;
  /** `low` | `elevated` | `high`, with the reasons a person reads before pressing Deploy. */
  level: 'low' | 'elevated' | 'high';
  reasons: string[];
}

/** A previewed deploy waiting for (or past) its confirmation; its id is the preview's request id. */
export interface DeployPlan {
  id: string;
  stack: string;
  requestedBy: string;
  createdAt: Date;
  updatedAt: Date;
  status: DeployPlanStatus;
  preview: PreviewResult;
  risk: RiskAssessment;
  /** Who pressed Deploy (may differ from the requester). */
  confirmedBy?: string;
  /** When Deploy was pressed: the approval window runs from here. */
  confirmedAt?: Date;
  approvedBy?: string;
  /** Set for the plan of a merge; absent for a person's `/cockpit deploy`. */
  source?: MergeSource;
  /** An approver's reason for deploying through a freeze. */
  freezeOverride?: { by: string; reason: string };
  /** The Slack (or console) message that shows the plan, edited in place as it moves on. */
  message?: { channel: string; ts: string };
  result?: UpdateResult;
}

/** Deploy plans, kept in the store so a button pressed on any replica finds its plan. */
export interface DeployPlans {
  create(plan: Omit<DeployPlan, 'updatedAt'>): Promise<DeployPlan>;
  get(id: string): Promise<DeployPlan | undefined>;
  /**
   * Moves a plan from one of `from` to `to` and applies `patch`, atomically: undefined when the plan is not in
   * one of `from` (someone else moved it first).
   */
  transition(
    id: string,
    from: readonly DeployPlanStatus[],
    to: DeployPlanStatus,
    patch?: Partial<Pick<DeployPlan, 'confirmedBy' | 'confirmedAt' | 'approvedBy' | 'freezeOverride' | 'message' | 'result'>>,
  ): Promise<DeployPlan | undefined>;
  /** Records where the plan is shown, without changing its status. */
  setMessage(id: string, message: { channel: string; ts: string }): Promise<void>;
  /** Plans of a stack in any of these statuses, newest first; at most `limit` (default 100). */
  byStack(stack: string, statuses: readonly DeployPlanStatus[], limit?: number): Promise<DeployPlan[]>;
  /** Plans of the stack that ran and finished at or after `since` (newest first): changes a preview has not seen. */
  finishedSince(stack: string, since: Date): Promise<DeployPlan[]>;
  /** The plan that ran on the stack last (running or finished with a result): the code the stack runs. */
  lastRun(stack: string): Promise<DeployPlan | undefined>;
  /** Deletes plans that are neither waiting nor running and last changed before `before`; returns how many. */
  purge(before: Date): Promise<number>;
}

/** What started a restore drill: a person, the promotion PR gate, or the weekly schedule. */
export type DrillTrigger = 'manual' | 'gate' | 'schedule';

/** One restore drill's result, as the drill capability records it: the summary other capabilities read. */
export interface DrillRecord {
  stack: string;
  requestId: string;
  startedAt: Date;
  finishedAt: Date;
  outcome: 'passed' | 'failed';
  /** Measured time to restore, seconds: from the restore's start to the data verified. */
  rtoSeconds?: number;
  /** Age of the restored backup at restore time, seconds. */
  rpoSeconds?: number;
  trigger?: DrillTrigger;
  /** Why it failed, in one line. */
  reason?: string;
}

export type DrillStepName = 'marker' | 'backup' | 'restore' | 'verify' | 'cleanup';

/** One step of a drill as it ran. */
export interface DrillStep {
  name: DrillStepName;
  state: 'running' | 'passed' | 'failed' | 'skipped';
  startedAt: Date;
  finishedAt?: Date;
  /** One line a person reads: "drill-x Completed, 2 warnings". */
  detail?: string;
}

/** A marker record a drill wrote into the product's datastore: a restore of any later backup must hold it. */
export interface DrillMarker {
  value: string;
  plantedAt: Date;
  /** The stack whose datastore holds it. */
  stack: string;
  requestId: string;
}

/** The logs a drill kept, and where to fetch the rest: its scratch namespaces are gone once it ends. */
export interface DrillLogs {
  /** The Velero Restore whose log Velero keeps in object storage (fetched on demand). */
  restore?: string;
  /** The last lines of each Job the drill ran, read before the clean-up. */
  jobs: Array<{ name: string; namespace: string; tail: string[] }>;
}

/** A drill whole: the summary, every step, what was restored from where, and what it kept for "Show logs". */
export interface DrillRun extends DrillRecord {
  /** The stack whose cluster the restore ran on; the drilled stack itself unless a drill cluster was used. */
  cluster: string;
  steps: DrillStep[];
  /** Velero's warnings and other things a person should read even when the drill passed. */
  warnings: string[];
  backup?: { name: string; takenAt: Date; fresh: boolean };
  /** The marker the restore was checked for, and whether it was found. */
  marker?: DrillMarker & { found?: boolean };
  /** A marker planted for the next drill (drills of the latest scheduled backup check the previous one). */
  plantedForNext?: DrillMarker;
  logs: DrillLogs;
  /** Scratch namespaces the drill could not delete: someone must. */
  leftBehind: string[];
}

/** Restore drills run so far. */
export interface DrillHistory {
  /** The newest drill of the stack, whatever its outcome. */
  latest(stack: string): Promise<DrillRecord | undefined>;
  /** The newest drill of the stack that passed. */
  latestPassed(stack: string): Promise<DrillRecord | undefined>;
  record(drill: DrillRecord | DrillRun): Promise<void>;
  /** Keeps a marker the moment it is planted: the datastore holds it whatever the drill does next. */
  recordMarker(marker: DrillMarker): Promise<void>;
  /** Whole drills, newest first; of one stack when given; at most `limit` (default 20). */
  list(query?: { stack?: string; limit?: number }): Promise<DrillRun[]>;
  /** One drill by its request id. */
  get(requestId: string): Promise<DrillRun | undefined>;
  /** The newest marker planted into `stack`'s datastore before `before`: what a backup taken then must hold. */
  markerBefore(stack: string, before: Date): Promise<DrillMarker | undefined>;
}

/** Where a drill stands on a cluster: one read of a Kubernetes Job. */
export type DrillJobState = { phase: 'running' } | { phase: 'succeeded' } | { phase: 'failed'; reason: string };

/** A Job the drill runs: planting the marker in the live datastore, or checking the restored one. */
export interface DrillJob {
  namespace: string;
  name: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  /** Secrets of the namespace whose keys become the container's environment (the datastore's credentials). */
  envFromSecrets: string[];
  labels: Record<string, string>;
  /** Kubernetes stops the Job after this long (`activeDeadlineSeconds`). */
  deadlineSeconds: number;
}

/** A Velero Backup or Restore as a drill reads it. */
export interface VeleroOperationState {
  name: string;
  /** Velero's phase, as it writes it: `New`, `InProgress`, `Completed`, `PartiallyFailed`, `Failed`, … */
  phase: string;
  startedAt?: Date;
  completedAt?: Date;
  warnings: number;
  errors: number;
  failureReason?: string;
  validationErrors: string[];
}

/** One volume's data restore (Velero's PodVolumeRestore). */
export interface VolumeRestoreState {
  name: string;
  /** `namespace/pod` the volume belongs to. */
  pod: string;
  volume: string;
  phase: string;
  message?: string;
}

/** A restored workload or volume claim, and whether it is ready (bound, for a claim). */
export interface WorkloadState {
  kind: 'Deployment' | 'StatefulSet' | 'PersistentVolumeClaim';
  name: string;
  ready: boolean;
  /** "1/2 ready", "Pending". */
  detail: string;
}

/** The Velero and Kubernetes calls a drill makes on one cluster (bot/integrations/kubernetes implements it). */
export interface DrillCluster {
  /** How Cockpit reaches the cluster, for messages: "integration's cluster, kubeconfig from its Pulumi output". */
  readonly description: string;
  createNamespace(name: string, metadata: { labels: Record<string, string>; annotations: Record<string, string> }): Promise<void>;
  /** Starts deleting a namespace; false when it did not exist. */
  deleteNamespace(name: string): Promise<boolean>;
  /** Whether the namespace exists (a terminating one still does). */
  namespaceExists(name: string): Promise<boolean>;
  /** Namespaces labelled as a drill's, with the drill's request id: what a crashed drill left behind. */
  drillNamespaces(): Promise<Array<{ name: string; requestId?: string }>>;
  startJob(job: DrillJob): Promise<void>;
  job(namespace: string, name: string): Promise<DrillJobState>;
  /** The log of the Job's pod; empty when it has none yet. */
  jobLog(namespace: string, name: string): Promise<string>;
  /** Creates a Backup of `namespaces` with the settings of Velero's `schedule` (volumes included). */
  startBackup(request: { name: string; schedule: string; namespaces: string[]; ttlHours: number; labels: Record<string, string> }): Promise<void>;
  backup(name: string): Promise<VeleroOperationState | undefined>;
  /** The newest backup the schedule made, whatever its phase; in `storageLocation` when given. */
  latestBackup(schedule: string, storageLocation?: string): Promise<VeleroOperationState | undefined>;
  startRestore(request: {
    name: string;
    backup: string;
    namespaceMapping: Record<string, string>;
    excludedResources: string[];
    labels: Record<string, string>;
  }): Promise<void>;
  restore(name: string): Promise<VeleroOperationState | undefined>;
  volumeRestores(restore: string): Promise<VolumeRestoreState[]>;
  workloads(namespace: string): Promise<WorkloadState[]>;
  /** Velero's log of a restore (through a DownloadRequest). */
  restoreLog(restore: string): Promise<string>;
}

/** The cluster a stack's drills run on, or why Cockpit cannot reach one and what it needs. */
export interface DrillClusters {
  forStack(stack: string): Promise<{ cluster: DrillCluster } | { unavailable: string; needs: string }>;
}

export type IncidentSeverity = 'SEV1' | 'SEV2' | 'SEV3' | 'SEV4';

/** An incident as other capabilities see it (the deploy freeze, the risk report). */
export interface IncidentSummary {
  id: number;
  severity: IncidentSeverity;
  title: string;
  /** ITIL state: new, investigating, identified, monitoring, resolved, closed. */
  status: string;
  /** The stacks it affects; empty means not tied to a stack. */
  stacks: string[];
  openedAt: Date;
}

/** Incidents that are not resolved or closed. */
export interface IncidentBoard {
  /** Open incidents, newest first; with a stack, only those that affect it. */
  open(stack?: string): Promise<IncidentSummary[]>;
}

/** What a new incident is declared with; the store gives it its number. */
export type NewIncidentRecord = Omit<IncidentRecord, 'id' | 'version' | 'updatedAt' | 'openedAt'>;

/** Fields of an incident a change may set; `null` clears an optional one. */
export type IncidentPatch = Partial<{
  [K in keyof Omit<IncidentRecord, 'id' | 'version' | 'updatedAt' | 'openedAt' | 'declaredBy'>]: undefined extends IncidentRecord[K] ? IncidentRecord[K] | null : IncidentRecord[K];
}>;

/** What a change writes besides the record, in the same transaction: its timeline entries and forum writes. */
export interface IncidentEffects {
  timeline: NewTimelineEntry[];
  /** Delivered by the outbox in the order given, after every write already queued for the incident. */
  forum: ForumWrite[];
}

/**
 * Incidents, their timelines and the forum writes their changes make, written together: a change is never
 * recorded without the post it promised customers, nor the other way round.
 */
export interface IncidentRecords extends IncidentBoard {
  /** Numbers and stores a new incident; `effects` is given the number (posts name it). */
  declare(incident: NewIncidentRecord, effects: (declared: IncidentRecord) => IncidentEffects): Promise<IncidentRecord>;
  get(id: number): Promise<IncidentRecord | undefined>;
  /** The incident whose channel this is. */
  byChannel(channelId: string): Promise<IncidentRecord | undefined>;
  /** Applies the change when the incident is still at `version`; undefined when someone changed it first. */
  change(id: number, version: number, patch: IncidentPatch, effects: IncidentEffects): Promise<IncidentRecord | undefined>;
  /** Adds to the timeline without changing the incident (a page, a person joining). */
  note(id: number, entries: NewTimelineEntry[]): Promise<void>;
  /** Oldest first. */
  timeline(id: number): Promise<TimelineEntry[]>;
  /** Newest first: the open ones, or every one declared since `since`; at most `limit` (default 100). */
  list(query: { open?: boolean; since?: Date; limit?: number }): Promise<IncidentRecord[]>;
  /**
   * Marks the channel reminded at `at` unless it was reminded after `since` (the last update, or a whole interval
   * ago, whichever is later): of two replicas exactly one gets true and posts.
   */
  claimReminder(id: number, at: Date, since: Date): Promise<boolean>;
  /** How far the forum is behind on this incident's writes. */
  forumBacklog(id: number): Promise<ForumBacklog>;
}

export type EnvironmentState = 'up' | 'down';

/** A stack Cockpit brings up and tears down: an ephemeral one with a TTL, or one that follows a schedule. */
export interface Environment {
  stack: string;
  state: EnvironmentState;
  /** When Cockpit tears it down: the end of its TTL, or its schedule's next down time; absent when down. */
  expiresAt?: Date;
  /** When the channel was warned of the tear-down at `expiresAt`; cleared whenever `expiresAt` moves. */
  warnedAt?: Date;
  /** Who brought it up last: an actor id, or `schedule`. */
  upBy: string;
  /** When its state or its expiry last changed (a warning does not count). */
  updatedAt: Date;
}

/** Environments' state and expiry, in the store so every replica's scheduler sees the same. */
export interface Environments {
  get(stack: string): Promise<Environment | undefined>;
  /** Every environment Cockpit has a record of, by stack name. */
  list(): Promise<Environment[]>;
  /** Writes the record whole, stamping `updatedAt`; callers hold the stack's lock. */
  put(environment: Omit<Environment, 'updatedAt'>): Promise<Environment>;
  /** Writes the record only when the stack has none yet; false when one exists (and it is left alone). */
  create(environment: Omit<Environment, 'updatedAt'>): Promise<boolean>;
  /**
   * Marks the tear-down at `expiresAt` as announced, when it is still the one due and nobody announced it yet:
   * of racing replicas exactly one gets true and posts the warning.
   */
  markWarned(stack: string, expiresAt: Date, at: Date): Promise<boolean>;
  /**
   * Moves the tear-down from `from` to `to` and clears the warning, when it is still due at `from`: undefined
   * when someone moved it first or the environment is down (two people pressing Keep extend it once).
   */
  moveExpiry(stack: string, from: Date, to: Date): Promise<Environment | undefined>;
}

/** A pull request merged into a stack's branch, as the merge rules see it. */
export interface StackMerge {
  stack: string;
  pullRequest: number;
  /** The commit the merge made on the stack's branch. */
  mergeSha: string;
  /** The PR's head when merged: what reviews approve and the drill status is set on. */
  headSha: string;
  /** GitHub logins. */
  mergedBy: string;
  author?: string;
  /** Members who asked Cockpit to open or refresh the PR (a promotion): authors too, as far as approving goes. */
  askedBy?: string[];
}

/** A merge accepted by the policy and waiting for its stack's lock. */
export interface QueuedMerge extends StackMerge {
  htmlUrl: string;
  /** Slack id of the approver whose GitHub review counted as the second person. */
  approvedBy?: string;
  /** Why it waits for an approver in Slack; absent when it may deploy at once. */
  needsApproval?: string;
  queuedAt: Date;
  /** The request that accepted it: its audit rows and messages carry it. */
  requestId: string;
}

/**
 * Merges that met a busy stack, in the store so any replica deploys them once the lock frees. A stack deploys
 * the newest of its queued merges once, which carries the older ones.
 */
export interface MergeQueue {
  /** Queues a merge once: false when that merge of that PR is queued already (a replayed delivery). */
  add(merge: QueuedMerge): Promise<boolean>;
  /** Takes every merge queued for the stack, atomically: of two replicas draining it, one gets them. */
  takeAll(stack: string): Promise<QueuedMerge[]>;
  /** The stacks that have merges waiting. */
  stacks(): Promise<string[]>;
}

/** An on-call level: L1 support, L2, L3 infra (the owner of the Pulumi code). */
export type OnCallLevel = 'L1' | 'L2' | 'L3';

/** Who is on call, as the schedules (rotations, overrides, swaps) resolve it. */
export interface OnCallDirectory {
  /** The people (Slack ids) on call at `level` at `at` (default now); empty when nobody is. */
  onCall(level: OnCallLevel, at?: Date): Promise<string[]>;
}

/** Why a page was raised: what its acknowledgement and resolution are about. */
export interface PageSource {
  kind: 'manual' | 'alert' | 'incident' | 'drill' | 'ticket' | 'heartbeat';
  /** The thing paged about: an alert group id, `INC-12`, a drill's request id, a ticket's topic id. */
  ref: string;
}

/** Pages people and escalates until someone acknowledges (handlers/page.ts); other capabilities call it. */
export interface Pager {
  /** Raises a page through the escalation policy; raising it again for the same source while open adds nothing. */
  page(request: {
    target: { kind: 'level'; level: OnCallLevel } | { kind: 'user'; userId: string };
    summary: string;
    source: PageSource;
    /** Who raised it: a member's Slack id, or `scheduler` / `alertmanager`. */
    raisedBy: string;
    requestId: string;
  }): Promise<{ pageId: string; created: boolean }>;
}

/** An Alertmanager alert group as other capabilities see it (the incident a person declares from it). */
export interface AlertGroupSummary {
  id: string;
  /** The cluster label, e.g. `cockpit-prod`, and the stack it maps to. */
  cluster: string;
  stack?: string;
  alertname: string;
  severity: string;
  status: 'firing' | 'resolved';
  /** The labels common to the group. */
  labels: Record<string, string>;
  summary?: string;
  startsAt: Date;
  customerImpact: boolean;
  /** Slack ids of the people who acknowledged or were paged for it. */
  responders: string[];
}

export interface AlertGroupDirectory {
  get(id: string): Promise<AlertGroupSummary | undefined>;
}

/** An override: someone holds a level for a while, above every layer of its rotation (a swap is two of them). */
export interface OnCallOverride {
  id: string;
  level: OnCallLevel;
  /** Who is on call instead (Slack id). */
  userId: string;
  /** Who the schedule had there when it was made, for the record and the messages. */
  replaces?: string;
  from: Date;
  to: Date;
  /** Who ran it (or accepted the swap that made it). */
  createdBy: string;
  createdAt: Date;
  requestId: string;
  /** Set when a swap made it. */
  swapId?: string;
}

export type SwapStatus = 'proposed' | 'accepted' | 'declined' | 'expired';

/** A trade of shifts at one level: `give` goes to the counterpart, `take` comes back to the proposer. */
export interface ShiftSwap {
  id: string;
  level: OnCallLevel;
  proposedBy: string;
  counterpart: string;
  give: { from: Date; to: Date };
  take: { from: Date; to: Date };
  status: SwapStatus;
  createdAt: Date;
  decidedAt?: Date;
  requestId: string;
}

/** Overrides and swaps, in the store so every replica resolves the same schedule. */
export interface OnCallOverrides {
  add(override: OnCallOverride): Promise<void>;
  /** Overrides whose time overlaps [from, to), every level. */
  overlapping(from: Date, to: Date): Promise<OnCallOverride[]>;
  proposeSwap(swap: ShiftSwap): Promise<void>;
  swap(id: string): Promise<ShiftSwap | undefined>;
  /** Moves a proposed swap to accepted and writes its two overrides in one transaction; undefined when it was no longer proposed. */
  acceptSwap(id: string, at: Date, overrides: [OnCallOverride, OnCallOverride]): Promise<ShiftSwap | undefined>;
  /** Moves a proposed swap to declined or expired; undefined when it was no longer proposed. */
  decideSwap(id: string, status: 'declined' | 'expired', at: Date): Promise<ShiftSwap | undefined>;
}

/** Who is on call at each level, as last announced: tells the handover job what changed. */
export interface OnCallAnnouncements {
  /** The people last announced at the level; undefined before the first announcement. */
  last(level: OnCallLevel): Promise<string[] | undefined>;
  /** Records `now` as announced when the level still shows `previous` (compare-and-set): false when another run did it first. */
  announce(level: OnCallLevel, previous: string[] | undefined, now: string[], at: Date): Promise<boolean>;
}

export type PageTarget = { kind: 'level'; level: OnCallLevel } | { kind: 'user'; userId: string };
export type PageStatus = 'triggered' | 'acknowledged' | 'resolved';

/** A page: who it is for, where it stands in its escalation policy, and when its next step is due. */
export interface Page {
  id: string;
  source: PageSource;
  target: PageTarget;
  summary: string;
  raisedBy: string;
  requestId: string;
  /** The channel its message is in (the alert's channel, or where it was raised). */
  channel: string;
  /** The escalation policy (cockpit.yml `escalation.policies`) it follows. */
  policy: string;
  status: PageStatus;
  /** Index of the step of the policy reached, and how often that step was repeated. */
  step: number;
  repeats: number;
  /** Everyone notified so far (Slack ids), first notified first. */
  responders: string[];
  /** The whole team was asked (the policy's `everyone` step). */
  everyone: boolean;
  createdAt: Date;
  acknowledgedAt?: Date;
  acknowledgedBy?: string;
  resolvedAt?: Date;
  resolvedBy?: string;
  /** When the next timed act is due (repeat, escalate, remind); absent when none is. */
  nextAt?: Date;
  /** Bumped by every change: changes are compare-and-set on it, so two replicas never both apply one step. */
  version: number;
}

/** Where a notification goes: a person (a DM today; a phone one day), or a channel (with `@here` for everyone). */
export type NotificationAddress = { kind: 'person'; userId: string } | { kind: 'channel'; channel: string; everyone?: boolean };

/**
 * One message about a page, in the store before it is sent (an outbox): a restart sends what was not sent, and
 * sends nothing twice. `refresh` edits every message sent about the page to its current state.
 */
export interface PageNotification {
  id: string;
  pageId: string;
  kind: 'send' | 'refresh';
  to?: NotificationAddress;
  reason: 'raised' | 'escalated' | 'repeat' | 'reminder' | 'everyone' | 'changed';
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  createdAt: Date;
  /** Not sent before this time (a retry's back-off). */
  notBefore?: Date;
  receipt?: NotificationReceipt;
}

/** What a medium answers when it delivered a notification, so later changes can edit it. */
export interface NotificationReceipt {
  medium: string;
  /** The channel or address it went to. */
  address: string;
  /** The medium's id of the message (Slack's ts). */
  ref: string;
}

export type NewNotification = Pick<PageNotification, 'kind' | 'to' | 'reason'>;

/** Pages and their outbox of notifications, in the store so a restart neither loses nor doubles a step. */
export interface PageStore {
  /** Creates the page with its first notifications; when a page for the same source is open, returns that one and creates nothing. */
  create(page: Page, notifications: NewNotification[]): Promise<{ page: Page; created: boolean }>;
  get(id: string): Promise<Page | undefined>;
  /** The open (not resolved) page of a source. */
  openBySource(source: PageSource): Promise<Page | undefined>;
  /** Pages not resolved, oldest first. */
  open(limit?: number): Promise<Page[]>;
  /** Writes `next` and queues its notifications only when the page is still at `version`; undefined when it moved. */
  transition(id: string, version: number, next: Omit<Page, 'version'>, notifications: NewNotification[]): Promise<Page | undefined>;
  /** Pages whose `nextAt` is at or before `now`. */
  due(now: Date, limit?: number): Promise<Page[]>;
  /** Takes notifications to deliver (pending and due, or claimed by a replica that stopped before `staleBefore`). */
  claim(owner: string, now: Date, staleBefore: Date, limit?: number): Promise<PageNotification[]>;
  markSent(id: string, receipt: NotificationReceipt | undefined, at: Date): Promise<void>;
  /** A failed delivery: tried again at `retryAt`, or given up when absent. */
  markFailed(id: string, error: string, at: Date, retryAt?: Date): Promise<void>;
  /** The receipts of what was sent about a page, to edit. */
  receipts(pageId: string): Promise<NotificationReceipt[]>;
}

/** Tells people about pages. Slack DMs and channel messages today; a phone or SMS provider is another implementation. */
export interface PageNotifier {
  /** Delivers one notification; the receipt lets later changes edit it (undefined: nothing to edit, as with an SMS). */
  send(page: Page, to: NotificationAddress, reason: PageNotification['reason']): Promise<NotificationReceipt | undefined>;
  /** Shows the page's current state on a message sent earlier. */
  update(page: Page, receipt: NotificationReceipt): Promise<void>;
  /** The page moved: what shows it without a receipt (an alert group's message) catches up. */
  changed?(page: Page): Promise<void>;
}

/** One alert of a webhook notification, vendor-neutral. */
export interface IncomingAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date;
  /** Absent while firing without an end (Alertmanager's zero time). */
  endsAt?: Date;
  generatorUrl?: string;
  fingerprint: string;
}

/** What Alertmanager said about one alert group, validated. */
export interface AlertNotification {
  receiver: string;
  status: 'firing' | 'resolved';
  groupKey: string;
  truncatedAlerts: number;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  /** The Alertmanager that sent it: where a silence is created. */
  externalUrl: string;
  alerts: IncomingAlert[];
}

/** An alert group as Cockpit keeps it: one Slack message, edited in place. */
export interface AlertGroup {
  id: string;
  stack: string;
  cluster: string;
  groupKey: string;
  receiver: string;
  alertname: string;
  severity: string;
  status: 'firing' | 'resolved';
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalUrl: string;
  truncatedAlerts: number;
  /** Where it is shown, and the message once posted. */
  channel: string;
  message?: { channel: string; ts: string };
  /** Shown in the channel's storm digest instead of a message of its own. */
  inDigest: boolean;
  firstSeenAt: Date;
  updatedAt: Date;
  /** When it last went from firing to resolved or back. */
  statusChangedAt: Date;
  acknowledgedBy?: string;
  acknowledgedAt?: Date;
  silence?: { id: string; by: string; until: Date };
  pageId?: string;
  firing: number;
  resolved: number;
}

export interface StoredAlert {
  groupId: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date;
  endsAt?: Date;
  generatorUrl?: string;
}

/** What one notification changed. */
export interface AlertApplyResult {
  group: AlertGroup;
  created: boolean;
  /** Alerts whose state moved (new, fired again, resolved); a resend changes none. */
  changed: number;
  /** The group's own status moved (firing → resolved or back). */
  statusChanged: boolean;
}

/** Alert groups, their alerts and the clusters' heartbeats, in the store: idempotent on groupKey and fingerprint. */
export interface AlertStore {
  /** Applies a notification: each alert moves forward only (a stale or repeated one changes nothing). */
  apply(group: Omit<AlertGroup, 'message' | 'inDigest' | 'firstSeenAt' | 'updatedAt' | 'statusChangedAt' | 'firing' | 'resolved' | 'status'>, alerts: IncomingAlert[], at: Date): Promise<AlertApplyResult>;
  get(id: string): Promise<AlertGroup | undefined>;
  /** The group's alerts, firing first, newest first; at most `limit`. */
  alerts(groupId: string, limit: number): Promise<StoredAlert[]>;
  /** Groups first seen in a channel at or after `since` (the storm digest). */
  createdSince(channel: string, since: Date): Promise<AlertGroup[]>;
  /** How many groups shown on their own were first seen in a channel at or after `since` (storm detection). */
  countShownSince(channel: string, since: Date): Promise<number>;
  /** Claims the right to post the group's message, once across replicas; false when someone has it. */
  claimPost(id: string, owner: string, at: Date): Promise<boolean>;
  setMessage(id: string, message: { channel: string; ts: string }): Promise<void>;
  /** Gives the claim back when the post failed, so a later change tries again. */
  releasePost(id: string): Promise<void>;
  markInDigest(id: string): Promise<void>;
  /** Records the first acknowledgement; false when someone acknowledged it already. */
  acknowledge(id: string, by: string, at: Date): Promise<boolean>;
  setSilence(id: string, silence: { id: string; by: string; until: Date }): Promise<void>;
  setPage(id: string, pageId: string | undefined): Promise<void>;
  /** How many alerts are stored (the bench checks nothing is lost). */
  countAlerts(): Promise<number>;
}

/** A cluster's Watchdog heartbeat, as last heard. */
export interface Heartbeat {
  stack: string;
  cluster: string;
  lastBeatAt: Date;
  /** Set while the cluster is silent: since when it was declared so. */
  silentSince?: Date;
}

export interface Heartbeats {
  beat(stack: string, cluster: string, at: Date): Promise<void>;
  list(): Promise<Heartbeat[]>;
  /** Marks a cluster silent when it is not yet (compare-and-set): false when another run did. */
  markSilent(stack: string, since: Date): Promise<boolean>;
  /** Clears the silent mark when set: false when it was not. */
  clearSilent(stack: string): Promise<boolean>;
}

/** Creates silences in an Alertmanager (its API v2). Throws UnavailableError when it cannot be reached or refuses. */
export interface Silencer {
  create(request: { alertmanagerUrl: string; matchers: Record<string, string>; startsAt: Date; endsAt: Date; createdBy: string; comment: string }): Promise<{ silenceId: string }>;
}

/** Shows alert groups where people see them (Slack: a message per group, a digest in a storm). */
export interface AlertBoard {
  /** The group changed: post its message, or edit it in place (coalesced: the latest state wins). */
  changed(groupId: string): Promise<void>;
  /** Posts a short notice in a stack's alerts channel (monitoring silent, back). */
  notice(stack: string, text: string): Promise<void>;
}
