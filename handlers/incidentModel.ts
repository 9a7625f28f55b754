import type { IncidentSeverity, IncidentSummary } from './model/incidents';

/**
 * An incident's data and the rules runbooks/incident-management.md writes down, as pure functions: the ITIL
 * lifecycle and which moves it allows, the severity matrix (impact × urgency), the customer-update cadence, the
 * roles, the review's due date, and MTTA/MTTR. handlers/incident.ts orchestrates them; the runbook is the source,
 * and a change to one of these is a change to it.
 */

/** The lifecycle's states, in the order an incident usually walks them. */
export const INCIDENT_STATUSES = ['new', 'investigating', 'identified', 'monitoring', 'resolved', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** ITIL's "in progress": owned and being worked on. */
export const IN_PROGRESS: readonly IncidentStatus[] = ['investigating', 'identified', 'monitoring'];
/** States in which an incident no longer counts as open: no freeze, not on the board, no reminders. */
export const FINISHED: readonly IncidentStatus[] = ['resolved', 'closed'];

/**
 * The arrows of the runbook's state diagram. `investigating → monitoring` is there because the runbook says to
 * mitigate before diagnosing: a rollback can hold before anyone knows the cause. Only `closed` is final; a
 * resolved incident that comes back goes to `investigating`, never straight to another sub-state.
 */
export const TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  new: ['investigating'],
  investigating: ['identified', 'monitoring', 'resolved'],
  identified: ['monitoring', 'investigating', 'resolved'],
  monitoring: ['investigating', 'resolved'],
  resolved: ['investigating', 'closed'],
  closed: [],
};

export function isIncidentStatus(value: string): value is IncidentStatus {
  return (INCIDENT_STATUSES as readonly string[]).includes(value);
}

export type TransitionCheck = { ok: true } | { ok: false; allowed: readonly IncidentStatus[] };

/** Whether the runbook lets an incident go from `from` to `to`; staying where it is (a plain update) always may. */
export function checkTransition(from: IncidentStatus, to: IncidentStatus): TransitionCheck {
  if (from === to && from !== 'closed') return { ok: true };
  return TRANSITIONS[from].includes(to) ? { ok: true } : { ok: false, allowed: TRANSITIONS[from] };
}

/** How customers and the channel read a state. */
export function statusLabel(status: IncidentStatus): string {
  return status.charAt(0).toUpperCase() + status.slice(1);
}

export const SEVERITIES: readonly IncidentSeverity[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];
export const LEVELS = ['high', 'medium', 'low'] as const;
export type Impact = (typeof LEVELS)[number];
export type Urgency = (typeof LEVELS)[number];

/** The runbook's matrix, rows by impact, columns by urgency. */
const MATRIX: Readonly<Record<Impact, Readonly<Record<Urgency, IncidentSeverity>>>> = {
  high: { high: 'SEV1', medium: 'SEV2', low: 'SEV3' },
  medium: { high: 'SEV2', medium: 'SEV3', low: 'SEV4' },
  low: { high: 'SEV3', medium: 'SEV4', low: 'SEV4' },
};

export function severityOf(impact: Impact, urgency: Urgency): IncidentSeverity {
  return MATRIX[impact][urgency];
}

/** SEV1 and SEV2 freeze deploys to their stacks (and are what the review and the cadence are strictest for). */
export function isMajor(severity: IncidentSeverity): boolean {
  return severity === 'SEV1' || severity === 'SEV2';
}

/**
 * The customer-update cadence of the runbook's severity table: every 30 minutes for SEV1, 60 for SEV2, at least
 * daily for SEV3; SEV4 is told at open and resolve only (undefined: no cadence, no reminders).
 */
export function updateIntervalMinutes(severity: IncidentSeverity): number | undefined {
  switch (severity) {
    case 'SEV1':
      return 30;
    case 'SEV2':
      return 60;
    case 'SEV3':
      return 24 * 60;
    case 'SEV4':
      return undefined;
  }
}

/** When the next customer update is due after one posted at `postedAt`; undefined for SEV4. */
export function nextUpdateDue(severity: IncidentSeverity, postedAt: Date): Date | undefined {
  const minutes = updateIntervalMinutes(severity);
  return minutes === undefined ? undefined : new Date(postedAt.getTime() + minutes * 60_000);
}

/** Which on-call levels a new incident pages, per the severity table. */
export function levelsPaged(severity: IncidentSeverity): Array<'L1' | 'L2'> {
  switch (severity) {
    case 'SEV1':
      return ['L1', 'L2'];
    case 'SEV2':
      return ['L1'];
    default:
      // SEV3 waits for business hours and SEV4 for the queue: the channel is enough, nobody is woken.
      return [];
  }
}

/** The roles of the runbook's table that Cockpit keeps; L1–L3 are on-call levels, not incident roles. */
export const INCIDENT_ROLES = ['commander', 'communications'] as const;
export type IncidentRole = (typeof INCIDENT_ROLES)[number];

export const ROLE_LABELS: Record<IncidentRole, string> = { commander: 'Incident commander', communications: 'Communications' };

/** A review is drafted for SEV1 and SEV2 (always due) and SEV3 (due on the runbook's conditions). */
export function reviewDrafted(severity: IncidentSeverity): boolean {
  return severity !== 'SEV4';
}

/** The runbook promises customers the review's summary 5 business days after resolving, for SEV1 and SEV2. */
export function reviewDueBy(severity: IncidentSeverity, resolvedAt: Date): Date | undefined {
  return isMajor(severity) ? addBusinessDays(resolvedAt, 5) : undefined;
}

/** `days` working days (Monday to Friday, UTC) after `from`, at the same time of day. */
export function addBusinessDays(from: Date, days: number): Date {
  const at = new Date(from.getTime());
  let left = days;
  while (left > 0) {
    at.setUTCDate(at.getUTCDate() + 1);
    const weekday = at.getUTCDay();
    if (weekday !== 0 && weekday !== 6) left -= 1;
  }
  return at;
}

/** The runbook's close criterion: resolved for 24 hours without coming back. */
export const CLOSE_AFTER_RESOLVED_MS = 24 * 60 * 60_000;

/** `INC-12`: what people say and what every message and post carries. */
export function incidentRef(id: number): string {
  return `INC-${id}`;
}

/** The forum topic's external id: finds the topic again when the answer to its creation was lost. */
export function statusTopicExternalId(id: number): string {
  return `cockpit-incident-${id}`;
}

/** The outbox stream of an incident's forum writes: one topic's story, delivered in order. */
export function incidentStream(id: number): string {
  return `incident:${id}`;
}

/**
 * `inc-20261125-dashboard-fails-to-load`: Slack channel names are lower case, at most 80 characters, letters,
 * digits, dashes and underscores. Accents are dropped rather than refused; a title with nothing usable left
 * names the channel after the incident's number. `attempt` > 1 adds a suffix when the name is taken.
 */
export function incidentChannelName(declaredAt: Date, title: string, id: number, attempt = 1): string {
  const day = declaredAt.toISOString().slice(0, 10).replace(/-/g, '');
  const suffix = attempt > 1 ? `-${attempt}` : '';
  const slug = slugify(title).slice(0, 80 - `inc-${day}-`.length - suffix.length).replace(/-+$/, '') || `inc${id}`;
  return `inc-${day}-${slug}${suffix}`;
}

export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** An incident whole, as its capability keeps it. */
export interface IncidentRecord extends IncidentSummary {
  status: IncidentStatus;
  /** When the problem started: the alert's start when declared from one, else the declaration. */
  startedAt: Date;
  /** When someone owned it (declaring is owning it): time to acknowledge runs from `startedAt` to here. */
  acknowledgedAt: Date;
  resolvedAt?: Date;
  closedAt?: Date;
  declaredBy: string;
  /** Slack id of the incident commander; the declarer until handed over. */
  commander: string;
  communications?: string;
  /** Handed over by the commander and not yet accepted: until then the old commander still is. */
  pendingCommander?: string;
  /** Components of the product customers see affected (cockpit.yml `incidents.components`). */
  components: string[];
  customerImpact?: string;
  /** Told to customers on the status forum; an internal incident becomes public with `publish`. */
  public: boolean;
  publicSummary?: string;
  alertGroupId?: string;
  /** The incident's own Slack channel and its pinned summary, once created. */
  channelId?: string;
  summaryTs?: string;
  /** The last update customers were sent (the topic's first post counts). */
  lastPublicUpdateAt?: Date;
  /** When the channel was last reminded that an update is due. */
  remindedAt?: Date;
  /** The state customers were last told, i.e. the topic's state tag; undefined before the topic exists. */
  forumStatus?: IncidentStatus;
  /** Bumped by every change: a change made from an older read is refused, so two people never both win. */
  version: number;
  updatedAt: Date;
}

export type TimelineKind =
  | 'declared'
  | 'status'
  | 'update'
  | 'severity'
  | 'role'
  | 'published'
  | 'page'
  | 'acknowledged'
  | 'joined'
  | 'reminder'
  | 'followup'
  | 'resolved'
  | 'closed'
  /** Read from the audit log, not stored: a deploy or promotion of an affected stack. */
  | 'deploy';

export interface TimelineEntry {
  at: Date;
  kind: TimelineKind;
  /** A Slack id, `scheduler`, or who the audit log names. */
  actor: string;
  text: string;
  /** `public`: customers were told this (or will be, once the outbox delivers it). */
  visibility: 'internal' | 'public';
  detail: Record<string, unknown>;
}

export type NewTimelineEntry = Omit<TimelineEntry, 'at' | 'detail'> & { at?: Date; detail?: Record<string, unknown> };

/** Mean time to acknowledge and to resolve for one severity, over the incidents given. */
export interface SeverityStats {
  severity: IncidentSeverity;
  count: number;
  /** Mean seconds from start to acknowledgement; undefined without incidents. */
  mttaSeconds?: number;
  /** Mean seconds from start to resolution, over the resolved ones. */
  mttrSeconds?: number;
  resolved: number;
}

export function responseStats(incidents: readonly IncidentRecord[]): SeverityStats[] {
  return SEVERITIES.map((severity) => {
    const mine = incidents.filter((i) => i.severity === severity);
    const resolved = mine.filter((i) => i.resolvedAt !== undefined);
    const mean = (values: number[]) => (values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length);
    return {
      severity,
      count: mine.length,
      resolved: resolved.length,
      mttaSeconds: mean(mine.map((i) => Math.max(0, i.acknowledgedAt.getTime() - i.startedAt.getTime()) / 1000)),
      mttrSeconds: mean(resolved.map((i) => Math.max(0, i.resolvedAt!.getTime() - i.startedAt.getTime()) / 1000)),
    };
  });
}

/** "2026-11-25 14:30 UTC": customers read it in every time zone, so it says which. */
export function customerTime(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
