import { createHmac } from 'node:crypto';
import { PREVIEW_CONTEXT } from '../../bot/flows/github';
import { pullRequestPayload } from '../fakes/githubWebhooks';
import { sendSlashCommand } from '../fakes/slackSigned';
import { RIG_SIGNING_SECRET as SIGNING_SECRET, RIG_WEBHOOK_SECRET as WEBHOOK_SECRET, useGitHubCockpit } from './githubRig';

const DEPLOYS = 'C0DEPLOYS01';

describe('promotion PRs and merge-to-deploy against a fake GitHub', () => {
  const rig = useGitHubCockpit(() => ({ masterFiles: { 'infra/Pulumi.staging.yaml': 'config:\n  cockpit:ingress:\n    replicas: 2\n' } }));

  beforeAll(() => {
    rig.github.commit('integration', { message: 'Raise staging ingress to 3 replicas', files: { 'infra/Pulumi.staging.yaml': 'config:\n  cockpit:ingress:\n    replicas: 3\n' }, author: { login: 'alice-gh' } });
    rig.github.commit('integration', { message: 'Add the search service', files: { 'infra/components/search.ts': 'export {};\n' }, author: { login: 'bob-gh' } });
    rig.engine.setPreview('staging', { counts: { create: 4, update: 1, replace: 0, delete: 0, same: 50 }, changes: [], steps: 55, revision: rig.github.branchTip('integration') });
  });

  const promote = async (stack: string, userId = 'U0ALICE001') => {
    const responseUrl = rig.slack.responseUrl();
    const id = responseUrl.split('/').pop()!;
    await sendSlashCommand({ url: `${rig.base}/slack/events`, signingSecret: SIGNING_SECRET, text: `promote ${stack}`, userId, channelId: DEPLOYS, responseUrl });
    return (await rig.slack.firstResponseTo(id, 5000)).body;
  };
  const deliver: typeof rig.deliver = (...args) => rig.deliver(...args);

  test('/cockpit promote staging opens the PR with the right body, and replies with its link', async () => {
    const reply = await promote('staging');
    const [pr] = rig.github.pullRequests();
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
    expect(rig.engine.calls.filter((c) => c.method === 'preview')).toEqual([{ method: 'preview', stack: 'staging', code: { kind: 'branch', branch: 'integration' } }]);
  });

  test('asked again it refreshes the same PR; nothing to promote and the first stack get plain answers', async () => {
    rig.github.commit('integration', { message: 'Tune search memory' });
    await promote('staging');
    expect(rig.github.pullRequests()).toHaveLength(1);
    expect(rig.github.pullRequests()[0]!.title).toBe('Promote integration → staging: 3 commits');
    expect(String((await promote('prod')).text)).toBe('Nothing to promote from staging into prod');
    const first = await promote('dev');
    expect(first.response_type).toBe('ephemeral');
    expect(String(first.text)).toMatch(/dev is where changes start/);
  });

  test('a PR into a stack branch gets one preview comment and a cockpit/preview status, refreshed per push', async () => {
    const pr = rig.github.pullRequests()[0]!;
    const shape = { number: pr.number, base: 'staging', head: 'integration', headSha: pr.headSha, baseSha: rig.github.branchTip('staging') };
    expect((await deliver('pull_request', pullRequestPayload('opened', shape))).status).toBe(202);
    await rig.cockpit.idle();
    const statuses = rig.github.statuses(pr.headSha).filter((s) => s.context === PREVIEW_CONTEXT);
    expect(statuses.map((s) => s.state)).toEqual(['pending', 'success']);
    expect(statuses[1]!.description).toMatch(/risk: \+4 ~1 ±0 -0/);
    expect(rig.github.comments(pr.number)).toHaveLength(1);
    expect(rig.github.comments(pr.number)[0]!.body).toContain('Cockpit preview of **staging**');

    const pushed = rig.github.commit('integration', { message: 'Fix a typo' });
    expect((await deliver('pull_request', pullRequestPayload('synchronize', { ...shape, headSha: pushed }))).status).toBe(202);
    await rig.cockpit.idle();
    expect(rig.github.comments(pr.number)).toHaveLength(1);
    expect(rig.github.comments(pr.number)[0]!.body).toContain(pushed.slice(0, 7));
    expect(rig.github.statuses(pushed).filter((s) => s.context === PREVIEW_CONTEXT).map((s) => s.state)).toEqual(['pending', 'success']);
  });

  test('a PR by someone outside cockpit.yml is not previewed until a team member asks', async () => {
    rig.github.createBranch('feature-x', 'integration');
    const headSha = rig.github.commit('feature-x', { message: 'Try a new ingress class', author: { login: 'stranger-gh' } });
    const number = rig.github.openPullRequest({ base: 'integration', head: 'feature-x', title: 'New ingress class', author: 'stranger-gh' });
    const shape = { number, base: 'integration', head: 'feature-x', headSha, baseSha: rig.github.branchTip('integration'), author: 'stranger-gh' };
    const before = rig.engine.calls.length;
    expect((await deliver('pull_request', pullRequestPayload('opened', shape))).status).toBe(202);
    await rig.cockpit.idle();
    expect(rig.engine.calls.length).toBe(before); // nothing of the stranger's code ran
    const [status] = rig.github.statuses(headSha).filter((s) => s.context === PREVIEW_CONTEXT);
    expect(status).toMatchObject({ state: 'pending', description: expect.stringContaining('comment `cockpit preview`') });
    expect(rig.github.comments(number)[0]?.body).toContain('@stranger-gh is not in cockpit.yml');
    const audit = await rig.cockpit.store.audit.query({ action: 'pr.preview' });
    expect(audit[0]).toMatchObject({ outcome: 'refused', actor: 'github:stranger-gh', detail: expect.objectContaining({ reason: expect.stringContaining('@stranger-gh is not in cockpit.yml') }) });
  });

  test('forged, unsigned and tampered webhooks get 401 and do nothing', async () => {
    const before = rig.github.requests.length;
    const payload = pullRequestPayload('opened', { number: 99, base: 'staging', head: 'integration', headSha: rig.github.branchTip('integration'), baseSha: rig.github.branchTip('staging') });
    expect((await deliver('pull_request', payload, { secret: 'guessed' })).status).toBe(401);
    expect((await deliver('pull_request', payload, { signature: '' })).status).toBe(401);
    const body = JSON.stringify(payload);
    const signed = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
    const tampered = await fetch(`${rig.base}/hooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': 'd-tampered', 'x-hub-signature-256': signed },
      body: body.replace('"staging"', '"master"'),
    });
    expect(tampered.status).toBe(401);
    await rig.cockpit.idle();
    expect(rig.github.requests.length).toBe(before);
  });

  test('deliveries that are not ours are answered and ignored', async () => {
    expect((await deliver('ping', { zen: 'Keep it logically awesome.' })).status).toBe(200);
    expect((await deliver('issues', { action: 'opened' })).status).toBe(202);
    expect((await deliver('pull_request', { action: 'opened', pull_request: { number: 'x' } })).status).toBe(400);
    const other = pullRequestPayload('opened', { number: 5, base: 'staging', head: 'integration', headSha: rig.github.branchTip('integration'), baseSha: rig.github.branchTip('staging') });
    other.repository = { ...(other.repository as object), full_name: 'evil/infra' };
    const before = rig.github.requests.length;
    expect((await deliver('pull_request', other)).status).toBe(202);
    await rig.cockpit.idle();
    expect(rig.github.requests.length).toBe(before);
  });
});
