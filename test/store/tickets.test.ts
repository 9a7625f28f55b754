import type { ForumWrite } from '../../handlers/forum';
import type { NewTicketRecord } from '../../handlers/model/tickets';
import { backendsUnderTest, useScratchStore } from './backends';

const backends = backendsUnderTest();

function ticket(overrides: Partial<NewTicketRecord> = {}): NewTicketRecord {
  const at = new Date('2026-05-20T09:00:00.000Z');
  return {
    topicId: 321,
    title: 'Exports time out since Monday',
    customer: { username: 'jane', name: 'Jane Doe' },
    excerpt: 'Every CSV export of more than 10k rows ends in a 504.',
    priority: 'high',
    status: 'new',
    level: 'L1',
    components: ['api'],
    mentions: [4],
    openedAt: at,
    dueAt: new Date(at.getTime() + 2 * 3_600_000),
    statusChangedAt: at,
    lastPostNumber: 1,
    ...overrides,
  };
}

const tagNew: ForumWrite = { kind: 'topic.tags', topic: { topicId: 321 }, add: ['new'], remove: ['new', 'in-progress', 'waiting', 'resolved'] };
const reply = (raw: string): ForumWrite => ({ kind: 'post.reply', topic: { topicId: 321 }, raw });

describe.each(backends)('ticket records on $name', (backend) => {
  const fixture = useScratchStore(backend);
  const records = () => fixture.store.tickets;
  // PostgreSQL: a second pool, as another replica holds. SQLite: the same handle, because a second one in this
  // process would block it in a synchronous busy wait; replicas are processes, each with its own.
  const replica = async () => (backend.name === 'postgres' ? fixture.reopen() : fixture.store);

  it('creates a ticket once: a second intake (the webhook and the sweep racing) writes nothing and queues nothing', async () => {
    const other = await replica();
    const [a, b] = await Promise.all([records().create(ticket(), [tagNew]), other.tickets.create(ticket({ title: 'a later read of the same topic' }), [tagNew])]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.ticket).toEqual(b.ticket);
    expect(a.ticket).toMatchObject({ topicId: 321, customer: { username: 'jane', name: 'Jane Doe' }, components: ['api'], mentions: [4], status: 'new', version: 0 });
    expect((await records().forumBacklog(321)).pending).toBe(1);
  });

  it('applies a change only to the version it was read at, with its forum writes in the same transaction', async () => {
    const { ticket: created } = await records().create(ticket(), [tagNew]);
    fixture.clock.advance(60_000);
    const taken = await records().change(321, created.version, { status: 'in-progress', assignee: 'U0BOB00001', takenAt: fixture.clock.now(), statusChangedAt: fixture.clock.now() }, [reply('Bob is on it.')]);
    expect(taken).toMatchObject({ status: 'in-progress', assignee: 'U0BOB00001', version: 1, takenAt: fixture.clock.now() });
    // A second person who read the same version loses, and queues nothing.
    expect(await records().change(321, created.version, { status: 'resolved' }, [reply('Resolved.')])).toBeUndefined();
    expect((await records().forumBacklog(321)).pending).toBe(2);
    // null clears: back to the queue has no assignee.
    const back = await records().change(321, 1, { status: 'new', assignee: null }, []);
    expect(back?.assignee).toBeUndefined();
  });

  it('lists by status and by incident, oldest first', async () => {
    await records().create(ticket({ topicId: 3, openedAt: new Date('2026-05-20T10:00:00Z') }), []);
    await records().create(ticket({ topicId: 1, openedAt: new Date('2026-05-20T11:00:00Z'), incidentId: 7 }), []);
    await records().create(ticket({ topicId: 2, openedAt: new Date('2026-05-20T08:00:00Z'), status: 'resolved' }), []);
    expect((await records().list()).map((t) => t.topicId)).toEqual([2, 3, 1]);
    expect((await records().list({ statuses: ['new'] })).map((t) => t.topicId)).toEqual([3, 1]);
    expect((await records().list({ statuses: [] })).map((t) => t.topicId)).toEqual([]);
    expect((await records().list({ incidentId: 7 })).map((t) => t.topicId)).toEqual([1]);
  });

  it('lets exactly one replica post the Slack message, and takes over a stale claim', async () => {
    await records().create(ticket(), []);
    const other = await replica();
    const now = fixture.clock.now();
    const stale = new Date(now.getTime() - 120_000);
    const claims = await Promise.all([records().claimPost(321, 'r1', now, stale), other.tickets.claimPost(321, 'r2', now, stale)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    // The winner died without posting: after the stale time another takes it over.
    fixture.clock.advance(121_000);
    const later = fixture.clock.now();
    expect(await other.tickets.claimPost(321, 'r2', later, new Date(later.getTime() - 120_000))).toBe(true);
    await other.tickets.setMessage(321, { channel: 'C0SUPPORT01', ts: '1700000000.000100' });
    // Posted: nobody claims it again, and a late release does not undo the message.
    await records().releasePost(321);
    expect(await records().claimPost(321, 'r1', later, later)).toBe(false);
    expect((await records().get(321))?.message).toEqual({ channel: 'C0SUPPORT01', ts: '1700000000.000100' });
  });

  it('relays each post once: the last post seen moves by compare-and-set, and a failed relay gives it back', async () => {
    await records().create(ticket(), []);
    const other = await replica();
    const moves = await Promise.all([records().claimPosts(321, 1, 2), other.tickets.claimPosts(321, 1, 2)]);
    expect(moves.filter(Boolean)).toHaveLength(1);
    expect(await records().claimPosts(321, 2, 2)).toBe(false);
    await records().releasePosts(321, 2, 1);
    expect((await records().get(321))?.lastPostNumber).toBe(1);
    // Someone moved past meanwhile: the release leaves their progress alone.
    await records().claimPosts(321, 1, 3);
    await records().releasePosts(321, 2, 1);
    expect((await records().get(321))?.lastPostNumber).toBe(3);
  });

  it('claims the late page once, and only while the ticket is new', async () => {
    await records().create(ticket(), []);
    await records().create(ticket({ topicId: 9, status: 'in-progress' }), []);
    const other = await replica();
    const at = fixture.clock.now();
    expect((await Promise.all([records().claimPage(321, at), other.tickets.claimPage(321, at)])).filter(Boolean)).toHaveLength(1);
    expect((await records().get(321))?.pagedAt).toEqual(at);
    expect(await records().claimPage(9, at)).toBe(false);
  });
});
