import { createHmac } from 'node:crypto';
import examples from '@octokit/webhooks-examples';
import { createCockpit, type Cockpit } from '../../bot/cockpit';
import { PREVIEW_CONTEXT } from '../../bot/flows/github';
import { githubHook } from '../../bot/http/githubHook';
import { fromConfig as githubFromConfig } from '../../bot/integrations/github';
import type { CodeHostEvent } from '../../handlers/model/code';
import { FAKE_GITHUB_TOKEN, FakeGitHub } from '../fakes/github';
import { FakeInfraEngine } from '../fakes/pulumiEngine';
import { startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { exampleTeam, memoryLogger, slackTestConfig } from '../helpers';
import { FAST } from '../integrations/github/setup';
import { Teardown } from '../teardown';
import { useHookRig } from './hookRig';

/**
 * POST /hooks/github as GitHub sends it: both content types a webhook can be set to, a signature over the body as
 * sent, de-duplication on what the signature covers, and a delivery whose work failed run again on Redeliver.
 */

const SECRET = 'hook-test-webhook-secret';
type Payload = Record<string, unknown> & { pull_request: Record<string, unknown> };
const pullRequestExamples = (examples.find((e) => e.name === 'pull_request')?.examples ?? []) as unknown as Payload[];

function merged(mergeSha = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c'): Payload {
  const payload = structuredClone(pullRequestExamples.find((e) => e.action === 'closed')!);
  Object.assign(payload.pull_request, { merged: true, merge_commit_sha: mergeSha, merged_by: payload.pull_request.user });
  return payload;
}

const sign = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

interface Delivery {
  event?: string;
  /** `form` sends what GitHub sends for a webhook whose content type is form: `payload=<urlencoded JSON>`. */
  encoding?: 'json' | 'form';
  contentType?: string;
  /** Sign other bytes than those sent (e.g. the JSON inside a form). */
  signed?: string;
  deliveryId?: string | null;
}

function deliver(base: string, payload: unknown, options: Delivery = {}): Promise<Response> {
  const json = JSON.stringify(payload);
  const body = options.encoding === 'form' ? new URLSearchParams({ payload: json }).toString() : json;
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? (options.encoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json'),
    'x-github-event': options.event ?? 'pull_request',
    'x-hub-signature-256': sign(options.signed ?? body),
  };
  if (options.deliveryId !== null) headers['x-github-delivery'] = options.deliveryId ?? crypto.randomUUID();
  return fetch(`${base}/hooks/github`, { method: 'POST', headers, body });
}

describe('POST /hooks/github', () => {
  const rig = useHookRig<CodeHostEvent>('/hooks/github', SECRET, (deps) => githubHook(deps));
  // Stable references: the rig empties them after each test.
  const { handled, logger } = rig;
  const settle = () => rig.settle();

  const refusals = () => logger.lines().filter((l) => l.msg === 'refused a GitHub delivery');

  test('takes a JSON delivery and a form one (GitHub’s default content type) alike, each signed as sent', async () => {
    const payload = pullRequestExamples.find((e) => e.action === 'opened')!;
    const viaJson = await deliver(rig.base, payload);
    expect(viaJson.status).toBe(202);
    expect(await viaJson.json()).toEqual({ accepted: 'pull_request.changed' });
    await settle();
    const viaForm = await deliver(rig.base, { ...payload, action: 'reopened' }, { encoding: 'form' });
    expect(viaForm.status).toBe(202);
    await settle();
    expect(handled.map((e) => [e.kind, 'action' in e && e.action])).toEqual([
      ['pull_request.changed', 'opened'],
      ['pull_request.changed', 'reopened'],
    ]);
    // A charset parameter and another case are the same media type.
    expect((await deliver(rig.base, { ...payload, action: 'synchronize' }, { contentType: 'Application/JSON; charset=utf-8' })).status).toBe(202);
  });

  test('a form delivery signed over the JSON inside it, not the body sent, is refused', async () => {
    const payload = merged();
    const res = await deliver(rig.base, payload, { encoding: 'form', signed: JSON.stringify(payload) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'signature does not match' });
  });

  test('answers ping in either encoding', async () => {
    for (const encoding of ['json', 'form'] as const) {
      const res = await deliver(rig.base, { zen: 'Design for failure.', hook_id: 1 }, { event: 'ping', encoding });
      expect(res.status).toBe(200);
    }
  });

  test.each([
    ['text/plain', 'text/plain'],
    ['multipart/form-data; boundary=x', 'multipart/form-data'],
    ['', ''],
  ])('a body sent as "%s" gets 415 with the reason, and is logged', async (contentType, named) => {
    const res = await deliver(rig.base, merged(), { contentType });
    expect(res.status).toBe(415);
    expect(String(((await res.json()) as { error: string }).error)).toContain(`content type "${named}" is not one GitHub sends`);
    expect(refusals().at(-1)).toMatchObject({ level: 40, status: 415 });
    expect(handled).toHaveLength(0);
  });

  test('a form without exactly one payload field, or with one that is not JSON, gets 400', async () => {
    const post = (body: string) =>
      fetch(`${rig.base}/hooks/github`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': 'pull_request', 'x-hub-signature-256': sign(body) }, body });
    expect(await (await post('other=1')).json()).toEqual({ error: 'form body must carry exactly one payload field' });
    expect((await post('payload=%7B%7D&payload=%7B%7D')).status).toBe(400);
    expect(await (await post('payload=not-json')).json()).toEqual({ error: 'payload field is not JSON' });
    expect(handled).toHaveLength(0);
  });

  test('without a webhook secret, says so (503), logs it, and runs nothing: not "signature does not match"', async () => {
    rig.secret = undefined;
    const res = await deliver(rig.base, merged());
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/webhook secret is not configured/);
    expect(refusals().at(-1)).toMatchObject({ status: 503, reason: expect.stringMatching(/not configured/) });
    expect(handled).toHaveLength(0);
  });

  test('a replayed merge is a duplicate whatever its X-GitHub-Delivery, or without one', async () => {
    const payload = merged('2'.repeat(40));
    expect((await deliver(rig.base, payload, { deliveryId: 'first' })).status).toBe(202);
    await settle();
    for (const deliveryId of ['a-new-id', null, 'first']) {
      const res = await deliver(rig.base, payload, { deliveryId });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ duplicate: true });
    }
    // The same merge sent in the other encoding is the same merge.
    expect(await (await deliver(rig.base, payload, { encoding: 'form' })).json()).toEqual({ duplicate: true });
    await settle();
    expect(handled).toHaveLength(1);
    // Another merge commit is another merge.
    expect((await deliver(rig.base, merged('3'.repeat(40)), { deliveryId: 'first' })).status).toBe(202);
  });

  test('while its work runs a repeat is a duplicate; when the work fails, Redeliver runs it again', async () => {
    const payload = merged('4'.repeat(40));
    let fail!: (err: Error) => void;
    rig.next = () => new Promise<void>((_resolve, reject) => (fail = reject));
    expect((await deliver(rig.base, payload, { deliveryId: 'd1' })).status).toBe(202);
    expect(await (await deliver(rig.base, payload, { deliveryId: 'd1' })).json()).toEqual({ duplicate: true });
    fail(new Error('GitHub answered 422 to the commit status'));
    await settle();
    expect(logger.text()).toContain('a redelivery will run it again');

    rig.next = undefined;
    expect((await deliver(rig.base, payload, { deliveryId: 'd1' })).status).toBe(202);
    await settle();
    expect(handled).toHaveLength(2);
    // Done this time: now it is remembered.
    expect(await (await deliver(rig.base, payload, { deliveryId: 'd1' })).json()).toEqual({ duplicate: true });
  });

  test('a malformed event gets 400 with the field named, and every refusal is logged without the body', async () => {
    const payload = merged();
    (payload.pull_request as Record<string, unknown>).number = 'SECRET-MARKER-IN-BODY';
    const res = await deliver(rig.base, payload);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain('pull_request.number');
    expect(refusals().at(-1)).toMatchObject({ status: 400 });
    await deliver(rig.base, { body: 'SECRET-MARKER-IN-BODY' }, { contentType: 'text/plain' });
    await deliver(rig.base, { body: 'SECRET-MARKER-IN-BODY' }, { signed: 'something else' });
    expect(logger.text()).not.toContain('SECRET-MARKER-IN-BODY');
  });

  test('events the domain does not act on are answered 202 and ignored', async () => {
    const res = await deliver(rig.base, { action: 'created' }, { event: 'star' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ ignored: 'event "star" is not handled' });
    expect(handled).toHaveLength(0);
  });

  test('a body over 5 MB is answered 413 at once', async () => {
    const started = Date.now();
    const res = await fetch(`${rig.base}/hooks/github`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(6 * 1024 * 1024, 0x20) });
    expect(res.status).toBe(413);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('a PR delivery whose commit status GitHub refused (422), redelivered', () => {
  let github: FakeGitHub;
  let slack: FakeSlackApi;
  let cockpit: Cockpit;
  let base: string;
  let codeHost: ReturnType<typeof githubFromConfig>;
  const hookLog = memoryLogger('warn');
  const opened = new Teardown();

  beforeAll(async () => {
    github = opened.add(await FakeGitHub.start({ owner: 'acme', repo: 'infra' }));
    slack = opened.add(await startFakeSlackApi({ token: 'xoxb-hook-e2e' }));
    const config = slackTestConfig(
      slack.url,
      { botToken: 'xoxb-hook-e2e', signingSecret: 'hook-e2e-signing' },
      { GITHUB_REPO: 'acme/infra', GITHUB_TOKEN: FAKE_GITHUB_TOKEN, GITHUB_API_URL: github.url, GITHUB_WEBHOOK_SECRET: SECRET },
    );
    const log = hookLog.log;
    codeHost = githubFromConfig(config.github!, { log, timing: FAST });
    const engine = new FakeInfraEngine();
    engine.setPreview('integration', { counts: { create: 1, update: 0, replace: 0, delete: 0, same: 9 }, changes: [], steps: 10 });
    cockpit = opened.add(await createCockpit(config, exampleTeam(), { log, engine, codeHost, progressIntervalMs: 10 }));
    base = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}`;
    github.commit('master', { message: 'Stack files', files: { 'infra/Pulumi.integration.yaml': 'config: {}\n' } });
    // dev → integration: a PR no restore drill gates, so the preview's statuses are the only ones set.
    for (const branch of ['integration', 'dev']) github.createBranch(branch, 'master');
  });
  afterAll(() => opened.run());

  test('is previewed on Redeliver instead of being answered as a duplicate', async () => {
    const headSha = github.commit('dev', { message: 'Raise replicas' });
    const pr = await codeHost.openPullRequest({ base: 'integration', head: 'dev', title: 'Raise replicas', body: '' });
    const payload = structuredClone(pullRequestExamples.find((e) => e.action === 'opened')!);
    const repository = { ...(payload.repository as object), full_name: 'acme/infra' };
    Object.assign(payload, { repository });
    Object.assign(payload.pull_request, {
      number: pr.number,
      html_url: pr.htmlUrl,
      // Cockpit opened it: previewed on its own, like a team member's PR.
      user: { ...(payload.pull_request.user as object), login: 'cockpit-bot' },
      base: { ...(payload.pull_request.base as object), ref: 'integration', sha: github.branchTip('integration'), repo: repository },
      head: { ...(payload.pull_request.head as object), ref: 'dev', sha: headSha, repo: repository },
    });
    // GitHub's default content type, and the pending status refused twice (the error status after it too).
    github.failNext('repos/create-commit-status', { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Status', code: 'custom', message: 'too many statuses' }] } }, 2);
    expect((await deliver(base, payload, { encoding: 'form', deliveryId: 'gh-1' })).status).toBe(202);
    await cockpit.idle();
    expect(github.statuses(headSha)).toHaveLength(0);

    const redelivered = await deliver(base, payload, { encoding: 'form', deliveryId: 'gh-1' });
    expect(redelivered.status).toBe(202);
    await cockpit.idle();
    expect(github.statuses(headSha).filter((s) => s.context === PREVIEW_CONTEXT).map((s) => s.state)).toEqual(['pending', 'success']);
    expect(await (await deliver(base, payload, { encoding: 'form', deliveryId: 'gh-1' })).json()).toEqual({ duplicate: true });
  });
});
