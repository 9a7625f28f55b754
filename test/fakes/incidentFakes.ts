import type { ForumBacklog, ForumWrite } from '../../handlers/forum';
import { FINISHED, type IncidentRecord, type NewTimelineEntry, type TimelineEntry } from '../../handlers/incidentModel';
import type { AlertGroupDirectory, AuditLog, Clock, IncidentRecords, OnCallDirectory, Pager } from '../../handlers/ports';
import type { AlertGroupSummary } from '../../handlers/model/alerts';
import type { AuditEntry, AuditQuery } from '../../handlers/model/audit';
import type { IncidentEffects, IncidentPatch, IncidentSummary, NewIncidentRecord } from '../../handlers/model/incidents';
import type { OnCallLevel } from '../../handlers/model/oncall';
import { applyPatch } from './patch';

/**
 * In-memory fakes of the ports the incident capability calls, for handler tests. The SQL IncidentRecords is
 * held to the same behaviour in test/store/incidents.test.ts; the on-call ones stand in for the on-call
 * capability's until the lead wires them.
 */

export class MemoryIncidentRecords implements IncidentRecords {
  readonly incidents = new Map<number, IncidentRecord>();
  readonly entries: Array<TimelineEntry & { incidentId: number }> = [];
  /** Every forum write queued, in order, with its stream. */
  readonly forum: Array<{ stream: string; write: ForumWrite }> = [];
  private nextId = 1;

  constructor(private readonly clock: Clock) {}

  async open(stack?: string): Promise<IncidentSummary[]> {
    return (await this.list({ open: true }))
      .filter((i) => stack === undefined || i.stacks.includes(stack))
      .map(({ id, severity, title, status, stacks, openedAt }) => ({ id, severity, title, status, stacks, openedAt }));
  }

  async declare(incident: NewIncidentRecord, effects: (declared: IncidentRecord) => IncidentEffects): Promise<IncidentRecord> {
    const now = this.clock.now();
    const declared: IncidentRecord = { ...structuredClone(incident), stacks: [...new Set(incident.stacks)], id: this.nextId++, openedAt: now, version: 0, updatedAt: now };
    const { timeline, forum } = effects(structuredClone(declared));
    this.incidents.set(declared.id, declared);
    this.write(declared.id, timeline, forum);
    return structuredClone(declared);
  }

  async get(id: number) {
    const incident = this.incidents.get(id);
    return incident && structuredClone(incident);
  }

  async byChannel(channelId: string) {
    const incident = [...this.incidents.values()].find((i) => i.channelId === channelId);
    return incident && structuredClone(incident);
  }

  async change(id: number, version: number, patch: IncidentPatch, effects: IncidentEffects) {
    const incident = this.incidents.get(id);
    if (!incident || incident.version !== version) return undefined;
    const updated = { ...applyPatch(incident, patch), version: version + 1, updatedAt: this.clock.now() };
    this.incidents.set(id, updated);
    this.write(id, effects.timeline, effects.forum);
    return structuredClone(updated);
  }

  async note(id: number, entries: NewTimelineEntry[]) {
    this.write(id, entries, []);
  }

  async timeline(id: number) {
    return this.entries.filter((e) => e.incidentId === id).map(({ incidentId: _, ...entry }) => structuredClone(entry));
  }

  async list(query: { open?: boolean; since?: Date; limit?: number }) {
    return [...this.incidents.values()]
      .filter((i) => (query.open ? !FINISHED.includes(i.status) : true) && (query.since ? i.openedAt >= query.since : true))
      .sort((a, b) => b.openedAt.getTime() - a.openedAt.getTime() || b.id - a.id)
      .slice(0, query.limit ?? 100)
      .map((i) => structuredClone(i));
  }

  async claimReminder(id: number, at: Date, since: Date) {
    const incident = this.incidents.get(id);
    if (!incident || FINISHED.includes(incident.status)) return false;
    if (incident.remindedAt && incident.remindedAt > since) return false;
    incident.remindedAt = at;
    return true;
  }

  async forumBacklog(id: number): Promise<ForumBacklog> {
    return { pending: this.forum.filter((f) => f.stream === `incident:${id}`).length };
  }

  /** The writes queued for one incident, in order. */
  forumOf(id: number): ForumWrite[] {
    return this.forum.filter((f) => f.stream === `incident:${id}`).map((f) => f.write);
  }

  private write(id: number, timeline: NewTimelineEntry[], forum: ForumWrite[]) {
    const now = this.clock.now();
    for (const entry of timeline) this.entries.push({ at: entry.at ?? now, detail: {}, ...structuredClone(entry), incidentId: id });
    for (const write of forum) this.forum.push({ stream: `incident:${id}`, write: structuredClone(write) });
  }
}

export class MemoryAuditLog implements AuditLog {
  readonly entries: AuditEntry[] = [];
  constructor(private readonly clock: Clock) {}

  async record(entry: Parameters<AuditLog['record']>[0]) {
    this.entries.push({ at: entry.at ?? this.clock.now(), detail: {}, ...structuredClone(entry) } as AuditEntry);
  }

  async query(q: AuditQuery = {}) {
    return this.entries
      .filter(
        (e) =>
          (q.target === undefined || e.target === q.target) &&
          (q.action === undefined || e.action === q.action) &&
          (q.actions === undefined || q.actions.includes(e.action)) &&
          (q.outcomes === undefined || q.outcomes.includes(e.outcome)) &&
          (q.since === undefined || e.at >= q.since) &&
          (q.requestId === undefined || e.requestId === q.requestId),
      )
      .sort((a, b) => b.at.getTime() - a.at.getTime())
      .slice(0, q.limit ?? 100);
  }
}

/** Who is on call, set by the test per level. */
export class MemoryOnCall implements OnCallDirectory {
  readonly levels: Partial<Record<OnCallLevel, string[]>> = {};
  async onCall(level: OnCallLevel) {
    return [...(this.levels[level] ?? [])];
  }
}

/** Records every page, and de-duplicates by source as the real pager does while a page is open. */
export class RecordingPager implements Pager {
  readonly pages: Array<Parameters<Pager['page']>[0] & { pageId: string; resolvedBy?: string }> = [];
  failWith?: Error;
  async page(request: Parameters<Pager['page']>[0]) {
    if (this.failWith) throw this.failWith;
    const open = this.pages.find((p) => !p.resolvedBy && p.source.kind === request.source.kind && p.source.ref === request.source.ref && JSON.stringify(p.target) === JSON.stringify(request.target));
    if (open) return { pageId: open.pageId, created: false };
    const pageId = `p-${this.pages.length + 1}`;
    this.pages.push({ ...request, pageId });
    return { pageId, created: true };
  }
  async resolveSource(source: Parameters<Pager['resolveSource']>[0], by: string) {
    for (const p of this.pages) if (!p.resolvedBy && p.source.kind === source.kind && p.source.ref === source.ref) p.resolvedBy = by;
  }
}

export class MemoryAlertGroups implements AlertGroupDirectory {
  readonly groups = new Map<string, AlertGroupSummary>();
  add(group: AlertGroupSummary): AlertGroupSummary {
    this.groups.set(group.id, group);
    return group;
  }
  async get(id: string) {
    return this.groups.get(id);
  }
}
