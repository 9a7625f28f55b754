import { type Generated } from 'kysely';

/**
 * The store's tables as Kysely sees them. Column names are snake_case in SQL; the repositories map rows to
 * the camelCase port types in handlers/ports.ts.
 *
 * Every point in time is stored as ISO-8601 UTC text with milliseconds (`2026-05-20T09:15:00.000Z`, see
 * `toStoredTime`). That fixed-width form sorts chronologically as plain text, reads the same in `sqlite3` and
 * `psql` when someone inspects the audit log during an incident, and round-trips a JS Date exactly on both
 * dialects. Epoch milliseconds would sort as well, but node-pg returns BIGINT as a string, and a raw number is
 * unreadable at a glance. On PostgreSQL these columns use the "C" collation so comparison is byte order, not
 * the database locale's.
 */
export interface Database {
  audit_log: AuditLogTable;
  stack_locks: StackLocksTable;
  leases: LeasesTable;
  deploy_plans: DeployPlansTable;
  drill_runs: DrillRunsTable;
  incidents: IncidentsTable;
  deliveries: DeliveriesTable;
  environments: EnvironmentsTable;
  merge_queue: MergeQueueTable;
  oncall_overrides: OnCallOverridesTable;
  oncall_swaps: OnCallSwapsTable;
  oncall_announcements: OnCallAnnouncementsTable;
  pages: PagesTable;
  page_notifications: PageNotificationsTable;
  alert_groups: AlertGroupsTable;
  alerts: AlertsTable;
  alert_heartbeats: AlertHeartbeatsTable;
  incident_timeline: IncidentTimelineTable;
  forum_outbox: ForumOutboxTable;
  forum_topics: ForumTopicsTable;
  drill_markers: DrillMarkersTable;
  tickets: TicketsTable;
}

/** A support ticket (0009); `components` and `mentions` are JSON arrays. */
export interface TicketsTable {
  topic_id: number;
  title: string;
  customer_username: string;
  customer_name: string | null;
  excerpt: string;
  priority: string;
  status: string;
  level: string;
  assignee: string | null;
  components: Generated<string>;
  mentions: Generated<string>;
  opened_at: string;
  due_at: string;
  taken_at: string | null;
  resolved_at: string | null;
  status_changed_at: string;
  last_post_number: number;
  message_channel: string | null;
  message_ts: string | null;
  post_claimed_by: string | null;
  post_claimed_at: string | null;
  incident_id: number | null;
  paged_at: string | null;
  version: Generated<number>;
  created_at: string;
  updated_at: string;
}

export interface OnCallOverridesTable {
  id: string;
  level: string;
  user_id: string;
  replaces: string | null;
  from_at: string;
  to_at: string;
  created_by: string;
  created_at: string;
  request_id: string;
  swap_id: string | null;
}

export interface OnCallSwapsTable {
  id: string;
  level: string;
  proposed_by: string;
  counterpart: string;
  give_from: string;
  give_to: string;
  take_from: string;
  take_to: string;
  status: string;
  created_at: string;
  decided_at: string | null;
  request_id: string;
}

export interface OnCallAnnouncementsTable {
  level: string;
  /** JSON array of Slack ids. */
  users: string;
  at: string;
}

/** A page; `target` and `responders` are JSON, `everyone` 0 or 1. */
export interface PagesTable {
  id: string;
  source_kind: string;
  source_ref: string;
  target: string;
  summary: string;
  raised_by: string;
  request_id: string;
  channel: string;
  policy: string;
  status: string;
  step: number;
  repeats: number;
  responders: string;
  everyone: number;
  created_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  next_at: string | null;
  version: number;
}

/** The pages' outbox; `to_address` and `receipt` are JSON. */
export interface PageNotificationsTable {
  id: string;
  page_id: string;
  kind: string;
  to_address: string | null;
  reason: string;
  status: string;
  attempts: number;
  created_at: string;
  not_before: string | null;
  claimed_by: string | null;
  claimed_at: string | null;
  sent_at: string | null;
  receipt: string | null;
  error: string | null;
}

/** An Alertmanager alert group; label maps are JSON, `in_digest` 0 or 1. */
export interface AlertGroupsTable {
  id: string;
  stack: string;
  cluster: string;
  group_key: string;
  receiver: string;
  alertname: string;
  severity: string;
  status: string;
  group_labels: string;
  common_labels: string;
  common_annotations: string;
  external_url: string;
  truncated_alerts: number;
  channel: string;
  message: string | null;
  in_digest: number;
  post_claimed_by: string | null;
  post_claimed_at: string | null;
  first_seen_at: string;
  updated_at: string;
  status_changed_at: string;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  silence: string | null;
  page_id: string | null;
  firing: number;
  resolved: number;
}

export interface AlertsTable {
  group_id: string;
  fingerprint: string;
  status: string;
  labels: string;
  annotations: string;
  starts_at: string;
  ends_at: string | null;
  generator_url: string | null;
  updated_at: string;
}

export interface AlertHeartbeatsTable {
  stack: string;
  cluster: string;
  last_beat_at: string;
  silent_since: string | null;
}

export interface AuditLogTable {
  /** Insertion order, the tie-breaker among entries recorded in the same millisecond. Never read back. */
  id: Generated<number>;
  at: string;
  request_id: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  /** JSON object as text: the same on both dialects, and SQLite has no JSON column type. */
  detail: string;
}

export interface StackLocksTable {
  stack: string;
  holder: string;
  purpose: string;
  request_id: string;
  owner: string;
  acquired_at: string;
  heartbeat_at: string;
}

export interface LeasesTable {
  name: string;
  owner: string;
  expires_at: string;
}

/** A deploy plan; the nested port objects are JSON text, and absent optional ones are NULL. */
export interface DeployPlansTable {
  id: string;
  stack: string;
  requested_by: string;
  status: string;
  created_at: string;
  updated_at: string;
  preview: string;
  risk: string;
  confirmed_by: string | null;
  approved_by: string | null;
  freeze_override: string | null;
  message: string | null;
  result: string | null;
  confirmed_at: string | null;
  /** JSON of the MergeSource a merge's plan came from; NULL for a person's deploy. */
  source: string | null;
}

/** Merges waiting for their stack's lock. */
export interface MergeQueueTable {
  stack: string;
  pull_request: number;
  merge_sha: string;
  head_sha: string;
  merged_by: string;
  author: string | null;
  /** JSON array of Slack ids. */
  asked_by: string | null;
  html_url: string;
  approved_by: string | null;
  needs_approval: string | null;
  queued_at: string;
  request_id: string;
}

export interface DrillRunsTable {
  /** Insertion order, the tie-breaker among drills finished in the same millisecond. Never read back. */
  id: Generated<number>;
  stack: string;
  request_id: string;
  started_at: string;
  finished_at: string;
  outcome: string;
  rto_seconds: number | null;
  rpo_seconds: number | null;
  trigger: string | null;
  cluster: string | null;
  reason: string | null;
  /** JSON of the rest of a DrillRun (steps, warnings, backup, marker, logs, what was left behind); NULL for old rows. */
  detail: string | null;
}

/** Markers drills planted in live datastores, kept from the moment they were planted. */
export interface DrillMarkersTable {
  request_id: string;
  stack: string;
  value: string;
  planted_at: string;
}

export interface IncidentsTable {
  /** The number people say ("INC-12"): never reused, even after a row is deleted. */
  id: Generated<number>;
  severity: string;
  title: string;
  status: string;
  /** JSON array of stack names. */
  stacks: string;
  opened_at: string;
  opened_by: string;
  resolved_at: string | null;
  closed_at: string | null;
  // From 0007: NULL only on rows a store older than 0007 wrote and 0007 then filled.
  started_at: string | null;
  acknowledged_at: string | null;
  commander: string | null;
  communications: string | null;
  pending_commander: string | null;
  /** JSON array of component names. */
  components: Generated<string>;
  customer_impact: string | null;
  /** 0 or 1. */
  is_public: Generated<number>;
  public_summary: string | null;
  alert_group_id: string | null;
  channel_id: string | null;
  summary_ts: string | null;
  last_public_update_at: string | null;
  reminded_at: string | null;
  forum_status: string | null;
  version: Generated<number>;
  updated_at: string | null;
}

export interface IncidentTimelineTable {
  /** Insertion order, the tie-breaker among entries of the same millisecond. */
  id: Generated<number>;
  incident_id: number;
  at: string;
  kind: string;
  actor: string;
  text: string;
  visibility: string;
  /** JSON object as text. */
  detail: string;
}

/** One write to the customers' forum, delivered in `id` order within its `stream`. */
export interface ForumOutboxTable {
  id: Generated<number>;
  stream: string;
  kind: string;
  /** JSON of the ForumWrite. */
  payload: string;
  marker: string;
  /** `pending` or `delivered`. */
  status: string;
  created_at: string;
  attempts: Generated<number>;
  /** 0 or 1. */
  in_doubt: Generated<number>;
  first_attempt_at: string | null;
  next_attempt_at: string;
  claimed_by: string | null;
  claimed_until: string | null;
  last_error: string | null;
  delivered_at: string | null;
  /** JSON of what the forum answered (topic and post ids). */
  result: string | null;
}

/** Topics Cockpit created, by the external id it created them with. */
export interface ForumTopicsTable {
  external_id: string;
  topic_id: number;
  created_at: string;
}

export interface DeliveriesTable {
  key: string;
  expires_at: string;
}

/** Stacks Cockpit brings up and tears down; absent times are NULL. */
export interface EnvironmentsTable {
  stack: string;
  state: string;
  expires_at: string | null;
  warned_at: string | null;
  up_by: string;
  updated_at: string;
}

export type StoreDialect = 'sqlite' | 'postgres';

/** The one way a Date becomes a stored time. */
export function toStoredTime(date: Date): string {
  const time = date.getTime();
  // Outside years 0000-9999 toISOString grows a sign and extra digits, which would break text ordering.
  if (!Number.isFinite(time) || date.getUTCFullYear() < 0 || date.getUTCFullYear() > 9999) {
    throw new RangeError(`cannot store time ${String(date)}: outside years 0000-9999`);
  }
  return date.toISOString();
}

export function fromStoredTime(text: string): Date {
  return new Date(text);
}
