import { DiscourseError } from '../../../bot/integrations/discourse/client';
import { SlidingWindowLimiter } from '../../../bot/integrations/discourse/limiter';
import { ManualClock } from '../../store/backends';
import { discourseHarness, type DiscourseHarness } from './setup';

describe('Discourse client against the fake Discourse', () => {
  let h: DiscourseHarness;
  beforeEach(async () => {
    h = await discourseHarness({ fake: { categories: [5], enforceRatePerMinute: 60 } });
  });
  afterEach(async () => {
    h.fake.assertNoViolations();
    await h.close();
  });

  it('creates a topic with an external id, finds it again, replies, tags, closes and assigns it', async () => {
    const created = await h.client.createTopic({ title: 'INC-1: Dashboard fails to load', raw: 'We are looking into a problem that started at 12:00 UTC.', categoryId: 5, externalId: 'cockpit-incident-1' });
    expect(await h.client.topicIdByExternalId('cockpit-incident-1')).toBe(created.topicId);
    expect(await h.client.topicIdByExternalId('cockpit-incident-2')).toBeUndefined();
    const reply = await h.client.reply(created.topicId, 'Update: we rolled back the last deploy.');
    expect(reply.postNumber).toBe(2);
    await h.client.setTags(created.topicId, ['investigating', 'incident']);
    await h.client.setClosed(created.topicId, true);
    await h.client.assign(created.topicId, 'alice');
    await h.client.assign(created.topicId, 'alice'); // a retry: the plugin says "already assigned", which is done

    const topic = await h.client.topic(created.topicId);
    expect(topic).toEqual({ id: created.topicId, tags: ['investigating', 'incident'], closed: true, postIds: expect.arrayContaining([created.postId, reply.postId]) });
    expect(await h.client.post(reply.postId)).toMatchObject({ raw: 'Update: we rolled back the last deploy.', username: 'cockpit', topicId: created.topicId });
    expect(h.fake.topics.get(created.topicId)).toMatchObject({ categoryId: 5, externalId: 'cockpit-incident-1', assignedTo: 'alice' });
  });

  it('tells a refusal from a failure that may have landed, and never names the key', async () => {
    h.fake.fail(1, { status: 500 });
    const server = await h.client.reply(999, 'A reply long enough to be posted.').catch((e: unknown) => e);
    expect(server).toMatchObject({ kind: 'server', status: 500, mayHaveLanded: true });
    const rejected = await h.client.reply(999, 'A reply long enough to be posted.').catch((e: unknown) => e);
    expect(rejected).toMatchObject({ kind: 'rejected', status: 404, mayHaveLanded: false });
    expect(String((rejected as Error).message)).toBe('POST /posts.json: Discourse answered 404: The requested URL or resource could not be found.');
    expect(JSON.stringify([server, rejected, (server as Error).message])).not.toContain('test-discourse-key');
  });

  it('reads the wait from a 429 (the longer of Retry-After and extras.wait_seconds) and holds every request until then', async () => {
    h.fake.rateLimit(1, { retryAfterSeconds: 7, waitSeconds: 9 });
    const limited = await h.client.topic(1).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(DiscourseError);
    expect(limited).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 9000, mayHaveLanded: false });
    const before = h.clock.now().getTime();
    await h.client.topicIdByExternalId('nothing');
    expect(h.clock.now().getTime() - before).toBe(9000);
  });

  it('gives up on an answer that never comes, as a failure that may have landed', async () => {
    h.fake.hang(1, { apply: true });
    const lost = await h.client.createTopic({ title: 'INC-2: Logins are slow', raw: 'We are looking into a problem.', categoryId: 5, externalId: 'cockpit-incident-2' }).catch((e: unknown) => e);
    expect(lost).toMatchObject({ kind: 'timeout', mayHaveLanded: true });
    expect(h.fake.topicByExternalId('cockpit-incident-2')).toBeDefined();
  });

  it('never goes faster than the key allows: the fake, counting by the same clock, never has to refuse', async () => {
    for (let i = 0; i < 75; i++) await h.client.topicIdByExternalId(`cockpit-incident-${i}`);
    expect(h.fake.rateExceeded).toBe(0);
    expect(h.fake.calls).toHaveLength(75);
    // 60 at once, then the next 15 once the first are a minute old.
    expect(h.sleeps).toEqual([60_000]);
  });
});

describe('sliding window limiter', () => {
  it('lets `limit` requests through in any window and makes the next wait for the oldest to age out', async () => {
    const clock = new ManualClock(new Date('2026-11-25T12:00:00.000Z'));
    const waits: number[] = [];
    const limiter = new SlidingWindowLimiter(3, 60_000, clock, async (ms) => {
      waits.push(ms);
      clock.advance(ms);
    });
    await limiter.take();
    clock.advance(10_000);
    await limiter.take();
    await limiter.take();
    await limiter.take(); // the 4th waits for the 1st to be 60 s old
    expect(waits).toEqual([50_000]);
    await limiter.take(); // and the 5th for the 2nd
    expect(waits).toEqual([50_000, 10_000]);
    limiter.pauseUntil(new Date(clock.now().getTime() + 30_000));
    await limiter.take();
    expect(waits).toEqual([50_000, 10_000, 30_000]);
  });

  it('lines concurrent callers up instead of waking them together', async () => {
    const clock = new ManualClock(new Date('2026-11-25T12:00:00.000Z'));
    const waits: number[] = [];
    const limiter = new SlidingWindowLimiter(1, 1000, clock, async (ms) => void waits.push(ms));
    await Promise.all([limiter.take(), limiter.take(), limiter.take()]);
    expect(waits).toEqual([1000, 2000]);
  });
});
