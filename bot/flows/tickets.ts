import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { Gauge, type Registry } from 'prom-client';
import { InputError, UnavailableError } from '../../handlers/errors';
import { incidentRef, statusTopicExternalId, type IncidentRecord } from '../../handlers/incidentModel';
import type { SupportPost, TicketRecord } from '../../handlers/model/tickets';
import { SCHEDULER_ACTOR } from '../../handlers/environments';
import type { Policy, RequestMeta } from '../../handlers/policy';
import type { AuditLog, Clock, IncidentRecords, Logger, OnCallDirectory, Pager, TicketRecords } from '../../handlers/ports';
import type { Team } from '../../handlers/team';
import { TicketDesk, type Changed } from '../../handlers/ticket';
import { sweepAdopts, TICKET_STATUSES, ticketRef } from '../../handlers/ticketModel';
import type { ActionHandler, RequestContext, VerbHandler } from '../commands';
import { DiscourseSupportForum, type SupportReads } from '../integrations/discourse/supportForum';
import type { DiscourseEvent } from '../integrations/discourse/webhook';
import { FileMessageTemplateSource } from '../integrations/runbooks';
import { newRequestId } from '../requestId';
import type { Job, JobRun } from '../scheduler';
import { doneReply, forumPostReply, noteReply, pagedNote, ticketHomeBlocks, ticketListReply, ticketMessage } from '../slack/blocks/tickets';
import type { Reply } from '../slack/blocks/reply';
import { SlackConversation } from '../slack/conversation';
import { ACTIONS } from '../slack/ids';
import type { SqlForumOutbox } from '../store/forumOutbox';
import type { SqlTicketRecords } from '../store/tickets';

/**
 * Support tickets as people see them in Slack: one message per ticket in the support channel, edited at every
 * change, whose thread is the ticket's conversation (Cockpit's notes, and every post written on the topic);
 * `/cockpit ticket …`; Take, Escalate and Link. Tickets arrive two ways that must agree: the forum's webhook
 * (at once) and the sweep of the category (every few minutes, catching whatever a lost webhook missed). Both
 * go through the desk's idempotent intake, and each replica-racy step (posting the message, relaying a post)
 * is claimed in the store first. The rules are handlers/ticket.ts's.
 */

export interface TicketsFlowDeps {
  desk: TicketDesk;
  /** The store's claims on the ticket's Slack message (one post across replicas). */
  records: Pick<TicketRecords, 'claimPost' | 'setMessage' | 'releasePost' | 'list' | 'get'>;
  clock: Clock;
  log: Logger;
  /** The Slack client once Slack is up; undefined in the console. */
  slack: () => { client: WebClient } | undefined;
  /** This replica's id, on its claims. */
  owner: string;
  /** A forum write was queued: deliver it now rather than at the next poll. */
  kick?: () => void;
}

export interface TicketsFlow {
  verb: VerbHandler<'ticket'>;
  actions: Record<string, ActionHandler>;
  jobs: Job[];
  /** A verified Discourse webhook: a topic or a post of the support category. Throws when its work failed. */
  handle(event: DiscourseEvent): Promise<void>;
  /** The sweep: reads the category's latest topics and catches up whatever the webhooks missed. */
  sweep(requestId: string, log?: Logger): Promise<SweepResult>;
  /** An incident became public: each open ticket that looks like it is offered the link, in its message and thread. */
  incidentPublic(incident: IncidentRecord): Promise<void>;
  /** App Home: the person's open tickets and the queue. */
  home(userId: string): Promise<KnownBlock[]>;
  /** A public incident was resolved: its linked tickets are resolved with it, and their customers told. */
  incidentResolved(incident: IncidentRecord, message: string | undefined, meta: RequestMeta): Promise<void>;
}

export interface SweepResult {
  /** Topics listed by the forum. */
  seen: number;
  /** Tickets the sweep created (their webhook was lost, or Cockpit was down). */
  created: number;
  /** Ticket messages posted in Slack that were missing. */
  posted: number;
  /** Posts relayed to a ticket's thread. */
  relayed: number;
}

/** A claim on posting a ticket's message that is older than this was left by a replica that died meanwhile. */
const POST_CLAIM_STALE_MS = 2 * 60_000;
/** Cockpit's own acts (intake, sweep, pages) speak for nobody: the scheduler's identity, refused every person's act. */
const systemMeta = (requestId: string): RequestMeta => ({ actor: { id: SCHEDULER_ACTOR, via: 'scheduler' }, requestId });
const meta = (ctx: RequestContext): RequestMeta => ({ actor: ctx.actor, requestId: ctx.requestId });

export function ticketsFlow(deps: TicketsFlowDeps): TicketsFlow {
  const { desk, records, clock, log } = deps;
  const channel = desk.settings.channel;
  const topicUrl = (topicId: number) => desk.topicUrl(topicId);

  const messageOf = async (ticket: TicketRecord): Promise<Reply> => ticketMessage(await desk.view(ticket), topicUrl(ticket.topicId));

  /**
   * Puts the ticket's message in the support channel, once across replicas, or brings it up to date. Without
   * Slack (the console) there is nothing to show; a failure is logged and the sweep tries again. `ticket` is the
   * record as just read or changed, so it is not read again.
   */
  async function show(ticket: TicketRecord): Promise<TicketRecord> {
    const topicId = ticket.topicId;
    const slack = deps.slack();
    if (!slack) return ticket;
    const conversation = new SlackConversation(slack.client, channel);
    if (ticket.message) {
      await conversation.update(ticket.message, await messageOf(ticket)).catch((err: unknown) => log.warn({ err, ticket: topicId }, 'cannot edit the ticket message'));
      return ticket;
    }
    const now = clock.now();
    // Posted meanwhile by another replica (or being posted): its message, as the store has it now.
    if (!(await records.claimPost(topicId, deps.owner, now, new Date(now.getTime() - POST_CLAIM_STALE_MS)))) return (await records.get(topicId)) ?? ticket;
    try {
      const posted = await conversation.post(await messageOf(ticket));
      await records.setMessage(topicId, { channel: posted.channel, ts: posted.ts });
      return { ...ticket, message: { channel: posted.channel, ts: posted.ts } };
    } catch (err) {
      await records.releasePost(topicId);
      log.warn({ err, ticket: topicId }, 'cannot post the ticket in the support channel; the sweep tries again');
      return ticket;
    }
  }

  /** A line in the ticket's thread. */
  async function note(ticket: TicketRecord, reply: Reply): Promise<void> {
    const slack = deps.slack();
    if (!slack || !ticket.message) return;
    await new SlackConversation(slack.client, ticket.message.channel, ticket.message.ts).post(reply);
  }

  /** A post written on the topic, shown in its thread; a failure throws, so the relay gives the post back. */
  const deliverPost = async (post: SupportPost, ticket: TicketRecord) => {
    if (!deps.slack()) throw new UnavailableError('Slack is not reachable: the post is relayed later.');
    await note(ticket, forumPostReply(ticket, post, { customer: desk.isCustomer(ticket, post), url: `${topicUrl(ticket.topicId)}/${post.postNumber}` }));
  };

  /** A topic seen (webhook or sweep): a ticket the first time, its message in Slack, its posts relayed. */
  async function intake(topicId: number, requestId: string, categoryId?: number): Promise<{ created: boolean; posted: boolean; relayed: number } | undefined> {
    const taken = await desk.intake(topicId, systemMeta(requestId), categoryId);
    if (taken.ignored !== undefined) {
      log.debug({ topicId, reason: taken.ignored }, 'not a ticket');
      return undefined;
    }
    if (taken.created) deps.kick?.();
    const hadMessage = taken.ticket.message !== undefined;
    const shown = await show(taken.ticket);
    const relayed = shown.message ? await desk.relay(topicId, deliverPost) : [];
    return { created: taken.created, posted: !hadMessage && shown.message !== undefined, relayed: relayed.length };
  }

  /** A change a person made: the forum is told (the outbox), the message edited, the thread noted. */
  async function changed(result: Changed, extra?: string): Promise<TicketRecord> {
    deps.kick?.();
    const ticket = await show(result.ticket);
    await note(ticket, noteReply(ticket, extra ? `${result.note}. ${extra}` : result.note)).catch((err: unknown) => log.warn({ err, ticket: ticket.topicId }, 'cannot note the change in the ticket thread'));
    return ticket;
  }

  /** The answer to the person: a pressed button's message becomes the ticket's new state; a command gets a line. */
  async function answer(ticket: TicketRecord, text: string, ctx: RequestContext): Promise<Reply> {
    const pressedOnIt = ctx.sourceMessage && ticket.message && ctx.sourceMessage.ts === ticket.message.ts;
    if (pressedOnIt) return messageOf(ticket);
    return doneReply(text, ticket.message);
  }

  const take = async (topicId: number, ctx: RequestContext) => {
    const ticket = await changed(await desk.take(topicId, meta(ctx)));
    return answer(ticket, `You have ${ticketRef(topicId)}; the customer is told.`, ctx);
  };

  const escalate = async (topicId: number, ctx: RequestContext) => {
    const escalated = await desk.escalate(topicId, meta(ctx));
    const paged = escalated.pageId ? `${escalated.level} is paged.` : `Nobody was paged: ${escalated.skipped ?? 'nobody is on call'}.`;
    const ticket = await changed(escalated, paged);
    return answer(ticket, `${ticketRef(topicId)} is at ${escalated.level}. ${paged}`, ctx);
  };

  const verb: VerbHandler<'ticket'> = async (req, ctx) => {
    switch (req.action) {
      case 'list':
        return ticketListReply(await desk.list(), topicUrl);
      case 'show':
        return { ...ticketMessage(await desk.view(req.topicId), topicUrl(req.topicId)), visibility: 'ephemeral' };
      case 'take':
        return take(req.topicId, ctx);
      case 'escalate':
        return escalate(req.topicId, ctx);
      case 'status': {
        const ticket = await changed(await desk.setStatus(req.topicId, req.status, req.message, meta(ctx)));
        return answer(ticket, `${ticketRef(req.topicId)} is ${ticket.status}; the customer is told.`, ctx);
      }
      case 'reply': {
        const ticket = await changed(await desk.reply(req.topicId, req.message, meta(ctx)));
        return answer(ticket, `Posted on ${ticketRef(req.topicId)}; the customer gets it by email.`, ctx);
      }
      case 'link': {
        const linked = await desk.link(req.topicId, req.incidentId, meta(ctx));
        const ticket = await changed(linked);
        return answer(ticket, `${ticketRef(req.topicId)} is linked; the customer has the status topic.`, ctx);
      }
    }
  };

  const topicOf = (value: string): number => {
    const id = Number(value);
    if (!Number.isInteger(id) || id < 1) throw new InputError('That button is from an older Cockpit; use /cockpit ticket list.');
    return id;
  };

  const actions: Record<string, ActionHandler> = {
    [ACTIONS.ticketTake]: (value, ctx) => take(topicOf(value), ctx),
    [ACTIONS.ticketEscalate]: (value, ctx) => escalate(topicOf(value), ctx),
    [ACTIONS.ticketLinkIncident]: async (value, ctx) => {
      const m = /^(\d{1,9}):(\d{1,9})$/.exec(value);
      if (!m) throw new InputError('That button is from an older Cockpit; use /cockpit ticket link <topic> <incident>.');
      const linked = await desk.link(Number(m[1]), Number(m[2]), meta(ctx));
      const ticket = await changed(linked);
      return answer(ticket, `${ticketRef(ticket.topicId)} is linked; the customer has the status topic.`, ctx);
    },
  };

  async function handle(event: DiscourseEvent): Promise<void> {
    const requestId = newRequestId();
    if (event.kind === 'ping') return;
    if (event.kind === 'topic') {
      await intake(event.topicId, requestId, event.categoryId);
      return;
    }
    const { post } = event;
    // The post may come before its topic's own webhook, or be the only one that arrived: it brings the ticket in.
    const known = await records.get(post.topicId);
    if (!known) {
      await intake(post.topicId, requestId, event.categoryId);
      return;
    }
    if (!known.message) await show(known);
    await desk.relay(post.topicId, deliverPost, post);
  }

  async function sweep(requestId: string, runLog: Logger = log): Promise<SweepResult> {
    const listed = await desk.latestTopics();
    const result: SweepResult = { seen: listed.length, created: 0, posted: 0, relayed: 0 };
    for (const topic of listed) {
      if (topic.pinned) continue;
      const known = await records.get(topic.id);
      if (!known && !sweepAdopts(topic, clock.now())) continue;
      // Known, shown and nothing new written on it: the common case costs no request to the forum.
      if (known?.message && topic.highestPostNumber <= known.lastPostNumber) continue;
      try {
        const done = await intake(topic.id, requestId);
        if (!done) continue;
        if (done.created) result.created += 1;
        if (done.posted) result.posted += 1;
        result.relayed += done.relayed;
      } catch (err) {
        // One topic that cannot be read must not stop the others: the next sweep tries it again.
        runLog.warn({ err, topicId: topic.id }, 'tickets sweep: cannot catch up a topic');
      }
    }
    // Tickets whose message never made it to Slack and that fell off the forum's first page.
    for (const ticket of await records.list({ statuses: TICKET_STATUSES.filter((s) => s !== 'resolved') })) {
      if (ticket.message) continue;
      if ((await show(ticket)).message) result.posted += 1;
    }
    for (const resolved of await desk.catchUpIncidents(systemMeta(requestId))) await changed(resolved);
    return result;
  }

  const jobs: Job[] = [
    {
      name: 'tickets.sweep',
      schedule: '*/5 * * * *',
      run: async (run: JobRun) => {
        const result = await sweep(run.requestId, run.log);
        if (result.created + result.posted + result.relayed > 0) run.log.warn({ ...result }, 'tickets sweep caught up what the webhooks missed');
        else run.log.debug({ ...result }, 'tickets sweep: nothing missed');
      },
    },
    {
      name: 'tickets.late',
      schedule: '* * * * *',
      run: async (run: JobRun) => {
        for (const paged of await desk.pageLate(systemMeta(run.requestId))) {
          run.log.warn({ ticket: paged.ticket.topicId, pageId: paged.pageId, skipped: paged.skipped }, 'a ticket was not taken in time');
          const ticket = await show(paged.ticket);
          await note(ticket, noteReply(ticket, pagedNote(paged))).catch((err: unknown) => run.log.warn({ err }, 'cannot note the page in the ticket thread'));
        }
      },
    },
  ];

  return {
    verb,
    actions,
    jobs,
    handle,
    sweep,
    async incidentPublic(incident) {
      for (const view of await desk.list()) {
        if (!view.lookalikes.some((i) => i.id === incident.id)) continue;
        const ticket = await show(view.ticket);
        const offer = `This looks like ${incidentRef(incident.id)}, ${incident.title}: link it (on the message above, or /cockpit ticket link ${ticket.topicId} ${incident.id}) and the customer gets its status topic.`;
        await note(ticket, noteReply(ticket, offer)).catch((err: unknown) => log.warn({ err, ticket: ticket.topicId }, 'cannot offer the incident in the ticket thread'));
      }
    },
    async home(userId) {
      const open = await desk.list();
      return ticketHomeBlocks({ mine: open.filter((v) => v.ticket.assignee === userId), queue: open.filter((v) => v.ticket.status === 'new') }, topicUrl);
    },
    async incidentResolved(incident, message, at) {
      for (const resolved of await desk.incidentResolved(incident, message, at)) await changed(resolved);
    },
  };
}

/**
 * Open tickets per status, and how many new ones are past their target, for /metrics: one read of the store per
 * scrape each, never the forum (a scrape every 15 s must not cost a request per ticket).
 */
export function ticketMetrics(registry: Registry, records: Pick<TicketRecords, 'list'>, clock: Clock): void {
  const open = TICKET_STATUSES.filter((s) => s !== 'resolved');
  new Gauge({
    name: 'cockpit_tickets_open',
    help: 'Support tickets not resolved, by status.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const tickets = await records.list({ statuses: open, limit: 1000 });
      for (const status of open) this.set({ status }, tickets.filter((t) => t.status === status).length);
    },
  });
  new Gauge({
    name: 'cockpit_tickets_late',
    help: 'Support tickets still new past their response-time target.',
    registers: [registry],
    async collect() {
      const now = clock.now();
      this.set((await records.list({ statuses: ['new'], limit: 1000 })).filter((t) => t.dueAt <= now).length);
    },
  });
}

export interface WireTicketsDeps {
  team: Team;
  policy: Policy;
  store: { tickets: SqlTicketRecords; incidents: IncidentRecords; audit: AuditLog; forumOutbox: Pick<SqlForumOutbox, 'knownTopic'> };
  clock: Clock;
  log: Logger;
  metrics: Registry;
  /** The forum, shared with incidents (one client, so one rate limit for the key); absent: no tickets. */
  forum?: { url: string; api: SupportReads };
  runbooksDir: string;
  owner: string;
  slack: TicketsFlowDeps['slack'];
  onCall?: OnCallDirectory;
  pager?: Pager;
  kick?: () => void;
}

/**
 * Everything bot/cockpit.ts needs for tickets. Without a `tickets` section in cockpit.yml, or without the forum
 * (DISCOURSE_URL…), there are none, and `/cockpit ticket` says which is missing.
 */
export function wireTickets(deps: WireTicketsDeps): { verb: VerbHandler<'ticket'>; flow?: TicketsFlow } {
  const settings = deps.team.tickets;
  if (!settings) {
    return {
      verb: async () => {
        throw new UnavailableError('Support tickets are not configured.', 'Add a `tickets` section to cockpit.yml (the forum category and the Slack channel): see runbooks/support-tickets.md.');
      },
    };
  }
  if (!deps.forum) {
    deps.log.warn({}, 'cockpit.yml has a tickets section but the forum is not configured (DISCOURSE_URL, DISCOURSE_API_KEY, DISCOURSE_API_USERNAME): no tickets');
    return {
      verb: async () => {
        throw new UnavailableError('Support tickets need the forum, which is not configured.', 'Set DISCOURSE_URL, DISCOURSE_API_KEY and DISCOURSE_API_USERNAME.');
      },
    };
  }
  const desk = new TicketDesk({
    team: deps.team,
    settings,
    policy: deps.policy,
    records: deps.store.tickets,
    incidents: deps.store.incidents,
    forum: new DiscourseSupportForum(deps.forum.api, { id: settings.categoryId, slug: settings.categorySlug }),
    audit: deps.store.audit,
    clock: deps.clock,
    templates: new FileMessageTemplateSource({ dir: deps.runbooksDir }),
    ...(deps.onCall ? { onCall: deps.onCall } : {}),
    ...(deps.pager ? { pager: deps.pager } : {}),
    forumUrl: deps.forum.url,
    statusTopicOf: (incidentId) => deps.store.forumOutbox.knownTopic(statusTopicExternalId(incidentId)),
  });
  ticketMetrics(deps.metrics, deps.store.tickets, deps.clock);
  const flow = ticketsFlow({ desk, records: deps.store.tickets, clock: deps.clock, log: deps.log.child({ component: 'tickets' }), slack: deps.slack, owner: deps.owner, ...(deps.kick ? { kick: deps.kick } : {}) });
  return { verb: flow.verb, flow };
}
