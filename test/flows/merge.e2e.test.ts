import examples from '@octokit/webhooks-examples';
import { DEPLOY_CONTEXT } from '../../bot/flows/github';
import { ACTIONS } from '../../bot/slack/ids';
import { DRILL_CONTEXT } from '../../handlers/policy';
import { pullRequestPayload } from '../fakes/githubWebhooks';
import { sendAction, sendSlashCommand } from '../fakes/slackSigned';
import { RIG_SIGNING_SECRET as SIGNING_SECRET, useGitHubCockpit } from './githubRig';

/**
 * The merge webhook is a path that changes stacks like any other: every merge here is judged by the same policy
 * as a Slack deploy. The fake GitHub holds the repository (branches, PRs, reviews, statuses), the fake Slack the
 * deploys channel; GitHub's real captured `pull_request.closed` payload carries each merge.
 */

const DEPLOYS = 'C0DEPLOYS01';
const alice = 'U0ALICE001'; // engineer, sre, approver; GitHub alice-gh
const bob = 'U0BOB00001'; // engineer, sre; bob-gh
const carol = 'U0CAROL001'; // engineer, approver; carol-gh

type Payload = Record<string, unknown> & { pull_request: Record<string, unknown> };

describe('merges follow the rules a Slack deploy follows', () => {
  const rig = useGitHubCockpit(() => ({ masterFiles: { 'infra/Pulumi.prod.yaml': 'config: {}\n' } }));

  beforeAll(() => {
  });

  /** A PR from a new branch off `from` into `into`, opened by `author`; returns its number and head. */
  function openPr(into: string, author: string, from = into): { number: number; head: string; headSha: string } {
    const head = `change-${Math.random().toString(36).slice(2, 8)}`;
    rig.github.createBranch(head, from);
    const headSha = rig.github.commit(head, { message: `Change for ${into}`, files: { [`infra/${head}.ts`]: 'export {};\n' }, author: { login: author } });
    return { number: rig.github.openPullRequest({ base: into, head, title: `Change for ${into}`, author }), head, headSha };
  }

  /** GitHub's real `closed` payload for a PR the fake merged. */
  function mergedPayload(number: number): Payload {
    const pr = rig.github.pullRequests().find((p) => p.number === number)!;
    return pullRequestPayload('closed', { ...pr, baseSha: rig.github.branchTip(pr.base), mergeSha: pr.mergeSha!, mergedBy: pr.mergedBy! });
  }

  const deliver = async (payload: unknown, deliveryId?: string): Promise<number> => (await rig.deliver('pull_request', payload, { deliveryId })).status;
  const deliverEvent = async (event: string, payload: unknown): Promise<number> => (await rig.deliver(event, payload)).status;

  /** GitHub's real `issue_comment.created` payload: `login` comments `body` on PR `number`. */
  function comment(number: number, login: string, body: string): unknown {
    const payload = structuredClone((examples.find((e) => e.name === 'issue_comment')?.examples ?? []).find((e) => (e as { action?: string }).action === 'created')) as unknown as Record<string, Record<string, unknown>>;
    const html = `https://github.test/acme/infra/pull/${number}`;
    payload.repository = { ...payload.repository, full_name: 'acme/infra' };
    payload.issue = { ...payload.issue, number, html_url: html, pull_request: { url: html, html_url: html, diff_url: `${html}.diff`, patch_url: `${html}.patch`, merged_at: null } };
    payload.comment = { ...payload.comment, id: Math.floor(Math.random() * 1e9), body, user: { ...(payload.comment!.user as object), login } };
    payload.sender = { ...payload.sender, login };
    return payload;
  }

  /** GitHub's real `push` payload: `pusher` moved `branch` from `before` to `after`. */
  function push(branch: string, before: string, after: string, pusher: string): unknown {
    const payload = structuredClone((examples.find((e) => e.name === 'push')?.examples ?? []).find((e) => (e as { ref?: string; head_commit?: unknown }).ref === 'refs/heads/master' && (e as { head_commit?: unknown }).head_commit)) as Record<string, unknown>;
    return { ...payload, ref: `refs/heads/${branch}`, before, after, forced: false, repository: { ...(payload.repository as object), full_name: 'acme/infra', pushed_at: Math.floor(Date.now() / 1000) }, sender: { ...(payload.sender as object), login: pusher }, head_commit: { ...(payload.head_commit as object), message: 'Hotfix: raise the memory limit' } };
  }

  const ups = (stack: string) => rig.engine.updates.filter((u) => u.kind === 'up' && u.target.stack === stack);
  const lastMessage = () => JSON.stringify(rig.slack.messagesIn(DEPLOYS).at(-1)?.blocks ?? []);
  const deployComment = (number: number, stack: string) => rig.github.comments(number).find((c) => c.body.includes(`<!-- cockpit-deploy:${stack} -->`))?.body ?? '';
  const deployStatus = (sha: string) => rig.github.statuses(sha).filter((s) => s.context === DEPLOY_CONTEXT).at(-1);

  test('a merge into staging with no passing restore drill is refused, on the PR, its merge commit and in Slack', async () => {
    const pr = openPr('staging', 'alice-gh', 'integration');
    const mergeSha = rig.github.mergePullRequest(pr.number, 'carol-gh');
    expect(await deliver(mergedPayload(pr.number))).toBe(202);
    expect(ups('staging')).toHaveLength(0);
    expect(deployComment(pr.number, 'staging')).toMatch(/:x: \*\*staging\*\* was not deployed: staging deploys a merge only after a restore drill passed on the PR: cockpit\/restore-drill on \w{7} is not success \(there is none\)/);
    expect(deployStatus(mergeSha)).toMatchObject({ state: 'failure', description: expect.stringContaining('staging not deployed') });
    expect(lastMessage()).toContain('*staging* not deployed');
    const [refused] = await rig.cockpit.store.audit.query({ action: 'policy.deploy' });
    expect(refused).toMatchObject({ actor: 'github:carol-gh for U0CAROL001', target: 'staging', outcome: 'refused', detail: expect.objectContaining({ drill: 'none', pullRequest: pr.number }) });
  });

  test('with the drill passed on its head, the merge deploys staging at the merge commit; replays deploy nothing again', async () => {
    const pr = openPr('staging', 'alice-gh', 'integration');
    rig.github.addStatus(pr.headSha, DRILL_CONTEXT, 'success');
    const mergeSha = rig.github.mergePullRequest(pr.number, 'carol-gh');
    const payload = mergedPayload(pr.number);
    expect(await deliver(payload)).toBe(202);
    expect(ups('staging').map((u) => u.options.revision)).toEqual([mergeSha]);
    // The preview was pinned at the merge commit: what ran is what was previewed.
    expect(rig.engine.calls.filter((c) => c.method === 'preview' && c.stack === 'staging').at(-1)).toMatchObject({ revision: mergeSha });
    expect(lastMessage()).toContain('staging deployed');
    expect(deployComment(pr.number, 'staging')).toMatch(/:white_check_mark: \*\*staging\*\* succeeded/);
    expect(deployStatus(mergeSha)).toMatchObject({ state: 'success' });
    const [merged] = await rig.cockpit.store.audit.query({ action: 'deploy.merge' });
    expect(merged).toMatchObject({ actor: 'github:carol-gh for U0CAROL001', detail: expect.objectContaining({ pullRequest: pr.number, mergeSha }) });

    // A captured signed body, replayed under a new delivery id: the stack already runs it, and nobody is bothered.
    const posts = rig.slack.callsTo('chat.postMessage').length;
    await deliver(payload);
    await deliver(payload, 'another-id');
    expect(ups('staging')).toHaveLength(1);
    expect(rig.slack.callsTo('chat.postMessage')).toHaveLength(posts);
  });

  test('prod: a merge nobody else approved waits for an approver in Slack; the asker and the merger cannot approve it', async () => {
    rig.github.commit('staging', { message: 'Tune prod', files: { 'infra/Pulumi.prod.yaml': 'config:\n  cockpit:replicas: 3\n' } });
    const responseUrl = rig.slack.responseUrl();
    await sendSlashCommand({ url: `${rig.base}/slack/events`, signingSecret: SIGNING_SECRET, text: 'promote prod', userId: alice, channelId: DEPLOYS, responseUrl });
    await rig.slack.waitFor(() => rig.slack.responsesTo(responseUrl.split('/').pop()!).length > 0);
    const pr = rig.github.pullRequests().find((p) => p.base === 'master' && p.state === 'open')!;
    // Alice asked for it and approves it on GitHub (she can: Cockpit is its author there), and Bob merges.
    rig.github.addReview(pr.number, 'alice-gh', 'APPROVED');
    const mergeSha = rig.github.mergePullRequest(pr.number, 'bob-gh');
    await deliver(mergedPayload(pr.number));
    expect(ups('prod')).toHaveLength(0);
    const message = rig.slack.messagesIn(DEPLOYS).at(-1)!;
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('A second person must approve:* Alice, Carol');
    expect(text).toContain('Alice wrote or asked for it');
    expect(deployComment(pr.number, 'prod')).toMatch(/waits for an approver in Slack/);
    expect(deployStatus(mergeSha)).toMatchObject({ state: 'pending' });

    const planId = /"action_id":"deploy\.approve","value":"([^"]+)"/.exec(text)![1]!;
    const pressApprove = async (userId: string) => {
      const url = rig.slack.responseUrl();
      await sendAction({ url: `${rig.base}/slack/events`, signingSecret: SIGNING_SECRET, actionId: ACTIONS.deployApprove, value: planId, userId, channelId: DEPLOYS, responseUrl: url, messageTs: message.ts });
      return url.split('/').pop()!;
    };
    const asker = await pressApprove(alice);
    expect(String((await rig.slack.waitFor(() => rig.slack.responsesTo(asker)[0]))!.body.text)).toMatch(/^You asked for this deploy, so you cannot approve it: a second person must\./);
    const merger = await pressApprove(bob);
    expect(String((await rig.slack.waitFor(() => rig.slack.responsesTo(merger)[0]))!.body.text)).toMatch(/Only an approver of prod may approve deploys/);
    expect(ups('prod')).toHaveLength(0);

    await pressApprove(carol);
    await until(() => ups('prod').length === 1 && JSON.stringify(rig.slack.messagesIn(DEPLOYS).find((m) => m.ts === message.ts)?.blocks).includes('prod deployed'));
    expect(ups('prod')[0]!.options.revision).toBe(mergeSha);
    const plan = await rig.cockpit.deployer.plan(planId);
    expect(plan).toMatchObject({ requestedBy: alice, confirmedBy: bob, approvedBy: carol, source: { pullRequest: pr.number, mergeSha } });
  });

  test('prod: an approving review of the merged head by an approver who neither asked nor merged deploys at once', async () => {
    rig.github.commit('staging', { message: 'Tune prod again' });
    const responseUrl = rig.slack.responseUrl();
    await sendSlashCommand({ url: `${rig.base}/slack/events`, signingSecret: SIGNING_SECRET, text: 'promote prod', userId: alice, channelId: DEPLOYS, responseUrl });
    await rig.slack.waitFor(() => rig.slack.responsesTo(responseUrl.split('/').pop()!).length > 0);
    const pr = rig.github.pullRequests().find((p) => p.base === 'master' && p.state === 'open')!;
    rig.github.addReview(pr.number, 'carol-gh', 'APPROVED');
    const mergeSha = rig.github.mergePullRequest(pr.number, 'bob-gh');
    const before = ups('prod').length;
    await deliver(mergedPayload(pr.number));
    expect(ups('prod').slice(before).map((u) => u.options.revision)).toEqual([mergeSha]);
    const [merged] = await rig.cockpit.store.audit.query({ action: 'deploy.merge' });
    expect(merged).toMatchObject({ actor: 'github:bob-gh for U0BOB00001', detail: expect.objectContaining({ approvedOnGitHubBy: carol }) });
  });

  test('a merger the team file does not know deploys nothing', async () => {
    const pr = openPr('dev', 'alice-gh');
    rig.github.mergePullRequest(pr.number, 'stranger-gh');
    const before = ups('dev').length;
    await deliver(mergedPayload(pr.number));
    expect(ups('dev')).toHaveLength(before);
    expect(deployComment(pr.number, 'dev')).toContain('was merged by @stranger-gh, who is not in cockpit.yml');
  });

  test('merges delivered out of order never roll back: the older one finds the stack already runs it', async () => {
    const first = openPr('dev', 'alice-gh');
    const firstSha = rig.github.mergePullRequest(first.number, 'alice-gh');
    const second = openPr('dev', 'bob-gh');
    const secondSha = rig.github.mergePullRequest(second.number, 'bob-gh');
    const before = ups('dev').length;
    await deliver(mergedPayload(second.number));
    await deliver(mergedPayload(first.number));
    expect(ups('dev').slice(before).map((u) => u.options.revision)).toEqual([secondSha]);
    expect(firstSha).not.toBe(secondSha);
  });

  test('an outsider’s PR is previewed when a team member comments `cockpit preview`; an outsider’s comment runs nothing', async () => {
    const pr = openPr('integration', 'stranger-gh', 'dev');
    const previews = () => rig.engine.calls.filter((c) => c.method === 'preview' && c.code?.kind === 'pull_request');
    expect(await deliverEvent('issue_comment', comment(pr.number, 'stranger-gh', 'cockpit preview'))).toBe(202);
    expect(previews()).toHaveLength(0);
    expect(rig.github.comments(pr.number).filter((c) => c.author === 'cockpit-bot')).toHaveLength(0); // an outsider cannot make Cockpit write either
    expect(await deliverEvent('issue_comment', comment(pr.number, 'bob-gh', 'cockpit preview'))).toBe(202);
    expect(previews().at(-1)).toMatchObject({ stack: 'integration', code: { kind: 'pull_request', number: pr.number, headSha: pr.headSha } });
    expect(rig.github.comments(pr.number).find((c) => c.body.includes('<!-- cockpit-preview:integration -->'))?.body).toContain('Asked by Bob');
    const [audit] = await rig.cockpit.store.audit.query({ action: 'pr.preview' });
    expect(audit).toMatchObject({ actor: 'github:bob-gh for U0BOB00001', outcome: 'succeeded' });
  });

  test('/cockpit preview <pr> from Slack previews it for a team member who may preview the stack, and refuses one who may not', async () => {
    const pr = openPr('master', 'stranger-gh', 'staging');
    const ask = async (userId: string) => {
      const url = rig.slack.responseUrl();
      await sendSlashCommand({ url: `${rig.base}/slack/events`, signingSecret: SIGNING_SECRET, text: `preview ${pr.number}`, userId, channelId: DEPLOYS, responseUrl: url });
      return (await rig.slack.waitFor(() => rig.slack.responsesTo(url.split('/').pop()!)[0]))!.body;
    };
    expect(String((await ask(carol)).text)).toMatch(/You may not deploy prod: it needs the role sre/);
    const ok = await ask(bob);
    expect(ok).toMatchObject({ response_type: 'in_channel', text: `Preview of PR #${pr.number} on prod` });
    expect(rig.github.statuses(pr.headSha).filter((s) => s.context === 'cockpit/preview').at(-1)).toMatchObject({ state: 'success' });
  });

  test('a stack branch moved without a merged PR is said to lag its stack; a push that is a merge is not', async () => {
    const before = rig.github.branchTip('integration');
    const direct = rig.github.commit('integration', { message: 'Hotfix: raise the memory limit', author: { login: 'bob-gh' } });
    const posts = rig.slack.callsTo('chat.postMessage').length;
    expect(await deliverEvent('push', push('integration', before, direct, 'bob-gh'))).toBe(202);
    expect(lastMessage()).toContain('without a merged pull request. *integration* still runs');
    expect(lastMessage()).toContain(ACTIONS.deployPreviewAgain);
    const [lag] = await rig.cockpit.store.audit.query({ action: 'branch.push' });
    expect(lag).toMatchObject({ actor: 'github:bob-gh', target: 'integration', detail: expect.objectContaining({ after: direct, lags: true }) });

    const pr = openPr('integration', 'alice-gh', 'integration');
    const beforeMerge = rig.github.branchTip('integration');
    const mergeSha = rig.github.mergePullRequest(pr.number, 'alice-gh');
    const afterLag = rig.slack.callsTo('chat.postMessage').length;
    await deliverEvent('push', push('integration', beforeMerge, mergeSha, 'alice-gh'));
    expect(rig.slack.callsTo('chat.postMessage')).toHaveLength(afterLag);
    expect(afterLag).toBe(posts + 1);
  });

  test('a replayed `synchronize` for a head the PR has left previews nothing', async () => {
    const pr = openPr('dev', 'alice-gh');
    const oldHead = pr.headSha;
    rig.github.commit(pr.head, { message: 'Newer work' });
    const payload = { ...pullRequestPayload('synchronize', { ...pr, base: 'dev', headSha: oldHead, baseSha: rig.github.branchTip('dev'), author: 'alice-gh' }) };
    payload.pull_request.draft = false;
    const before = rig.engine.calls.length;
    expect(await deliverEvent('pull_request', payload)).toBe(202);
    expect(rig.engine.calls.length).toBe(before);
  });

  test('merges that meet a busy stack are queued, and the newest deploys once when the lock frees', async () => {
    rig.engine.holdUpdates = true;
    const plan = await rig.cockpit.deployer.preview('dev', { actor: { id: alice, via: 'slack' }, requestId: 'r-busy' });
    const running = rig.cockpit.deployer.confirm(plan.id, { actor: { id: alice, via: 'slack' }, requestId: 'r-busy-press' });
    const busy = await until(() => rig.engine.runningUpdate('dev'));
    const a = openPr('dev', 'alice-gh');
    rig.github.mergePullRequest(a.number, 'alice-gh');
    const b = openPr('dev', 'carol-gh');
    const bSha = rig.github.mergePullRequest(b.number, 'bob-gh');
    await deliver(mergedPayload(a.number));
    await deliver(mergedPayload(b.number));
    expect(lastMessage()).toContain('is busy');
    expect(deployComment(a.number, 'dev')).toMatch(/is busy .*: this merge deploys as soon as that ends/);
    expect(await rig.cockpit.store.merges.stacks()).toEqual(['dev']);

    rig.engine.holdUpdates = false;
    busy.succeed();
    await running;
    await until(() => ups('dev').at(-1)?.options.revision === bSha);
    await rig.cockpit.idle();
    const after = ups('dev').filter((u) => u !== busy);
    expect(after.at(-1)!.options.revision).toBe(bSha);
    expect(after.filter((u) => u.options.revision === bSha)).toHaveLength(1);
    expect(await rig.cockpit.store.merges.stacks()).toEqual([]);
    // Both PRs hear that they were deployed, by the one run that carried them.
    expect(deployComment(a.number, 'dev')).toMatch(/:white_check_mark: \*\*dev\*\* succeeded .* with #\d+/);
    expect(deployComment(b.number, 'dev')).toMatch(/:white_check_mark: \*\*dev\*\* succeeded/);
  });
});

/** Polls until `check` answers something truthy; bounded, so a broken path fails instead of hanging. */
async function until<T>(check: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
