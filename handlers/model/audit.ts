/** The audit log's records: who did what, when, with which outcome. */

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
