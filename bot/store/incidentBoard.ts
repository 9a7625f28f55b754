import { type Kysely, type Selectable } from 'kysely';
import { type Clock, type IncidentBoard, type IncidentSeverity, type IncidentSummary } from '../../handlers/ports';
import { type Database, type IncidentsTable, fromStoredTime, toStoredTime } from './db';

/** The ITIL states IncidentSummary.status may take, in the order an incident usually walks them. */
export const INCIDENT_STATUSES = ['new', 'investigating', 'identified', 'monitoring', 'resolved', 'closed'] as const;
/** States in which an incident no longer counts as open (no freeze, not on the board). */
export const FINISHED_INCIDENT_STATUSES: readonly string[] = ['resolved', 'closed'];

const SEVERITIES: readonly IncidentSeverity[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];

/** Open incidents, read by the deploy freeze and the risk report. */
export class SqlIncidentBoard implements IncidentBoard {
  constructor(private readonly db: Kysely<Database>) {}

  async open(stack?: string): Promise<IncidentSummary[]> {
    const rows = await this.db
      .selectFrom('incidents')
      .selectAll()
      .where('status', 'not in', [...FINISHED_INCIDENT_STATUSES])
      .orderBy('opened_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    const incidents = rows.map(toSummary);
    // Stack membership is tested here rather than in SQL: the two dialects share no JSON array operator, a
    // LIKE over the JSON text would trip on escaping, and the open incidents are a handful of rows anyway.
    return stack === undefined ? incidents : incidents.filter((incident) => incident.stacks.includes(stack));
  }
}

export interface NewIncident {
  severity: IncidentSeverity;
  title: string;
  /** The stacks it affects; empty when it is not tied to one. */
  stacks: readonly string[];
  openedBy: string;
  /** `investigating` when not given: a person declaring an incident is already looking into it. */
  status?: string;
}

/**
 * The few writes other capabilities and tests need today: open an incident and move its status. The incident
 * capability will own the full lifecycle (timeline, roles, postmortem) and may grow this or replace it.
 */
export class SqlIncidents {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async openIncident(incident: NewIncident): Promise<IncidentSummary> {
    if (!SEVERITIES.includes(incident.severity)) throw new RangeError(`incident severity must be one of ${SEVERITIES.join(', ')}, got ${String(incident.severity)}`);
    const status = checkStatus(incident.status ?? 'investigating');
    const now = toStoredTime(this.clock.now());
    const row = await this.db
      .insertInto('incidents')
      .values({
        severity: incident.severity,
        title: incident.title,
        status,
        stacks: JSON.stringify([...new Set(incident.stacks)]),
        opened_at: now,
        opened_by: incident.openedBy,
        resolved_at: status === 'resolved' || status === 'closed' ? now : null,
        closed_at: status === 'closed' ? now : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSummary(row);
  }

  /**
   * Moves an incident to a status; undefined when there is no such incident. Resolving stamps resolved_at,
   * closing stamps closed_at (and resolved_at if it never was); each keeps its first time when repeated.
   * Reopening clears them, so the stamps always describe the incident's current state.
   */
  async setStatus(id: number, status: string): Promise<IncidentSummary | undefined> {
    checkStatus(status);
    const now = toStoredTime(this.clock.now());
    const resolved = status === 'resolved' || status === 'closed';
    const row = await this.db
      .updateTable('incidents')
      .set((eb) => ({
        status,
        resolved_at: resolved ? eb.fn.coalesce('resolved_at', eb.val(now)) : null,
        closed_at: status === 'closed' ? eb.fn.coalesce('closed_at', eb.val(now)) : null,
      }))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toSummary(row);
  }
}

/** A misspelt status ("resolve") would keep an incident open, and its stack frozen, forever. */
function checkStatus(status: string): string {
  if (!(INCIDENT_STATUSES as readonly string[]).includes(status)) {
    throw new RangeError(`incident status must be one of ${INCIDENT_STATUSES.join(', ')}, got ${status}`);
  }
  return status;
}

function toSummary(row: Selectable<IncidentsTable>): IncidentSummary {
  return {
    id: row.id,
    severity: row.severity as IncidentSeverity,
    title: row.title,
    status: row.status,
    stacks: JSON.parse(row.stacks) as string[],
    openedAt: fromStoredTime(row.opened_at),
  };
}
