import type { WebClient } from '@slack/web-api';
import { Counter, Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import { InputError } from '../../handlers/errors';
import type { ForumWrite } from '../../handlers/forum';
import { IncidentDesk, type Declaration, type Declared } from '../../handlers/incident';
import { incidentChannelName, incidentRef, isMajor, SEVERITIES, severityOf, statusTopicExternalId, type Impact, type IncidentRecord, type Urgency } from '../../handlers/incidentModel';
import type { RequestMeta } from '../../handlers/policy';
import type { AlertGroupDirectory, AuditLog, Clock, IncidentRecords, Logger, OnCallDirectory, Pager, RunbookLibrary } from '../../handlers/ports';
import type { Leases } from '../scheduler/leases';
import type { AlertGroupSummary } from '../../handlers/model/alerts';
import type { Policy } from '../../handlers/policy';
import { ForumOutboxWorker, type DiscourseApi, type OutboxTiming } from '../integrations/discourse';
import { FileMessageTemplateSource } from '../integrations/runbooks';
import type { Team } from '../../handlers/team';
import type { ActionHandler, Conversation, PostedMessage, RequestContext, VerbHandler, VerbHandlers } from '../commands';
import type { Job } from '../scheduler';
import {
  announcementReply,
  changesReply,
  declaredReply,
  declareForm,
  formNeedsSlackHint,
  handoverReply,
  listReply,
  noticeReply,
  outcomeReply,
  parseFormDeclaration,
  reminderReply,
  reviewReply,
  roleReply,
  severityOfForm,
  showReply,
  summaryReply,
  updateReply,
} from '../slack/blocks/incidents';
import { escapeMrkdwn, mention, section, type Reply } from '../slack/blocks/reply';
import { SlackConversation } from '../slack/conversation';
import { ACTIONS, EVENT_ACTIONS, VIEWS } from '../slack/ids';
import { SlackIncidentChannels } from '../slack/incidentChannels';
import type { DeliveryResult, OutboxEntry, SqlForumOutbox } from '../store/forumOutbox';

/**
 * Incidents as people see them in Slack: a channel per incident with its pinned summary kept up to date, each
 * change posted there, the incidents channel told of new and finished ones, the form, the alert group's
 * Declare button, "I am IC", reminders when a customer update is late. The rules are handlers/incident.ts's;
 * without Slack (the console, the CLI) the same commands answer in the terminal and no channel is made.
 */

export interface IncidentsFlowDeps {
  desk: IncidentDesk;
  team: Team;
  clock: Clock;
  log: Logger;
  /** The Slack client once Slack is up; undefined in the console. */
  slack: () => { client: WebClient; botUserId?: string } | undefined;
  /** Where people read the incident runbook: bookmarked in each channel when it is a web page. */
  runbookUrl: () => Promise<string | undefined>;
  /** The status forum's base URL, for links to topics. */
  forumUrl?: string;
  /** The topic Cockpit created with this external id, once the outbox delivered it. */
  topicOf?: (externalId: string) => Promise<number | undefined>;
  /** A forum write was queued: deliver it now rather than at the next poll. */
  kick?: () => void;
  /** An incident became public (declared so, or published): support tickets that look like it are offered a link. */
  onPublic?: (incident: IncidentRecord) => Promise<void>;
  /** An incident was resolved: the support tickets linked to it follow (bot/flows/tickets.ts). */
  onResolved?: (incident: IncidentRecord, message: string | undefined, meta: RequestMeta) => Promise<void>;
}

export interface IncidentsFlow {
  verbs: VerbHandlers;
  actions: Record<string, ActionHandler>;
  jobs: Job[];
  /** The outbox delivered a write: a new status topic is bookmarked and linked from the summary. */
  onForumDelivered(entry: OutboxEntry, result: DeliveryResult): Promise<void>;
  /** A deploy of `stack` finished: each open incident on it says so in its channel. */
  onStackDeployed(stack: string, meta: { requestId: string; actor: { id: string } }): Promise<void>;
}

const meta = (ctx: RequestContext): RequestMeta => ({ actor: ctx.actor, requestId: ctx.requestId });
const memberJoined = z.object({ channel: z.string(), user: z.string(), at: z.string().optional() });

export function incidentsFlow(deps: IncidentsFlowDeps): IncidentsFlow {
  const { desk, team, clock, log } = deps;

  const channelOf = (incident: IncidentRecord): Conversation | undefined => {
    const slack = deps.slack();
    return slack && incident.channelId ? new SlackConversation(slack.client, incident.channelId) : undefined;
  };

  const topicUrl = async (incident: IncidentRecord): Promise<string | undefined> => {
    if (!incident.public || !deps.forumUrl || !deps.topicOf) return undefined;
    const topicId = await deps.topicOf(statusTopicExternalId(incident.id)).catch(() => undefined);
    return topicId === undefined ? undefined : `${deps.forumUrl.replace(/\/+$/, '')}/t/${topicId}`;
  };

  /** Posts in the incident's channel; false when there is none (the console) or Slack refused. */
  async function postIn(incident: IncidentRecord, reply: Reply): Promise<PostedMessage | undefined> {
    const channel = channelOf(incident);
    if (!channel) return undefined;
    try {
      return await channel.post(reply);
    } catch (err) {
      log.warn({ err, incident: incident.id }, 'cannot post in the incident channel');
      return undefined;
    }
  }

  async function announce(reply: Reply): Promise<void> {
    const slack = deps.slack();
    if (!slack) return;
    await new SlackConversation(slack.client, team.channels.incidents).post(reply).catch((err: unknown) => log.warn({ err }, 'cannot post in the incidents channel'));
  }

  /** Edits the pinned summary to match the record. */
  async function refreshSummary(incident: IncidentRecord): Promise<void> {
    const channel = channelOf(incident);
    if (!channel || !incident.channelId || !incident.summaryTs) return;
    const [url, forum] = await Promise.all([topicUrl(incident), desk.view(incident.id).then((v) => v.forum).catch(() => undefined)]);
    await channel
      .update({ channel: incident.channelId, ts: incident.summaryTs }, summaryReply(incident, { now: clock.now(), ...(url ? { topicUrl: url } : {}), ...(forum ? { forum } : {}) }))
      .catch((err: unknown) => log.warn({ err, incident: incident.id }, 'cannot edit the incident summary'));
  }

  /**
   * Shows a change: in the incident's channel, with the summary brought up to date. The person who asked elsewhere
   * gets a short confirmation; in the channel itself the post is the answer; without Slack the post is the reply.
   */
  async function tell(incident: IncidentRecord, reply: Reply, ctx: RequestContext): Promise<Reply | undefined> {
    const posted = await postIn(incident, reply);
    await refreshSummary(incident);
    if (!posted) return reply;
    if (ctx.channelId === incident.channelId) return undefined;
    return { text: `Posted in the channel of ${incidentRef(incident.id)}`, visibility: 'ephemeral', blocks: [section(`:white_check_mark: Posted in <#${incident.channelId}>.`)] };
  }

  // The topic may be created before or after the channel is (the outbox runs on its own): whichever comes second
  // bookmarks it, once per incident on this replica.
  const topicBookmarked = new Set<number>();
  async function bookmarkTopic(incident: IncidentRecord): Promise<void> {
    const slack = deps.slack();
    const url = await topicUrl(incident);
    if (!slack || !incident.channelId || !url || topicBookmarked.has(incident.id)) return;
    topicBookmarked.add(incident.id);
    await new SlackIncidentChannels(slack.client, log, slack.botUserId).bookmark(incident.channelId, 'Status topic', url);
  }

  /** The channel, its summary pinned, its people invited, the runbook bookmarked, the recent deploys, the announcement. */
  async function openChannel(declared: Declared): Promise<IncidentRecord> {
    let incident = declared.incident;
    const slack = deps.slack();
    if (!slack) return incident;
    const channels = new SlackIncidentChannels(slack.client, log, slack.botUserId);
    const created = await channels.create((attempt) => incidentChannelName(incident.openedAt, incident.title, incident.id, attempt));
    if (!created) return incident;
    const conversation = new SlackConversation(slack.client, created.channelId);
    const summary = await conversation.post(summaryReply({ ...incident, channelId: created.channelId }, { now: clock.now() })).catch((err: unknown) => {
      log.warn({ err, incident: incident.id }, 'cannot post the incident summary');
      return undefined;
    });
    incident = await desk.attachChannel(incident.id, { channelId: created.channelId, ...(summary ? { summaryTs: summary.ts } : {}) });
    if (summary) await channels.pin(created.channelId, summary.ts);
    await channels.invite(created.channelId, declared.invite);
    const runbook = await deps.runbookUrl().catch(() => undefined);
    if (runbook) await channels.bookmark(created.channelId, 'Incident runbook', runbook);
    await bookmarkTopic(incident);
    const changes = await desk.changes(incident).catch(() => []);
    await conversation.post(changesReply(incident, changes)).catch((err: unknown) => log.warn({ err }, 'cannot post the recent deploys'));
    await announce(announcementReply(incident));
    return incident;
  }

  /** The tickets that look like a newly public incident hear of it; a failure there must not fail the incident. */
  async function toldPublic(incident: IncidentRecord, ctx: RequestContext): Promise<void> {
    await deps.onPublic?.(incident).catch((err: unknown) => ctx.log.warn({ err, incident: incident.id }, 'cannot offer the incident to lookalike tickets'));
  }

  async function declare(declaration: Declaration, ctx: RequestContext): Promise<Reply> {
    const declared = await desk.declare(declaration, meta(ctx));
    if (declared.incident.public) deps.kick?.();
    const incident = await openChannel(declared);
    if (incident.public) await toldPublic(incident, ctx);
    return declaredReply({ ...declared, incident });
  }

  /** The incident a command means: its number, or the channel it was typed in. */
  async function target(id: number | undefined, ctx: RequestContext): Promise<number> {
    if (id !== undefined) return id;
    const here = await desk.inChannel(ctx.channelId);
    if (here) return here.id;
    throw new InputError('Which incident? Give its number, or run the command in its channel.', 'The open ones: /cockpit incident list');
  }

  const incident: VerbHandler<'incident'> = async (req, ctx) => {
    switch (req.action) {
      case 'list':
        return listReply(await desk.list(), clock.now());
      case 'form':
        if (!ctx.openView) throw new InputError('The declare form needs Slack.', formNeedsSlackHint());
        await ctx.openView(declareForm({ team, forum: desk.forumConfigured, ...(ctx.channelId ? { channelId: ctx.channelId } : {}) }));
        return undefined;
      case 'open':
        return declare({ severity: req.severity, title: req.title, public: req.public === true }, ctx);
      case 'show': {
        const view = await desk.view(await target(req.id, ctx));
        const url = await topicUrl(view.incident);
        return showReply(view, { now: clock.now(), ...(url ? { topicUrl: url } : {}) });
      }
      case 'update': {
        const updated = await desk.update(await target(req.id, ctx), { ...(req.status ? { status: req.status } : {}), message: req.message, internal: req.internal === true }, meta(ctx));
        if (updated.customerFacing) deps.kick?.();
        return tell(updated.incident, updateReply(updated, ctx.actor.id), ctx);
      }
      case 'assign': {
        const assigned = await desk.assign(await target(req.id, ctx), req.role, req.userId, meta(ctx));
        const reply = assigned.pending ? handoverReply(assigned.incident, assigned.incident.commander, assigned.userId) : roleReply(assigned.incident, assigned.role, assigned.userId);
        return tell(assigned.incident, reply, ctx);
      }
      case 'severity': {
        const changed = await desk.setSeverity(await target(req.id, ctx), req.severity, meta(ctx));
        const paged = changed.pages.filter((p) => p.pageId).map((p) => p.level);
        const text = `Severity ${changed.from} → ${changed.incident.severity} by ${mention(ctx.actor.id)}${paged.length > 0 ? `; paged ${paged.join(', ')}` : ''}`;
        if (isMajor(changed.from) !== isMajor(changed.incident.severity)) await announce(outcomeReply(changed.incident, `now ${changed.incident.severity}`));
        return tell(changed.incident, noticeReply(changed.incident, text), ctx);
      }
      case 'publish': {
        const published = await desk.publish(await target(req.id, ctx), req.summary, meta(ctx));
        deps.kick?.();
        await toldPublic(published, ctx);
        return tell(published, noticeReply(published, `Customers are told on the status forum: ${req.summary}`), ctx);
      }
      case 'followup': {
        const noted = await desk.followUp(await target(req.id, ctx), req.text, meta(ctx));
        return { text: 'Noted for the review', visibility: 'ephemeral', blocks: [section(`:memo: Noted for the review of ${incidentRef(noted.id)}: ${escapeMrkdwn(req.text)}`)] };
      }
      case 'resolve': {
        const { incident: resolved, review } = await desk.resolve(await target(req.id, ctx), req.message, meta(ctx));
        if (resolved.public) deps.kick?.();
        // The linked tickets are told too; should that fail, the tickets sweep catches it up.
        await deps.onResolved?.(resolved, req.message, meta(ctx)).catch((err: unknown) => ctx.log.warn({ err, incident: resolved.id }, 'cannot resolve the tickets linked to the incident'));
        const reply = await tell(resolved, noticeReply(resolved, `Resolved by ${mention(ctx.actor.id)}${req.message ? `: ${req.message}` : ''}`), ctx);
        if (review) {
          const posted = await postIn(resolved, reviewReply(resolved, review));
          if (!posted && !channelOf(resolved)) return { ...reviewReply(resolved, review), visibility: 'ephemeral' };
        }
        await announce(outcomeReply(resolved, 'resolved'));
        return reply;
      }
      case 'close': {
        const closed = await desk.close(await target(req.id, ctx), meta(ctx));
        return tell(closed, noticeReply(closed, `Closed by ${mention(ctx.actor.id)}: nothing more happens to ${incidentRef(closed.id)}.`), ctx);
      }
    }
  };

  const actions: Record<string, ActionHandler> = {
    [ACTIONS.alertDeclareIncident]: async (groupId, ctx) => {
      const group = await desk.alertGroup(groupId);
      const prefill = prefillFrom(group, team);
      if (ctx.openView) {
        await ctx.openView(declareForm({ team, forum: desk.forumConfigured, alertGroupId: group.id, ...(ctx.channelId ? { channelId: ctx.channelId } : {}), prefill }));
        return undefined;
      }
      // No form to show (the console): declared at once, rated from the alert, internal until published.
      const { impact, urgency } = prefill;
      return declare({ severity: severityOf(impact, urgency), title: prefill.title, stacks: prefill.stacks, public: false, alertGroupId: group.id, rating: { impact, urgency } }, ctx);
    },
    [VIEWS.declareIncident]: async (value, ctx) => {
      const form = parseFormDeclaration(value);
      return declare(
        {
          severity: severityOfForm(form),
          title: form.title,
          stacks: form.stacks,
          components: form.components,
          public: form.public,
          rating: { impact: form.impact, urgency: form.urgency },
          ...(form.customerImpact ? { customerImpact: form.customerImpact } : {}),
          ...(form.publicSummary ? { publicSummary: form.publicSummary } : {}),
          ...(form.alertGroupId ? { alertGroupId: form.alertGroupId } : {}),
        },
        ctx,
      );
    },
    [ACTIONS.incidentAcceptCommand]: async (value, ctx) => {
      const id = Number(value);
      if (!Number.isInteger(id) || id < 1) throw new InputError('That button is from an older Cockpit; use /cockpit incident assign <id> commander @you.');
      const accepted = await desk.acceptCommand(id, meta(ctx));
      await refreshSummary(accepted);
      // In the channel: the handover message becomes its answer.
      return noticeReply(accepted, `${mention(ctx.actor.id)} is the incident commander of ${incidentRef(id)} now.`);
    },
    [EVENT_ACTIONS.memberJoinedChannel]: async (value) => {
      const parsed = memberJoined.safeParse(JSON.parse(value));
      if (parsed.success) await desk.joined(parsed.data.channel, parsed.data.user, parsed.data.at ? new Date(parsed.data.at) : undefined);
      return undefined;
    },
  };

  const jobs: Job[] = [
    {
      name: 'incidents.remind',
      schedule: '* * * * *',
      run: async (run) => {
        for (const reminder of await desk.dueReminders()) {
          if (!(await postIn(reminder.incident, reminderReply(reminder)))) await announce(reminderReply(reminder));
          run.log.info({ incident: reminder.incident.id, silentMinutes: reminder.silentMinutes }, 'reminded: a customer update is due');
        }
      },
    },
  ];

  return {
    verbs: { incident },
    actions,
    jobs,
    async onForumDelivered(entry, result) {
      const id = /^incident:(\d+)$/.exec(entry.stream)?.[1];
      if (!id || entry.write.kind !== 'topic.create') return;
      if (result.topicId === undefined) return;
      const record = await desk.get(Number(id));
      await bookmarkTopic(record);
      await refreshSummary(record);
    },
    async onStackDeployed(stack, at) {
      for (const summary of await desk.list().then((l) => l.open.filter((i) => i.stacks.includes(stack)))) {
        await postIn(summary, noticeReply(summary, `A deploy of ${stack} just finished (ref ${at.requestId}, by ${mention(at.actor.id)}); its result is in the deploys channel.`));
      }
    },
  };
}

/** The form's guess from an alert group: its summary as the title, impact from who it hurts, urgency from its severity. */
export function prefillFrom(group: AlertGroupSummary, team: Team): { title: string; impact: Impact; urgency: Urgency; stacks: string[] } {
  const stack = group.stack && group.stack in team.stacks ? group.stack : undefined;
  // Only the end of the promotion chain has customers; the runbook rates a fast burn there at least Medium.
  const production = stack !== undefined && team.stacks[stack]!.promotesFrom !== undefined && !Object.values(team.stacks).some((s) => s.promotesFrom === stack);
  const impact: Impact = group.customerImpact && production ? 'medium' : 'low';
  const urgency: Urgency = group.severity === 'critical' ? 'high' : group.severity === 'warning' ? 'medium' : 'low';
  return { title: (group.summary ?? group.alertname).slice(0, 150), impact, urgency, stacks: stack ? [stack] : [] };
}

/** MTTA/MTTR and open incidents per severity, the forum outbox's backlog, and the outbox's outcomes, for /metrics. */
export function incidentMetrics(
  registry: Registry,
  sources: { desk: IncidentDesk; outbox: { totals(): Promise<{ pending: number; oldestAt?: Date }> }; clock: Clock },
): { forumWrites: Counter<'kind' | 'outcome'>; countWrite(write: ForumWrite, outcome: string): void } {
  const byLabel = (name: string, help: string, pick: (s: Awaited<ReturnType<IncidentDesk['stats']>>[number]) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['severity'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of await sources.desk.stats()) {
          const value = pick(s);
          if (value !== undefined) this.set({ severity: s.severity }, value);
        }
      },
    });
  byLabel('cockpit_incident_mtta_seconds', 'Mean time from an incident starting to someone owning it, over the last 90 days.', (s) => s.mttaSeconds);
  byLabel('cockpit_incident_mttr_seconds', 'Mean time from an incident starting to its resolution, over the last 90 days.', (s) => s.mttrSeconds);
  new Gauge({
    name: 'cockpit_incidents_open',
    help: 'Incidents not resolved or closed.',
    labelNames: ['severity'] as const,
    registers: [registry],
    async collect() {
      const open = (await sources.desk.list()).open;
      for (const severity of SEVERITIES) this.set({ severity }, open.filter((i) => i.severity === severity).length);
    },
  });
  new Gauge({
    name: 'cockpit_forum_outbox_pending',
    help: 'Writes to the status forum not delivered yet.',
    registers: [registry],
    async collect() {
      this.set((await sources.outbox.totals()).pending);
    },
  });
  new Gauge({
    name: 'cockpit_forum_outbox_oldest_seconds',
    help: 'Age of the oldest write to the status forum not delivered yet; 0 when none waits.',
    registers: [registry],
    async collect() {
      const { oldestAt } = await sources.outbox.totals();
      this.set(oldestAt ? Math.max(0, (sources.clock.now().getTime() - oldestAt.getTime()) / 1000) : 0);
    },
  });
  const forumWrites = new Counter({ name: 'cockpit_forum_writes_total', help: 'Attempts to deliver a write to the status forum, by kind and outcome.', labelNames: ['kind', 'outcome'] as const, registers: [registry] });
  return { forumWrites, countWrite: (write, outcome) => forumWrites.inc({ kind: write.kind, outcome }) };
}

export interface WireIncidentsDeps {
  team: Team;
  policy: Policy;
  store: { incidents: IncidentRecords; audit: AuditLog; forumOutbox: SqlForumOutbox; leases: Leases };
  clock: Clock;
  log: Logger;
  metrics: Registry;
  /** The status forum; absent, incidents stay in Slack. */
  forum?: { url: string; api: DiscourseApi };
  /** The runbooks folder: the message templates, and the incident runbook's page to bookmark. */
  runbooksDir: string;
  runbooks: RunbookLibrary;
  /** This replica's id: on the outbox's claims and lease. */
  owner: string;
  slack: IncidentsFlowDeps['slack'];
  onCall?: OnCallDirectory;
  pager?: Pager;
  alertGroups?: AlertGroupDirectory;
  outboxTiming?: Partial<OutboxTiming>;
  onResolved?: IncidentsFlowDeps['onResolved'];
  onPublic?: IncidentsFlowDeps['onPublic'];
}

/** Everything bot/cockpit.ts needs for incidents: the desk, the verbs and buttons, the jobs, the outbox worker. */
export function wireIncidents(deps: WireIncidentsDeps): IncidentsFlow & { desk: IncidentDesk; worker?: ForumOutboxWorker } {
  const statusCategory = deps.team.incidents?.statusCategory;
  if (deps.forum && statusCategory === undefined) deps.log.warn({}, 'DISCOURSE_URL is set but cockpit.yml names no incidents.statusCategory: incidents stay in Slack');
  const discourse = deps.forum?.api;
  const desk = new IncidentDesk({
    team: deps.team,
    policy: deps.policy,
    records: deps.store.incidents,
    audit: deps.store.audit,
    clock: deps.clock,
    templates: new FileMessageTemplateSource({ dir: deps.runbooksDir }),
    ...(deps.onCall ? { onCall: deps.onCall } : {}),
    ...(deps.pager ? { pager: deps.pager } : {}),
    ...(deps.alertGroups ? { alertGroups: deps.alertGroups } : {}),
    ...(discourse && statusCategory !== undefined ? { forum: { categoryId: statusCategory } } : {}),
  });
  const measured = incidentMetrics(deps.metrics, { desk, outbox: deps.store.forumOutbox, clock: deps.clock });
  const outbox: { worker?: ForumOutboxWorker } = {};
  const flow = incidentsFlow({
    desk,
    team: deps.team,
    clock: deps.clock,
    log: deps.log,
    slack: deps.slack,
    runbookUrl: async () => (await deps.runbooks.list()).find((r) => r.name === 'incident-management')?.url,
    ...(deps.forum ? { forumUrl: deps.forum.url } : {}),
    topicOf: (externalId) => deps.store.forumOutbox.knownTopic(externalId),
    kick: () => outbox.worker?.kick(),
    ...(deps.onResolved ? { onResolved: deps.onResolved } : {}),
    ...(deps.onPublic ? { onPublic: deps.onPublic } : {}),
  });
  if (discourse) {
    outbox.worker = new ForumOutboxWorker({
      outbox: deps.store.forumOutbox,
      forum: discourse,
      clock: deps.clock,
      log: deps.log.child({ component: 'forum-outbox' }),
      owner: deps.owner,
      leases: deps.store.leases,
      timing: deps.outboxTiming,
      onOutcome: measured.countWrite,
      onDelivered: (entry, result) => flow.onForumDelivered(entry, result),
    });
  }
  return { ...flow, desk, ...(outbox.worker ? { worker: outbox.worker } : {}) };
}
