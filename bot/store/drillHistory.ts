import { type Kysely, type Selectable } from 'kysely';
import { type DrillHistory, type DrillRecord } from '../../handlers/ports';
import { type Database, type DrillRunsTable, fromStoredTime, toStoredTime } from './db';

const OUTCOMES: readonly DrillRecord['outcome'][] = ['passed', 'failed'];

/** Restore drill results, one row per run; "latest" means the one that finished last. */
export class SqlDrillHistory implements DrillHistory {
  constructor(private readonly db: Kysely<Database>) {}

  async latest(stack: string): Promise<DrillRecord | undefined> {
    return this.newest(stack);
  }

  async latestPassed(stack: string): Promise<DrillRecord | undefined> {
    return this.newest(stack, 'passed');
  }

  async record(drill: DrillRecord): Promise<void> {
    // The risk report reads these rows to tell people whether a restore works; a malformed one would mislead.
    if (!OUTCOMES.includes(drill.outcome)) throw new RangeError(`drill outcome must be passed or failed, got ${String(drill.outcome)}`);
    if (drill.finishedAt.getTime() < drill.startedAt.getTime()) throw new RangeError(`drill ${drill.requestId} finished before it started`);
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
      })
      .execute();
  }

  private async newest(stack: string, outcome?: DrillRecord['outcome']): Promise<DrillRecord | undefined> {
    let select = this.db.selectFrom('drill_runs').selectAll().where('stack', '=', stack);
    if (outcome) select = select.where('outcome', '=', outcome);
    const row = await select.orderBy('finished_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row && toDrill(row);
  }
}

/** NaN and Infinity have no faithful storage (SQLite turns NaN into NULL); a negative duration is a bug. */
function seconds(name: string, value: number | undefined): number | null {
  if (value === undefined) return null;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`drill ${name} must be a finite number >= 0, got ${value}`);
  return value;
}

function toDrill(row: Selectable<DrillRunsTable>): DrillRecord {
  const drill: DrillRecord = {
    stack: row.stack,
    requestId: row.request_id,
    startedAt: fromStoredTime(row.started_at),
    finishedAt: fromStoredTime(row.finished_at),
    outcome: row.outcome as DrillRecord['outcome'],
  };
  if (row.rto_seconds !== null) drill.rtoSeconds = row.rto_seconds;
  if (row.rpo_seconds !== null) drill.rpoSeconds = row.rpo_seconds;
  return drill;
}
