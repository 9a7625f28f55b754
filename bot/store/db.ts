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
  drill_markers: DrillMarkersTable;
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
