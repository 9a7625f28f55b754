import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCockpit, type Cockpit } from '../../../bot/cockpit';
import { ACTIONS } from '../../../bot/slack/ids';
import { buildAlertmanagerConfig } from '../../../infra/alerts/alertmanager';
import { startFakeSlackApi, type FakeSlackApi } from '../../fakes/slackApi';
import { sendAction } from '../../fakes/slackSigned';
import { exampleTeam, memoryLogger, slackTestConfig } from '../../helpers';

/**
 * End to end with the real Alertmanager (Debian's prometheus-alertmanager): it runs on loopback with the config
 * infra/alerts/alertmanager.ts renders, its timers shortened and its webhook pointed at Cockpit on loopback.
 * Alerts are posted to its API v2; Cockpit must post, page, ignore the repeats, edit on resolve, and the
 * Silence 1h button must create a silence this Alertmanager then honours.
 */

const BINARY = ['prometheus-alertmanager', 'alertmanager'].find((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);
const INSTALL = 'apt-get install --no-install-recommends prometheus-alertmanager';
if (!BINARY && process.env.CI === 'true') throw new Error(`prometheus-alertmanager is missing under CI: ${INSTALL}`);
const describeReal = BINARY ? describe : describe.skip;
if (!BINARY) console.warn(`skipping the real Alertmanager test: ${INSTALL}`);

const SIGNING_SECRET = 'real-am-secret';
const BOT_TOKEN = 'xoxb-real-am';
const PROD_TOKEN = 'prod-token-for-the-real-alertmanager';
const ALERTS = 'C0ALERTS01';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return port;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeReal('the real Alertmanager, end to end', () => {
  let dir: string;
  let am: ChildProcess;
  let amUrl: string;
  let fake: FakeSlackApi;
  let cockpit: Cockpit;
  let cockpitUrl: string;
  const amLog: string[] = [];

  beforeAll(async () => {
    fake = await startFakeSlackApi({ token: BOT_TOKEN });
    cockpit = await createCockpit(
      slackTestConfig(fake.url, { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }, { ALERTMANAGER_WEBHOOK_TOKENS: `prod=${PROD_TOKEN}` }),
      exampleTeam(),
      { log: memoryLogger('error').log, pagerTickMs: 50, slackPacing: { postIntervalMs: 5, updateIntervalMs: 5 } },
    );
    cockpitUrl = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}`;

    dir = mkdtempSync(join(tmpdir(), 'cockpit-am-'));
    writeFileSync(join(dir, 'token'), PROD_TOKEN);
    const config = buildAlertmanagerConfig({ webhookUrl: `${cockpitUrl}/hooks/alertmanager`, heartbeatUrl: `${cockpitUrl}/hooks/alertmanager`, bearerTokenFile: join(dir, 'token') });
    // Timers shortened from minutes to a second or two; everything else is what the clusters run.
    Object.assign(config.route, { group_wait: '200ms', group_interval: '1s', repeat_interval: '2s' });
    for (const route of config.route.routes) if ('group_interval' in route) Object.assign(route, { group_wait: '0s', group_interval: '1s', repeat_interval: '1s' });
    writeFileSync(join(dir, 'alertmanager.yml'), JSON.stringify(config));
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    am = spawn(BINARY!, [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, `--web.external-url=${amUrl}`, '--cluster.listen-address=', '--log.level=warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    am.stderr!.on('data', (c: Buffer) => amLog.push(c.toString()));
    await until('Alertmanager to be ready', async () => (await fetch(`${amUrl}/-/ready`).catch(() => undefined))?.ok, 20_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${amLog.join('')}`);
    });
  }, 40_000);

  afterAll(async () => {
    am?.kill('SIGTERM');
    await cockpit?.close();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const postAlerts = (alerts: Array<Record<string, unknown>>) =>
    fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) }).then((r) => {
      if (!r.ok) throw new Error(`Alertmanager refused the alerts: HTTP ${r.status}`);
    });
  const alert = (alertname: string, extra: Record<string, unknown> = {}) => ({
    labels: { alertname, severity: 'critical', cluster: 'cockpit-prod', namespace: 'shop', pod: `${alertname.toLowerCase()}-0` },
    annotations: { summary: `${alertname} is down`, runbook_url: 'https://github.com/example/cockpit/blob/master/runbooks/alerts/ProductServiceDown.md' },
    generatorURL: 'http://prometheus.example/graph',
    ...extra,
  });
  const groupMessages = (alertname: string) => fake.callsTo('chat.postMessage').filter((c) => c.args.channel === ALERTS && String(c.args.text).includes(alertname));
  const blocksOf = (ts: string) => JSON.stringify(fake.messagesIn(ALERTS).find((m) => m.ts === ts)?.blocks ?? []);
  const received = async () => Number(/cockpit_alerts_received_total\{status="firing"\} (\d+)/.exec(await cockpit.metrics.registry.metrics())?.[1] ?? 0);

  test('posts and pages a critical prod alert once, ignores the resends, and edits the message when it resolves', async () => {
    await postAlerts([alert('RealServiceDown')]);
    const [posted] = await until('the group message', () => groupMessages('RealServiceDown').length > 0 && groupMessages('RealServiceDown'));
    const ts = String(posted!.response.ts);
    const [l1] = await cockpit.oncall.oncall.onCall('L1');
    await until('the page to L1', () => fake.callsTo('chat.postMessage').some((c) => c.args.channel === l1));

    // Alertmanager resends the group every repeat interval: Cockpit hears them and changes nothing.
    const heard = await received();
    await until('two resends', async () => (await received()) >= heard + 2, 10_000);
    await cockpit.idle();
    expect(groupMessages('RealServiceDown')).toHaveLength(1);
    expect((await cockpit.oncall.pager.open()).filter((p) => p.source.kind === 'alert')).toHaveLength(1);

    await postAlerts([alert('RealServiceDown', { endsAt: new Date(Date.now() - 1000).toISOString() })]);
    await until('the resolved edit', () => blocksOf(ts).includes('0 firing'));
    expect(blocksOf(ts)).toContain('resolved');
    expect(groupMessages('RealServiceDown')).toHaveLength(1);
    await until('the page resolved with the alert', async () => (await cockpit.oncall.pager.open()).every((p) => p.source.kind !== 'alert'));
  }, 40_000);

  test('Silence 1h creates a silence that Alertmanager honours: the alert is muted and no more notifications come', async () => {
    await postAlerts([alert('RealNoisy')]);
    const [posted] = await until('the group message', () => groupMessages('RealNoisy').length > 0 && groupMessages('RealNoisy'));
    const ts = String(posted!.response.ts);
    await until('the Silence button', () => blocksOf(ts).includes(ACTIONS.alertSilence));
    const groupId = /"action_id":"alert\.silence","value":"([^"]+)"/.exec(blocksOf(ts))![1]!;
    // Bob has the sre role: a silencer.
    const res = await sendAction({ url: `${cockpitUrl}/slack/events`, signingSecret: SIGNING_SECRET, actionId: ACTIONS.alertSilence, value: groupId, userId: 'U0BOB00001', channelId: ALERTS, responseUrl: fake.responseUrl(), messageTs: ts });
    expect(res.status).toBe(200);
    await until('the message to show the silence', () => blocksOf(ts).includes('Silenced by <@U0BOB00001>'));

    const silences = (await (await fetch(`${amUrl}/api/v2/silences`)).json()) as Array<{ id: string; status: { state: string }; matchers: Array<{ name: string; value: string }>; createdBy: string }>;
    const active = silences.filter((s) => s.status.state === 'active');
    expect(active).toHaveLength(1);
    expect(active[0]!.createdBy).toBe('Bob (via Cockpit)');
    expect(active[0]!.matchers).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'alertname', value: 'RealNoisy' }), expect.objectContaining({ name: 'cluster', value: 'cockpit-prod' })]));
    const alerts = (await (await fetch(`${amUrl}/api/v2/alerts?filter=alertname%3D%22RealNoisy%22`)).json()) as Array<{ status: { state: string; silencedBy: string[] } }>;
    expect(alerts[0]!.status).toMatchObject({ state: 'suppressed', silencedBy: [active[0]!.id] });

    // Alertmanager stops sending the group: a few repeat intervals pass without a delivery of it.
    const deliveries = () => fake.calls.length;
    await new Promise((r) => setTimeout(r, 500));
    const before = await received();
    await postAlerts([alert('RealNoisy', { annotations: { summary: 'still noisy' } })]);
    await new Promise((r) => setTimeout(r, 4000));
    const calls = deliveries();
    expect(await received()).toBe(before);
    await cockpit.idle();
    expect(fake.calls.length).toBe(calls);
  }, 40_000);

  test('the inhibit rules hold: an imminent expiry mutes the same certificate’s early warning, not another one’s', async () => {
    const cert = (alertname: string, name: string, severity: string) => ({ labels: { alertname, severity, cluster: 'cockpit-prod', namespace: 'shop', name }, annotations: { summary: `${name} expires` } });
    await postAlerts([cert('CertificateExpiryImminent', 'shop-tls', 'critical'), cert('CertificateExpiringSoon', 'shop-tls', 'warning'), cert('CertificateExpiringSoon', 'api-tls', 'warning')]);
    type AmAlert = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };
    const soon = await until('Alertmanager to judge the warnings', async () => {
      const alerts = (await (await fetch(`${amUrl}/api/v2/alerts?filter=alertname%3D%22CertificateExpiringSoon%22`)).json()) as AmAlert[];
      return alerts.length === 2 && alerts.some((a) => a.status.state === 'suppressed') && alerts;
    });
    expect(soon.find((a) => a.labels.name === 'shop-tls')!.status).toMatchObject({ state: 'suppressed', inhibitedBy: [expect.any(String)] });
    expect(soon.find((a) => a.labels.name === 'api-tls')!.status.state).toBe('active');
  }, 20_000);

  test('the Watchdog arrives as the cluster’s heartbeat, not as a message', async () => {
    await postAlerts([{ labels: { alertname: 'Watchdog', severity: 'none', cluster: 'cockpit-prod' }, annotations: { summary: 'always firing' } }]);
    await until('the heartbeat', async () => (await cockpit.store.heartbeats.list()).find((h) => h.stack === 'prod'));
    await cockpit.idle();
    expect(groupMessages('Watchdog')).toHaveLength(0);
  }, 20_000);
});
