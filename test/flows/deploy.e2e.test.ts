import { PassThrough } from 'node:stream';
import { createCockpit, type Cockpit } from '../../bot/cockpit';
import { loadConfig, type Config } from '../../bot/config';
import { runConsole } from '../../bot/console/repl';
import { ACTIONS } from '../../bot/slack/ids';
import type { ResourceChange } from '../../handlers/model/infra';
import { FakeInfraEngine } from '../fakes/pulumiEngine';
import { startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { sendAction, sendSlashCommand } from '../fakes/slackSigned';
import { exampleTeam, memoryLogger, slackTestConfig } from '../helpers';
import { Teardown } from '../teardown';

const SIGNING_SECRET = 'deploy-e2e-secret';
const BOT_TOKEN = 'xoxb-deploy-e2e';
const CHANNEL = 'C0DEPLOYS01';
const alice = 'U0ALICE001'; // sre + approver
const bob = 'U0BOB00001'; // sre
const carol = 'U0CAROL001'; // approver

const pvc: ResourceChange = { op: 'replace', type: 'kubernetes:core/v1:PersistentVolumeClaim', name: 'pg-data', urn: 'urn:pulumi:staging::infra::kubernetes:core/v1:PersistentVolumeClaim::pg-data' };
const web: ResourceChange = { op: 'update', type: 'kubernetes:apps/v1:Deployment', name: 'web', urn: 'urn:pulumi:staging::infra::kubernetes:apps/v1:Deployment::web' };


describe('deploy through signed Slack requests', () => {
  let fake: FakeSlackApi;
  let cockpit: Cockpit;
  let url: string;
  let engine: FakeInfraEngine;
  const opened = new Teardown();

  beforeAll(async () => {
    fake = opened.add(await startFakeSlackApi({ token: BOT_TOKEN }));
    engine = new FakeInfraEngine();
    cockpit = opened.add(await createCockpit(slackTestConfig(fake.url, { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }), exampleTeam(), { log: memoryLogger('warn').log, engine, progressIntervalMs: 20 }));
    url = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}/slack/events`;
  });
  beforeEach(() => {
    engine.holdUpdates = false;
    engine.setPreview('staging', { counts: { create: 2, update: 1, replace: 1, delete: 0, same: 40 }, changes: [web, pvc], steps: 45, revision: '0123456789abcdef' });
    engine.setPreview('prod', { counts: { create: 0, update: 1, replace: 0, delete: 0, same: 60 }, changes: [web], steps: 61, revision: 'fedcba9876543210' });
  });
  afterEach(() => {
    fake.assertNoViolations();
    fake.reset();
  });
  afterAll(() => opened.run());

  const command = async (text: string, userId: string) => {
    const responseUrl = fake.responseUrl();
    const res = await sendSlashCommand({ url, signingSecret: SIGNING_SECRET, text, userId, channelId: CHANNEL, responseUrl });
    expect(res.status).toBe(200);
    return responseUrl.split('/').pop()!;
  };
  const press = async (actionId: string, value: string, userId: string, messageTs: string) => {
    const responseUrl = fake.responseUrl();
    const res = await sendAction({ url, signingSecret: SIGNING_SECRET, actionId, value, userId, channelId: CHANNEL, responseUrl, messageTs });
    expect(res.status).toBe(200);
    return responseUrl.split('/').pop()!;
  };
  const message = (ts: string) => fake.messagesIn(CHANNEL).find((m) => m.ts === ts);
  const blocksOf = (ts: string) => JSON.stringify(message(ts)?.blocks ?? []);
  const buttonValue = (ts: string, actionId: string): string => {
    const found = /"action_id":"([^"]+)","value":"([^"]+)"/g;
    for (const m of blocksOf(ts).matchAll(found)) if (m[1] === actionId) return m[2]!;
    throw new Error(`no ${actionId} button on ${ts}: ${blocksOf(ts)}`);
  };
  const ephemeral = async (id: string) => (await fake.firstResponseTo(id)).body;

  test('preview with a risk report, confirm, progress edited in place, result', async () => {
    await command('deploy staging', alice);
    const [posted] = await fake.waitFor(() => fake.callsTo('chat.postMessage').length > 0 && fake.callsTo('chat.postMessage'));
    expect(String(posted!.args.text)).toBe('Previewing staging…');
    const ts = String(posted!.response.ts);
    await fake.waitFor(() => blocksOf(ts).includes(ACTIONS.deployConfirm));
    const report = blocksOf(ts);
    expect(report).toContain('High risk');
    expect(report).toContain('PersistentVolumeClaim (kubernetes) *pg-data*');
    expect(report).toContain('2 to create · 1 to update · 1 to replace · 0 to delete');
    expect(report).toContain('*none recorded*'); // last drill
    expect(report).toContain('`0123456789ab`');

    engine.holdUpdates = true;
    await press(ACTIONS.deployConfirm, buttonValue(ts, ACTIONS.deployConfirm), bob, ts);
    const update = await engine.nextUpdate();
    expect(update.options.revision).toBe('0123456789abcdef');
    update.progress(20, 45, 'updating kubernetes:apps/v1:Deployment web');
    await fake.waitFor(() => blocksOf(ts).includes('20/45 steps'));
    expect(blocksOf(ts)).toContain('updating kubernetes:apps/v1:Deployment web');
    update.succeed({ durationMs: 95_000, outputs: { url: { value: 'https://staging.example.com', secret: false }, dbPassword: { value: '[secret]', secret: true } } });
    await fake.waitFor(() => blocksOf(ts).includes('staging deployed'));
    const result = blocksOf(ts);
    expect(result).toContain('in 1m');
    expect(result).toContain('https://staging.example.com');
    expect(result).toContain('_[secret]_');
    expect(result).toContain(`confirmed by <@${bob}>`);
    // Every edit went to the one message: no new posts after the first.
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
    const edits = fake.callsTo('chat.update').length;
    expect(edits).toBeGreaterThanOrEqual(3);
    expect(await cockpit.store.locks.get('staging')).toBeUndefined();
  });

  test('a second deploy on a locked stack is refused with who holds it', async () => {
    await command('deploy staging', alice);
    const [posted] = await fake.waitFor(() => fake.callsTo('chat.postMessage').length > 0 && fake.callsTo('chat.postMessage'));
    const ts = String(posted!.response.ts);
    await fake.waitFor(() => blocksOf(ts).includes(ACTIONS.deployConfirm));
    const planId = buttonValue(ts, ACTIONS.deployConfirm);
    // Another operation holds the lock (a deploy from another replica, say).
    await cockpit.store.locks.acquire({ stack: 'staging', holder: carol, purpose: 'drill', requestId: 'r-drill1', owner: 'replica-b' });
    try {
      const reply = await ephemeral(await press(ACTIONS.deployConfirm, planId, alice, ts));
      expect(reply.response_type).toBe('ephemeral');
      expect(String(reply.text)).toMatch(/^staging is locked by Carol since \d\d:\d\d UTC \(0m\) for drill, ref r-drill1/);
      expect(blocksOf(ts)).toContain(ACTIONS.deployConfirm); // the report and its buttons stay
    } finally {
      await cockpit.store.locks.release('staging', 'r-drill1');
    }
  });

  test('prod waits for a second person from the approvers', async () => {
    await command('deploy prod', alice);
    const [posted] = await fake.waitFor(() => fake.callsTo('chat.postMessage').length > 0 && fake.callsTo('chat.postMessage'));
    const ts = String(posted!.response.ts);
    await fake.waitFor(() => blocksOf(ts).includes(ACTIONS.deployConfirm));
    await press(ACTIONS.deployConfirm, buttonValue(ts, ACTIONS.deployConfirm), alice, ts);
    await fake.waitFor(() => blocksOf(ts).includes(ACTIONS.deployApprove));
    expect(blocksOf(ts)).toContain('A second person must approve:* Alice, Carol');
    expect(engine.updates.filter((u) => u.target.stack === 'prod')).toHaveLength(0);

    const own = await ephemeral(await press(ACTIONS.deployApprove, buttonValue(ts, ACTIONS.deployApprove), alice, ts));
    expect(String(own.text)).toMatch(/you cannot approve it: a second person must/);
    const notApprover = await ephemeral(await press(ACTIONS.deployApprove, buttonValue(ts, ACTIONS.deployApprove), bob, ts));
    expect(String(notApprover.text)).toMatch(/Only an approver of prod/);

    await press(ACTIONS.deployApprove, buttonValue(ts, ACTIONS.deployApprove), carol, ts);
    await fake.waitFor(() => blocksOf(ts).includes('prod deployed'));
    expect(blocksOf(ts)).toContain(`approved by <@${carol}>`);
    const audit = (await cockpit.store.audit.query({ target: 'prod' })).map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['deploy.preview', 'deploy.confirm', 'deploy.approve', 'deploy.start', 'deploy.finish']));
  });

  test('people who may not deploy are refused before anything is posted', async () => {
    const reply = await ephemeral(await command('deploy prod', carol));
    expect(reply.response_type).toBe('ephemeral');
    expect(String(reply.text)).toMatch(/You may not deploy prod: it needs the role sre/);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(0);
  });

  test('without a channel Cockpit may post in, the asker is told what to do', async () => {
    fake.respondWith('chat.postMessage', { ok: false, error: 'not_in_channel' }, { times: 1 });
    const reply = await ephemeral(await command('deploy staging', alice));
    expect(String(reply.text)).toMatch(/Cockpit cannot post in this conversation/);
  });
});

describe('deploy in the local console', () => {
  test('risk report, a numbered Deploy choice, progress and the result', async () => {
    const engine = new FakeInfraEngine();
    engine.setPreview('dev', { counts: { create: 3, update: 0, replace: 0, delete: 1, same: 5 }, changes: [{ ...web, op: 'delete', name: 'old-worker' }], steps: 9 });
    const { cockpit, type, sees, text, end } = await consoleSession(engine, 'tester');
    try {
      type('deploy dev');
      await sees('[1] Deploy dev');
      expect(text()).toContain('Elevated risk');
      expect(text()).toContain('no restore drill has ever passed on this stack');
      expect(text()).toContain('delete Deployment (kubernetes) old-worker');
      type('1');
      await sees('dev deployed');
      // dev is ephemeral: what the deploy brought up now has an expiry, so it cannot be forgotten and left billing.
      expect(await cockpit.store.environments.get('dev')).toMatchObject({ state: 'up', upBy: alice });
      type('status');
      await waitUntil(() => /dev · branch dev · ephemeral · up, torn down in (4h|3h 59m)/.test(text()));
    } finally {
      await end();
    }
  });
});

describe('the console acts for a team member on its word alone', () => {
  test('it deploys a non-prod stack, but nobody at the console can approve prod, not even "as" an approver', async () => {
    const engine = new FakeInfraEngine();
    engine.setPreview('prod', { counts: { create: 0, update: 1, replace: 0, delete: 0, same: 9 }, changes: [web], steps: 10, revision: 'fedcba9876543210' });
    const { cockpit, type, sees, text, end } = await consoleSession(engine, 'mallory');
    expect(text()).toContain('approving, overriding a freeze and breaking a lock need Slack');
    type('deploy prod');
    await sees('[1] Deploy prod');
    type('1');
    await sees('[1] Approve and deploy');
    type('as U0CAROL001');
    await sees('now acting as Carol');
    type('1');
    await sees('you act for Carol on your word alone');
    expect(engine.updates).toHaveLength(0);
    const refused = await cockpit.store.audit.query({ action: 'policy.approve' });
    expect(refused[0]).toMatchObject({ actor: 'console:mallory for U0CAROL001', outcome: 'refused', detail: expect.objectContaining({ via: 'console' }) });
    const confirmed = await cockpit.store.audit.query({ action: 'deploy.confirm' });
    expect(confirmed[0]).toMatchObject({ actor: 'console:mallory for U0ALICE001' });

    // The same console may still deploy what needs no second person: Slack being down stops no staging deploy.
    type('as U0ALICE001');
    type('deploy staging');
    await sees('[1] Deploy staging');
    type('1');
    await sees('staging deployed');
    await end();
  });
});

/** The local console over a fresh Cockpit on an in-memory store, acting for Alice at the keyboard of `osUser`. */
async function consoleSession(engine: FakeInfraEngine, osUser: string) {
  const config: Config = { ...loadConfig({}), store: { kind: 'sqlite', file: ':memory:' } };
  const cockpit = await createCockpit(config, exampleTeam(), { log: memoryLogger('warn').log, engine, progressIntervalMs: 0 });
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (c: Buffer) => (text += c.toString()));
  const done = runConsole({ core: cockpit.core, team: cockpit.team, log: memoryLogger('warn').log, input, output, actorId: alice, osUser });
  return {
    cockpit,
    text: () => text,
    type: (line: string) => input.write(`${line}\n`),
    sees: (wanted: string) => waitUntil(() => text.includes(wanted)),
    end: async () => {
      input.end();
      await done;
      await cockpit.close();
    },
  };
}

async function waitUntil(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('shutting down during a deploy', () => {
  test('the running update is cancelled gracefully and its lock released before the store closes', async () => {
    const engine = new FakeInfraEngine();
    engine.setPreview('dev', { counts: { create: 1, update: 0, replace: 0, delete: 0, same: 0 }, changes: [], steps: 1 });
    const config: Config = { ...loadConfig({ COCKPIT_REPLICA_ID: 'replica-shutdown' }), store: { kind: 'sqlite', file: ':memory:' } };
    const cockpit = await createCockpit(config, exampleTeam(), { log: memoryLogger('warn').log, engine, progressIntervalMs: 0 });
    const plan = await cockpit.deployer.preview('dev', { actor: { id: alice, via: 'slack' }, requestId: 'r-shutdown' });
    engine.holdUpdates = true;
    const running = cockpit.deployer.confirm(plan.id, { actor: { id: alice, via: 'slack' }, requestId: 'r-shutdown-confirm' });
    await engine.nextUpdate();
    expect(await cockpit.store.locks.get('dev')).toMatchObject({ owner: 'replica-shutdown' });
    const closing = cockpit.close();
    const outcome = await running;
    expect(outcome.plan.status).toBe('cancelled');
    expect(engine.calls.some((c) => c.method === 'cancel' && c.stack === 'dev')).toBe(true);
    // close() waits for this replica's locks to go before it closes the store, so the store still answers here.
    expect(await cockpit.store.locks.get('dev')).toBeUndefined();
    await closing;
  });
});
