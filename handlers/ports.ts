import type { ForumBacklog, ForumWrite } from './forum';
import type { IncidentRecord, NewTimelineEntry, TimelineEntry } from './incidentModel';
import type { AlertApplyResult, AlertGroup, AlertGroupSummary, Heartbeat, IncomingAlert, StoredAlert } from './model/alerts';
import type { AuditEntry, AuditQuery } from './model/audit';
import type { BranchComparison, CommentRef, CommitState, CommitStatus, PullRequestDetails, PullRequestRef, PullRequestReview } from './model/code';
import type { DeployPlan, DeployPlanStatus, QueuedMerge } from './model/deploys';
import type { DrillJob, DrillJobState, DrillMarker, DrillRecord, DrillRun, VeleroOperationState, VolumeRestoreState, WorkloadState } from './model/drills';
import type { Environment } from './model/environments';
import type { ServiceHealth, StoreHealth } from './model/health';
import type { IncidentEffects, IncidentPatch, IncidentSummary, NewIncidentRecord } from './model/incidents';
import type { EngineAvailability, PreviewOptions, PreviewResult, UpdateOptions, UpdateResult } from './model/infra';
import type { NewNotification, NotificationAddress, NotificationReceipt, OnCallLevel, OnCallOverride, Page, PageNotification, PageSource, ShiftSwap } from './model/oncall';
import type { Runbook } from './model/runbooks';
import type { LockAttempt, StackLock, StackTarget } from './model/stacks';
import type { TicketStatus } from './ticketModel';
import type { NewTicketRecord, SupportPost, SupportTopic, SupportTopicSummary, TicketPatch, TicketRecord } from './model/tickets';

/**
 * Ports: what the domain needs from the outside world, and nothing else. Adapters in bot/ implement them; tests use
 * in-memory fakes that `implements` the same interfaces, so the compiler keeps both honest. The data they carry
 * lives in handlers/model/.
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

/** Append-only record of who did what, when, with which outcome. */
export interface AuditLog {
  record(entry: Omit<AuditEntry, 'at' | 'detail'> & { at?: Date; detail?: Record<string, unknown> }): Promise<void>;
  /** Newest first. */
  query(query?: AuditQuery): Promise<AuditEntry[]>;
}

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

export interface StoreProbe {
  health(): Promise<StoreHealth>;
}

/** Asks a service (Slack, GitHub) whether it answers; bounded in time, answers reused briefly, never throws. */
export interface HealthProbe {
  check(): Promise<ServiceHealth>;
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

/** The team's written process (runbooks/**\/*.md), parsed; message templates are not runbooks. */
export interface RunbookLibrary {
  list(): Promise<Runbook[]>;
}

/** The customer-facing message templates (runbooks/templates/<name>.md), as raw text. */
export interface MessageTemplateSource {
  /** Undefined when the team has no template of that name. */
  get(name: string): Promise<string | undefined>;
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

/** Incidents that are not resolved or closed. */
export interface IncidentBoard {
  /** Open incidents, newest first; with a stack, only those that affect it. */
  open(stack?: string): Promise<IncidentSummary[]>;
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

/** Who is on call, as the schedules (rotations, overrides, swaps) resolve it. */
export interface OnCallDirectory {
  /** The people (Slack ids) on call at `level` at `at` (default now); empty when nobody is. */
  onCall(level: OnCallLevel, at?: Date): Promise<string[]>;
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
  /** The thing paged about was dealt with (a ticket taken): its open page stops escalating; none open, nothing. */
  resolveSource(source: PageSource, by: string, requestId: string): Promise<unknown>;
}

export interface AlertGroupDirectory {
  get(id: string): Promise<AlertGroupSummary | undefined>;
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

/**
 * Support tickets and the forum writes their changes make, written together (the outbox stream `topic:<id>`): a
 * change is never kept without the reply it promised the customer, nor the other way round.
 */
export interface TicketRecords {
  /** Stores a ticket seen for the first time, with its writes; `created` false (nothing written) when it is known. */
  create(ticket: NewTicketRecord, writes: ForumWrite[]): Promise<{ ticket: TicketRecord; created: boolean }>;
  get(topicId: number): Promise<TicketRecord | undefined>;
  /** Applies a person's change when the ticket is still at `version`; undefined when someone changed it first. */
  change(topicId: number, version: number, patch: TicketPatch, writes: ForumWrite[]): Promise<TicketRecord | undefined>;
  /** Tickets in these statuses (all when absent), oldest first; at most `limit` (default 200). */
  list(query?: { statuses?: readonly TicketStatus[]; incidentId?: number; limit?: number }): Promise<TicketRecord[]>;
  /** Marks a new ticket past its target as paged, once: of two replicas exactly one gets true. */
  claimPage(topicId: number, at: Date): Promise<boolean>;
  /** Claims the right to post the ticket's Slack message, once across replicas (a stale claim is taken over). */
  claimPost(topicId: number, owner: string, at: Date, staleBefore: Date): Promise<boolean>;
  setMessage(topicId: number, message: { channel: string; ts: string }): Promise<void>;
  releasePost(topicId: number): Promise<void>;
  /** Moves the last post seen from `from` to `to` (compare-and-set): whoever moves it relays the posts between. */
  claimPosts(topicId: number, from: number, to: number): Promise<boolean>;
  /** Gives back posts whose relay failed, when nobody moved past them since. */
  releasePosts(topicId: number, to: number, from: number): Promise<void>;
  /** How far the forum is behind on this ticket's writes. */
  forumBacklog(topicId: number): Promise<ForumBacklog>;
}

/** Reads the support forum (Discourse); its writes go through the outbox. Throws UnavailableError when unreachable. */
export interface SupportForum {
  /** The support category's latest topics, most recently active first (one page). */
  latestTopics(): Promise<SupportTopicSummary[]>;
  /** Undefined when the topic does not exist (or was deleted). */
  topic(topicId: number): Promise<SupportTopic | undefined>;
  post(postId: number): Promise<SupportPost | undefined>;
  /** The forum user Cockpit writes as: its own posts are never relayed back as the customer's. */
  readonly username: string;
}
