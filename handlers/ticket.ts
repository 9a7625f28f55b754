import { formatDuration } from './duration';
import { ConflictError, InputError, NotFoundError } from './errors';
import type { ForumBacklog, ForumWrite } from './forum';
import { incidentRef, type IncidentRecord } from './incidentModel';
import { describeActor, type Policy, type RequestMeta, type TicketAct, type TicketFacts } from './policy';
import type { OnCallLevel, PageSource } from './model/oncall';
import type { AuditLog, Clock, IncidentRecords, MessageTemplateSource, OnCallDirectory, Pager, SupportForum, TicketRecords } from './ports';
import { ONCALL_LEVELS } from './rotation';
import { displayName, personById, type Team } from './team';
import { renderTemplate, TemplateError, TICKET_STATUS_TEMPLATES, type TemplateName, type TemplateVars } from './templates';
import { ageOf, dueAtFor, excerptOf, inertOnForum, isTicketStatus, LEVEL_TAGS, levelTag, lookalikes, namedIn, nextLevel, priorityOf, REOPEN_WITHIN_MS, STATUS_MOVES, STATUS_TAGS, targetMinutes, TICKET_LEVELS, ticketRef, type TicketSettings, type TicketStatus } from './ticketModel';
import type { NewTicketRecord, SupportPost, SupportTopicSummary, TicketPatch, TicketRecord } from './model/tickets';

/**
 * Customer support tickets, as runbooks/support-tickets.md runs them: a topic of the forum's support category
 * becomes a ticket (from the forum's webhook or the sweep, whichever sees it first), is taken, moved through its
 * statuses, escalated L1 → L2 → L3, linked to a public incident, and resolved. Every change a customer should
 * know of is a reply on their topic and a tag change, written with the change in one transaction and delivered
 * by the forum outbox; the forum emails the reply. What is shown in Slack is bot/flows/tickets.ts's.
 */

export interface TicketDeskDeps {
  team: Team;
  settings: TicketSettings;
  policy: Policy;
  records: TicketRecords;
  /** The incidents a ticket may be linked to (read only: the incident desk owns them). */
  incidents: Pick<IncidentRecords, 'get' | 'list' | 'timeline'>;
  forum: SupportForum;
  audit: AuditLog;
  clock: Clock;
  templates: MessageTemplateSource;
  /** Who is on call; absent, escalations page nobody and Take has no on-call to know of. */
  onCall?: OnCallDirectory;
  pager?: Pager;
  /** The forum's base URL, for links to topics. */
  forumUrl: string;
  /** The status topic of an incident, once the outbox created it. */
  statusTopicOf(incidentId: number): Promise<number | undefined>;
}

export type Intake = { ticket: TicketRecord; created: boolean; ignored?: undefined } | { ignored: string; ticket?: undefined; created?: undefined };

export interface Changed {
  ticket: TicketRecord;
  from: TicketStatus;
  /** What happened, for the ticket's Slack thread. */
  note: string;
}

export interface Escalated extends Changed {
  level: OnCallLevel;
  /** The people on call at that level. */
  people: string[];
  pageId?: string;
  /** Why nobody was paged, or why paging failed. */
  skipped?: string;
}

export interface TicketView {
  ticket: TicketRecord;
  /** Business time it has waited (until taken), against its target. */
  ageMs: number;
  targetMs: number;
  late: boolean;
  /** Open public incidents it looks like, to offer a link. */
  lookalikes: IncidentRecord[];
  forum: ForumBacklog;
}

/** The tickets whose page went out, for the log and the channel. */
export interface Paged {
  ticket: TicketRecord;
  pageId?: string;
  skipped?: string;
}

const OPEN: readonly TicketStatus[] = ['new', 'in-progress', 'waiting'];
/** Concurrent changes to one ticket are re-read and re-judged this many times before giving up. */
const MAX_ATTEMPTS = 3;
/** How far back a topic is read for posts not yet seen. */
const MAX_UNSEEN_POSTS = 50;
const MINUTE_MS = 60_000;

export class TicketDesk {
  constructor(private readonly deps: TicketDeskDeps) {}

  get settings(): TicketSettings {
    return this.deps.settings;
  }

  topicUrl(topicId: number): string {
    return `${this.deps.forumUrl.replace(/\/+$/, '')}/t/${topicId}`;
  }

  /** The support category's latest topics as the forum lists them: what the sweep checks against the store. */
  async latestTopics(): Promise<SupportTopicSummary[]> {
    return this.deps.forum.latestTopics();
  }

  async get(topicId: number): Promise<TicketRecord> {
    const ticket = await this.deps.records.get(topicId);
    if (!ticket) throw new NotFoundError(`No ticket ${ticketRef(topicId)}.`, 'The open ones: /cockpit ticket list');
    return ticket;
  }

  /**
   * A topic seen on the forum (webhook or sweep): a ticket the first time, nothing after. A topic that already
   * carries a status tag (a store restored from an older backup) keeps it rather than going back to the queue.
   * `categoryId` is what a signed webhook body says, which spares reading topics of other categories.
   */
  async intake(topicId: number, meta: RequestMeta, categoryId?: number): Promise<Intake> {
    const known = await this.deps.records.get(topicId);
    if (known) return { ticket: known, created: false };
    const { settings, forum } = this.deps;
    if (categoryId !== undefined && categoryId !== settings.categoryId) return { ignored: `topic ${topicId} is not in the support category` };
    const topic = await forum.topic(topicId);
    if (!topic) return { ignored: `topic ${topicId} is not on the forum` };
    if (topic.categoryId !== settings.categoryId) return { ignored: `topic ${topicId} is not in the support category` };
    if (topic.archetype !== 'regular') return { ignored: `topic ${topicId} is a ${topic.archetype}` };
    // A closed topic takes no reply from the customer and none from us: whatever it was, it is not a ticket now.
    if (topic.closed) return { ignored: `topic ${topicId} is closed` };
    if (topic.author.username === forum.username) return { ignored: `topic ${topicId} is Cockpit's own` };
    const firstId = topic.postIds[0];
    const first = firstId === undefined ? undefined : await forum.post(firstId);
    const raw = first?.raw ?? '';
    const priority = priorityOf(settings, topic.tags);
    const statusTag = topic.tags.find(isTicketStatus);
    const level = TICKET_LEVELS.find((l) => levelTag(l) !== undefined && topic.tags.includes(levelTag(l)!)) ?? 'L1';
    const now = this.deps.clock.now();
    const ticket: NewTicketRecord = {
      topicId,
      title: topic.title,
      customer: topic.author,
      excerpt: excerptOf(raw),
      priority,
      status: statusTag ?? 'new',
      level,
      ...namedIn(`${topic.title}\n${raw}`, topic.tags, this.deps.team.incidents?.components ?? []),
      openedAt: topic.createdAt,
      dueAt: dueAtFor(settings, priority, topic.createdAt),
      statusChangedAt: now,
      lastPostNumber: first?.postNumber ?? 1,
    };
    const writes: ForumWrite[] = statusTag ? [] : [this.statusTags(topicId, 'new')];
    const { ticket: stored, created } = await this.deps.records.create(ticket, writes);
    if (created) await this.audit(meta, 'ticket.open', stored, { priority, customer: topic.author.username, adopted: statusTag ?? null });
    return { ticket: stored, created };
  }

  /** Take: the presser owns it, the customer hears who is on it, and the page for it (if any) stops. */
  async take(topicId: number, meta: RequestMeta): Promise<Changed> {
    const actor = meta.actor.id;
    const changed = await this.mutate(topicId, meta, 'ticket.take', async (ticket) => {
      if (ticket.status === 'resolved') throw new ConflictError(`${ticketRef(topicId)} is resolved.`, `If it came back: /cockpit ticket status ${topicId} in-progress`);
      if (ticket.assignee === actor) throw new InputError(`You have ${ticketRef(topicId)} already.`);
      await this.judge('ticket_take', meta, ticket);
      const now = this.deps.clock.now();
      const to: TicketStatus = 'in-progress';
      const writes: ForumWrite[] = [await this.replyWith('ticket-taken', ticket, { ...this.vars(ticket), 'assignee.name': this.name(actor) })];
      if (ticket.status !== to) writes.push(this.statusTags(topicId, to));
      writes.push(...this.assignWrites(topicId, actor));
      const patch: TicketPatch = { status: to, assignee: actor, ...(ticket.takenAt ? {} : { takenAt: now }), ...(ticket.status !== to ? { statusChangedAt: now } : {}) };
      const note = ticket.assignee ? `${this.name(actor)} took it over from ${this.name(ticket.assignee)}` : `${this.name(actor)} took it`;
      return { patch, writes, done: (updated) => ({ ticket: updated, from: ticket.status, note }) };
    });
    await this.stopPages(topicId, meta);
    return changed;
  }

  /** `/cockpit ticket status <topic> <status> [message]`: one reply and one tag change. */
  async setStatus(topicId: number, to: TicketStatus, message: string | undefined, meta: RequestMeta): Promise<Changed> {
    const said = message?.trim() || undefined;
    const changed = await this.mutate(topicId, meta, 'ticket.status', async (ticket) => {
      const from = ticket.status;
      const ref = ticketRef(topicId);
      if (from === to) throw new InputError(`${ref} is ${to} already.`);
      if (!STATUS_MOVES[from].includes(to)) {
        if (from === 'new') throw new InputError(`${ref} is in the queue: take it first.`, `/cockpit ticket take ${topicId}`);
        throw new InputError(`${ref} is ${from}: it can go to ${STATUS_MOVES[from].join(' or ')}, not ${to}.`);
      }
      const now = this.deps.clock.now();
      if (from === 'resolved' && ticket.resolvedAt && now.getTime() - ticket.resolvedAt.getTime() > REOPEN_WITHIN_MS) {
        throw new ConflictError(`${ref} was resolved ${formatDuration(now.getTime() - ticket.resolvedAt.getTime())} ago, more than 14 days: it is not reopened.`, 'Ask the customer to open a new topic that links this one.');
      }
      if (to === 'waiting' && !said) throw new InputError('Say exactly what you need from the customer: they read it word for word.', `/cockpit ticket status ${topicId} waiting "<what we need>"`);
      await this.judge('ticket_status', meta, ticket);
      const template = TICKET_STATUS_TEMPLATES[to];
      const assignee = ticket.assignee ?? meta.actor.id;
      // One set of values for the four templates; rendering refuses one a template requires and lacks.
      const vars = { ...this.vars(ticket), 'assignee.name': this.name(assignee), message: said } as TemplateVars<typeof template>;
      const writes = [await this.replyWith(template, ticket, vars), this.statusTags(topicId, to)];
      const patch: TicketPatch = {
        status: to,
        statusChangedAt: now,
        ...(to === 'resolved' ? { resolvedAt: now } : from === 'resolved' ? { resolvedAt: null } : {}),
        // Back to the queue: nobody owns it until the next engineer takes it.
        ...(to === 'new' ? { assignee: null } : {}),
      };
      const note = `${this.name(meta.actor.id)}: ${from} → ${to}${said ? `: ${said}` : ''}`;
      return { patch, writes, done: (updated) => ({ ticket: updated, from, note }) };
    });
    // Resolved, or back in the queue: nobody needs waking for it any more.
    if (to === 'resolved' || to === 'new') await this.stopPages(topicId, meta, ['L2', 'L3']);
    return changed;
  }

  /** Escalate: up one level, to whoever is on call there, who is paged; the customer is told. */
  async escalate(topicId: number, meta: RequestMeta): Promise<Escalated> {
    const actor = meta.actor.id;
    const onCallNow = await this.onCallAnywhere(actor);
    let people: string[] = [];
    const changed = await this.mutate(topicId, meta, 'ticket.escalate', async (ticket) => {
      const ref = ticketRef(topicId);
      if (ticket.status === 'resolved') throw new ConflictError(`${ref} is resolved.`, `If it came back: /cockpit ticket status ${topicId} in-progress`);
      const level = nextLevel(ticket.level);
      if (!level) throw new InputError(`${ref} is at L3 already: the infra owner has it.`);
      await this.judge('ticket_escalate', meta, ticket, { onCall: onCallNow });
      people = await this.onCallAt(level);
      // The one paged owns it; with nobody on call there, it stays with its taker (or the presser).
      const assignee = people[0] ?? ticket.assignee ?? actor;
      const now = this.deps.clock.now();
      const writes: ForumWrite[] = [
        await this.replyWith('ticket-escalated', ticket, { ...this.vars(ticket), 'escalation.level': level, 'assignee.name': this.name(assignee) }),
        { kind: 'topic.tags', topic: { topicId }, add: ['in-progress', levelTag(level)!], remove: [...STATUS_TAGS, ...LEVEL_TAGS] },
      ];
      if (assignee !== ticket.assignee) writes.push(...this.assignWrites(topicId, assignee));
      const patch: TicketPatch = {
        level,
        status: 'in-progress',
        assignee,
        ...(ticket.takenAt ? {} : { takenAt: now }),
        ...(ticket.status !== 'in-progress' ? { statusChangedAt: now } : {}),
      };
      const note = `${this.name(actor)} escalated it to ${level}${assignee !== ticket.assignee ? `: ${this.name(assignee)} has it` : ''}`;
      return { patch, writes, done: (updated) => ({ ticket: updated, from: ticket.status, note, level, people }) };
    });
    // The level below has handed it on: its page, and the one for the ticket not being taken, are done.
    await this.stopPages(topicId, meta, TICKET_LEVELS.filter((l) => l !== 'L1' && l !== changed.level));
    return { ...changed, ...(await this.pageLevel(changed.ticket, changed.level, changed.people, meta)) };
  }

  /** `/cockpit ticket reply <topic> <message>`: the taker writes to the customer from Slack. */
  async reply(topicId: number, message: string, meta: RequestMeta): Promise<Changed> {
    const text = message.trim();
    if (text === '') throw new InputError('What do you tell the customer? Add the message: they read it word for word.');
    return this.mutate(topicId, meta, 'ticket.reply', async (ticket) => {
      await this.judge('ticket_reply', meta, ticket);
      const writes = [await this.replyWith('ticket-reply', ticket, { ...this.vars(ticket), 'assignee.name': this.name(meta.actor.id), message: text })];
      return { patch: {}, writes, done: (updated) => ({ ticket: updated, from: ticket.status, note: `${this.name(meta.actor.id)} replied: ${text}` }) };
    });
  }

  /** Link: the ticket is an open public incident; the customer gets its status topic. */
  async link(topicId: number, incidentId: number, meta: RequestMeta): Promise<Changed & { incident: IncidentRecord }> {
    const incident = await this.deps.incidents.get(incidentId);
    const ref = incidentRef(incidentId);
    if (!incident) throw new NotFoundError(`No incident ${ref}.`, 'The open ones: /cockpit incident list');
    if (!incident.public) throw new InputError(`${ref} is not public: customers have no status topic to follow.`, `Its commander publishes it: /cockpit incident publish ${incidentId} <summary>`);
    if (incident.status === 'resolved' || incident.status === 'closed') throw new ConflictError(`${ref} is ${incident.status}: tell the customer in a reply instead.`, `/cockpit ticket reply ${topicId} <message>`);
    const url = await this.statusTopicUrl(incidentId);
    if (!url) throw new ConflictError(`${ref}'s status topic is not on the forum yet.`, 'Try again in a minute, once the outbox has posted it.');
    const changed = await this.mutate(topicId, meta, 'ticket.link', async (ticket) => {
      if (ticket.incidentId === incidentId) throw new InputError(`${ticketRef(topicId)} is linked to ${ref} already.`);
      await this.judge('ticket_link', meta, ticket);
      const vars = { ...this.vars(ticket), 'incident.id': ref, 'incident.title': incident.title, 'incident.url': url, 'assignee.name': this.name(ticket.assignee ?? meta.actor.id) };
      return {
        patch: { incidentId },
        writes: [await this.replyWith('ticket-linked', ticket, vars)],
        done: (updated) => ({ ticket: updated, from: ticket.status, note: `${this.name(meta.actor.id)} linked it to ${ref}: the customer has its status topic` }),
      };
    });
    return { ...changed, incident };
  }

  /**
   * An incident was resolved: each open ticket linked to it is resolved with it, the customer told. Judged
   * already, as the incident's resolution (a public incident's, on a verified identity); the tickets follow it.
   */
  async incidentResolved(incident: IncidentRecord, message: string | undefined, meta: RequestMeta): Promise<Changed[]> {
    const linked = await this.deps.records.list({ incidentId: incident.id, statuses: OPEN });
    if (linked.length === 0) return [];
    const url = await this.statusTopicUrl(incident.id);
    const ref = incidentRef(incident.id);
    const changed: Changed[] = [];
    for (const { topicId } of linked) {
      const done = await this.mutate(topicId, meta, 'ticket.resolve_with_incident', async (ticket): Promise<Mutation<Changed | undefined>> => {
        // Resolved meanwhile by a person, or unlinked: nothing to say twice.
        if (ticket.incidentId !== incident.id || !OPEN.includes(ticket.status)) return { patch: undefined, writes: [], done: () => undefined };
        const now = this.deps.clock.now();
        const vars = { ...this.vars(ticket), 'incident.id': ref, 'incident.title': incident.title, 'incident.url': url ?? this.deps.forumUrl, message };
        return {
          patch: { status: 'resolved', resolvedAt: now, statusChangedAt: now },
          writes: [await this.replyWith('ticket-incident-resolved', ticket, vars), this.statusTags(topicId, 'resolved')],
          done: (updated) => ({ ticket: updated, from: ticket.status, note: `Resolved with ${ref}` }),
        };
      });
      if (done) {
        changed.push(done);
        await this.stopPages(topicId, meta, ['L2', 'L3']);
      }
    }
    return changed;
  }

  /** Linked tickets whose incident was resolved without their hearing of it (a crash between the two): told now. */
  async catchUpIncidents(meta: RequestMeta): Promise<Changed[]> {
    const linked = (await this.deps.records.list({ statuses: OPEN })).filter((t) => t.incidentId !== undefined);
    const changed: Changed[] = [];
    for (const id of new Set(linked.map((t) => t.incidentId!))) {
      const incident = await this.deps.incidents.get(id);
      if (!incident || (incident.status !== 'resolved' && incident.status !== 'closed')) continue;
      const resolution = (await this.deps.incidents.timeline(id)).filter((e) => e.kind === 'resolved').at(-1);
      const said = resolution && resolution.text !== 'Resolved' ? resolution.text : undefined;
      changed.push(...(await this.incidentResolved(incident, said, meta)));
    }
    return changed;
  }

  /**
   * Relays the topic's posts Cockpit has not seen to `deliver` (the ticket's Slack thread), in order, each once
   * across replicas: the post a webhook brought when it is the next one, else what the forum shows past the last
   * seen. Cockpit's own posts and small actions are counted as seen and not delivered. Returns the posts delivered.
   */
  async relay(topicId: number, deliver: (post: SupportPost, ticket: TicketRecord) => Promise<void>, brought?: SupportPost): Promise<SupportPost[]> {
    const ticket = await this.deps.records.get(topicId);
    // Without its Slack message there is no thread yet: the sweep relays once the message is posted.
    if (!ticket?.message) return [];
    if (brought && brought.postNumber <= ticket.lastPostNumber) return [];
    const posts = brought && brought.postNumber === ticket.lastPostNumber + 1 ? [brought] : await this.unseenPosts(topicId, ticket.lastPostNumber);
    const delivered: SupportPost[] = [];
    let last = ticket.lastPostNumber;
    for (const post of posts) {
      if (post.postNumber <= last) continue;
      // Another replica is relaying the same posts: it delivers them.
      if (!(await this.deps.records.claimPosts(topicId, last, post.postNumber))) break;
      if (this.relayable(post)) {
        try {
          await deliver(post, ticket);
        } catch (err) {
          await this.deps.records.releasePosts(topicId, post.postNumber, last);
          throw err;
        }
        delivered.push(post);
      }
      last = post.postNumber;
    }
    return delivered;
  }

  /** Who wrote it: the customer, or someone else on the forum (an engineer answering there). */
  isCustomer(ticket: TicketRecord, post: SupportPost): boolean {
    return post.username === ticket.customer.username;
  }

  /** New tickets past their target that nobody was paged for: L1 is paged for each, once. */
  async pageLate(meta: RequestMeta): Promise<Paged[]> {
    const now = this.deps.clock.now();
    const late = (await this.deps.records.list({ statuses: ['new'] })).filter((t) => t.dueAt <= now && !t.pagedAt);
    const paged: Paged[] = [];
    for (const ticket of late) {
      if (!(await this.deps.records.claimPage(ticket.topicId, now))) continue;
      const target = formatDuration(targetMinutes(this.deps.settings, ticket.priority) * MINUTE_MS);
      const summary = `Ticket ${ticketRef(ticket.topicId)} (${ticket.priority}) not taken within ${target}: ${ticket.title}`;
      if (!this.deps.pager) {
        paged.push({ ticket, skipped: 'no pager is configured' });
        continue;
      }
      try {
        const { pageId } = await this.deps.pager.page({ target: { kind: 'level', level: 'L1' }, summary, source: lateSource(ticket.topicId), raisedBy: 'scheduler', requestId: meta.requestId });
        await this.audit(meta, 'ticket.page', ticket, { level: 'L1', pageId });
        paged.push({ ticket, pageId });
      } catch (err) {
        paged.push({ ticket, skipped: `paging failed: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
    return paged;
  }

  /** The open tickets, oldest first, with their age against their target. */
  async list(): Promise<TicketView[]> {
    const [open, incidents] = await Promise.all([this.deps.records.list({ statuses: OPEN }), this.openIncidents()]);
    return Promise.all(open.map((ticket) => this.viewOf(ticket, incidents)));
  }

  /** A ticket with its wait, target, lookalikes and forum backlog; given a record just read, it is not read again. */
  async view(ticket: number | TicketRecord): Promise<TicketView> {
    return this.viewOf(typeof ticket === 'number' ? await this.get(ticket) : ticket, await this.openIncidents());
  }

  /** Whoever is on call at `level` now. */
  async onCallAt(level: OnCallLevel): Promise<string[]> {
    return this.deps.onCall ? this.deps.onCall.onCall(level) : [];
  }

  private async viewOf(ticket: TicketRecord, incidents: IncidentRecord[]): Promise<TicketView> {
    const now = this.deps.clock.now();
    const targetMs = targetMinutes(this.deps.settings, ticket.priority) * MINUTE_MS;
    const ageMs = ageOf(this.deps.settings, ticket, now);
    const late = ticket.takenAt ? ticket.takenAt > ticket.dueAt : ticket.dueAt <= now;
    return { ticket, ageMs, targetMs, late, lookalikes: lookalikes(ticket, incidents), forum: await this.deps.records.forumBacklog(ticket.topicId) };
  }

  private async openIncidents(): Promise<IncidentRecord[]> {
    return (await this.deps.incidents.list({ open: true })).filter((i) => i.public);
  }

  private relayable(post: SupportPost): boolean {
    return post.username !== this.deps.forum.username && (post.kind === 'regular' || post.kind === 'whisper');
  }

  /** The topic's posts numbered after `after`, oldest first, read from its newest backwards. */
  private async unseenPosts(topicId: number, after: number): Promise<SupportPost[]> {
    const topic = await this.deps.forum.topic(topicId);
    if (!topic) return [];
    const posts: SupportPost[] = [];
    for (const id of [...topic.postIds].reverse().slice(0, MAX_UNSEEN_POSTS)) {
      const post = await this.deps.forum.post(id);
      if (!post) continue;
      if (post.postNumber <= after) break;
      posts.push(post);
    }
    return posts.sort((a, b) => a.postNumber - b.postNumber);
  }

  /** Pages the level unless the presser is on call there (they escalated to themselves). Never throws. */
  private async pageLevel(ticket: TicketRecord, level: OnCallLevel, people: string[], meta: RequestMeta): Promise<Pick<Escalated, 'pageId' | 'skipped'>> {
    if (!this.deps.pager) return { skipped: 'no pager is configured' };
    if (people.includes(meta.actor.id)) return { skipped: `${this.name(meta.actor.id)} is on call at ${level}` };
    try {
      const { pageId } = await this.deps.pager.page({
        target: { kind: 'level', level },
        summary: `Ticket ${ticketRef(ticket.topicId)} escalated to ${level}: ${ticket.title}`,
        source: escalationSource(ticket.topicId, level),
        raisedBy: meta.actor.id,
        requestId: meta.requestId,
      });
      return { pageId };
    } catch (err) {
      // The escalation stands whatever the pager says: the thread shows who was not reached.
      return { skipped: `paging failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  /**
   * Someone acted on the ticket: the page for it not being taken in time has done its job, and so have the
   * escalation pages of `levels`. A pager that cannot be reached leaves them to be acknowledged by hand.
   */
  private async stopPages(topicId: number, meta: RequestMeta, levels: readonly OnCallLevel[] = []): Promise<void> {
    const pager = this.deps.pager;
    if (!pager) return;
    for (const source of [lateSource(topicId), ...levels.map((l) => escalationSource(topicId, l))]) {
      await pager.resolveSource(source, meta.actor.id, meta.requestId).catch(() => undefined);
    }
  }

  private async onCallAnywhere(userId: string): Promise<boolean> {
    const levels = await Promise.all(ONCALL_LEVELS.map((l) => this.onCallAt(l)));
    return levels.some((people) => people.includes(userId));
  }

  private async judge(act: TicketAct, meta: RequestMeta, ticket: TicketRecord, extra: Partial<TicketFacts> = {}): Promise<void> {
    await this.deps.policy.mayTicket(act, meta, { ref: ticketRef(ticket.topicId), ...(ticket.assignee ? { assignee: ticket.assignee } : {}), ...extra });
  }

  /**
   * Reads the ticket, lets `build` judge it and say what changes, and writes it if nobody changed it meanwhile;
   * otherwise reads again and judges again. A build that answers no patch changes nothing.
   */
  private async mutate<T>(topicId: number, meta: RequestMeta, action: string, build: (ticket: TicketRecord) => Promise<Mutation<T>>): Promise<T> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const ticket = await this.get(topicId);
      const { patch, writes, done } = await build(ticket);
      if (!patch) return done(ticket);
      const updated = await this.deps.records.change(topicId, ticket.version, patch, writes);
      if (updated) {
        await this.audit(meta, action, updated, { from: ticket.status, to: updated.status, level: updated.level, ...(updated.assignee ? { assignee: updated.assignee } : {}) });
        return done(updated);
      }
    }
    throw new ConflictError(`${ticketRef(topicId)} kept changing while this was applied; nothing was changed.`, `Look at it again: /cockpit ticket show ${topicId}`);
  }

  private statusTags(topicId: number, status: TicketStatus): ForumWrite {
    return { kind: 'topic.tags', topic: { topicId }, add: [status], remove: [...STATUS_TAGS] };
  }

  /** The topic's assignment on the forum, where it has discourse-assign and the person has a forum user. */
  private assignWrites(topicId: number, userId: string): ForumWrite[] {
    const username = personById(this.deps.team, userId)?.discourse;
    return this.deps.settings.discourseAssign && username ? [{ kind: 'topic.assign', topic: { topicId }, username }] : [];
  }

  /** A reply from a template; a required value left out is the person's to give, so it is an InputError. */
  private async replyWith<N extends TemplateName>(name: N, ticket: TicketRecord, vars: TemplateVars<N>): Promise<ForumWrite> {
    // Read at each change, so a wording change (a pull request on the template) needs no restart.
    const text = await this.deps.templates.get(name);
    if (text === undefined) throw new TemplateError(name, [`no file runbooks/templates/${name}.md`]);
    try {
      return { kind: 'post.reply', topic: { topicId: ticket.topicId }, raw: renderTemplate(name, text, vars) };
    } catch (err) {
      if (err instanceof TemplateError && err.missing.length > 0) throw new InputError(`The customer's message needs ${err.missing.join(', ')}.`);
      throw err;
    }
  }

  /** The customer's own words go into posts written as Cockpit's moderator: quoted inert (see `inertOnForum`). */
  private vars(ticket: TicketRecord) {
    return { 'ticket.id': ticket.topicId, 'ticket.title': inertOnForum(ticket.title), 'customer.name': inertOnForum(ticket.customer.name || ticket.customer.username) };
  }

  private name(userId: string): string {
    return displayName(this.deps.team, userId);
  }

  private async statusTopicUrl(incidentId: number): Promise<string | undefined> {
    const topic = await this.deps.statusTopicOf(incidentId);
    return topic === undefined ? undefined : this.topicUrl(topic);
  }

  private async audit(meta: RequestMeta, action: string, ticket: TicketRecord, detail: Record<string, unknown>): Promise<void> {
    await this.deps.audit.record({ requestId: meta.requestId, actor: describeActor(meta.actor), action, target: ticketRef(ticket.topicId), outcome: 'succeeded', detail });
  }
}

/** What one change writes; no patch: nothing to change after all. */
interface Mutation<T> {
  patch: TicketPatch | undefined;
  writes: ForumWrite[];
  done(ticket: TicketRecord): T;
}

/** The page raised when a ticket is not taken in time. */
function lateSource(topicId: number): PageSource {
  return { kind: 'ticket', ref: String(topicId) };
}

/** The page raised when a ticket is escalated to `level`. */
function escalationSource(topicId: number, level: OnCallLevel): PageSource {
  return { kind: 'ticket', ref: `${topicId}/${level}` };
}

