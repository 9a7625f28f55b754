import { type Kysely } from 'kysely';
import type { AuditLog, Clock } from '../../handlers/ports';
import type { AuditEntry, AuditOutcome, AuditQuery } from '../../handlers/model/audit';
import { type AuditLogTable, type Database, fromStoredTime, toStoredTime } from './db';

export const AUDIT_QUERY_DEFAULT_LIMIT = 100;
export const AUDIT_QUERY_MAX_LIMIT = 1000;
/** Details are meant to be small; a runaway one (a whole preview output) would bloat every backup. */
export const AUDIT_DETAIL_MAX_BYTES = 16 * 1024;

export class SqlAuditLog implements AuditLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async record(entry: Parameters<AuditLog['record']>[0]): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        at: toStoredTime(entry.at ?? this.clock.now()),
        request_id: entry.requestId,
        actor: entry.actor,
        action: entry.action,
        target: entry.target,
        outcome: entry.outcome,
        detail: serializeDetail(entry.detail ?? {}),
      })
      .execute();
  }

  async query(query: AuditQuery = {}): Promise<AuditEntry[]> {
    let select = this.db.selectFrom('audit_log').selectAll();
    if (query.target !== undefined) select = select.where('target', '=', query.target);
    if (query.action !== undefined) select = select.where('action', '=', query.action);
    if (query.actions !== undefined) select = select.where('action', 'in', query.actions.length > 0 ? [...query.actions] : ['']);
    if (query.outcomes !== undefined) select = select.where('outcome', 'in', query.outcomes.length > 0 ? [...query.outcomes] : ['']);
    if (query.since !== undefined) select = select.where('at', '>=', toStoredTime(query.since));
    if (query.requestId !== undefined) select = select.where('request_id', '=', query.requestId);
    const rows = await select
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(clampLimit(query.limit))
      .execute();
    return rows.map(toEntry);
  }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return AUDIT_QUERY_DEFAULT_LIMIT;
  return Math.min(AUDIT_QUERY_MAX_LIMIT, Math.max(1, Math.floor(limit)));
}

/**
 * An audit entry is never dropped because of its detail: a detail that cannot be stored as given is replaced
 * by a marker saying why, and the entry itself is still recorded.
 */
function serializeDetail(detail: Record<string, unknown>): string {
  let text: string;
  try {
    text = JSON.stringify(detail);
  } catch (err) {
    return JSON.stringify({ unserializable: true, reason: err instanceof Error ? err.message : String(err) });
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > AUDIT_DETAIL_MAX_BYTES) {
    return JSON.stringify({ truncated: true, bytes, keys: Object.keys(detail).slice(0, 50) });
  }
  return text;
}

function toEntry(row: Omit<AuditLogTable, 'id'>): AuditEntry {
  return {
    at: fromStoredTime(row.at),
    requestId: row.request_id,
    actor: row.actor,
    action: row.action,
    target: row.target,
    outcome: row.outcome as AuditOutcome,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}
