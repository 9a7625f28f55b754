import { startFakeDiscourse, type FakeDiscourse } from './discourse';

/** The fake must refuse what Discourse refuses, or the tests built on it could not fail. */
describe('fake Discourse', () => {
  let fake: FakeDiscourse;
  const auth = { 'Api-Key': 'k', 'Api-Username': 'cockpit' };
  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = auth) =>
    fetch(`${fake.url}${path}`, { method, redirect: 'manual', headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  beforeEach(async () => {
    fake = await startFakeDiscourse({ apiKey: 'k', apiUsername: 'cockpit', categories: [5] });
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
});
