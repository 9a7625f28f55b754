import { formatDuration } from './duration';
import { ConflictError, InputError, NotAllowedError, NotFoundError, UnavailableError } from './errors';
import type { ForumWrite } from './forum';
import {
  CLOSE_AFTER_RESOLVED_MS,
  checkTransition,
  customerTime,
  FINISHED,
  IN_PROGRESS,
  incidentRef,
  isMajor,
  levelsPaged,
  nextUpdateDue,
  responseStats,
  reviewDrafted,
  reviewDueBy,
  ROLE_LABELS,
  statusLabel,
  statusTopicExternalId,
  updateIntervalMinutes,
  type Impact,
  type IncidentRecord,
  type IncidentRole,
  type IncidentStatus,
  type NewTimelineEntry,
  type SeverityStats,
  type TimelineEntry,
  type Urgency,
} from './incidentModel';
import { describeActor, type IncidentFacts, type Policy, type RequestMeta } from './policy';
import type { AlertGroupDirectory, AuditLog, Clock, IncidentRecords, MessageTemplateSource, OnCallDirectory, Pager } from './ports';
import type { AlertGroupSummary } from './model/alerts';
import type { AuditEntry } from './model/audit';
import type { IncidentEffects, IncidentPatch, IncidentSeverity } from './model/incidents';
import type { OnCallLevel } from './model/oncall';
import { displayName, personById, type Team } from './team';
import { renderTemplate, TemplateError, type TemplateName } from './templates';

/**
 * Incidents, run as runbooks/incident-management.md says: declared (by a command, the form, or an alert group),
 * rated, commanded, updated on the cadence, told to customers on the status forum, resolved with a draft review,
 * and closed. The rules live in incidentModel.ts and policy.ts; this class reads, judges, and writes each change
 * with its timeline and its forum posts in one transaction (IncidentRecords). What is shown where in Slack is
 * bot/flows/incidents.ts's.
 */

export interface IncidentDeskDeps {
  team: Team;
  policy: Policy;
  records: IncidentRecords;
  audit: AuditLog;
  clock: Clock;
  templates: MessageTemplateSource;
  /** Who is on call; absent (the on-call capability not wired), nobody is invited or paged but the declarer. */
  onCall?: OnCallDirectory;
  pager?: Pager;
  alertGroups?: AlertGroupDirectory;
  /** The status forum: the category public incidents go to. Absent, an incident cannot be made public. */
  forum?: { categoryId: number };
}

export interface Declaration {
  severity: IncidentSeverity;
  title: string;
  stacks?: string[];
  components?: string[];
  customerImpact?: string;
  /** What customers are told first; a public incident without one gets the title and the state. */
  publicSummary?: string;
  public: boolean;
  alertGroupId?: string;
  /** The form's rating, kept in the record of how the severity was chosen. */
  rating?: { impact: Impact; urgency: Urgency };
}

export interface PageRaised {
  level: OnCallLevel;
  people: string[];
  pageId?: string;
  /** Why nobody was paged at this level, or why paging failed. */
  skipped?: string;
}

export interface Declared {
  incident: IncidentRecord;
  /** Who the incident's channel should have: the declarer, the people on call, the alert's responders. */
  invite: string[];
  pages: PageRaised[];
  alert?: AlertGroupSummary;
}

export interface Updated {
  incident: IncidentRecord;
  from: IncidentStatus;
  message: string;
  /** Customers are told (it is queued for the status forum). */
  customerFacing: boolean;
}

export type Assigned = { incident: IncidentRecord; role: IncidentRole; userId: string; pending: boolean };

export interface Resolved {
  incident: IncidentRecord;
  /** The post-incident review's draft, Markdown; absent for SEV4. */
  review?: string;
}

export interface IncidentView {
  incident: IncidentRecord;
  timeline: TimelineEntry[];
  /** Deploys and promotions of the affected stacks around the incident, newest first. */
  changes: StackChange[];
  forum: Awaited<ReturnType<IncidentRecords['forumBacklog']>>;
}

export interface StackChange {
  at: Date;
  stack: string;
  /** `deploy` (finished), or `promote` (a promotion PR opened or refreshed). */
  kind: 'deploy' | 'promote';
  outcome: string;
  actor: string;
  requestId: string;
  /** The commit deployed, or the PR. */
  ref?: string;
}

export interface Reminder {
  incident: IncidentRecord;
  /** Minutes since the last customer update. */
  silentMinutes: number;
  intervalMinutes: number;
}

/** The tags the status topic's state is told by; exactly one of them is on it at a time. */
export const STATE_TAGS: readonly IncidentStatus[] = [...IN_PROGRESS, 'resolved'];

/** Audit actions that change what runs on a stack: the usual cause, shown in the channel and the review. */
const STACK_CHANGES = ['deploy.finish', 'promote'];
/** How far back the channel and the review look for deploys that may have caused it. */
const CHANGES_BEFORE_MS = 24 * 60 * 60_000;
/** Concurrent changes to one incident are re-read and re-judged this many times before giving up. */
const MAX_ATTEMPTS = 3;
const TITLE_MAX = 150;
/** Discourse's default minimum title length. */
const FORUM_TITLE_MIN = 15;
const METRICS_WINDOW_MS = 90 * 24 * 60 * 60_000;

export class IncidentDesk {
  constructor(private readonly deps: IncidentDeskDeps) {}

  /** Whether customers can be told: the forum and its category are configured. */
  get forumConfigured(): boolean {
    return this.deps.forum !== undefined;
  }

  async get(id: number): Promise<IncidentRecord> {
    const incident = await this.deps.records.get(id);
    if (!incident) throw new NotFoundError(`No incident ${incidentRef(id)}.`, 'See the open ones: /cockpit incident list');
    return incident;
  }

  /** The incident a command typed in its channel is about. */
  async inChannel(channelId: string | undefined): Promise<IncidentRecord | undefined> {
    return channelId ? this.deps.records.byChannel(channelId) : undefined;
  }

  async alertGroup(id: string): Promise<AlertGroupSummary> {
    if (!this.deps.alertGroups) throw new UnavailableError('Alert groups are not available here.', 'Declare it by hand: /cockpit incident open <SEV1-4> <title>');
    const group = await this.deps.alertGroups.get(id);
    if (!group) throw new NotFoundError(`No alert group ${id}: it may have been resolved and forgotten.`, 'Declare it by hand: /cockpit incident open <SEV1-4> <title>');
    return group;
  }

  async declare(declaration: Declaration, meta: RequestMeta): Promise<Declared> {
    const title = declaration.title.trim().replace(/\s+/g, ' ');
    if (title === '') throw new InputError('Give the incident a title: what customers see, not the cause.');
    if (title.length > TITLE_MAX) throw new InputError(`The title is ${title.length} characters; keep it under ${TITLE_MAX}: customers read it as it is.`);
    const alert = declaration.alertGroupId ? await this.alertGroup(declaration.alertGroupId) : undefined;
    if (alert) {
      const already = (await this.deps.records.list({ open: true })).find((i) => i.alertGroupId === alert.id);
      if (already) throw new ConflictError(`${incidentRef(already.id)} is already open for this alert group.`, `Join it: /cockpit incident show ${already.id}`);
    }
    const stacks = this.checkStacks(declaration.stacks ?? (alert?.stack ? [alert.stack] : []));
    const components = this.checkComponents(declaration.components ?? []);
    const customerFacing = declaration.public;
    await this.deps.policy.mayIncident('incident_declare', meta, customerFacing ? { ref: 'a new incident', commander: meta.actor.id, severity: declaration.severity, customerFacing } : undefined);
    const forum = customerFacing ? this.requireForum() : undefined;
    const opened = customerFacing ? await this.template('incident-opened') : undefined;

    const now = this.deps.clock.now();
    const actor = meta.actor.id;
    const publicSummary = declaration.publicSummary?.trim() || undefined;
    const customerImpact = declaration.customerImpact?.trim() || undefined;
    const incident = await this.deps.records.declare(
      {
        severity: declaration.severity,
        title,
        status: 'investigating',
        stacks,
        startedAt: alert && alert.startsAt < now ? alert.startsAt : now,
        acknowledgedAt: now,
        declaredBy: actor,
        commander: actor,
        components,
        ...(customerImpact ? { customerImpact } : {}),
        public: customerFacing,
        ...(publicSummary ? { publicSummary } : {}),
        ...(alert ? { alertGroupId: alert.id } : {}),
        ...(customerFacing ? { lastPublicUpdateAt: now, forumStatus: 'investigating' as const } : {}),
      },
      (declared) => ({
        timeline: [
          {
            kind: 'declared',
            actor,
            text: `${displayName(this.deps.team, actor)} declared it ${declared.severity}${declaration.rating ? ` (impact ${declaration.rating.impact} × urgency ${declaration.rating.urgency})` : ''}${alert ? ` from alert ${alert.alertname}` : ''}`,
            visibility: 'internal',
            detail: { severity: declared.severity, stacks, components, ...(alert ? { alertGroupId: alert.id } : {}), ...(declaration.rating ? { rating: declaration.rating } : {}) },
          },
          ...(customerFacing ? [publishedEntry(declared, actor, publicSummary)] : []),
        ],
        forum: forum && opened ? this.openingWrites(declared, opened, forum.categoryId, publicSummary, now) : [],
      }),
    );
    await this.audit(meta, 'incident.declare', incident, { severity: incident.severity, stacks, public: incident.public, ...(alert ? { alertGroupId: alert.id } : {}) });
    const pages = await this.page(incident, levelsPaged(incident.severity), meta);
    const onCall = pages.flatMap((p) => p.people);
    const invite = [...new Set([actor, ...onCall, ...(alert?.responders ?? [])])];
    return { incident, invite, pages, ...(alert ? { alert } : {}) };
  }

  async update(id: number, request: { status?: IncidentStatus; message: string; internal: boolean }, meta: RequestMeta): Promise<Updated> {
    const message = request.message.trim();
    if (message === '') throw new InputError('What is the update? Add a message: customers read it word for word.');
    return this.mutate(id, meta, async (incident) => {
      this.mustNotBeClosed(incident);
      const from = incident.status;
      const to = request.status ?? from;
      // A note on a resolved incident is fine (the runbook posts the review's summary on its topic); moving to
      // resolved or closed has its own command, with what those do.
      if (request.status === 'resolved' || request.status === 'closed') throw new InputError(`To ${to === 'resolved' ? 'resolve' : 'close'} ${incidentRef(id)}, use /cockpit incident ${to === 'resolved' ? 'resolve' : 'close'} ${id}${to === 'resolved' ? ' "<what happened>"' : ''}.`);
      this.mustAllow(incident, to);
      const changesState = to !== from;
      // Only a move out of resolved reopens it; a note after resolving (the review's summary) leaves it resolved.
      const reopens = from === 'resolved' && changesState;
      const customerFacing = incident.public && !request.internal;
      await this.deps.policy.mayIncident('incident_update', meta, this.facts(incident, { changesState, customerFacing }));
      const now = this.deps.clock.now();
      const actor = meta.actor.id;
      const forum: ForumWrite[] = [];
      if (customerFacing) {
        const text = await this.template('incident-updated');
        const topic = this.topic(incident);
        if (reopens) forum.push({ kind: 'topic.closed', topic, closed: false });
        forum.push({ kind: 'post.reply', topic, raw: renderTemplate('incident-updated', text, { ...this.vars(incident, to, now), message }) });
        if (incident.forumStatus !== to) forum.push(this.stateTag(incident, to));
      }
      const timeline: NewTimelineEntry[] = [];
      if (changesState) timeline.push({ kind: 'status', actor, text: `${statusLabel(from)} → ${statusLabel(to)}`, visibility: customerFacing ? 'public' : 'internal', detail: { from, to } });
      timeline.push({ kind: 'update', actor, text: message, visibility: customerFacing ? 'public' : 'internal', detail: { status: to } });
      const patch: IncidentPatch = {
        status: to,
        ...(reopens ? { resolvedAt: null } : {}),
        ...(customerFacing ? { lastPublicUpdateAt: now, forumStatus: to } : {}),
      };
      return { patch, effects: { timeline, forum }, done: (updated) => ({ incident: updated, from, message, customerFacing }) };
    });
  }

  async assign(id: number, role: IncidentRole, userId: string, meta: RequestMeta): Promise<Assigned> {
    const person = personById(this.deps.team, userId);
    if (!person) throw new InputError(`${userId} is not in cockpit.yml: incident roles go to people of the team.`);
    return this.mutate(id, meta, async (incident) => {
      this.mustBeOpen(incident);
      if (role === 'commander' && incident.commander === userId) throw new InputError(`${person.name} is ${incidentRef(id)}'s commander already.`);
      if (role === 'communications' && incident.communications === userId) throw new InputError(`${person.name} leads ${incidentRef(id)}'s communications already.`);
      await this.deps.policy.mayIncident('incident_assign', meta, this.facts(incident, { role, assignee: userId }));
      const actor = meta.actor.id;
      const who = (u: string) => displayName(this.deps.team, u);
      // Command changes hands when the new commander says so ("I am IC"); taking it oneself is saying so.
      const pending = role === 'commander' && userId !== actor;
      const patch: IncidentPatch = role === 'communications' ? { communications: userId } : pending ? { pendingCommander: userId } : { commander: userId, pendingCommander: null };
      const text = pending ? `${who(actor)} handed command to ${who(userId)}, who must accept it` : role === 'commander' ? `${who(userId)} took command` : `${who(userId)} leads communications (assigned by ${who(actor)})`;
      return {
        patch,
        effects: { timeline: [{ kind: 'role', actor, text, visibility: 'internal', detail: { role, userId, pending } }], forum: [] },
        done: (updated) => ({ incident: updated, role, userId, pending }),
      };
    });
  }

  /** "I am IC": the person command was handed to takes it. */
  async acceptCommand(id: number, meta: RequestMeta): Promise<IncidentRecord> {
    return this.mutate(id, meta, async (incident) => {
      this.mustBeOpen(incident);
      if (incident.pendingCommander !== meta.actor.id) {
        throw new NotAllowedError(
          incident.pendingCommander ? `Command of ${incidentRef(id)} was handed to ${displayName(this.deps.team, incident.pendingCommander)}, not to you.` : `Nobody is handing command of ${incidentRef(id)} over.`,
        );
      }
      const actor = meta.actor.id;
      return {
        patch: { commander: actor, pendingCommander: null },
        effects: { timeline: [{ kind: 'role', actor, text: `${displayName(this.deps.team, actor)} accepted command from ${displayName(this.deps.team, incident.commander)}`, visibility: 'internal', detail: { role: 'commander', userId: actor } }], forum: [] },
        done: (updated) => updated,
      };
    });
  }

  async setSeverity(id: number, severity: IncidentSeverity, meta: RequestMeta): Promise<{ incident: IncidentRecord; from: IncidentSeverity; pages: PageRaised[] }> {
    const changed = await this.mutate(id, meta, async (incident) => {
      this.mustBeOpen(incident);
      const from = incident.severity;
      if (from === severity) throw new InputError(`${incidentRef(id)} is ${severity} already.`);
      const liftsFreeze = isMajor(from) && !isMajor(severity) && incident.stacks.length > 0;
      await this.deps.policy.mayIncident('incident_severity', meta, this.facts(incident, { liftsFreeze }));
      const actor = meta.actor.id;
      return {
        patch: { severity },
        effects: { timeline: [{ kind: 'severity', actor, text: `${from} → ${severity}${liftsFreeze ? ': the deploy freeze lifts' : isMajor(severity) && !isMajor(from) ? ': deploys to its stacks freeze' : ''}`, visibility: 'internal', detail: { from, to: severity } }], forum: [] },
        done: (updated) => ({ incident: updated, from }),
      };
    });
    // Raising it pages whom the new severity pages and the old one did not (SEV2 → SEV1: L2).
    const before = new Set(levelsPaged(changed.from));
    const pages = await this.page(changed.incident, levelsPaged(severity).filter((l) => !before.has(l)), meta);
    return { ...changed, pages };
  }

  /** Tells customers about an incident declared internal: the status topic, with this summary. */
  async publish(id: number, summary: string, meta: RequestMeta): Promise<IncidentRecord> {
    const text = summary.trim();
    if (text === '') throw new InputError('What do customers read? Add the public summary: what they see, what we do.');
    return this.mutate(id, meta, async (incident) => {
      this.mustBeOpen(incident);
      if (incident.public) throw new ConflictError(`${incidentRef(id)} is public already.`, `Tell customers more with /cockpit incident update ${id} <message>`);
      await this.deps.policy.mayIncident('incident_publish', meta, this.facts(incident, { customerFacing: true }));
      const forum = this.requireForum();
      const opened = await this.template('incident-opened');
      const now = this.deps.clock.now();
      return {
        patch: { public: true, publicSummary: text, lastPublicUpdateAt: now, forumStatus: incident.status, remindedAt: null },
        effects: { timeline: [publishedEntry(incident, meta.actor.id, text)], forum: this.openingWrites(incident, opened, forum.categoryId, text, now) },
        done: (updated) => updated,
      };
    });
  }

  async resolve(id: number, message: string | undefined, meta: RequestMeta): Promise<Resolved> {
    const said = message?.trim() || undefined;
    const resolved = await this.mutate(id, meta, async (incident) => {
      if (incident.status === 'resolved') throw new ConflictError(`${incidentRef(id)} is resolved already.`, `If it came back: /cockpit incident update ${id} investigating "<what customers see>"`);
      this.mustNotBeClosed(incident);
      this.mustAllow(incident, 'resolved');
      const liftsFreeze = isMajor(incident.severity) && incident.stacks.length > 0;
      await this.deps.policy.mayIncident('incident_resolve', meta, this.facts(incident, { changesState: true, customerFacing: incident.public, liftsFreeze }));
      const now = this.deps.clock.now();
      const forum: ForumWrite[] = [];
      if (incident.public) {
        const text = await this.template('incident-resolved');
        const topic = this.topic(incident);
        const dueBy = reviewDueBy(incident.severity, now);
        forum.push(
          {
            kind: 'post.reply',
            topic,
            raw: renderTemplate('incident-resolved', text, {
              ...this.vars(incident, 'resolved', now),
              'incident.resolvedAt': customerTime(now),
              'incident.duration': formatDuration(now.getTime() - incident.startedAt.getTime()),
              'incident.reviewDueBy': dueBy ? customerTime(dueBy).slice(0, 10) : undefined,
              message: said,
            }),
          },
          this.stateTag(incident, 'resolved'),
          { kind: 'topic.closed', topic, closed: true },
        );
      }
      const actor = meta.actor.id;
      return {
        patch: { status: 'resolved', resolvedAt: now, pendingCommander: null, ...(incident.public ? { lastPublicUpdateAt: now, forumStatus: 'resolved' as const } : {}) },
        effects: {
          timeline: [{ kind: 'resolved', actor, text: said ?? 'Resolved', visibility: incident.public ? 'public' : 'internal', detail: { from: incident.status } }],
          forum,
        },
        done: (updated) => updated,
      };
    });
    const review = reviewDrafted(resolved.severity) ? await this.reviewDraft(resolved, said) : undefined;
    return { incident: resolved, ...(review ? { review } : {}) };
  }

  async close(id: number, meta: RequestMeta): Promise<IncidentRecord> {
    return this.mutate(id, meta, async (incident) => {
      this.mustNotBeClosed(incident);
      this.mustAllow(incident, 'closed');
      const now = this.deps.clock.now();
      const resolvedAt = incident.resolvedAt ?? now;
      const closable = new Date(resolvedAt.getTime() + CLOSE_AFTER_RESOLVED_MS);
      if (closable > now) {
        throw new ConflictError(
          `${incidentRef(id)} was resolved ${formatDuration(now.getTime() - resolvedAt.getTime())} ago: it is closed once it held for 24 hours, from ${customerTime(closable)}.`,
          'Until then, if it comes back: /cockpit incident update <id> investigating "<message>"',
        );
      }
      await this.deps.policy.mayIncident('incident_close', meta, this.facts(incident, { changesState: true }));
      return {
        patch: { status: 'closed', closedAt: now },
        effects: { timeline: [{ kind: 'closed', actor: meta.actor.id, text: 'Closed', visibility: 'internal', detail: {} }], forum: [] },
        done: (updated) => updated,
      };
    });
  }

  /** An action item for the review; anyone in the team may add one. */
  async followUp(id: number, text: string, meta: RequestMeta): Promise<IncidentRecord> {
    const item = text.trim();
    if (item === '') throw new InputError('What is the follow-up? Say what should change.');
    const incident = await this.get(id);
    this.mustNotBeClosed(incident);
    await this.deps.policy.mayIncident('incident_update', meta, this.facts(incident, {}));
    await this.deps.records.note(id, [{ kind: 'followup', actor: meta.actor.id, text: item, visibility: 'internal' }]);
    return incident;
  }

  /** The channel has its channel and pinned summary. */
  async attachChannel(id: number, channel: { channelId: string; summaryTs?: string }): Promise<IncidentRecord> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const incident = await this.get(id);
      const changed = await this.deps.records.change(id, incident.version, { channelId: channel.channelId, ...(channel.summaryTs ? { summaryTs: channel.summaryTs } : {}) }, { timeline: [], forum: [] });
      if (changed) return changed;
    }
    throw new ConflictError(`${incidentRef(id)} kept changing; its channel is not recorded.`);
  }

  /** Someone joined the incident's channel. */
  async joined(channelId: string, userId: string, at?: Date): Promise<IncidentRecord | undefined> {
    const incident = await this.deps.records.byChannel(channelId);
    if (!incident || incident.status === 'closed') return undefined;
    await this.deps.records.note(incident.id, [{ kind: 'joined', actor: userId, text: `${displayName(this.deps.team, userId)} joined`, visibility: 'internal', ...(at ? { at } : {}) }]);
    return incident;
  }

  /** A page raised for the incident was acknowledged (the pager tells, by the page's source ref `INC-12`). */
  async acknowledged(ref: string, userId: string, at?: Date): Promise<IncidentRecord | undefined> {
    const id = /^INC-(\d+)$/.exec(ref)?.[1];
    const incident = id ? await this.deps.records.get(Number(id)) : undefined;
    if (!incident) return undefined;
    await this.deps.records.note(incident.id, [{ kind: 'acknowledged', actor: userId, text: `${displayName(this.deps.team, userId)} acknowledged the page`, visibility: 'internal', ...(at ? { at } : {}) }]);
    return incident;
  }

  async view(id: number): Promise<IncidentView> {
    const incident = await this.get(id);
    const [timeline, changes, forum] = await Promise.all([this.deps.records.timeline(id), this.changes(incident), this.deps.records.forumBacklog(id)]);
    const end = incident.resolvedAt ?? this.deps.clock.now();
    const during = changes.filter((c) => c.at >= incident.startedAt && c.at <= end).map(deployEntry);
    return { incident, timeline: [...timeline, ...during].sort((a, b) => a.at.getTime() - b.at.getTime()), changes, forum };
  }

  /** The open incidents, and MTTA/MTTR per severity over the last 90 days. */
  async list(): Promise<{ open: IncidentRecord[]; stats: SeverityStats[]; since: Date }> {
    const since = new Date(this.deps.clock.now().getTime() - METRICS_WINDOW_MS);
    const [open, recent] = await Promise.all([this.deps.records.list({ open: true }), this.deps.records.list({ since, limit: 1000 })]);
    return { open, stats: responseStats(recent), since };
  }

  /** MTTA/MTTR per severity over the last 90 days, for /metrics. */
  async stats(): Promise<SeverityStats[]> {
    return (await this.list()).stats;
  }

  /** Deploys and promotions of the incident's stacks from 24 hours before it started until now, newest first. */
  async changes(incident: IncidentRecord): Promise<StackChange[]> {
    const since = new Date(incident.startedAt.getTime() - CHANGES_BEFORE_MS);
    const entries = await Promise.all(incident.stacks.map((stack) => this.deps.audit.query({ target: stack, actions: STACK_CHANGES, since, limit: 20 })));
    return entries
      .flat()
      .filter((e) => e.action === 'promote' || e.outcome !== 'started')
      .map(toStackChange)
      .sort((a, b) => b.at.getTime() - a.at.getTime());
  }

  /**
   * The open public incidents whose customers have waited longer than the cadence for an update, each claimed
   * so one replica reminds once per interval.
   */
  async dueReminders(): Promise<Reminder[]> {
    const now = this.deps.clock.now();
    const due: Reminder[] = [];
    for (const incident of await this.deps.records.list({ open: true })) {
      const interval = updateIntervalMinutes(incident.severity);
      if (!incident.public || interval === undefined || !IN_PROGRESS.includes(incident.status)) continue;
      const last = incident.lastPublicUpdateAt ?? incident.openedAt;
      const silentMs = now.getTime() - last.getTime();
      if (silentMs < interval * 60_000) continue;
      const since = new Date(Math.max(last.getTime(), now.getTime() - interval * 60_000));
      if (!(await this.deps.records.claimReminder(incident.id, now, since))) continue;
      const silentMinutes = Math.floor(silentMs / 60_000);
      await this.deps.records.note(incident.id, [{ kind: 'reminder', actor: 'scheduler', text: `No customer update for ${silentMinutes} minutes (${incident.severity}: every ${interval})`, visibility: 'internal' }]);
      due.push({ incident, silentMinutes, intervalMinutes: interval });
    }
    return due;
  }

  /** The review's draft, from runbooks/templates/incident-review.md, the timeline and the audit log. */
  async reviewDraft(incident: IncidentRecord, summary?: string): Promise<string> {
    const [text, view] = await Promise.all([this.template('incident-review'), this.view(incident.id)]);
    const name = (id: string) => displayName(this.deps.team, id);
    const at = (d: Date) => customerTime(d).slice(11, 16);
    const day = (d: Date) => customerTime(d).slice(0, 10);
    const multiDay = day(incident.startedAt) !== day(incident.resolvedAt ?? this.deps.clock.now());
    const when = (d: Date) => (multiDay ? `${day(d)} ${at(d)}` : at(d));
    const timeline = view.timeline
      .filter((e) => e.kind !== 'reminder' && e.kind !== 'joined' && e.kind !== 'followup')
      .map((e) => `- ${when(e.at)} ${e.kind === 'deploy' ? e.text : `${labelOf(e)}${e.actor === 'scheduler' ? '' : ` (${name(e.actor)})`}: ${e.text}`}`)
      .join('\n');
    const before = view.changes.filter((c) => c.at < incident.startedAt);
    const deploys = before.length > 0 ? before.map((c) => `- ${day(c.at)} ${at(c.at)} ${describeChange(c)}`).join('\n') : 'None in the 24 hours before it started.';
    const followUps = view.timeline.filter((e) => e.kind === 'followup').map((e) => `- [ ] ${e.text} (${name(e.actor)})`).join('\n');
    const resolvedAt = incident.resolvedAt ?? this.deps.clock.now();
    return renderTemplate('incident-review', text, {
      'incident.id': incidentRef(incident.id),
      'incident.title': incident.title,
      'incident.severity': incident.severity,
      'incident.startedAt': customerTime(incident.startedAt),
      'incident.resolvedAt': customerTime(resolvedAt),
      'incident.timeToAcknowledge': formatDuration(incident.acknowledgedAt.getTime() - incident.startedAt.getTime()),
      'incident.timeToResolve': formatDuration(resolvedAt.getTime() - incident.startedAt.getTime()),
      'incident.commander': name(incident.commander),
      'incident.communications': incident.communications ? name(incident.communications) : undefined,
      'incident.stack': incident.stacks.join(', ') || undefined,
      'incident.components': incident.components.join(', ') || undefined,
      'incident.customerImpact': incident.customerImpact,
      'incident.reviewDueBy': reviewDueBy(incident.severity, resolvedAt) ? day(reviewDueBy(incident.severity, resolvedAt)!) : undefined,
      message: summary,
      timeline,
      deploys,
      followUps: followUps || undefined,
    });
  }

  /**
   * Reads the incident, lets `build` judge it and say what changes, and writes it if nobody changed it meanwhile;
   * otherwise reads again and judges again (the other change may have made this one wrong).
   */
  private async mutate<T>(
    id: number,
    meta: RequestMeta,
    build: (incident: IncidentRecord) => Promise<{ patch: IncidentPatch; effects: IncidentEffects; done(updated: IncidentRecord): T }>,
  ): Promise<T> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const incident = await this.get(id);
      const { patch, effects, done } = await build(incident);
      const updated = await this.deps.records.change(id, incident.version, patch, effects);
      if (updated) {
        await this.audit(meta, `incident.${auditVerb(effects, patch)}`, updated, { from: incident.status, to: updated.status, severity: updated.severity, customerFacing: effects.forum.length > 0 });
        return done(updated);
      }
    }
    throw new ConflictError(`${incidentRef(id)} kept changing while this was applied; nothing was changed.`, 'Look at it again and retry: /cockpit incident show ' + id);
  }

  private facts(incident: IncidentRecord, extra: Partial<IncidentFacts>): IncidentFacts {
    return { ref: incidentRef(incident.id), commander: incident.commander, ...(incident.communications ? { communications: incident.communications } : {}), severity: incident.severity, ...extra };
  }

  private mustAllow(incident: IncidentRecord, to: IncidentStatus): void {
    const check = checkTransition(incident.status, to);
    if (check.ok) return;
    const ref = incidentRef(incident.id);
    const allowed = check.allowed.length > 0 ? check.allowed.join(' or ') : 'nowhere';
    throw new InputError(`${ref} is ${incident.status}: it can go to ${allowed}, not ${to}.`, commandsFor(incident.id, check.allowed));
  }

  private mustBeOpen(incident: IncidentRecord): void {
    if (FINISHED.includes(incident.status)) throw new ConflictError(`${incidentRef(incident.id)} is ${incident.status}.`, incident.status === 'resolved' ? `If it came back: /cockpit incident update ${incident.id} investigating "<message>"` : undefined);
  }

  private mustNotBeClosed(incident: IncidentRecord): void {
    if (incident.status === 'closed') throw new ConflictError(`${incidentRef(incident.id)} is closed: nothing more happens to it.`, `If it is back, open a new incident and name ${incidentRef(incident.id)} in its first update.`);
  }

  private requireForum(): { categoryId: number } {
    if (!this.deps.forum) {
      throw new UnavailableError('The status forum is not configured, so customers cannot be told from here.', 'Set DISCOURSE_URL, DISCOURSE_API_KEY, DISCOURSE_API_USERNAME and incidents.statusCategory in cockpit.yml.');
    }
    return this.deps.forum;
  }

  private checkStacks(stacks: string[]): string[] {
    const unknown = stacks.filter((s) => !(s in this.deps.team.stacks));
    if (unknown.length > 0) throw new InputError(`No stack ${unknown.map((s) => `"${s}"`).join(', ')}.`, `Known: ${Object.keys(this.deps.team.stacks).join(', ')}`);
    return [...new Set(stacks)];
  }

  private checkComponents(components: string[]): string[] {
    const known = this.deps.team.incidents?.components ?? [];
    const cleaned = [...new Set(components.map((c) => c.trim().toLowerCase()).filter(Boolean))];
    const unknown = known.length > 0 ? cleaned.filter((c) => !known.includes(c)) : [];
    if (unknown.length > 0) throw new InputError(`No component ${unknown.map((c) => `"${c}"`).join(', ')}.`, `Known (cockpit.yml incidents.components): ${known.join(', ')}`);
    return cleaned;
  }

  private async template(name: TemplateName): Promise<string> {
    const text = await this.deps.templates.get(name);
    if (text === undefined) throw new TemplateError(name, [`no file runbooks/templates/${name}.md`]);
    return text;
  }

  private topic(incident: IncidentRecord) {
    return { externalId: statusTopicExternalId(incident.id) };
  }

  private stateTag(incident: IncidentRecord, to: IncidentStatus): ForumWrite {
    return { kind: 'topic.tags', topic: this.topic(incident), add: [to], remove: [...STATE_TAGS] };
  }

  /** The status topic, its first post, and its state tag. */
  private openingWrites(incident: IncidentRecord, template: string, categoryId: number, summary: string | undefined, now: Date): ForumWrite[] {
    const ref = incidentRef(incident.id);
    const title = `${ref}: ${incident.title}`;
    return [
      {
        kind: 'topic.create',
        externalId: statusTopicExternalId(incident.id),
        // Discourse refuses titles under 15 characters by default; "INC-3: DB down" would never post.
        title: title.length >= FORUM_TITLE_MIN ? title : `Incident ${title}`,
        raw: renderTemplate('incident-opened', template, { ...this.vars(incident, incident.status, now), message: summary }),
        categoryId,
      },
      this.stateTag(incident, incident.status),
    ];
  }

  /** What every customer post says about the incident. */
  private vars(incident: IncidentRecord, status: IncidentStatus, now: Date) {
    const next = status === 'resolved' ? undefined : nextUpdateDue(incident.severity, now);
    return {
      'incident.id': incidentRef(incident.id),
      'incident.title': incident.title,
      'incident.severity': incident.severity,
      'incident.status': statusLabel(status),
      'incident.startedAt': customerTime(incident.startedAt),
      'incident.stack': incident.stacks.join(', ') || undefined,
      'incident.components': incident.components.join(', ') || undefined,
      nextUpdateBy: next ? customerTime(next) : undefined,
    };
  }

  /** Pages the levels not yet there; the declarer on call at a level is there already. Never throws. */
  private async page(incident: IncidentRecord, levels: readonly OnCallLevel[], meta: RequestMeta): Promise<PageRaised[]> {
    const pages: PageRaised[] = [];
    const ref = incidentRef(incident.id);
    for (const level of levels) {
      let people: string[] = [];
      try {
        people = this.deps.onCall ? await this.deps.onCall.onCall(level) : [];
        if (!this.deps.pager) {
          pages.push({ level, people, skipped: 'no pager is configured' });
          continue;
        }
        if (people.includes(meta.actor.id)) {
          pages.push({ level, people, skipped: `${displayName(this.deps.team, meta.actor.id)} is on call at ${level} and declared it` });
          continue;
        }
        const { pageId } = await this.deps.pager.page({ target: { kind: 'level', level }, summary: `${ref} ${incident.severity}: ${incident.title}`, source: { kind: 'incident', ref }, raisedBy: meta.actor.id, requestId: meta.requestId });
        pages.push({ level, people, pageId });
        await this.deps.records.note(incident.id, [{ kind: 'page', actor: meta.actor.id, text: `Paged ${level}${people.length > 0 ? ` (${people.map((p) => displayName(this.deps.team, p)).join(', ')})` : ''}`, visibility: 'internal', detail: { level, pageId } }]);
      } catch (err) {
        // The incident is declared whatever the pager says: the channel shows who was not reached.
        pages.push({ level, people, skipped: `paging failed: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
    return pages;
  }

  private async audit(meta: RequestMeta, action: string, incident: IncidentRecord, detail: Record<string, unknown>): Promise<void> {
    await this.deps.audit.record({ requestId: meta.requestId, actor: describeActor(meta.actor), action, target: incidentRef(incident.id), outcome: 'succeeded', detail });
  }
}

function publishedEntry(incident: IncidentRecord, actor: string, summary: string | undefined): NewTimelineEntry {
  return { kind: 'published', actor, text: summary ?? `${incident.title} (${statusLabel(incident.status)})`, visibility: 'public', detail: { topic: statusTopicExternalId(incident.id) } };
}

/** What the audit log calls a change: its first timeline entry's kind says what it was. */
function auditVerb(effects: IncidentEffects, patch: IncidentPatch): string {
  const kind = effects.timeline[0]?.kind;
  if (kind === 'status') return 'update';
  if (kind) return kind === 'role' ? 'assign' : kind;
  return Object.keys(patch).join('+') || 'change';
}

function commandsFor(id: number, allowed: readonly IncidentStatus[]): string | undefined {
  const lines = allowed.map((s) =>
    s === 'resolved' ? `/cockpit incident resolve ${id} "<what happened>"` : s === 'closed' ? `/cockpit incident close ${id}` : `/cockpit incident update ${id} ${s} "<message>"`,
  );
  return lines.length > 0 ? lines.join('\n') : `Open a new incident and name ${incidentRef(id)} in its first update.`;
}

function toStackChange(entry: AuditEntry): StackChange {
  const revision = typeof entry.detail.revision === 'string' ? entry.detail.revision.slice(0, 12) : undefined;
  const pullRequest = typeof entry.detail.pullRequest === 'string' ? entry.detail.pullRequest : undefined;
  return {
    at: entry.at,
    stack: entry.target,
    kind: entry.action === 'promote' ? 'promote' : 'deploy',
    outcome: entry.outcome,
    actor: entry.actor,
    requestId: entry.requestId,
    ...(revision ?? pullRequest ? { ref: revision ?? pullRequest } : {}),
  };
}

export function describeChange(change: StackChange): string {
  const what = change.kind === 'promote' ? `promotion into ${change.stack}` : `deploy of ${change.stack} ${change.outcome}`;
  return `${what}${change.ref ? ` (${change.ref})` : ''} by ${change.actor}, ref ${change.requestId}`;
}

function deployEntry(change: StackChange): TimelineEntry {
  return { at: change.at, kind: 'deploy', actor: change.actor, text: describeChange(change), visibility: 'internal', detail: { stack: change.stack, requestId: change.requestId } };
}

const TIMELINE_LABELS: Record<TimelineEntry['kind'], string> = {
  declared: 'Declared',
  status: 'State',
  update: 'Update',
  severity: 'Severity',
  role: 'Roles',
  published: 'Told customers',
  page: 'Page',
  acknowledged: 'Acknowledged',
  joined: 'Joined',
  reminder: 'Reminder',
  followup: 'Follow-up',
  resolved: 'Resolved',
  closed: 'Closed',
  deploy: 'Deploy',
};

export function labelOf(entry: TimelineEntry): string {
  const label = TIMELINE_LABELS[entry.kind];
  return entry.kind === 'update' && entry.visibility === 'public' ? 'Customer update' : label;
}

export { ROLE_LABELS };
