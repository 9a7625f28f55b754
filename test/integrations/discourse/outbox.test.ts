import { ForumOutboxWorker } from '../../../bot/integrations/discourse/outbox';
import type { ForumWrite } from '../../../handlers/forum';
import { discourseHarness, type DiscourseHarness } from './setup';

const TOPIC = { externalId: 'cockpit-incident-7' };
const create: ForumWrite = { kind: 'topic.create', externalId: 'cockpit-incident-7', title: 'INC-7: Dashboard fails to load', raw: 'We are looking into a problem that started at 12:00 UTC.', categoryId: 5 };
const reply = (n: number): ForumWrite => ({ kind: 'post.reply', topic: TOPIC, raw: `Update ${n}: we are still working on it.` });
const tag = (add: string, remove: string[]): ForumWrite => ({ kind: 'topic.tags', topic: TOPIC, add: [add], remove });
const STATES = ['investigating', 'identified', 'monitoring', 'resolved'];

describe('forum outbox worker against the fake Discourse', () => {
  let h: DiscourseHarness;
  beforeEach(async () => {
    h = await discourseHarness({ fake: { enforceRatePerMinute: 60 } });
  });
  afterEach(async () => {
    h.fake.assertNoViolations();
    await h.close();
  });

  const enqueue = (...writes: ForumWrite[]) => h.store.forumOutbox.enqueue({ stream: 'incident:7', writes });
  const replies = () => h.fake.posts().map((p) => p.raw.replace(/\n\n<!-- cockpit:[0-9a-f-]+ -->$/, ''));

  it('delivers a stream in order: the topic, its tag, each reply; the tag replaced, others left alone', async () => {
    await enqueue(create, tag('investigating', STATES), reply(1), tag('identified', STATES), reply(2));
    await h.drain();
    const topic = h.fake.topicByExternalId('cockpit-incident-7')!;
    expect(replies()).toEqual([create.raw, 'Update 1: we are still working on it.', 'Update 2: we are still working on it.']);
    expect(topic.tags).toEqual(['identified']);
    // Every post carries its hidden marker, which Discourse keeps in the raw text and does not show.
    expect(h.fake.posts().every((p) => /<!-- cockpit:[0-9a-f-]{36} -->$/.test(p.raw))).toBe(true);

    topic.tags.push('billing'); // a moderator's tag
    await enqueue(tag('resolved', STATES), { kind: 'topic.closed', topic: TOPIC, closed: true }, { kind: 'topic.closed', topic: TOPIC, closed: true });
    await h.drain();
    expect(topic.tags).toEqual(['billing', 'resolved']);
    expect(topic.closed).toBe(true);
    // Closing twice would add a second "closed this topic" line: the second was read back and skipped.
    expect(h.fake.posts({ smallActions: true }).filter((p) => p.postType === 3)).toHaveLength(1);
    expect(await h.store.forumOutbox.totals()).toEqual({ pending: 0 });
  });

  it('rides out 500s and then a while of 429s: every post lands once, in order, after the wait asked for', async () => {
    await enqueue(create, reply(1), reply(2), reply(3));
    h.fake.fail(2, { status: 500 });
    h.fake.rateLimit(3, { retryAfterSeconds: 30 });
    const start = h.clock.now().getTime();
    await h.drain();
    expect(replies()).toEqual([create.raw, 'Update 1: we are still working on it.', 'Update 2: we are still working on it.', 'Update 3: we are still working on it.']);
    expect(h.fake.rateExceeded).toBe(0);
    // Three 429s of 30 s each, on top of the backoff after the two 500s (2 s, then 4 s).
    expect(h.clock.now().getTime() - start).toBeGreaterThanOrEqual(90_000 + 6_000);
    const limited = h.fake.calls.filter((c) => c.status === 429).map((c) => c.at.getTime());
    expect(limited[1]! - limited[0]!).toBeGreaterThanOrEqual(30_000);
  });

  it('after an answer lost in flight (the reply landed), finds the reply by its marker instead of posting it again', async () => {
    await enqueue(create);
    await h.worker.deliverDue();
    await enqueue(reply(1), reply(2));
    h.fake.hang(1, { apply: true, method: 'POST' });
    await h.drain();
    expect(replies()).toEqual([create.raw, 'Update 1: we are still working on it.', 'Update 2: we are still working on it.']);
    const stream = await h.store.forumOutbox.stream('incident:7');
    expect(stream[1]).toMatchObject({ status: 'delivered', attempts: 2, result: { found: true } });
    expect(h.logs.text()).toContain('a retried write had landed already');
  });

  it('after a 500 that landed anyway, finds it too; after a 500 that did not, posts it', async () => {
    await enqueue(create);
    await h.worker.deliverDue();
    await enqueue(reply(1), reply(2));
    h.fake.fail(1, { status: 502, apply: true, method: 'POST' });
    await h.drain();
    h.fake.fail(1, { status: 503, method: 'POST' });
    await enqueue(reply(3));
    await h.drain();
    expect(replies()).toEqual([create.raw, ...[1, 2, 3].map((n) => `Update ${n}: we are still working on it.`)]);
    const stream = await h.store.forumOutbox.stream('incident:7');
    expect(stream.map((e) => [e.attempts, e.result?.found ?? false])).toEqual([
      [1, false],
      [2, true], // landed despite its 502: found by its marker
      [1, false],
      [2, false], // refused with 503 (nothing landed): looked for, not found, posted
    ]);
  });

  it('finds a topic whose creation answer was lost by its external id, and never creates a second', async () => {
    await enqueue(create, reply(1));
    h.fake.hang(1, { apply: true, method: 'POST' });
    await h.drain();
    expect(h.fake.topics.size).toBe(1);
    expect(replies()).toEqual([create.raw, 'Update 1: we are still working on it.']);
    expect(await h.store.forumOutbox.knownTopic('cockpit-incident-7')).toBe(h.fake.topicByExternalId('cockpit-incident-7')!.id);
  });

  it('does not look before resending after a refusal (a 429 or a 4xx proves nothing landed)', async () => {
    await enqueue(create);
    await h.worker.deliverDue();
    await enqueue(reply(1));
    h.fake.rateLimit(1, { method: 'POST' });
    await h.drain();
    const gets = h.fake.calls.filter((c) => c.method === 'GET').map((c) => c.route);
    expect(gets).toEqual([]);
  });

  it('keeps a write that keeps failing at the head of its stream, with the error, while other streams go on', async () => {
    await enqueue(create, reply(1));
    await h.store.forumOutbox.enqueue({ stream: 'topic:555', writes: [{ kind: 'post.reply', topic: { topicId: 555 }, raw: 'A reply to a topic that was deleted.' }] });
    await h.worker.deliverDue();
    await h.worker.deliverDue();
    expect(replies()).toEqual([create.raw, 'Update 1: we are still working on it.']);
    const backlog = await h.store.forumOutbox.backlog('topic:555');
    expect(backlog).toMatchObject({ pending: 1, lastError: 'POST /posts.json: Discourse answered 404: The requested URL or resource could not be found.' });
    // Retried with growing backoff, never dropped.
    h.clock.set(backlog.nextAttemptAt!);
    await h.worker.deliverDue();
    const next = (await h.store.forumOutbox.backlog('topic:555')).nextAttemptAt!;
    expect(next.getTime() - h.clock.now().getTime()).toBe(4_000);
  });

  it('delivers more writes than a minute allows without the forum ever refusing one', async () => {
    await enqueue(create, ...Array.from({ length: 80 }, (_, i) => reply(i + 1)));
    await h.drain();
    expect(h.fake.posts()).toHaveLength(81);
    expect(h.fake.rateExceeded).toBe(0);
    expect(h.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(60_000);
  });

  it('lets one replica deliver at a time through the lease', async () => {
    const other = new ForumOutboxWorker({
      outbox: h.store.forumOutbox,
      forum: h.client,
      clock: h.clock,
      log: h.logs.log,
      owner: 'worker-2',
      leases: h.store.leases,
    });
    await h.store.leases.tryAcquire('forum.outbox', 'worker-1', 60_000);
    await enqueue(create);
    expect(await other.deliverDue()).toEqual({ delivered: 0, failed: 0 });
    expect(h.fake.posts()).toHaveLength(0);
    h.clock.advance(60_001);
    expect(await other.deliverDue()).toEqual({ delivered: 1, failed: 0 });
  });
});
