import { FAKE_GITHUB_TOKEN, FakeGitHub } from '../../fakes/github';

/**
 * The fake GitHub's own contract: it must refuse what the real API refuses, loudly. Plain fetch here, so the
 * requests can be wrong in ways Octokit would never let them be.
 */

let fake: FakeGitHub;

beforeEach(async () => {
  fake = await FakeGitHub.start();
  fake.createBranch('staging');
  fake.commit('staging', { message: 'Bump', files: { 'a.txt': 'a\n' } });
});

afterEach(async () => {
  await fake.close();
});

async function call(method: string, path: string, body?: unknown, token: string | null = FAKE_GITHUB_TOKEN) {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

it('answers a route GitHub does not have with 404, and records it', async () => {
  expect((await call('GET', '/repos/acme/infra/pull-requests')).status).toBe(404);
  expect((await call('DELETE', '/repos/acme/infra/pulls/1')).status).toBe(404);
  expect(fake.violations).toEqual([
    "GET /repos/acme/infra/pull-requests is not an operation of GitHub's REST API",
    "DELETE /repos/acme/infra/pulls/1 is not an operation of GitHub's REST API",
  ]);
  expect(() => fake.assertNoViolations()).toThrow(/pull-requests is not an operation/);
});

it('refuses a create without a required field, in GitHub’s words', async () => {
  const res = await call('POST', '/repos/acme/infra/pulls', { title: 'Promote', base: 'master' });
  expect(res.status).toBe(422);
  expect(res.json?.message).toBe('Invalid request.\n\n"head" wasn\'t supplied');
  expect(res.json?.documentation_url).toBe('https://docs.github.com/rest/pulls/pulls#create-a-pull-request');
  expect(fake.violations).toHaveLength(1);
  expect(fake.pullRequests()).toEqual([]);
});

it('refuses wrong types, unknown body properties and unknown query parameters', async () => {
  const sha = fake.branchTip('staging');
  expect((await call('POST', `/repos/acme/infra/statuses/${sha}`, { state: 'green' })).status).toBe(422);
  expect((await call('POST', `/repos/acme/infra/statuses/${sha}`, { state: 'success', targetUrl: 'https://x' })).status).toBe(422);
  expect((await call('POST', '/repos/acme/infra/pulls', { title: 5, head: 'staging', base: 'master' })).status).toBe(422);
  expect((await call('GET', '/repos/acme/infra/pulls?per_page=many')).status).toBe(422);
  expect((await call('GET', '/repos/acme/infra/pulls?perPage=5')).status).toBe(422);
  expect((await call('GET', '/repos/acme/infra/pulls/abc')).status).toBe(422);
  expect((await call('POST', '/repos/acme/infra/issues/1/comments', '{"body": ')).status).toBe(400);
  expect(fake.violations.join('\n')).toMatch(
    /body.state must be one of[\s\S]*property "targetUrl" is not defined[\s\S]*body.title must be of type string[\s\S]*"per_page" must be an integer[\s\S]*"perPage" is not defined[\s\S]*"pull_number" must be an integer[\s\S]*not JSON/,
  );
  expect(fake.statuses(sha)).toEqual([]);
});

it('answers as GitHub does for a private repository: 404 without credentials, 401 with bad ones', async () => {
  expect((await call('GET', '/repos/acme/infra', undefined, null)).status).toBe(404);
  const bad = await call('GET', '/repos/acme/infra', undefined, 'ghp_nope');
  expect(bad.status).toBe(401);
  expect(bad.json?.message).toBe('Bad credentials');
  expect((await call('GET', '/repos/acme/other')).status).toBe(404);
  expect(fake.violations).toEqual([]);
});

it('refuses a second open PR for the same branches with GitHub’s real error body', async () => {
  expect((await call('POST', '/repos/acme/infra/pulls', { title: 'Promote', head: 'staging', base: 'master' })).status).toBe(201);
  const again = await call('POST', '/repos/acme/infra/pulls', { title: 'Promote', head: 'acme:staging', base: 'master' });
  expect(again.status).toBe(422);
  expect(again.json).toEqual({
    message: 'Validation Failed',
    errors: [{ resource: 'PullRequest', code: 'custom', message: 'A pull request already exists for acme:staging.' }],
    documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
    status: '422',
  });
  fake.assertNoViolations();
});

it('answers with bodies that carry every field GitHub’s schema requires', async () => {
  const created = await call('POST', '/repos/acme/infra/pulls', { title: 'Promote', head: 'staging', base: 'master', body: 'why' });
  expect(created.headers.get('location')).toBe(`${fake.url}/repos/acme/infra/pulls/1`);
  expect(created.json).toMatchObject({
    number: 1,
    state: 'open',
    html_url: 'https://github.com/acme/infra/pull/1',
    head: { ref: 'staging', sha: fake.branchTip('staging'), label: 'acme:staging' },
    base: { ref: 'master', sha: fake.branchTip('master') },
    commits: 1,
    changed_files: 1,
    merged: false,
  });
  await call('GET', '/repos/acme/infra/pulls?state=all');
  await call('GET', '/repos/acme/infra/compare/master...staging');
  await call('GET', '/repos/acme/infra/contents/a.txt?ref=staging');
  await call('POST', '/repos/acme/infra/issues/1/comments', { body: 'hi' });
  await call('POST', `/repos/acme/infra/statuses/${fake.branchTip('staging')}`, { state: 'success', context: 'ci' });
  // The fake checks its own answers against the schema and records any field it forgot.
  fake.assertNoViolations();
});

it('pages long lists with Link headers as GitHub does', async () => {
  await call('POST', '/repos/acme/infra/pulls', { title: 'Promote', head: 'staging', base: 'master' });
  for (let i = 0; i < 5; i++) fake.addComment(1, `c${i}`);
  const first = await call('GET', '/repos/acme/infra/issues/1/comments?per_page=2');
  expect((first.json as unknown as unknown[]).length).toBe(2);
  expect(first.headers.get('link')).toBe(
    `<${fake.url}/repos/acme/infra/issues/1/comments?per_page=2&page=2>; rel="next", <${fake.url}/repos/acme/infra/issues/1/comments?per_page=2&page=3>; rel="last"`,
  );
  const last = await call('GET', '/repos/acme/infra/issues/1/comments?per_page=2&page=3');
  expect((last.json as unknown as Array<{ body: string }>).map((c) => c.body)).toEqual(['c4']);
  fake.assertNoViolations();
});

it('serves file content as base64 JSON, or raw when asked, at any ref', async () => {
  const json = await call('GET', '/repos/acme/infra/contents/a.txt?ref=staging');
  expect(Buffer.from(String(json.json?.content), 'base64').toString()).toBe('a\n');
  expect(json.json).toMatchObject({ type: 'file', encoding: 'base64', path: 'a.txt', sha: '78981922613b2afb6025042ff6bd878ac1994e85' });
  const raw = await fetch(`${fake.url}/repos/acme/infra/contents/a.txt?ref=staging`, {
    headers: { authorization: `token ${FAKE_GITHUB_TOKEN}`, accept: 'application/vnd.github.raw+json' },
  });
  expect(await raw.text()).toBe('a\n');
  expect((await call('GET', '/repos/acme/infra/contents/a.txt?ref=master')).status).toBe(404);
  expect((await call('GET', '/repos/acme/infra/contents/a.txt?ref=ghost')).json?.message).toBe('No commit found for the ref ghost');
  fake.assertNoViolations();
});
