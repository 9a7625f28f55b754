import { createHmac } from 'node:crypto';
import examples from '@octokit/webhooks-examples';
import { fromConfig as githubFromConfig } from '../../bot/integrations/github';
import { createCockpit } from '../../bot/cockpit';
import { FAKE_GITHUB_TOKEN, FakeGitHub } from '../fakes/github';
import { FakeInfraEngine } from '../fakes/pulumiEngine';
import { startFakeSlackApi } from '../fakes/slackApi';
import { exampleTeam, memoryLogger, slackTestConfig } from '../helpers';
import { FAST } from '../integrations/github/setup';

/**
 * Slack that hangs: every Web API call Cockpit makes gives up after its timeout and a bounded number of retries,
 * so a merge deploy that reports in the deploys channel still runs to its end, and shutdown is not held by Slack.
 */

const WEBHOOK_SECRET = 'hung-slack-webhook-secret';
const TIMING = { requestTimeoutMs: 150, retries: 1 };

type Payload = Record<string, unknown> & { pull_request: Record<string, unknown> };

describe('a hung Slack', () => {
  test('a Web API call gives up after its timeout, retried a bounded number of times', async () => {
    const fake = await startFakeSlackApi({ token: 'xoxb-hung' });
    const config = slackTestConfig(fake.url, { botToken: 'xoxb-hung', signingSecret: 's' });
    const cockpit = await createCockpit({ ...config, slack: { ...config.slack!, timing: TIMING } }, exampleTeam(), { log: memoryLogger().log });
    try {
      fake.hang('chat.postMessage');
      await expect(cockpit.slack!.client.chat.postMessage({ channel: 'C0DEPLOYS01', text: 'hello' })).rejects.toMatchObject({ code: 'slack_webapi_request_error' });
      expect(fake.callsTo('chat.postMessage')).toHaveLength(1 + TIMING.retries);
      fake.assertNoViolations();
    } finally {
      await cockpit.close();
      await fake.close();
    }
  });

  test('never holds a merge deploy or the shutdown after it', async () => {
    const github = await FakeGitHub.start({ owner: 'acme', repo: 'infra' });
    const fake = await startFakeSlackApi({ token: 'xoxb-hung' });
    const engine = new FakeInfraEngine();
    const log = memoryLogger('warn');
    const config = slackTestConfig(
      fake.url,
      { botToken: 'xoxb-hung', signingSecret: 's' },
      { GITHUB_REPO: 'acme/infra', GITHUB_TOKEN: FAKE_GITHUB_TOKEN, GITHUB_API_URL: github.url, GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET },
    );
    const codeHost = githubFromConfig(config.github!, { log: log.log, timing: FAST });
    const cockpit = await createCockpit({ ...config, slack: { ...config.slack!, timing: TIMING } }, exampleTeam(), { log: log.log, engine, codeHost, progressIntervalMs: 10 });
    try {
      const base = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}`;
      github.commit('master', { message: 'Stack files', files: { 'infra/Pulumi.dev.yaml': 'config: {}\n' } });
      github.createBranch('dev', 'master');
      github.createBranch('feature', 'master');
      github.commit('feature', { message: 'Tune dev' });
      const pr = await codeHost.openPullRequest({ base: 'dev', head: 'feature', title: 'Tune dev', body: '' });
      const mergeSha = github.mergePullRequest(pr.number, 'alice-gh');
      for (const method of ['chat.postMessage', 'chat.update', 'chat.postEphemeral']) fake.hang(method);

      const payload = structuredClone((examples.find((e) => e.name === 'pull_request')!.examples as unknown as Payload[]).find((e) => e.action === 'closed')!);
      const repository = { ...(payload.repository as object), full_name: 'acme/infra' };
      Object.assign(payload, { repository });
      Object.assign(payload.pull_request, {
        number: pr.number,
        html_url: pr.htmlUrl,
        base: { ...(payload.pull_request.base as object), ref: 'dev', sha: mergeSha, repo: repository },
        head: { ...(payload.pull_request.head as object), ref: 'feature', repo: repository },
        merged: true,
        merge_commit_sha: mergeSha,
        merged_by: { ...(payload.pull_request.user as object), login: 'alice-gh' },
      });
      const body = JSON.stringify(payload);
      const res = await fetch(`${base}/hooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}` },
        body,
      });
      expect(res.status).toBe(202);
      await cockpit.idle();
      // The merge was handled to its end while every post to Slack hung: its outcome is on the PR.
      expect(github.comments(pr.number).some((c) => /\*\*dev\*\*/.test(c.body))).toBe(true);
      expect(engine.updates.filter((u) => u.target.stack === 'dev').length).toBeLessThanOrEqual(1);
      expect(fake.callsTo('chat.postMessage').length).toBeGreaterThan(0);
      expect(fake.calls.every((c) => c.status === 0)).toBe(true);
      fake.assertNoViolations();
    } finally {
      await cockpit.close();
      await fake.close();
      await github.close();
    }
  });
});
