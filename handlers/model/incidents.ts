import type { ForumWrite } from '../forum';
import type { IncidentRecord, NewTimelineEntry } from '../incidentModel';

/** Incidents as other capabilities see them (the deploy freeze, the risk report), and the changes their store applies. */

export type IncidentSeverity = 'SEV1' | 'SEV2' | 'SEV3' | 'SEV4';

/** An incident as other capabilities see it (the deploy freeze, the risk report). */
export interface IncidentSummary {
  id: number;
  severity: IncidentSeverity;
  title: string;
  /** ITIL state: new, investigating, identified, monitoring, resolved, closed. */
  status: string;
  /** The stacks it affects; empty means not tied to a stack. */
  stacks: string[];
  openedAt: Date;
}

/** What a new incident is declared with; the store gives it its number. */
export type NewIncidentRecord = Omit<IncidentRecord, 'id' | 'version' | 'updatedAt' | 'openedAt'>;

/** Fields of an incident a change may set; `null` clears an optional one. */
export type IncidentPatch = Partial<{
  [K in keyof Omit<IncidentRecord, 'id' | 'version' | 'updatedAt' | 'openedAt' | 'declaredBy'>]: undefined extends IncidentRecord[K] ? IncidentRecord[K] | null : IncidentRecord[K];
}>;

/** What a change writes besides the record, in the same transaction: its timeline entries and forum writes. */
export interface IncidentEffects {
  timeline: NewTimelineEntry[];
  /** Delivered by the outbox in the order given, after every write already queued for the incident. */
  forum: ForumWrite[];
}
