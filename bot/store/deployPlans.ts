import { type Kysely, type Selectable, type Updateable } from 'kysely';
import { ConflictError, NotFoundError } from '../../handlers/errors';
import type { Clock, DeployPlans } from '../../handlers/ports';
import type { DeployPlan, DeployPlanStatus, MergeSource, RiskAssessment } from '../../handlers/model/deploys';
import type { DrillRecord } from '../../handlers/model/drills';
import type { IncidentSummary } from '../../handlers/model/incidents';
import type { PreviewResult, UpdateResult } from '../../handlers/model/infra';
import { type Database, type DeployPlansTable, fromStoredTime, toStoredTime } from './db';

type TransitionPatch = NonNullable<Parameters<DeployPlans['transition']>[3]>;

/**
 * Deploy plans as rows, so a button pressed on any replica finds its plan. Every status change is one
 * conditional `UPDATE … WHERE id = ? AND status IN (…) RETURNING *`: the database applies the two racing
 * presses of Deploy one after the other, and the second no longer matches, so exactly one starts a run.
 *
 * `updatedAt` is when the plan last changed status (its creation, then each transition), so "running since"
 * and "expired after" read straight off it; recording where the plan is shown does not move it.
 */
export class SqlDeployPlans implements DeployPlans {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(plan: Omit<DeployPlan, 'updatedAt'>): Promise<DeployPlan> {
    const row = await this.db
      .insertInto('deploy_plans')
      .values({
        id: plan.id,
        stack: plan.stack,
        requested_by: plan.requestedBy,
        status: plan.status,
        created_at: toStoredTime(plan.createdAt),
        updated_at: toStoredTime(plan.createdAt),
        preview: JSON.stringify(plan.preview),
        risk: riskToJson(plan.risk),
        confirmed_by: plan.confirmedBy ?? null,
        approved_by: plan.approvedBy ?? null,
        confirmed_at: plan.confirmedAt ? toStoredTime(plan.confirmedAt) : null,
        source: jsonOrNull(plan.source),
        freeze_override: jsonOrNull(plan.freezeOverride),
        message: jsonOrNull(plan.message),
        result: jsonOrNull(plan.result),
      })
      // The id is the preview's request id: a second plan under it is a bug upstream, not something to overwrite.
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new ConflictError(`deploy plan ${plan.id} already exists`);
    return toPlan(row);
  }

  async get(id: string): Promise<DeployPlan | undefined> {
    const row = await this.db.selectFrom('deploy_plans').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toPlan(row);
  }

  async transition(id: string, from: readonly DeployPlanStatus[], to: DeployPlanStatus, patch: TransitionPatch = {}): Promise<DeployPlan | undefined> {
    if (from.length === 0) return undefined; // `IN ()` is no SQL; and from nowhere, nothing moves
    const row = await this.db
      .updateTable('deploy_plans')
      .set({ ...patchColumns(patch), status: to, updated_at: toStoredTime(this.clock.now()) })
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .returningAll()
      .executeTakeFirst();
    return row && toPlan(row);
  }

  async setMessage(id: string, message: { channel: string; ts: string }): Promise<void> {
    const result = await this.db
      .updateTable('deploy_plans')
      .set({ message: JSON.stringify(message) })
      .where('id', '=', id)
      .executeTakeFirst();
    // Silently dropping it would leave a plan whose message can never be edited again.
    if (result.numUpdatedRows === 0n) throw new NotFoundError(`no deploy plan ${id}`);
  }

  async byStack(stack: string, statuses: readonly DeployPlanStatus[], limit = 100): Promise<DeployPlan[]> {
    if (statuses.length === 0) return [];
    const rows = await this.db
      .selectFrom('deploy_plans')
      .selectAll()
      .where('stack', '=', stack)
      .where('status', 'in', [...statuses])
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toPlan);
  }

  async finishedSince(stack: string, since: Date): Promise<DeployPlan[]> {
    const rows = await this.db
      .selectFrom('deploy_plans')
      .selectAll()
      .where('stack', '=', stack)
      // A plan cancelled before it started changed nothing; one cancelled mid-run has a result.
      .where('status', '!=', 'running')
      .where('result', 'is not', null)
      .where('updated_at', '>=', toStoredTime(since))
      .orderBy('updated_at', 'desc')
      .limit(20)
      .execute();
    return rows.map(toPlan);
  }

  async lastRun(stack: string): Promise<DeployPlan | undefined> {
    const row = await this.db
      .selectFrom('deploy_plans')
      .selectAll()
      .where('stack', '=', stack)
      .where((eb) => eb.or([eb('status', '=', 'running'), eb('result', 'is not', null)]))
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toPlan(row);
  }

  async purge(before: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('deploy_plans')
      .where('status', 'not in', ['awaiting_confirmation', 'awaiting_approval', 'running'])
      .where('updated_at', '<', toStoredTime(before))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** Only the fields the patch names: an absent (or undefined) one keeps its stored value. */
function patchColumns(patch: TransitionPatch): Updateable<DeployPlansTable> {
  const columns: Updateable<DeployPlansTable> = {};
  if (patch.confirmedBy !== undefined) columns.confirmed_by = patch.confirmedBy;
  if (patch.approvedBy !== undefined) columns.approved_by = patch.approvedBy;
  if (patch.confirmedAt !== undefined) columns.confirmed_at = toStoredTime(patch.confirmedAt);
  if (patch.freezeOverride !== undefined) columns.freeze_override = JSON.stringify(patch.freezeOverride);
  if (patch.message !== undefined) columns.message = JSON.stringify(patch.message);
  if (patch.result !== undefined) columns.result = JSON.stringify(patch.result);
  return columns;
}

function jsonOrNull(value: object | undefined): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function toPlan(row: Selectable<DeployPlansTable>): DeployPlan {
  const plan: DeployPlan = {
    id: row.id,
    stack: row.stack,
    requestedBy: row.requested_by,
    createdAt: fromStoredTime(row.created_at),
    updatedAt: fromStoredTime(row.updated_at),
    status: row.status as DeployPlanStatus,
    preview: JSON.parse(row.preview) as PreviewResult,
    risk: riskFromJson(row.risk),
  };
  if (row.confirmed_by !== null) plan.confirmedBy = row.confirmed_by;
  if (row.approved_by !== null) plan.approvedBy = row.approved_by;
  if (row.confirmed_at !== null) plan.confirmedAt = fromStoredTime(row.confirmed_at);
  if (row.source !== null) plan.source = JSON.parse(row.source) as MergeSource;
  if (row.freeze_override !== null) plan.freezeOverride = JSON.parse(row.freeze_override) as DeployPlan['freezeOverride'];
  if (row.message !== null) plan.message = JSON.parse(row.message) as DeployPlan['message'];
  if (row.result !== null) plan.result = JSON.parse(row.result) as UpdateResult;
  return plan;
}

/*
 * The risk report holds Dates (in drill records and incident summaries). They are written and revived at their
 * known places, not by a reviver that turns any date-like string into a Date: a resource named
 * "2026-05-20T09:00:00.000Z" must come back as the string it was.
 */

type Stored<T, K extends keyof T> = Omit<T, K> & Record<K, string>;
type StoredDrill = Stored<DrillRecord, 'startedAt' | 'finishedAt'>;
type StoredIncident = Stored<IncidentSummary, 'openedAt'>;
type StoredRisk = Omit<RiskAssessment, 'lastDrill' | 'lastPassedDrill' | 'openIncidents'> & {
  lastDrill?: StoredDrill;
  lastPassedDrill?: StoredDrill;
  openIncidents: StoredIncident[];
};

function riskToJson(risk: RiskAssessment): string {
  const stored: StoredRisk = {
    ...risk,
    lastDrill: risk.lastDrill && storeDrill(risk.lastDrill),
    lastPassedDrill: risk.lastPassedDrill && storeDrill(risk.lastPassedDrill),
    openIncidents: risk.openIncidents.map((incident) => ({ ...incident, openedAt: toStoredTime(incident.openedAt) })),
  };
  return JSON.stringify(stored);
}

function riskFromJson(text: string): RiskAssessment {
  const stored = JSON.parse(text) as StoredRisk;
  const { lastDrill, lastPassedDrill, ...rest } = stored;
  const risk: RiskAssessment = {
    ...rest,
    openIncidents: stored.openIncidents.map((incident) => ({ ...incident, openedAt: fromStoredTime(incident.openedAt) })),
  };
  if (lastDrill) risk.lastDrill = reviveDrill(lastDrill);
  if (lastPassedDrill) risk.lastPassedDrill = reviveDrill(lastPassedDrill);
  return risk;
}

function storeDrill(drill: DrillRecord): StoredDrill {
  return { ...drill, startedAt: toStoredTime(drill.startedAt), finishedAt: toStoredTime(drill.finishedAt) };
}

function reviveDrill(drill: StoredDrill): DrillRecord {
  return { ...drill, startedAt: fromStoredTime(drill.startedAt), finishedAt: fromStoredTime(drill.finishedAt) };
}
