import { createHmac } from 'node:crypto';
import { createCockpit, type Cockpit } from '../../bot/cockpit';
import { PREVIEW_CONTEXT } from '../../bot/flows/github';
import { fromConfig as githubFromConfig } from '../../bot/integrations/github';
import { FAKE_GITHUB_TOKEN, FakeGitHub } from '../fakes/github';
import { deliverWebhook, pullRequestPayload } from '../fakes/githubWebhooks';
import { FakeInfraEngine } from '../fakes/pulumiEngine';
import { startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { sendSlashCommand } from '../fakes/slackSigned';
import { exampleTeam, memoryLogger, slackTestConfig } from '../helpers';
import { FAST } from '../integrations/github/setup';
import { Teardown } from '../teardown';

const SIGNING_SECRET = 'promote-e2e-signing';
const BOT_TOKEN = 'xoxb-promote-e2e';
const WEBHOOK_SECRET = 'promote-e2e-webhook-secret';
const DEPLOYS = 'C0DEPLOYS01';

describe('promotion PRs and merge-to-deploy against a fake GitHub', () => {
  let github: FakeGitHub;
  let slack: FakeSlackApi;
  let engine: FakeInfraEngine;
  let cockpit: Cockpit;
  let base: string;
  const opened = new Teardown();

  beforeAll(async () => {
    github = opened.add(await FakeGitHub.start({ owner: 'acme', repo: 'infra' }));
    slack = opened.add(await startFakeSlackApi({ token: BOT_TOKEN }));
    engine = new FakeInfraEngine();
    const config = slackTestConfig(
      slack.url,
      { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET },
      { GITHUB_REPO: 'acme/infra', GITHUB_TOKEN: FAKE_GITHUB_TOKEN, GITHUB_API_URL: github.url, GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET },
    );
    const log = memoryLogger('warn').log;
    // The real adapter with GitHub's one-second write spacing shrunk, as every GitHub test here does.
    const codeHost = githubFromConfig(config.github!, { log, timing: FAST });
    cockpit = opened.add(await createCockpit(config, exampleTeam(), { log, engine, codeHost, progressIntervalMs: 10 }));
    base = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}`;

    github.commit('master', { message: 'Stack files', files: { 'infra/Pulumi.staging.yaml': 'config:\n  cockpit:ingress:\n    replicas: 2\n' } });
    for (const branch of ['staging', 'integration', 'dev']) github.createBranch(branch, 'master');
    github.commit('integration', { message: 'Raise staging ingress to 3 replicas', files: { 'infra/Pulumi.staging.yaml': 'config:\n  cockpit:ingress:\n    replicas: 3\n' }, author: { login: 'alice-gh' } });
    github.commit('integration', { message: 'Add the search service', files: { 'infra/components/search.ts': 'export {};\n' }, author: { login: 'bob-gh' } });
    engine.setPreview('staging', { counts: { create: 4, update: 1, replace: 0, delete: 0, same: 50 }, changes: [], steps: 55, revision: github.branchTip('integration') });
  });
  afterEach(() => {
    github.assertNoViolations();
    slack.assertNoViolations();
  });
  afterAll(() => opened.run());

  const promote = async (stack: string, userId = 'U0ALICE001') => {
    const responseUrl = slack.responseUrl();
    const id = responseUrl.split('/').pop()!;
    await sendSlashCommand({ url: `${base}/slack/events`, signingSecret: SIGNING_SECRET, text: `promote ${stack}`, userId, channelId: DEPLOYS, responseUrl });
    return (await slack.waitFor(() => slack.responsesTo(id).length > 0 && slack.responsesTo(id), 5000))[0]!.body;
  };
  const deliver = (event: string, payload: unknown, options: { secret?: string; deliveryId?: string; signature?: string } = {}) => deliverWebhook(base, WEBHOOK_SECRET, event, payload, options);

  test('/cockpit promote staging opens the PR with the right body, and replies with its link', async () => {
    const reply = await promote('staging');
    const [pr] = github.pullRequests();
    expect(pr).toMatchObject({ base: 'staging', head: 'integration', title: 'Promote integration → staging: 2 commits', state: 'open' });
    expect(reply).toMatchObject({ response_type: 'in_channel' });
    expect(String(reply.text)).toContain(`/pull/${pr!.number}`);
    const body = pr!.body ?? '';
    expect(body).toContain('Raise staging ingress to 3 replicas');
    expect(body).toContain('Add the search service');
    expect(body).toContain('| `cockpit:ingress.replicas` | changed | `2` | `3` |');
    expect(body).toContain('4 to create · 1 to update');
    expect(body).toContain('A restore drill must pass on this PR');
    expect(body).toMatch(/Requested by Alice \(U0ALICE001\) with `\/cockpit promote staging`, ref `r-[\w-]+`/);
    // The integration code runs apart from staging's own checkout.
    expect(engine.calls.filter((c) => c.method === 'preview')).toEqual([{ method: 'preview', stack: 'staging', code: { kind: 'branch', branch: 'integration' } }]);
  });

  test('asked again it refreshes the same PR; nothing to promote and the first stack get plain answers', async () => {
    github.commit('integration', { message: 'Tune search memory' });
    await promote('staging');
    expect(github.pullRequests()).toHaveLength(1);
    expect(github.pullRequests()[0]!.title).toBe('Promote integration → staging: 3 commits');
    expect(String((await promote('prod')).text)).toBe('Nothing to promote from staging into prod');
    const first = await promote('dev');
    expect(first.response_type).toBe('ephemeral');
    expect(String(first.text)).toMatch(/dev is where changes start/);
  });

  test('a PR into a stack branch gets one preview comment and a cockpit/preview status, refreshed per push', async () => {
    const pr = github.pullRequests()[0]!;
    const shape = { number: pr.number, base: 'staging', head: 'integration', headSha: pr.headSha, baseSha: github.branchTip('staging') };
    expect((await deliver('pull_request', pullRequestPayload('opened', shape))).status).toBe(202);
    await cockpit.idle();
    const statuses = github.statuses(pr.headSha).filter((s) => s.context === PREVIEW_CONTEXT);
    expect(statuses.map((s) => s.state)).toEqual(['pending', 'success']);
    expect(statuses[1]!.description).toMatch(/risk: \+4 ~1 ±0 -0/);
    expect(github.comments(pr.number)).toHaveLength(1);
    expect(github.comments(pr.number)[0]!.body).toContain('Cockpit preview of **staging**');

    const pushed = github.commit('integration', { message: 'Fix a typo' });
    expect((await deliver('pull_request', pullRequestPayload('synchronize', { ...shape, headSha: pushed }))).status).toBe(202);
    await cockpit.idle();
    expect(github.comments(pr.number)).toHaveLength(1);
    expect(github.comments(pr.number)[0]!.body).toContain(pushed.slice(0, 7));
    expect(github.statuses(pushed).filter((s) => s.context === PREVIEW_CONTEXT).map((s) => s.state)).toEqual(['pending', 'success']);
  });

  test('a PR by someone outside cockpit.yml is not previewed until a team member asks', async () => {
    github.createBranch('feature-x', 'integration');
    const headSha = github.commit('feature-x', { message: 'Try a new ingress class', author: { login: 'stranger-gh' } });
    const number = github.openPullRequest({ base: 'integration', head: 'feature-x', title: 'New ingress class', author: 'stranger-gh' });
    const shape = { number, base: 'integration', head: 'feature-x', headSha, baseSha: github.branchTip('integration'), author: 'stranger-gh' };
    const before = engine.calls.length;
    expect((await deliver('pull_request', pullRequestPayload('opened', shape))).status).toBe(202);
    await cockpit.idle();
    expect(engine.calls.length).toBe(before); // nothing of the stranger's code ran
    const [status] = github.statuses(headSha).filter((s) => s.context === PREVIEW_CONTEXT);
    expect(status).toMatchObject({ state: 'pending', description: expect.stringContaining('comment `cockpit preview`') });
    expect(github.comments(number)[0]?.body).toContain('@stranger-gh is not in cockpit.yml');
    const audit = await cockpit.store.audit.query({ action: 'pr.preview' });
    expect(audit[0]).toMatchObject({ outcome: 'refused', actor: 'github:stranger-gh', detail: expect.objectContaining({ reason: expect.stringContaining('@stranger-gh is not in cockpit.yml') }) });
  });

  test('forged, unsigned and tampered webhooks get 401 and do nothing', async () => {
    const before = github.requests.length;
    const payload = pullRequestPayload('opened', { number: 99, base: 'staging', head: 'integration', headSha: github.branchTip('integration'), baseSha: github.branchTip('staging') });
    expect((await deliver('pull_request', payload, { secret: 'guessed' })).status).toBe(401);
    expect((await deliver('pull_request', payload, { signature: '' })).status).toBe(401);
    const body = JSON.stringify(payload);
    const signed = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
    const tampered = await fetch(`${base}/hooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': 'd-tampered', 'x-hub-signature-256': signed },
      body: body.replace('"staging"', '"master"'),
    });
    expect(tampered.status).toBe(401);
    await cockpit.idle();
    expect(github.requests.length).toBe(before);
  });

  test('deliveries that are not ours are answered and ignored', async () => {
    expect((await deliver('ping', { zen: 'Keep it logically awesome.' })).status).toBe(200);
    expect((await deliver('issues', { action: 'opened' })).status).toBe(202);
    expect((await deliver('pull_request', { action: 'opened', pull_request: { number: 'x' } })).status).toBe(400);
    const other = pullRequestPayload('opened', { number: 5, base: 'staging', head: 'integration', headSha: github.branchTip('integration'), baseSha: github.branchTip('staging') });
    other.repository = { ...(other.repository as object), full_name: 'evil/infra' };
    const before = github.requests.length;
    expect((await deliver('pull_request', other)).status).toBe(202);
    await cockpit.idle();
    expect(github.requests.length).toBe(before);
  });
});
