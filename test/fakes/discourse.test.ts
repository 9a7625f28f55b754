import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import Ajv from 'ajv';
import { DISCOURSE_SPEC_PATH, startFakeDiscourse, type FakeDiscourse } from './discourse';

/** The fake must refuse what Discourse refuses, or the tests built on it could not fail. */
describe('fake Discourse', () => {
  let fake: FakeDiscourse;
  const auth = { 'Api-Key': 'k', 'Api-Username': 'cockpit' };
  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = auth) =>
    fetch(`${fake.url}${path}`, { method, redirect: 'manual', headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  beforeEach(async () => {
    fake = await startFakeDiscourse({ apiKey: 'k', apiUsername: 'cockpit', categories: [5, { id: 7, slug: 'support' }] });
  });
  afterEach(() => fake.close());

  it('checks each body against the spec: a field the schema does not allow is a violation', async () => {
    // POST /posts.json is `additionalProperties: false` and names no `tags`: Cockpit must tag with PUT /t/-/{id}.json.
    const res = await send('POST', '/posts.json', { title: 'Checkout fails for some', raw: 'We are looking into it right now.', tags: ['investigating'] });
    expect(res.status).toBe(400);
    expect(fake.takeViolations()).toEqual([expect.objectContaining({ kind: 'invalid_body', detail: expect.stringContaining('tags') })]);
  });

  it('refuses an unknown route, a verb the spec does not take, a missing key, and a body without raw', async () => {
    expect((await send('POST', '/t/100/replies.json', { raw: 'x' })).status).toBe(404);
    expect((await send('DELETE', '/posts.json')).status).toBe(404);
    expect((await send('PUT', '/t/100/status.json', { status: 'closed', enabled: 'true' }, {})).status).toBe(403);
    expect((await send('POST', '/posts.json', { title: 'A title long enough' })).status).toBe(400);
    expect(fake.takeViolations().map((v) => v.kind)).toEqual(['unknown_route', 'method_not_allowed', 'not_authed', 'invalid_body']);
  });

  it('refuses, as Discourse does, a short title, a short post and a reused external id, without calling them violations', async () => {
    expect((await send('POST', '/posts.json', { title: 'Short', raw: 'A body that is long enough to pass.' })).status).toBe(422);
    expect((await send('POST', '/posts.json', { title: 'A title long enough', raw: 'too short' })).status).toBe(422);
    const created = await send('POST', '/posts.json', { title: 'A title long enough', raw: 'A body that is long enough to pass.', external_id: 'inc-1', category: 5 });
    expect(created.status).toBe(200);
    expect((await send('POST', '/posts.json', { title: 'A title long enough', raw: 'A body that is long enough to pass.', external_id: 'inc-1', category: 5 })).status).toBe(422);
    fake.assertNoViolations();
    const found = await send('GET', '/t/external_id/inc-1.json');
    expect(found.status).toBe(301);
    expect(found.headers.get('location')).toMatch(/\/t\/100\.json$/);
  });

  it('rate-limits, fails and hangs on request, before or after doing the work', async () => {
    fake.rateLimit(1, { retryAfterSeconds: 3, waitSeconds: 4 });
    const limited = await send('GET', '/t/external_id/nothing.json');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(await limited.json()).toMatchObject({ error_type: 'rate_limit', extras: { wait_seconds: 4 } });

    fake.fail(1, { status: 502, apply: true });
    expect((await send('POST', '/posts.json', { title: 'A title long enough', raw: 'A body that is long enough to pass.' })).status).toBe(502);
    expect(fake.posts()).toHaveLength(1); // it landed all the same

    fake.hang(1, { apply: true });
    const hung = send('POST', '/posts.json', { topic_id: 100, raw: 'A reply that is long enough to pass.' });
    await fake.waitFor(() => fake.posts().length === 2);
    await fake.close(); // the answer never came: closing drops the connection
    await expect(hung).rejects.toThrow();
  });

  describe('customers, and answers as the spec describes them', () => {
    const spec = JSON.parse(readFileSync(DISCOURSE_SPEC_PATH, 'utf8')) as { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: object }> }> }>> };
    const ajv = new Ajv({ strict: false, allErrors: true, allowUnionTypes: true, validateFormats: false });
    const answerSchema = (route: string, method: string) => ajv.compile(spec.paths[route]![method]!.responses['200']!.content['application/json']!.schema);
    const expectValid = (validate: ReturnType<typeof answerSchema>, answer: unknown) => {
      validate(answer);
      expect(validate.errors ?? []).toEqual([]);
    };

    it('answers GET /t/{id}.json, GET /posts/{id}.json and POST /posts.json as the spec says, with the real author', async () => {
      const topic = fake.customerTopic({ title: 'Invoices page shows a 500', raw: 'Since this morning the invoices page fails.', username: 'jdoe', name: 'Jane Doe', categoryId: 7 });
      const reply = await send('POST', '/posts.json', { topic_id: topic.id, raw: 'Thanks, we are looking into it now.' });
      expectValid(answerSchema('/posts.json', 'post'), await reply.json());
      const whisper = fake.whisper(topic.id, 'Internal: this is the billing outage again.', { username: 'ops-anna' });

      type User = { id: number; username: string; name: string };
      const view = (await (await send('GET', `/t/${topic.id}.json`)).json()) as { details: { created_by: User; last_poster: User }; post_stream: { posts: Array<{ username: string; post_type: number; post_number: number }> } };
      expectValid(answerSchema('/t/{id}.json', 'get'), view);
      expect(view).toMatchObject({ created_at: topic.createdAt.toISOString(), archetype: 'regular', category_id: 7, highest_post_number: 3, posts_count: 2, pinned: false });
      expect(view.details.created_by).toEqual({ id: expect.any(Number), username: 'jdoe', name: 'Jane Doe', avatar_template: expect.stringContaining('{size}') });
      expect(view.details.last_poster.username).toBe('cockpit');
      expect(view.post_stream.posts.map((p) => [p.username, p.post_type, p.post_number])).toEqual([['jdoe', 1, 1], ['cockpit', 1, 2], ['ops-anna', 4, 3]]);

      const first = (await (await send('GET', `/posts/${topic.postIds[0]}.json`)).json()) as Record<string, unknown>;
      expectValid(answerSchema('/posts/{id}.json', 'get'), first);
      expect(first).toMatchObject({ username: 'jdoe', name: 'Jane Doe', user_id: view.details.created_by.id, post_type: 1, post_number: 1, yours: false });
      expect(((await (await send('GET', `/posts/${whisper.id}.json`)).json()) as { post_type: number }).post_type).toBe(4);
      fake.assertNoViolations();
    });

    it('refuses for a customer what Discourse refuses: a short title or body, an unknown category, a reply to a closed topic', async () => {
      expect(() => fake.customerTopic({ title: 'Help', raw: 'Nothing works since the update.', username: 'jdoe', categoryId: 7 })).toThrow('Title is too short');
      expect(() => fake.customerTopic({ title: 'Nothing works since the update', raw: 'help', username: 'jdoe', categoryId: 7 })).toThrow('Body is too short');
      expect(() => fake.customerTopic({ title: 'Nothing works since the update', raw: 'Nothing works since the update.', username: 'jdoe', categoryId: 99 })).toThrow('Category');
      const topic = fake.customerTopic({ title: 'Nothing works since the update', raw: 'Nothing works since the update.', username: 'jdoe', categoryId: 7 });
      await send('PUT', `/t/${topic.id}/status.json`, { status: 'closed', enabled: 'true' });
      expect(() => fake.customerReply(topic.id, 'Any news on this one, please?', { username: 'jdoe' })).toThrow('closed');
      expect(fake.posts({ smallActions: true }).at(-1)).toMatchObject({ postType: 3, actionCode: 'closed.enabled', username: 'cockpit' });
    });

    it('lists a category most recently bumped first, a reply moving its topic up, a whisper not; only that category', async () => {
      const list = answerSchema('/c/{slug}/{id}.json', 'get');
      const older = fake.customerTopic({ title: 'Export to CSV times out', raw: 'The CSV export never finishes for us.', username: 'jdoe', categoryId: 7, createdAt: new Date('2020-01-01T10:00:00Z') });
      const newer = fake.customerTopic({ title: 'Cannot invite a teammate', raw: 'The invite e-mail never arrives at all.', username: 'bob', categoryId: 7, createdAt: new Date('2020-01-01T11:00:00Z') });
      fake.customerTopic({ title: 'Elsewhere in the forum', raw: 'This one is not in the support category.', username: 'bob', categoryId: 5 });
      const ids = async () => {
        const res = await send('GET', '/c/support/7.json');
        const body = (await res.json()) as { topic_list: { per_page: number; topics: Array<{ id: number; bumped_at: string; last_posted_at: string }> } };
        expectValid(list, body);
        expect(body.topic_list.per_page).toBe(30);
        return body.topic_list.topics.map((t) => t.id);
      };
      expect(await ids()).toEqual([newer.id, older.id]);
      fake.whisper(older.id, 'Internal: the export job is stuck again.', { username: 'ops-anna' });
      expect(await ids()).toEqual([newer.id, older.id]);
      fake.customerReply(older.id, 'Still timing out this afternoon, any news?', { username: 'jdoe' });
      expect(await ids()).toEqual([older.id, newer.id]);

      const wrongSlug = await send('GET', '/c/help/7.json');
      expect(wrongSlug.status).toBe(301);
      expect(wrongSlug.headers.get('location')).toBe(`${fake.url}/c/support/7.json`);
      expect((await send('GET', '/c/category-5/5.json')).status).toBe(200);
      expect((await send('GET', '/c/support/8.json')).status).toBe(404);
      fake.assertNoViolations();
    });

    it('pages the list by 30, as Discourse does', async () => {
      for (let i = 0; i < 31; i += 1) fake.customerTopic({ title: `Question number ${i} about billing`, raw: 'A question long enough to be a post.', username: 'jdoe', categoryId: 7, createdAt: new Date(Date.UTC(2020, 0, 1, 0, i)) });
      const first = (await (await send('GET', '/c/support/7.json')).json()) as { topic_list: { topics: unknown[]; more_topics_url?: string } };
      expect(first.topic_list.topics).toHaveLength(30);
      expect(first.topic_list.more_topics_url).toBe('/c/support/7?page=1');
      const second = (await (await send('GET', '/c/support/7.json?page=1')).json()) as { topic_list: { topics: Array<{ title: string }>; more_topics_url?: string } };
      expect(second.topic_list.topics.map((t) => t.title)).toEqual(['Question number 0 about billing']);
      expect(second.topic_list.more_topics_url).toBeUndefined();
    });
  });

  describe('webhooks', () => {
    const SECRET = 'a-webhook-secret-of-some-length';
    let receiver: Server;
    let received: Array<{ headers: IncomingHttpHeaders; body: Buffer }>;
    let answerWith: number;

    beforeEach(async () => {
      received = [];
      answerWith = 200;
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({ headers: req.headers, body: Buffer.concat(chunks) });
          res.writeHead(answerWith).end('ok');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      fake.webhooks({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/discourse`, secret: SECRET });
    });
    afterEach(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

    const verifies = (headers: IncomingHttpHeaders, body: Buffer, secret = SECRET) => {
      const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
      const given = Buffer.from(String(headers['x-discourse-event-signature'] ?? ''));
      return given.length === expected.length && timingSafeEqual(given, expected);
    };

    it('sends topic_created and post_created for a customer topic, post_created for replies (the API user’s too), signed over the bytes sent', async () => {
      const topic = fake.customerTopic({ title: 'Invoices page shows a 500', raw: 'Since this morning the invoices page fails.', username: 'jdoe', name: 'Jane Doe', categoryId: 7 });
      await send('POST', '/posts.json', { topic_id: topic.id, raw: 'Thanks, we are looking into it now.' });
      fake.customerReply(topic.id, 'It works again on our side, thank you!', { username: 'jdoe' });
      await fake.waitForWebhooks();

      expect(received.map((r) => [r.headers['x-discourse-event'], r.headers['x-discourse-event-type'], r.headers['x-discourse-event-id']])).toEqual([
        ['topic_created', 'topic', '1'],
        ['post_created', 'post', '2'],
        ['post_created', 'post', '3'],
        ['post_created', 'post', '4'],
      ]);
      for (const { headers, body } of received) {
        expect(verifies(headers, body)).toBe(true);
        expect(verifies(headers, body, 'another-secret-entirely')).toBe(false);
        expect(headers).toMatchObject({ 'content-type': 'application/json', 'user-agent': expect.stringMatching(/^Discourse\//), 'x-discourse-instance': fake.url, 'content-length': String(body.length) });
      }
      const bodies = received.map((r) => JSON.parse(r.body.toString('utf8')) as { topic: Record<string, unknown>; post: Record<string, unknown> });
      expect(bodies[0]!.topic).toMatchObject({ id: topic.id, title: topic.title, category_id: 7, archetype: 'regular', created_by: { username: 'jdoe', name: 'Jane Doe' } });
      expect(bodies[0]!.topic.post_stream).toBeUndefined();
      expect(bodies[1]!.post).toMatchObject({ username: 'jdoe', name: 'Jane Doe', post_number: 1, post_type: 1, topic_id: topic.id, topic_title: topic.title, topic_slug: topic.slug, category_id: 7, category_slug: 'support', topic_archetype: 'regular', raw: 'Since this morning the invoices page fails.' });
      expect(bodies[2]!.post).toMatchObject({ username: 'cockpit', post_number: 2, user_id: fake.users.get('cockpit')!.id });
      expect(bodies[1]!.post.yours).toBeUndefined(); // the webhook serializer leaves per-viewer fields out
      expect(fake.webhookDeliveries.map((d) => d.status)).toEqual([200, 200, 200, 200]);
    });

    it('marks a whisper and a small action by their post_type, and records what Cockpit answered', async () => {
      const topic = fake.customerTopic({ title: 'Invoices page shows a 500', raw: 'Since this morning the invoices page fails.', username: 'jdoe', categoryId: 7 });
      await fake.waitForWebhooks();
      answerWith = 503;
      fake.whisper(topic.id, 'Internal: this is the billing outage again.', { username: 'ops-anna' });
      fake.smallAction(topic.id, 'pinned.enabled', { username: 'ops-anna' });
      await fake.waitForWebhooks();
      const posts = received.slice(2).map((r) => (JSON.parse(r.body.toString('utf8')) as { post: { post_type: number; username: string; action_code?: string } }).post);
      expect(posts).toEqual([expect.objectContaining({ post_type: 4, username: 'ops-anna' }), expect.objectContaining({ post_type: 3, action_code: 'pinned.enabled' })]);
      expect(fake.webhookDeliveries.map((d) => d.status)).toEqual([200, 200, 503, 503]);
    });

    it('loses dropped deliveries: they take an event id but are never sent', async () => {
      fake.dropWebhooks(2);
      const topic = fake.customerTopic({ title: 'Invoices page shows a 500', raw: 'Since this morning the invoices page fails.', username: 'jdoe', categoryId: 7 });
      fake.customerReply(topic.id, 'Any news on this one, please?', { username: 'jdoe' });
      await fake.waitForWebhooks();
      expect(received.map((r) => r.headers['x-discourse-event-id'])).toEqual(['3']);
      expect(fake.webhookDeliveries.map((d) => [d.event, d.dropped, d.status])).toEqual([['topic_created', true, -1], ['post_created', true, -1], ['post_created', false, 200]]);
    });

    it('sends by hand with a wrong, missing or forged signature, and redelivers the same bytes and event id', async () => {
      const topic = fake.customerTopic({ title: 'Invoices page shows a 500', raw: 'Since this morning the invoices page fails.', username: 'jdoe', categoryId: 7 });
      await fake.waitForWebhooks();
      const body = fake.postWebhookBody(topic.postIds[0]!);
      await fake.sendWebhook('post_created', body, { secret: 'not-the-right-secret' });
      await fake.sendWebhook('post_created', body, { signature: null });
      await fake.sendWebhook('post_created', body, { signature: 'sha256=00' });
      expect((await fake.redeliver(2)).status).toBe(200);
      const [, original, wrong, missing, forged, again] = received;
      expect(verifies(wrong!.headers, wrong!.body)).toBe(false);
      expect(missing!.headers['x-discourse-event-signature']).toBeUndefined();
      expect(forged!.headers['x-discourse-event-signature']).toBe('sha256=00');
      expect(again!.body.equals(original!.body)).toBe(true);
      expect(again!.headers['x-discourse-event-id']).toBe(original!.headers['x-discourse-event-id']);
      expect(again!.headers['x-discourse-event-signature']).toBe(original!.headers['x-discourse-event-signature']);
      expect(fake.webhookDeliveries.at(-1)).toMatchObject({ redeliveryOf: 2, manual: true });
    });

    it('sends a webhook only after the answer to the request that caused it', async () => {
      const res = await send('POST', '/posts.json', { title: 'Checkout fails for some', raw: 'We are looking into it right now.', category: 7 });
      expect(res.status).toBe(200);
      await fake.waitForWebhooks();
      expect(received.map((r) => r.headers['x-discourse-event'])).toEqual(['topic_created', 'post_created']);
      const delivered = fake.webhookDeliveries.map((d) => d.status);
      expect(delivered).toEqual([200, 200]);
    });

    it('pings with {"ping":"OK"} and refuses a webhook off loopback or with a short secret', async () => {
      await fake.pingWebhook();
      expect(received[0]!.body.toString('utf8')).toBe('{"ping":"OK"}');
      expect(received[0]!.headers).toMatchObject({ 'x-discourse-event-type': 'ping' });
      expect(received[0]!.headers['x-discourse-event']).toBeUndefined();
      expect(() => fake.webhooks({ url: 'http://example.com/hooks/discourse', secret: SECRET })).toThrow('loopback');
      expect(() => fake.webhooks({ url: 'http://127.0.0.1:1/hooks', secret: 'short' })).toThrow('12 characters');
    });
  });
});
