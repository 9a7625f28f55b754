import { type Kysely, type Selectable } from 'kysely';
import type { DrillHistory } from '../../handlers/ports';
import type { DrillMarker, DrillRecord, DrillRun, DrillTrigger } from '../../handlers/model/drills';
import { type Database, type DrillRunsTable, fromStoredTime, toStoredTime } from './db';

const OUTCOMES: readonly DrillRecord['outcome'][] = ['passed', 'failed'];
const TRIGGERS: readonly DrillTrigger[] = ['manual', 'gate', 'schedule'];

/** What a DrillRun holds beyond its row's columns, as JSON with times as stored-time strings. */
type StoredDetail = {
  steps: Array<Omit<DrillRun['steps'][number], 'startedAt' | 'finishedAt'> & { startedAt: string; finishedAt?: string }>;
  warnings: string[];
  backup?: { name: string; takenAt: string; fresh: boolean };
  marker?: Omit<DrillMarker, 'plantedAt'> & { plantedAt: string; found?: boolean };
  plantedForNext?: Omit<DrillMarker, 'plantedAt'> & { plantedAt: string };
  logs: DrillRun['logs'];
  leftBehind: string[];
};

/** Restore drill results, one row per run; "latest" means the one that finished last. */
export class SqlDrillHistory implements DrillHistory {
  constructor(private readonly db: Kysely<Database>) {}

  async latest(stack: string): Promise<DrillRecord | undefined> {
    return summaryOf(await this.newest(stack));
  }

  async latestPassed(stack: string): Promise<DrillRecord | undefined> {
    return summaryOf(await this.newest(stack, 'passed'));
  }

  async record(drill: DrillRecord | DrillRun): Promise<void> {
    // The risk report reads these rows to tell people whether a restore works; a malformed one would mislead.
    if (!OUTCOMES.includes(drill.outcome)) throw new RangeError(`drill outcome must be passed or failed, got ${String(drill.outcome)}`);
    if (drill.trigger !== undefined && !TRIGGERS.includes(drill.trigger)) throw new RangeError(`drill trigger must be manual, gate or schedule, got ${String(drill.trigger)}`);
    if (drill.finishedAt.getTime() < drill.startedAt.getTime()) throw new RangeError(`drill ${drill.requestId} finished before it started`);
    const run = 'steps' in drill ? drill : undefined;
    await this.db
      .insertInto('drill_runs')
      .values({
        stack: drill.stack,
        request_id: drill.requestId,
        started_at: toStoredTime(drill.startedAt),
        finished_at: toStoredTime(drill.finishedAt),
        outcome: drill.outcome,
        rto_seconds: seconds('rtoSeconds', drill.rtoSeconds),
        rpo_seconds: seconds('rpoSeconds', drill.rpoSeconds),
        trigger: drill.trigger ?? null,
        reason: drill.reason ?? null,
        cluster: run?.cluster ?? null,
        detail: run ? JSON.stringify(storeDetail(run)) : null,
      })
      .execute();
  }

  async recordMarker(marker: DrillMarker): Promise<void> {
    await this.db
      .insertInto('drill_markers')
      .values({ request_id: marker.requestId, stack: marker.stack, value: marker.value, planted_at: toStoredTime(marker.plantedAt) })
      // A retried write of the same drill's marker changes nothing.
      .onConflict((oc) => oc.column('request_id').doNothing())
      .execute();
  }

  async list(query: { stack?: string; limit?: number } = {}): Promise<DrillRun[]> {
    let select = this.db.selectFrom('drill_runs').selectAll();
    if (query.stack !== undefined) select = select.where('stack', '=', query.stack);
    const limit = Math.min(Math.max(1, query.limit ?? 20), 200);
    const rows = await select.orderBy('finished_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toRun);
  }

  async get(requestId: string): Promise<DrillRun | undefined> {
    const row = await this.db.selectFrom('drill_runs').selectAll().where('request_id', '=', requestId).orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row && toRun(row);
  }

  async markerBefore(stack: string, before: Date): Promise<DrillMarker | undefined> {
    const row = await this.db
      .selectFrom('drill_markers')
      .selectAll()
      .where('stack', '=', stack)
      .where('planted_at', '<', toStoredTime(before))
      .orderBy('planted_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { stack: row.stack, requestId: row.request_id, value: row.value, plantedAt: fromStoredTime(row.planted_at) };
  }

  private async newest(stack: string, outcome?: DrillRecord['outcome']): Promise<Selectable<DrillRunsTable> | undefined> {
    let select = this.db.selectFrom('drill_runs').selectAll().where('stack', '=', stack);
    if (outcome) select = select.where('outcome', '=', outcome);
    return select.orderBy('finished_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  }
}

/** NaN and Infinity have no faithful storage (SQLite turns NaN into NULL); a negative duration is a bug. */
function seconds(name: string, value: number | undefined): number | null {
  if (value === undefined) return null;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`drill ${name} must be a finite number >= 0, got ${value}`);
  return value;
}

/** The summary other capabilities keep (the risk report stores it with each plan): no steps, no logs. */
function summaryOf(row: Selectable<DrillRunsTable> | undefined): DrillRecord | undefined {
  if (!row) return undefined;
  const drill: DrillRecord = {
    stack: row.stack,
    requestId: row.request_id,
    startedAt: fromStoredTime(row.started_at),
    finishedAt: fromStoredTime(row.finished_at),
    outcome: row.outcome as DrillRecord['outcome'],
  };
  if (row.rto_seconds !== null) drill.rtoSeconds = row.rto_seconds;
  if (row.rpo_seconds !== null) drill.rpoSeconds = row.rpo_seconds;
  if (row.trigger !== null) drill.trigger = row.trigger as DrillTrigger;
  if (row.reason !== null) drill.reason = row.reason;
  return drill;
}

function toRun(row: Selectable<DrillRunsTable>): DrillRun {
  const summary = summaryOf(row)!;
  // Rows from before 0008 (or recorded as a bare summary) have no detail: an empty history of steps.
  const detail = row.detail ? (JSON.parse(row.detail) as StoredDetail) : undefined;
  const run: DrillRun = {
    ...summary,
    cluster: row.cluster ?? row.stack,
    steps: (detail?.steps ?? []).map(({ startedAt, finishedAt, ...s }) => ({ ...s, startedAt: fromStoredTime(startedAt), ...(finishedAt ? { finishedAt: fromStoredTime(finishedAt) } : {}) })),
    warnings: detail?.warnings ?? [],
    logs: detail?.logs ?? { jobs: [] },
    leftBehind: detail?.leftBehind ?? [],
  };
  if (detail?.backup) run.backup = { ...detail.backup, takenAt: fromStoredTime(detail.backup.takenAt) };
  if (detail?.marker) run.marker = { ...detail.marker, plantedAt: fromStoredTime(detail.marker.plantedAt) };
  if (detail?.plantedForNext) run.plantedForNext = { ...detail.plantedForNext, plantedAt: fromStoredTime(detail.plantedForNext.plantedAt) };
  return run;
}

function storeDetail(run: DrillRun): StoredDetail {
  return {
    steps: run.steps.map(({ startedAt, finishedAt, ...s }) => ({ ...s, startedAt: toStoredTime(startedAt), ...(finishedAt ? { finishedAt: toStoredTime(finishedAt) } : {}) })),
    warnings: run.warnings,
    ...(run.backup ? { backup: { ...run.backup, takenAt: toStoredTime(run.backup.takenAt) } } : {}),
    ...(run.marker ? { marker: { ...run.marker, plantedAt: toStoredTime(run.marker.plantedAt) } } : {}),
    ...(run.plantedForNext ? { plantedForNext: { ...run.plantedForNext, plantedAt: toStoredTime(run.plantedForNext.plantedAt) } } : {}),
    logs: run.logs,
    leftBehind: run.leftBehind,
  };
}
