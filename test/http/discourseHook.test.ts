import { createHmac } from 'node:crypto';
import { discourseHook } from '../../bot/http/discourseHook';
import type { DiscourseEvent } from '../../bot/integrations/discourse/webhook';
import { useHookRig } from './hookRig';

/**
 * POST /hooks/discourse as Discourse sends it (app/jobs/regular/emit_web_hook_event.rb): the body is
 * `{"<type>": {...}}`, signed with HMAC-SHA256 in X-Discourse-Event-Signature. Only the body is signed, so a
 * replay is recognised by the body, whatever X-Discourse-Event-Id says.
 */

const SECRET = 'discourse-hook-test-secret-0123';

/** A topic as WebHookTopicViewSerializer writes it (trimmed to the fields a forum always sends). */
const topicCreated = (id = 321, overrides: Record<string, unknown> = {}) => ({
  topic: {
    id,
    title: 'Exports time out since Monday',
    fancy_title: 'Exports time out since Monday',
    posts_count: 1,
    created_at: '2026-11-25T12:00:00.000Z',
    archetype: 'regular',
    slug: 'exports-time-out-since-monday',
    category_id: 7,
    user_id: 42,
    tags: [],
    created_by: { id: 42, username: 'jane', name: 'Jane Doe', avatar_template: '/user_avatar/forum/jane/{size}/1_2.png' },
    ...overrides,
  },
});

/** A post as WebHookPostSerializer writes it. */
const postCreated = (overrides: Record<string, unknown> = {}) => ({
  post: {
    id: 1002,
    name: 'Jane Doe',
    username: 'jane',
    created_at: '2026-11-25T12:30:00.000Z',
    cooked: '<p>Here is the export id: 7781.</p>',
    post_number: 2,
    post_type: 1,
    updated_at: '2026-11-25T12:30:00.000Z',
    reply_count: 0,
    topic_id: 321,
    topic_slug: 'exports-time-out-since-monday',
    topic_title: 'Exports time out since Monday',
    category_id: 7,
    category_slug: 'support',
    topic_archetype: 'regular',
    raw: 'Here is the export id: 7781.',
    user_id: 42,
    ...overrides,
  },
});

interface Delivery {
  event?: string;
  type?: string;
  eventId?: string;
  /** The signature header to send; default: a correct one over the body as sent. */
  signature?: string | null;
  secret?: string;
}

let eventIds = 0;
function deliver(base: string, payload: unknown, options: Delivery = {}): Promise<Response> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const type = options.type ?? (typeof payload === 'object' && payload ? Object.keys(payload)[0] : 'topic');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Discourse/3.4.0',
    'x-discourse-instance': 'https://forum.example.com',
    'x-discourse-event-id': options.eventId ?? String(++eventIds),
    'x-discourse-event-type': String(type),
    'x-discourse-event': options.event ?? 'topic_created',
  };
  const signature = options.signature === undefined ? `sha256=${createHmac('sha256', options.secret ?? SECRET).update(body).digest('hex')}` : options.signature;
  if (signature !== null) headers['x-discourse-event-signature'] = signature;
  return fetch(`${base}/hooks/discourse`, { method: 'POST', headers, body });
}

describe('POST /hooks/discourse', () => {
  const rig = useHookRig<DiscourseEvent>('/hooks/discourse', SECRET, (deps) => discourseHook(deps));
  // Stable references: the rig empties them after each test.
  const { handled, logger } = rig;
  const settle = () => rig.settle();

  const refusals = () => logger.lines().filter((l) => l.msg === 'refused a Discourse delivery');

  test('takes a signed topic_created and post_created, and answers a ping', async () => {
    const topic = await deliver(rig.base, topicCreated());
    expect(topic.status).toBe(202);
    expect(await topic.json()).toEqual({ accepted: 'topic_created' });
    const post = await deliver(rig.base, postCreated(), { event: 'post_created' });
    expect(post.status).toBe(202);
    const ping = await deliver(rig.base, { ping: 'OK' }, { event: 'ping' });
    expect(ping.status).toBe(200);
    await settle();
    expect(handled).toEqual([
      { kind: 'topic', name: 'topic_created', topicId: 321, categoryId: 7 },
      {
        kind: 'post',
        name: 'post_created',
        categoryId: 7,
        post: { id: 1002, topicId: 321, postNumber: 2, kind: 'regular', username: 'jane', name: 'Jane Doe', raw: 'Here is the export id: 7781.', createdAt: new Date('2026-11-25T12:30:00.000Z') },
      },
    ]);
  });

  test.each([
    ['missing', null],
    ['signed with another secret', `sha256=${createHmac('sha256', 'not-the-secret-at-all').update(JSON.stringify(topicCreated())).digest('hex')}`],
    ['signed over other bytes', `sha256=${createHmac('sha256', SECRET).update(JSON.stringify(topicCreated(999))).digest('hex')}`],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['too short', 'sha256=abcd'],
    ['another algorithm', `sha1=${createHmac('sha1', SECRET).update(JSON.stringify(topicCreated())).digest('hex')}`],
    ['unprefixed', createHmac('sha256', SECRET).update(JSON.stringify(topicCreated())).digest('hex')],
  ])('refuses a signature that is %s with 401, doing nothing', async (_what, signature) => {
    const res = await deliver(rig.base, topicCreated(), { signature });
    expect(res.status).toBe(401);
    await settle();
    expect(handled).toEqual([]);
    expect(refusals().at(-1)).toMatchObject({ status: 401, reason: 'signature does not match' });
  });

  test('refuses a replay of a delivered body, even under a new event id, and lets a failed one run again', async () => {
    const body = topicCreated(400);
    expect((await deliver(rig.base, body, { eventId: '900' })).status).toBe(202);
    await settle();
    const replayed = await deliver(rig.base, body, { eventId: '901' });
    expect(replayed.status).toBe(401);
    expect(await replayed.json()).toEqual({ error: 'this body was delivered before: a replay' });
    expect(handled).toHaveLength(1);

    // The work failed: Discourse's Redeliver (the same body) runs it again.
    rig.next = () => Promise.reject(new Error('the forum did not answer'));
    expect((await deliver(rig.base, topicCreated(401))).status).toBe(202);
    await settle();
    rig.next = undefined;
    expect((await deliver(rig.base, topicCreated(401))).status).toBe(202);
    await settle();
    expect(handled.map((e) => (e.kind === 'topic' ? e.topicId : 0))).toEqual([400, 401, 401]);
  });

  test('refuses everything with 503 while no secret is configured, saying so', async () => {
    rig.secret = undefined;
    const res = await deliver(rig.base, topicCreated());
    expect(res.status).toBe(503);
    expect(String(((await res.json()) as { error: string }).error)).toContain('DISCOURSE_WEBHOOK_SECRET');
    expect(handled).toEqual([]);
  });

  test.each([
    ['a body that is not JSON', 'topic=321', 'topic_created', 'body is not JSON'],
    ['two root keys', { topic: topicCreated().topic, post: postCreated().post }, 'topic_created', 'the body has 2 root keys; Discourse sends exactly one (topic, post, ping, …)'],
    ['an event name that is not the body’s type', postCreated(), 'topic_created', 'X-Discourse-Event "topic_created" is not a post event'],
    ['a post without raw', { post: { ...postCreated().post, raw: undefined } }, 'post_created', expect.stringContaining('raw')],
    ['a title of a megabyte', topicCreated(5, { title: 'x'.repeat(1_000_001) }), 'topic_created', expect.stringContaining('title')],
    ['a topic id that is not a number', topicCreated(5, { id: '5; drop table tickets' }), 'topic_created', expect.stringContaining('id')],
  ])('answers %s with 400, after checking the signature', async (_what, payload, event, reason) => {
    const res = await deliver(rig.base, payload, { event });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: reason });
    expect(handled).toEqual([]);
  });

  test('accepts and ignores events that change no ticket, and private messages', async () => {
    const edited = await deliver(rig.base, topicCreated(6), { event: 'topic_edited' });
    expect(edited.status).toBe(202);
    expect(await edited.json()).toEqual({ ignored: 'topic_edited is not handled' });
    const pm = await deliver(rig.base, topicCreated(7, { archetype: 'private_message' }));
    expect(await pm.json()).toEqual({ ignored: 'a private_message is never a ticket' });
    const user = await deliver(rig.base, { user: { id: 1, username: 'jane' } }, { event: 'user_created' });
    expect(await user.json()).toEqual({ ignored: 'user events are not handled' });
    await settle();
    expect(handled).toEqual([]);
  });

  test('refuses a body over the limit with 413 before reading it', async () => {
    const huge = JSON.stringify({ topic: { id: 1, title: 'x'.repeat(3 * 1024 * 1024) } });
    const res = await deliver(rig.base, huge);
    expect(res.status).toBe(413);
    expect(handled).toEqual([]);
  });
});
