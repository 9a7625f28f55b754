import { join } from 'node:path';
import { FileMessageTemplateSource } from '../../bot/integrations/runbooks';
import { ConflictError, InputError, NotAllowedError } from '../../handlers/errors';
import type { ForumWrite } from '../../handlers/forum';
import type { IncidentRecord } from '../../handlers/incidentModel';
import type { Actor } from '../../handlers/model/identity';
import { Policy, type RequestMeta } from '../../handlers/policy';
import type { Team } from '../../handlers/team';
import { TicketDesk, type TicketDeskDeps } from '../../handlers/ticket';
import { addBusinessMs, businessMsBetween, excerptOf, namedIn, type TicketSettings } from '../../handlers/ticketModel';
import { MemoryAuditLog, MemoryIncidentRecords, MemoryOnCall, RecordingPager } from '../fakes/incidentFakes';
import { MemoryDeployPlans } from '../fakes/memoryStores';
import { MemorySupportForum, MemoryTicketRecords } from '../fakes/ticketFakes';
import { exampleTeam, manualClock } from '../helpers';

const alice = 'U0ALICE001'; // engineer, sre, approver
const bob = 'U0BOB00001'; // engineer, sre
const carol = 'U0CAROL001'; // engineer, approver
const dave = 'U0DAVE0001'; // engineer only, no forum user
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const slack = (id: string): RequestMeta => ({ actor: { id, via: 'slack' }, requestId: `r-${id.toLowerCase()}` });
const system: RequestMeta = { actor: { id: 'scheduler', via: 'scheduler' }, requestId: 'r-sweep' };

function team(): Team {
  const base = exampleTeam();
  return { ...base, people: [...base.people, { slack: dave, name: 'Dave', roles: ['engineer'] }] };
}

function setup(overrides: Partial<TicketDeskDeps> = {}) {
  // Wednesday 2026-11-25 12:00 UTC, 13:00 in Paris: inside the example's business hours.
  const clock = manualClock('2026-11-25T12:00:00Z');
  const records = new MemoryTicketRecords(clock);
  const incidents = new MemoryIncidentRecords(clock);
  const audit = new MemoryAuditLog(clock);
  const onCall = new MemoryOnCall();
  const pager = new RecordingPager();
  const forum = new MemorySupportForum();
  const t = team();
  const statusTopics = new Map<number, number>();
  const policy = new Policy({ team: t, plans: new MemoryDeployPlans(clock.now), incidents, audit, clock });
  const desk = new TicketDesk({
    team: t,
    settings: t.tickets!,
    policy,
    records,
    incidents,
    forum,
    audit,
    clock,
    templates: new FileMessageTemplateSource({ dir: join(__dirname, '..', '..', 'runbooks') }),
    onCall,
    pager,
    forumUrl: 'https://forum.example.com',
    statusTopicOf: async (id) => statusTopics.get(id),
    ...overrides,
  });
  const open = (id = 321, { title = 'Exports time out since Monday', raw = 'Every CSV export of the api over 10k rows ends in a 504.', tags = [] as string[], categoryId = 7, createdAt = clock.now(), username = 'jane' } = {}) =>
    forum.customerTopic({ id, title, categoryId, createdAt, author: { username, name: 'Jane Doe' }, tags }, raw);
  return { clock, records, incidents, audit, onCall, pager, forum, policy, desk, open, statusTopics };
}

/** One line per write: what the customer reads first, or the tag change. */
const story = (writes: ForumWrite[]) =>
  writes.map((w) =>
    w.kind === 'post.reply'
      ? `reply: ${w.raw.split('\n').find((l) => l.trim() !== '' && !l.startsWith('Hello')) ?? ''}`
      : w.kind === 'topic.tags'
        ? `tags +${w.add.join(',')}`
        : w.kind === 'topic.assign'
          ? `assign ${w.username}`
          : w.kind,
  );

describe('a new topic in the support category', () => {
  it('becomes a ticket once, tagged new, with its priority, customer, excerpt and target', async () => {
    const { desk, open, records, audit } = setup();
    open(321, { tags: ['high'] });
    const first = await desk.intake(321, system);
    expect(first.created).toBe(true);
    expect(first.ticket).toMatchObject({
      topicId: 321,
      title: 'Exports time out since Monday',
      customer: { username: 'jane', name: 'Jane Doe' },
      priority: 'high',
      status: 'new',
      level: 'L1',
      components: ['api'],
      excerpt: 'Every CSV export of the api over 10k rows ends in a 504.',
      lastPostNumber: 1,
      // 2 business hours after 13:00 Paris.
      dueAt: new Date('2026-11-25T14:00:00Z'),
    });
    expect(story(records.forumOf(321))).toEqual(['tags +new']);
    // The sweep finds it again, or the webhook is redelivered: nothing more.
    expect((await desk.intake(321, system)).created).toBe(false);
    expect(records.forumOf(321)).toHaveLength(1);
    expect(audit.entries.filter((e) => e.action === 'ticket.open')).toHaveLength(1);
  });

  it('ignores topics of other categories, private messages, Cockpit’s own topics and topics that are gone', async () => {
    const { desk, open, forum, records } = setup();
    open(1, { categoryId: 5 });
    expect(await desk.intake(1, system)).toEqual({ ignored: 'topic 1 is not in the support category' });
    // A signed body saying another category spares the forum a read.
    expect(await desk.intake(2, system, 5)).toEqual({ ignored: 'topic 2 is not in the support category' });
    forum.customerTopic({ id: 3, title: 'A private message to staff', categoryId: 7, createdAt: new Date(), author: { username: 'jane' }, archetype: 'private_message' }, 'Hello there, this is private.');
    expect((await desk.intake(3, system)).ignored).toMatch(/private_message/);
    open(4, { username: 'cockpit' });
    expect((await desk.intake(4, system)).ignored).toMatch(/Cockpit's own/);
    expect((await desk.intake(99, system)).ignored).toMatch(/not on the forum/);
    open(5);
    forum.topics.get(5)!.closed = true;
    expect(await desk.intake(5, system)).toEqual({ ignored: 'topic 5 is closed' });
    expect(records.tickets.size).toBe(0);
  });

  it('keeps the status tag a topic already carries (a store restored from an older backup), writing no tag', async () => {
    const { desk, open, records } = setup();
    open(321, { tags: ['waiting', 'escalated-l2'] });
    const { ticket } = await desk.intake(321, system);
    expect(ticket).toMatchObject({ status: 'waiting', level: 'L2' });
    expect(records.forumOf(321)).toEqual([]);
  });
});

describe('taking a ticket', () => {
  it('assigns it to the presser, replies with the taken template, tags it in-progress and assigns the forum topic', async () => {
    const { desk, open, records, audit } = setup();
    open();
    await desk.intake(321, system);
    const taken = await desk.take(321, slack(bob));
    expect(taken.ticket).toMatchObject({ status: 'in-progress', assignee: bob, version: 1 });
    expect(taken.note).toBe('Bob took it');
    expect(story(records.forumOf(321))).toEqual(['tags +new', 'reply: Bob from our team is working on "Exports time out since Monday".', 'tags +in-progress', 'assign bob']);
    const reply = records.forumOf(321)[1];
    expect(reply?.kind === 'post.reply' && reply.raw).toContain('Hello Jane Doe,');
    expect(audit.entries.filter((e) => e.action === 'ticket.take')).toEqual([expect.objectContaining({ actor: bob, target: '#321', detail: expect.objectContaining({ from: 'new', to: 'in-progress' }) })]);
  });

  it('quotes the customer’s title and name inert in the posts Cockpit writes as a moderator', async () => {
    const { desk, forum, records } = setup();
    forum.customerTopic({ id: 8, title: '@staff help [click](https://evil.example)', categoryId: 7, createdAt: new Date(), author: { username: 'mallory', name: '@admins ![x](https://evil.example/p.png)' } }, 'Please have a look at this right now.');
    await desk.intake(8, system);
    await desk.take(8, slack(bob));
    const reply = records.forumOf(8).find((w) => w.kind === 'post.reply');
    const raw = reply?.kind === 'post.reply' ? reply.raw : '';
    expect(raw).not.toMatch(/(^|\s)@(staff|admins)\b/);
    expect(raw).not.toMatch(/\]\(https/);
    expect(raw).toContain('\\[click\\]\\(https://evil.example\\)');
  });

  it('does not post twice on a double press: the second is told they have it', async () => {
    const { desk, open, records } = setup();
    open();
    await desk.intake(321, system);
    const results = await Promise.allSettled([desk.take(321, slack(bob)), desk.take(321, slack(bob))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(InputError);
    expect(records.forumOf(321).filter((w) => w.kind === 'post.reply')).toHaveLength(1);
  });

  it('lets someone else take it over, and assigns nothing on the forum for a person without a forum user', async () => {
    const { desk, open, records } = setup();
    open();
    await desk.intake(321, system);
    await desk.take(321, slack(bob));
    const over = await desk.take(321, slack(dave));
    expect(over.note).toBe('Dave took it over from Bob');
    expect(story(records.forumOf(321)).slice(-1)).toEqual(['reply: Dave from our team is working on "Exports time out since Monday".']);
  });

  it('refuses, writing nothing, someone not in the team file, and any identity the console or CLI only claims', async () => {
    const { desk, open, records, audit } = setup();
    open();
    await desk.intake(321, system);
    await expect(desk.take(321, slack('U0STRANGER1'))).rejects.toThrow(NotAllowedError);
    await expect(desk.take(321, { actor: { id: bob, via: 'console', as: 'ops' } as Actor, requestId: 'r-console' })).rejects.toThrow(/need Slack|needs Slack|Slack vouches/);
    await expect(desk.take(321, { actor: { id: bob, via: 'cli' }, requestId: 'r-cli' })).rejects.toThrow(NotAllowedError);
    await expect(desk.take(321, system)).rejects.toThrow(NotAllowedError);
    expect(records.forumOf(321)).toHaveLength(1);
    expect(audit.entries.filter((e) => e.outcome === 'refused')).toHaveLength(4);
  });
});

describe('status changes', () => {
  async function taken() {
    const s = setup();
    s.open();
    await s.desk.intake(321, system);
    await s.desk.take(321, slack(bob));
    return s;
  }

  it('each make exactly one reply and one tag change, with the matching template', async () => {
    const { desk, records } = await taken();
    const before = records.forumOf(321).length;
    await desk.setStatus(321, 'waiting', 'Which export format do you use, CSV or XLSX?', slack(bob));
    await desk.setStatus(321, 'in-progress', undefined, slack(bob));
    await desk.setStatus(321, 'resolved', 'The export job had a 30 s timeout; it is 5 minutes now.', slack(bob));
    expect(story(records.forumOf(321).slice(before))).toEqual([
      'reply: To go on with "Exports time out since Monday", we need this from you:',
      'tags +waiting',
      'reply: Bob from our team is working on "Exports time out since Monday".',
      'tags +in-progress',
      'reply: We consider "Exports time out since Monday" resolved.',
      'tags +resolved',
    ]);
    const last = records.forumOf(321).at(-2);
    expect(last?.kind === 'post.reply' && last.raw).toContain('The export job had a 30 s timeout; it is 5 minutes now.');
    expect((await records.get(321))?.resolvedAt).toBeDefined();
  });

  it('refuses moves the runbook does not allow, listing the allowed ones, and waiting without saying what is needed', async () => {
    const { desk, records, open } = await taken();
    await expect(desk.setStatus(321, 'in-progress', undefined, slack(bob))).rejects.toThrow('#321 is in-progress already.');
    await expect(desk.setStatus(321, 'waiting', '  ', slack(bob))).rejects.toThrow(/exactly what you need/);
    open(322);
    await desk.intake(322, system);
    await expect(desk.setStatus(322, 'resolved', 'done', slack(bob))).rejects.toThrow(/in the queue: take it first/);
    await desk.setStatus(321, 'resolved', undefined, slack(bob));
    await expect(desk.setStatus(321, 'waiting', 'x', slack(bob))).rejects.toThrow('#321 is resolved: it can go to in-progress, not waiting.');
    expect(records.forumOf(322)).toHaveLength(1);
  });

  it('is the taker’s or an approver’s: anyone else is refused and told whose it is', async () => {
    const { desk } = await taken();
    await expect(desk.setStatus(321, 'resolved', undefined, slack(dave))).rejects.toThrow("#321 is Bob's: only its taker or an approver may change the status of it.");
    await expect(desk.setStatus(321, 'resolved', undefined, slack(carol))).resolves.toBeDefined();
  });

  it('reopens within 14 days of resolving, not after', async () => {
    const { desk, clock } = await taken();
    await desk.setStatus(321, 'resolved', undefined, slack(bob));
    clock.advance(13 * DAY);
    await desk.setStatus(321, 'in-progress', undefined, slack(bob));
    await desk.setStatus(321, 'resolved', undefined, slack(bob));
    clock.advance(15 * DAY);
    await expect(desk.setStatus(321, 'in-progress', undefined, slack(bob))).rejects.toThrow(ConflictError);
  });

  it('hands a ticket back to the queue without an owner', async () => {
    const { desk } = await taken();
    const back = await desk.setStatus(321, 'new', 'Going on leave; someone else will take it.', slack(bob));
    expect(back.ticket.assignee).toBeUndefined();
    expect(back.ticket.status).toBe('new');
  });
});

describe('escalation', () => {
  it('goes L1 → L2 → L3: each replies, tags, gives it to whoever is on call there and pages them', async () => {
    const { desk, open, records, onCall, pager } = setup();
    Object.assign(onCall.levels, { L1: [bob], L2: [carol], L3: [alice] });
    open();
    await desk.intake(321, system);
    await desk.take(321, slack(bob));
    const l2 = await desk.escalate(321, slack(bob));
    expect(l2).toMatchObject({ level: 'L2', people: [carol], pageId: 'p-1', ticket: { level: 'L2', assignee: carol, status: 'in-progress' } });
    expect(pager.pages).toEqual([expect.objectContaining({ target: { kind: 'level', level: 'L2' }, source: { kind: 'ticket', ref: '321/L2' }, raisedBy: bob })]);
    const l3 = await desk.escalate(321, slack(carol));
    expect(l3).toMatchObject({ level: 'L3', ticket: { assignee: alice } });
    expect(story(records.forumOf(321)).slice(4)).toEqual([
      'reply: We have passed "Exports time out since Monday" to our level L2 engineers, who look into problems that need a change on our side.',
      'tags +in-progress,escalated-l2',
      'assign carol',
      'reply: We have passed "Exports time out since Monday" to our level L3 engineers, who look into problems that need a change on our side.',
      'tags +in-progress,escalated-l3',
      'assign alice',
    ]);
    const tags = records.forumOf(321).at(-2);
    expect(tags).toMatchObject({ remove: expect.arrayContaining(['new', 'waiting', 'resolved', 'escalated-l2', 'escalated-l3']) });
    await expect(desk.escalate(321, slack(alice))).rejects.toThrow(/at L3 already/);
  });

  it('ends its pages when they are no longer needed: L2’s when it goes to L3, every one when it is resolved', async () => {
    const { desk, open, onCall, pager } = setup();
    Object.assign(onCall.levels, { L1: [bob], L2: [carol], L3: [alice] });
    open();
    await desk.intake(321, system);
    await desk.take(321, slack(bob));
    await desk.escalate(321, slack(bob));
    await desk.escalate(321, slack(carol));
    const open_ = () => pager.pages.filter((p) => !p.resolvedBy).map((p) => p.source.ref);
    expect(open_()).toEqual(['321/L3']);
    expect(pager.pages.find((p) => p.source.ref === '321/L2')?.resolvedBy).toBe(carol);
    await desk.setStatus(321, 'resolved', 'Patched the ingress timeout.', slack(alice));
    expect(open_()).toEqual([]);
  });

  it('is open to the L1 on call straight from the queue, and refused to anyone else who does not own it', async () => {
    const { desk, open, onCall } = setup();
    Object.assign(onCall.levels, { L1: [bob], L2: [carol] });
    open();
    await desk.intake(321, system);
    await expect(desk.escalate(321, slack(dave))).rejects.toThrow(/Only #321's taker, someone on call or an approver may escalate it/);
    await expect(desk.escalate(321, slack(bob))).resolves.toMatchObject({ level: 'L2', ticket: { assignee: carol } });
  });

  it('stands when nobody is on call at the next level, saying nobody was paged', async () => {
    const { desk, open, pager } = setup();
    open();
    await desk.intake(321, system);
    await desk.take(321, slack(bob));
    const escalated = await desk.escalate(321, slack(bob));
    expect(escalated).toMatchObject({ level: 'L2', people: [], ticket: { assignee: bob } });
    expect(escalated.pageId).toBeDefined(); // the level's policy escalates on: the pager decides who hears it
    expect(pager.pages).toHaveLength(1);
  });
});

describe('response-time targets', () => {
  it('pages L1 once for a new ticket not taken by its target, and taking it resolves that page', async () => {
    const { desk, open, clock, pager } = setup();
    open(321, { tags: ['urgent'] }); // 1 h
    await desk.intake(321, system);
    expect(await desk.pageLate(system)).toEqual([]);
    clock.advance(HOUR);
    const [paged] = await desk.pageLate(system);
    expect(paged).toMatchObject({ ticket: { topicId: 321 }, pageId: 'p-1' });
    expect(pager.pages[0]).toMatchObject({ target: { kind: 'level', level: 'L1' }, source: { kind: 'ticket', ref: '321' }, summary: 'Ticket #321 (urgent) not taken within 1h: Exports time out since Monday' });
    expect(await desk.pageLate(system)).toEqual([]);
    await desk.take(321, slack(bob));
    expect(pager.pages[0]?.resolvedBy).toBe(bob);
  });

  it('counts business hours only: a ticket opened Friday evening is due Monday morning', async () => {
    const settings = exampleTeam().tickets! as TicketSettings;
    const hours = settings.businessHours!;
    // Friday 2026-11-27 17:30 Paris (16:30 UTC) + 4 business hours = 30 min on Friday, 3.5 h on Monday from 09:00.
    expect(addBusinessMs(new Date('2026-11-27T16:30:00Z'), 4 * HOUR, hours)).toEqual(new Date('2026-11-30T11:30:00Z'));
    expect(businessMsBetween(new Date('2026-11-27T16:30:00Z'), new Date('2026-11-30T11:30:00Z'), hours)).toBe(4 * HOUR);
    // Across the end of summer time (25 October 2026), 09:00 Paris is 07:00 UTC before and 08:00 UTC after.
    expect(addBusinessMs(new Date('2026-10-23T15:00:00Z'), 2 * HOUR, hours)).toEqual(new Date('2026-10-26T09:00:00Z'));
    // Without business hours, wall-clock time.
    expect(addBusinessMs(new Date('2026-11-27T16:30:00Z'), 4 * HOUR)).toEqual(new Date('2026-11-27T20:30:00Z'));
  });

  it('lists open tickets oldest first with their age against the target', async () => {
    const { desk, open, clock } = setup();
    open(1, { tags: ['urgent'] });
    await desk.intake(1, system);
    clock.advance(30 * 60_000);
    open(2);
    await desk.intake(2, system);
    clock.advance(45 * 60_000);
    const views = await desk.list();
    expect(views.map((v) => [v.ticket.topicId, v.ageMs / 60_000, v.targetMs / 60_000, v.late])).toEqual([
      [1, 75, 60, true],
      [2, 45, 240, false],
    ]);
  });
});

describe('tickets and incidents', () => {
  async function withIncident() {
    const s = setup();
    const incident = await s.incidents.declare(
      { severity: 'SEV2', title: 'API exports fail', status: 'investigating', stacks: ['prod'], startedAt: s.clock.now(), declaredBy: alice, commander: alice, components: ['api'], public: true } as never,
      () => ({ timeline: [], forum: [] }),
    );
    s.statusTopics.set(incident.id, 55);
    s.open();
    await s.desk.intake(321, system);
    await s.desk.take(321, slack(bob));
    return { ...s, incident };
  }

  it('offers the open public incident a ticket looks like, and linking tells the customer its status topic', async () => {
    const { desk, records, incident } = await withIncident();
    expect((await desk.view(321)).lookalikes.map((i) => i.id)).toEqual([incident.id]);
    const linked = await desk.link(321, incident.id, slack(bob));
    expect(linked.ticket.incidentId).toBe(incident.id);
    const reply = records.forumOf(321).at(-1);
    expect(reply?.kind === 'post.reply' && reply.raw).toContain('https://forum.example.com/t/55');
    expect((await desk.view(321)).lookalikes).toEqual([]);
    await expect(desk.link(321, incident.id, slack(bob))).rejects.toThrow(/linked to INC-1 already/);
  });

  it('catches up a linked ticket whose incident was resolved without it (a crash between the two)', async () => {
    const { desk, records, incidents, incident } = await withIncident();
    await desk.link(321, incident.id, slack(bob));
    await incidents.change(incident.id, 0, { status: 'resolved' }, { timeline: [{ kind: 'resolved', actor: alice, text: 'A bad index; rebuilt.', visibility: 'public' } as never], forum: [] });
    const caught = await desk.catchUpIncidents(system);
    expect(caught.map((c) => c.ticket.status)).toEqual(['resolved']);
    const reply = records.forumOf(321).at(-2);
    expect(reply?.kind === 'post.reply' && reply.raw).toContain('A bad index; rebuilt.');
    expect(await desk.catchUpIncidents(system)).toEqual([]);
  });

  it('resolves the linked tickets with the incident, once', async () => {
    const { desk, records, incidents, incident } = await withIncident();
    await desk.link(321, incident.id, slack(bob));
    const resolved = { ...(await incidents.get(incident.id))!, status: 'resolved' } as IncidentRecord;
    const changed = await desk.incidentResolved(resolved, 'A bad index; rebuilt.', system);
    expect(changed.map((c) => c.ticket.status)).toEqual(['resolved']);
    expect(story(records.forumOf(321)).slice(-2)).toEqual(['reply: The problem behind "Exports time out since Monday" is resolved: API exports fail.', 'tags +resolved']);
    expect(await desk.incidentResolved(resolved, 'again', system)).toEqual([]);
  });

  it('reads names of components and incidents from the customer’s words', () => {
    expect(namedIn('The API returns 500 since INC-12, and INC-12 again; Login too', [], ['api', 'login', 'billing'])).toEqual({ components: ['api', 'login'], mentions: [12] });
    expect(namedIn('rapid growth', ['billing'], ['api', 'billing'])).toEqual({ components: ['billing'], mentions: [] });
  });

  it('keeps the first lines of a post, without hidden comments and images', () => {
    expect(excerptOf('<!-- tracking -->\n\nHello,\n\n![screenshot](upload://a.png)\nIt fails.')).toBe('Hello,\n[image]\nIt fails.');
    expect(excerptOf('word '.repeat(200)).length).toBeLessThanOrEqual(301);
  });
});

describe('relaying the conversation', () => {
  it('delivers each post written after the last one seen, in order, once; Cockpit’s own and small actions are skipped', async () => {
    const { desk, open, forum, records } = setup();
    open();
    await desk.intake(321, system);
    await records.setMessage(321, { channel: 'C0SUPPORT01', ts: '1.1' });
    forum.write(321, 'Bob from our team is working on it.', 'cockpit');
    const answer = forum.write(321, 'Here is the export id: 7781.', 'jane');
    forum.write(321, '', 'system', { kind: 'small_action' });
    forum.write(321, 'Looking at the logs now.', 'bob', { kind: 'whisper' });
    const seen: string[] = [];
    const delivered = await desk.relay(321, async (post) => void seen.push(`${post.username}: ${post.raw}`));
    expect(seen).toEqual(['jane: Here is the export id: 7781.', 'bob: Looking at the logs now.']);
    expect(delivered.map((p) => p.id)).toContain(answer.id);
    expect((await records.get(321))?.lastPostNumber).toBe(5);
    // The webhook of a post already relayed by the sweep adds nothing.
    expect(await desk.relay(321, async () => void seen.push('again'), { ...answer })).toEqual([]);
  });

  it('gives a post back when its delivery fails, so the next attempt relays it', async () => {
    const { desk, open, forum, records } = setup();
    open();
    await desk.intake(321, system);
    await records.setMessage(321, { channel: 'C0SUPPORT01', ts: '1.1' });
    forum.write(321, 'Any news on this?', 'jane');
    await expect(desk.relay(321, async () => Promise.reject(new Error('Slack is down')))).rejects.toThrow('Slack is down');
    expect((await records.get(321))?.lastPostNumber).toBe(1);
    const seen: string[] = [];
    await desk.relay(321, async (post) => void seen.push(post.raw));
    expect(seen).toEqual(['Any news on this?']);
  });
});
