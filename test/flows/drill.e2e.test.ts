import { rmSync, writeFileSync } from 'node:fs';
import { DRILL_JOBS } from '../../bot/flows/drill';
import { DEPLOY_CONTEXT } from '../../bot/flows/github';
import { ACTIONS } from '../../bot/slack/ids';
import { DRILL_CONTEXT } from '../../handlers/policy';
import { drillGrants } from '../fakes/drillGrants';
import { pullRequestPayload } from '../fakes/githubWebhooks';
import { DEFAULT_SCENARIO, FakeKubernetes, writeKubeconfig, type Scenario } from '../fakes/kubernetes';
import { MemoryPager } from '../fakes/pager';
import { sendAction, sendSlashCommand } from '../fakes/slackSigned';
import { drillTeam, POLL_MS, SHOP } from '../drills/world';
import { manualClock } from '../helpers';
import { RIG_SIGNING_SECRET as SIGNING_SECRET, useGitHubCockpit } from './githubRig';

/**
 * Drills as the team meets them: `/cockpit drill` in Slack, the integration → staging PR's `cockpit/restore-drill`
 * status on the fake GitHub, the merge webhook refused until that status passed, the weekly drill paging L3.
 * Real Bolt, Octokit and @kubernetes/client-node against the fakes; the drills' waits move the clock.
 */

const DEPLOYS = 'C0DEPLOYS01';
const alice = 'U0ALICE001';

describe('restore drills through Slack, GitHub and the merge webhook', () => {
  let kube: FakeKubernetes;
  let kubeconfig: { path: string; remove(): void };
  const pager = new MemoryPager();
  const clock = manualClock('2026-11-30T08:00:00Z');
  const rig = useGitHubCockpit(async () => {
    kube = await FakeKubernetes.start({ now: clock.now, products: [SHOP], grants: drillGrants() });
    kubeconfig = writeKubeconfig(kube.kubeconfig());
    return {
      team: drillTeam({ kind: 'file', path: kubeconfig.path }),
      deps: { clock, sleep: async (ms) => clock.advance(ms), drillTiming: { pollMs: POLL_MS }, pager },
    };
  });

  beforeAll(() => {
    rig.github.commit('integration', { message: 'Add the search service', files: { 'infra/components/search.ts': 'export {};\n' }, author: { login: 'bob-gh' } });
    rig.engine.setPreview('staging', { counts: { create: 1, update: 0, replace: 0, delete: 0, same: 50 }, changes: [], steps: 51 });
  });
  afterEach(() => {
    kube.assertNoViolations();
    kube.scenario = { ...DEFAULT_SCENARIO };
  });
  afterAll(async () => {
    await kube?.close();
    kubeconfig?.remove();
  });

  const scenario = (patch: Partial<Scenario>) => (kube.scenario = { ...DEFAULT_SCENARIO, ...patch });
  const command = async (text: string, userId = alice) => {
    const responseUrl = rig.slack.responseUrl();
    expect((await sendSlashCommand({ url: `${rig.base}/slack/events`, signingSecret: SIGNING_SECRET, text, userId, channelId: DEPLOYS, responseUrl })).status).toBe(200);
    return responseUrl.split('/').pop()!;
  };
  const press = async (actionId: string, value: string, messageTs: string, userId = alice) => {
    const responseUrl = rig.slack.responseUrl();
    expect((await sendAction({ url: `${rig.base}/slack/events`, signingSecret: SIGNING_SECRET, actionId, value, userId, channelId: DEPLOYS, responseUrl, messageTs })).status).toBe(200);
    return responseUrl.split('/').pop()!;
  };
  const reply = async (id: string) => (await rig.slack.firstResponseTo(id, 10_000)).body;
  const text = (ts: string) => JSON.stringify(rig.slack.messagesIn(DEPLOYS).find((m) => m.ts === ts)?.blocks ?? []);
  const lastPost = () => rig.slack.callsTo('chat.postMessage').at(-1)!;
  const buttonValue = (ts: string, actionId: string) => {
    for (const m of text(ts).matchAll(/"action_id":"([^"]+)","value":"((?:[^"\\]|\\.)*)"/g)) if (m[1] === actionId) return JSON.parse(`"${m[2]}"`) as string;
    throw new Error(`no ${actionId} on ${ts}`);
  };
  const deliver = (event: string, payload: unknown) => rig.deliver(event, payload);
  const promotion = () => {
    const number = rig.github.pullRequests().find((p) => p.base === 'staging' && p.head === 'integration' && p.state === 'open')?.number ?? rig.github.openPullRequest({ base: 'staging', head: 'integration', title: 'Promote integration → staging', author: 'bob-gh' });
    const pr = rig.github.pullRequests().find((p) => p.number === number)!;
    return { number, base: 'staging', head: 'integration', headSha: pr.headSha, baseSha: rig.github.branchTip('staging'), author: 'bob-gh' };
  };
  /** Work a Slack command started ends after its answer; poll for what it leaves behind. */
  const eventually = async (probe: () => boolean, timeoutMs = 10_000) => {
    const until = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > until) throw new Error('eventually: timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const drillStatuses = (sha: string) => rig.github.statuses(sha).filter((s) => s.context === DRILL_CONTEXT);

  test('/cockpit drill integration: one message, edited step by step, ends passed with RTO, RPO, Retry and Show logs', async () => {
    const asked = rig.github.requestsTo('pulls/list').length;
    await command('drill integration');
    await rig.slack.waitFor(() => rig.slack.callsTo('chat.postMessage').length > 0, 10_000);
    const ts = String(lastPost().response.ts);
    await rig.slack.waitFor(() => text(ts).includes('passed'), 10_000);
    // A person's drill of integration then looks for the open promotion to update (there is none yet).
    await eventually(() => rig.github.requestsTo('pulls/list').length > asked);
    const result = text(ts);
    expect(result).toMatch(/Restore drill of integration passed\* in \d+m/);
    expect(result).toMatch(/RTO \d+[ms]( \d+s)? · RPO \d+[ms]/);
    expect(result).toContain('scratch namespaces deleted');
    expect(result).toContain(ACTIONS.drillRun);
    expect(result).toContain(ACTIONS.drillLogs);
    // The steps were edited into the same message as they advanced.
    const edits = rig.slack.callsTo('chat.update').filter((c) => c.args.ts === ts).map((c) => String(c.args.text));
    expect(edits.some((t) => t.startsWith('Restore drill of integration: restore'))).toBe(true);
    expect(rig.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith('Restore drill'))).toHaveLength(1);

    const logs = await reply(await press(ACTIONS.drillLogs, buttonValue(ts, ACTIONS.drillLogs), ts));
    expect(logs).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(logs.blocks)).toContain('marker written');
    expect(JSON.stringify(logs.blocks)).toContain('restore completed');
  });

  test('the promotion PR gets cockpit/restore-drill: pending, then success with the numbers and a link', async () => {
    const pr = promotion();
    expect((await deliver('pull_request', pullRequestPayload('opened', pr))).status).toBe(202);
    await rig.cockpit.idle();
    const statuses = drillStatuses(pr.headSha);
    expect(statuses.map((s) => s.state)).toEqual(['pending', 'success']);
    expect(statuses[1]!.description).toMatch(/^Passed: RTO \d+[ms]( \d+s)?, RPO \d+[ms]( \d+s)?, marker found$/);
    expect(statuses[1]!.targetUrl).toMatch(/^https:\/\/[\w-]+\.slack\.com\/archives\/C0DEPLOYS01\/p\d+$/);
    expect(statuses[0]!.creator).toBe('cockpit-bot');
  });

  test('a red drill blocks the merge deploy; a green one on the new head lets it deploy', async () => {
    scenario({ lose: 'marker' });
    rig.github.commit('integration', { message: 'Tune search memory' });
    let pr = promotion();
    await deliver('pull_request', pullRequestPayload('synchronize', pr));
    await rig.cockpit.idle();
    const failed = drillStatuses(pr.headSha);
    expect(failed.map((s) => s.state)).toEqual(['pending', 'failure']);
    expect(failed[1]!.description).toMatch(/^Failed: the marker planted \d+ min ago is not in the restored data/);
    expect(failed[1]!.description!.length).toBeLessThanOrEqual(140);

    // Someone merges anyway (GitHub would refuse with branch protection; the policy refuses the deploy).
    const mergedPayload = pullRequestPayload('closed', { ...pr, mergeSha: rig.github.branchTip('staging'), mergedBy: 'alice-gh' });
    await deliver('pull_request', mergedPayload);
    await rig.cockpit.idle();
    expect(rig.engine.calls.filter((c) => c.method === 'up')).toEqual([]);
    const refusal = rig.github.comments(pr.number).find((c) => c.body.includes('was not deployed'));
    expect(refusal?.body).toContain('cockpit/restore-drill on');
    expect(refusal?.body).toContain('it is failure');

    scenario({});
    rig.github.commit('integration', { message: 'Fix the search volume' });
    pr = promotion();
    await deliver('pull_request', pullRequestPayload('synchronize', pr));
    await rig.cockpit.idle();
    expect(drillStatuses(pr.headSha).map((s) => s.state)).toEqual(['pending', 'success']);
    const mergeSha = rig.github.mergePullRequest(pr.number, 'alice-gh');
    await deliver('pull_request', pullRequestPayload('closed', { ...pr, mergeSha, mergedBy: 'alice-gh' }));
    await rig.cockpit.idle();
    expect(rig.engine.calls.filter((c) => c.method === 'up').map((c) => c.stack)).toEqual(['staging']);
    expect(rig.github.statuses(mergeSha).find((s) => s.context === DEPLOY_CONTEXT)?.state).toBe('success');
  });

  test('without a kubeconfig the PR gets error, never success, and Slack says what is needed', async () => {
    rig.github.commit('integration', { message: 'Another change' });
    const pr = promotion();
    rmSync(kubeconfig.path);
    try {
      await deliver('pull_request', pullRequestPayload('opened', pr));
      await rig.cockpit.idle();
      const statuses = drillStatuses(pr.headSha);
      expect(statuses.map((s) => s.state)).toEqual(['pending', 'error']);
      expect(statuses[1]!.description).toMatch(/^No drill: integration's kubeconfig file .* does not exist$/);
      const said = text(String(lastPost().response.ts));
      expect(said).toContain('No restore drill of integration:');
      expect(said).toContain('nothing is recorded as passed');
    } finally {
      // Back where cockpit.yml says it is: the next drill reads it again.
      writeFileSync(kubeconfig.path, kube.kubeconfig(), { mode: 0o600 });
    }
  });

  test('a person’s drill of integration updates the open promotion’s status; /cockpit promote staging says so', async () => {
    const pr = promotion();
    const before = drillStatuses(pr.headSha).length;
    await command('drill integration');
    await rig.cockpit.idle();
    await eventually(() => drillStatuses(pr.headSha).length > before);
    expect(drillStatuses(pr.headSha).at(-1)!.state).toBe('success');

    const promoted = await reply(await command('promote staging'));
    expect(JSON.stringify(promoted.blocks)).toContain('Restore drill of *integration* on this PR: :white_check_mark: passed');
    expect(JSON.stringify(promoted.blocks)).toContain(ACTIONS.drillRun);
  });

  test('drill history lists the drills with RTO, RPO and a sparkline; status shows the last verified restore', async () => {
    const history = await reply(await command('drill history integration'));
    const shown = JSON.stringify(history.blocks);
    expect(shown).toContain('Restore drills of integration');
    expect(shown).toMatch(/RTO trend, oldest first \(× failed\): integration `[▁▂▃▄▅▆▇█×]{4,}`/);
    expect(shown).toContain('is not in the restored data');
    const status = JSON.stringify((await reply(await command('status'))).blocks);
    expect(status).toMatch(/\*integration\*[^\n]*restore verified \d+[sm] ago/);
    expect(status).toMatch(/\*prod\*[^\n]*no verified restore/);
  });

  test('a drill waits for nobody: a stack busy with a deploy refuses it, naming the deploy', async () => {
    await rig.cockpit.store.locks.acquire({ stack: 'integration', holder: 'U0CAROL001', purpose: 'deploy', requestId: 'r-deploying', owner: 'replica-b' });
    try {
      const refused = await reply(await command('drill integration'));
      expect(refused).toMatchObject({ response_type: 'ephemeral' });
      expect(String(refused.text)).toMatch(/^integration is locked by Carol since \d\d:\d\d UTC \(\d+m\) for deploy, ref r-deploying/);
      await rig.cockpit.idle();
      expect(String(lastPost().args.text)).toBe('Restore drill of integration starting');
      expect(JSON.stringify(rig.slack.messagesIn(DEPLOYS).find((m) => m.ts === String(lastPost().response.ts))?.blocks)).toContain('did not run: integration is locked by Carol');
    } finally {
      await rig.cockpit.store.locks.release('integration', 'r-deploying');
    }
  });

  test('the weekly drill of prod on staging’s cluster pages L3 when it fails', async () => {
    expect(await rig.cockpit.scheduler.trigger(DRILL_JOBS.weekly)).toBe('ran');
    await rig.cockpit.idle();
    expect(pager.pages).toEqual([
      expect.objectContaining({ target: { kind: 'level', level: 'L3' }, source: { kind: 'drill', ref: expect.stringMatching(/^r-/) }, raisedBy: 'scheduler', summary: expect.stringMatching(/^Weekly restore drill of prod failed: no backup of the schedule velero-product to restore in prod/) }),
    ]);
    const said = rig.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).includes('prod'));
    expect(JSON.stringify(said.at(-1)?.args.blocks)).toContain("on staging's cluster");
  });
});

