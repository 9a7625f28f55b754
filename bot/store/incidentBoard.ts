import { type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { ForumBacklog } from '../../handlers/forum';
import { FINISHED, IN_PROGRESS, incidentStream, isIncidentStatus, SEVERITIES, type IncidentRecord, type IncidentStatus, type NewTimelineEntry, type TimelineEntry } from '../../handlers/incidentModel';
import type { Clock, IncidentRecords } from '../../handlers/ports';
import type { IncidentEffects, IncidentPatch, IncidentSeverity, IncidentSummary, NewIncidentRecord } from '../../handlers/model/incidents';
import { type Database, type IncidentsTable, fromStoredTime, toStoredTime } from './db';
import { enqueueForumWrites, SqlForumOutbox } from './forumOutbox';

/**
 * Incidents as their capability keeps them, and as the deploy freeze and the risk report read them
 * (`open`). Every change is one transaction holding the record, its timeline entries and the forum writes it
 * promised customers; it applies only to the version the caller read, so of two people acting at once the
 * second is told, never silently overwritten.
 */
export class SqlIncidentRecords implements IncidentRecords {
  private readonly outbox: SqlForumOutbox;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {
    this.outbox = new SqlForumOutbox(db, clock);
  }

  async open(stack?: string): Promise<IncidentSummary[]> {
    const incidents = (await this.openRecords()).map(toSummary);
    // Stack membership is tested here rather than in SQL: the two dialects share no JSON array operator, a
    // LIKE over the JSON text would trip on escaping, and the open incidents are a handful of rows anyway.
    return stack === undefined ? incidents : incidents.filter((incident) => incident.stacks.includes(stack));
  }

  async declare(incident: NewIncidentRecord, effects: (declared: IncidentRecord) => IncidentEffects): Promise<IncidentRecord> {
    checkRecord(incident);
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('incidents')
        .values({ ...columnsOf(incident), opened_at: toStoredTime(now), opened_by: incident.declaredBy, updated_at: toStoredTime(now) } as never)
        .returningAll()
        .executeTakeFirstOrThrow();
      const declared = toRecord(row);
      await this.writeEffects(trx, declared.id, effects(declared), now);
      return declared;
    });
  }

  async get(id: number): Promise<IncidentRecord | undefined> {
    const row = await this.db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async byChannel(channelId: string): Promise<IncidentRecord | undefined> {
    const row = await this.db.selectFrom('incidents').selectAll().where('channel_id', '=', channelId).orderBy('id', 'desc').executeTakeFirst();
    return row && toRecord(row);
  }

  async change(id: number, version: number, patch: IncidentPatch, effects: IncidentEffects): Promise<IncidentRecord | undefined> {
    checkRecord(patch);
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('incidents')
        .set((eb) => ({ ...columnsOf(patch), version: eb('version', '+', 1), updated_at: toStoredTime(now) }))
        .where('id', '=', id)
        .where('version', '=', version)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await this.writeEffects(trx, id, effects, now);
      return toRecord(row);
    });
  }

  async note(id: number, entries: NewTimelineEntry[]): Promise<void> {
    await this.writeTimeline(this.db, id, entries, this.clock.now());
  }

  async timeline(id: number): Promise<TimelineEntry[]> {
    const rows = await this.db.selectFrom('incident_timeline').selectAll().where('incident_id', '=', id).orderBy('at').orderBy('id').execute();
    return rows.map((row) => ({
      at: fromStoredTime(row.at),
      kind: row.kind as TimelineEntry['kind'],
      actor: row.actor,
      text: row.text,
      visibility: row.visibility === 'public' ? 'public' : 'internal',
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }));
  }

  async list(query: { open?: boolean; since?: Date; limit?: number }): Promise<IncidentRecord[]> {
    if (query.open) return (await this.openRecords()).slice(0, query.limit ?? 100);
    let select = this.db.selectFrom('incidents').selectAll();
    if (query.since) select = select.where('opened_at', '>=', toStoredTime(query.since));
    const rows = await select
      .orderBy('opened_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(1000, Math.max(1, query.limit ?? 100)))
      .execute();
    return rows.map(toRecord);
  }

  async claimReminder(id: number, at: Date, since: Date): Promise<boolean> {
    const row = await this.db
      .updateTable('incidents')
      .set({ reminded_at: toStoredTime(at) })
      .where('id', '=', id)
      .where('status', 'in', [...IN_PROGRESS])
      .where((eb) => eb.or([eb('reminded_at', 'is', null), eb('reminded_at', '<=', toStoredTime(since))]))
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async forumBacklog(id: number): Promise<ForumBacklog> {
    return this.outbox.backlog(incidentStream(id));
  }

  private async openRecords(): Promise<IncidentRecord[]> {
    const rows = await this.db
      .selectFrom('incidents')
      .selectAll()
      .where('status', 'not in', [...FINISHED])
      .orderBy('opened_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toRecord);
  }

  private async writeEffects(trx: Transaction<Database>, id: number, effects: IncidentEffects, now: Date): Promise<void> {
    await this.writeTimeline(trx, id, effects.timeline, now);
    await enqueueForumWrites(trx, { stream: incidentStream(id), writes: effects.forum }, now);
  }

  private async writeTimeline(db: Kysely<Database> | Transaction<Database>, id: number, entries: NewTimelineEntry[], now: Date): Promise<void> {
    if (entries.length === 0) return;
    await db
      .insertInto('incident_timeline')
      .values(
        entries.map((entry) => ({
          incident_id: id,
          at: toStoredTime(entry.at ?? now),
          kind: entry.kind,
          actor: entry.actor,
          text: entry.text,
          visibility: entry.visibility,
          detail: JSON.stringify(entry.detail ?? {}),
        })),
      )
      .execute();
  }
}

/** A misspelt status ("resolve") would keep an incident open, and its stack frozen, forever. */
function checkRecord(fields: { status?: string; severity?: string }): void {
  if (fields.status !== undefined && !isIncidentStatus(fields.status)) throw new RangeError(`incident status must be one of ${FINISHED.concat(IN_PROGRESS).join(', ')}, new, got ${fields.status}`);
  if (fields.severity !== undefined && !(SEVERITIES as readonly string[]).includes(fields.severity)) throw new RangeError(`incident severity must be one of ${SEVERITIES.join(', ')}, got ${fields.severity}`);
}

type Columns = Updateable<IncidentsTable>;

/** The one mapping from the record's fields to columns; `null` in a patch clears the column. */
function columnsOf(fields: IncidentPatch | NewIncidentRecord): Columns {
  const time = (d: Date | null | undefined) => (d === undefined ? undefined : d === null ? null : toStoredTime(d));
  const text = (v: string | null | undefined) => v;
  const map: { [K in keyof Required<IncidentPatch>]: [keyof Columns, (v: never) => unknown] } = {
    severity: ['severity', text],
    title: ['title', text],
    status: ['status', text],
    stacks: ['stacks', (v: string[]) => JSON.stringify([...new Set(v)])],
    startedAt: ['started_at', time],
    acknowledgedAt: ['acknowledged_at', time],
    resolvedAt: ['resolved_at', time],
    closedAt: ['closed_at', time],
    commander: ['commander', text],
    communications: ['communications', text],
    pendingCommander: ['pending_commander', text],
    components: ['components', (v: string[]) => JSON.stringify(v)],
    customerImpact: ['customer_impact', text],
    public: ['is_public', (v: boolean) => (v ? 1 : 0)],
    publicSummary: ['public_summary', text],
    alertGroupId: ['alert_group_id', text],
    channelId: ['channel_id', text],
    summaryTs: ['summary_ts', text],
    lastPublicUpdateAt: ['last_public_update_at', time],
    remindedAt: ['reminded_at', time],
    forumStatus: ['forum_status', text],
  };
  const columns: Record<string, unknown> = {};
  for (const [key, [column, convert]] of Object.entries(map) as Array<[keyof IncidentPatch, [string, (v: unknown) => unknown]]>) {
    if (!(key in fields)) continue;
    const value = (fields as Record<string, unknown>)[key];
    if (value === undefined) continue;
    columns[column] = convert(value);
  }
  return columns as Columns;
}

function toRecord(row: Selectable<IncidentsTable>): IncidentRecord {
  const openedAt = fromStoredTime(row.opened_at);
  const time = (text: string | null) => (text === null ? undefined : fromStoredTime(text));
  const optional = <K extends string, V>(key: K, value: V | null | undefined) => (value === null || value === undefined ? {} : ({ [key]: value } as Record<K, V>));
  return {
    id: row.id,
    severity: row.severity as IncidentSeverity,
    title: row.title,
    status: row.status as IncidentStatus,
    stacks: JSON.parse(row.stacks) as string[],
    openedAt,
    startedAt: time(row.started_at) ?? openedAt,
    acknowledgedAt: time(row.acknowledged_at) ?? openedAt,
    ...optional('resolvedAt', time(row.resolved_at)),
    ...optional('closedAt', time(row.closed_at)),
    declaredBy: row.opened_by,
    commander: row.commander ?? row.opened_by,
    ...optional('communications', row.communications),
    ...optional('pendingCommander', row.pending_commander),
    components: JSON.parse(row.components) as string[],
    ...optional('customerImpact', row.customer_impact),
    public: row.is_public === 1,
    ...optional('publicSummary', row.public_summary),
    ...optional('alertGroupId', row.alert_group_id),
    ...optional('channelId', row.channel_id),
    ...optional('summaryTs', row.summary_ts),
    ...optional('lastPublicUpdateAt', time(row.last_public_update_at)),
    ...optional('remindedAt', time(row.reminded_at)),
    ...optional('forumStatus', row.forum_status as IncidentStatus | null),
    version: row.version,
    updatedAt: time(row.updated_at) ?? openedAt,
  };
}

function toSummary(record: IncidentRecord): IncidentSummary {
  return { id: record.id, severity: record.severity, title: record.title, status: record.status, stacks: record.stacks, openedAt: record.openedAt };
}
