import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createCockpit, type Cockpit } from '../../bot/cockpit';
import { ACTIONS } from '../../bot/slack/ids';
import { startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { sendAction, sendSlashCommand } from '../fakes/slackSigned';
import { exampleTeam, manualClock, memoryLogger, slackTestConfig } from '../helpers';

const SIGNING_SECRET = 'alerts-e2e-secret';
const BOT_TOKEN = 'xoxb-alerts-e2e';
const PROD_TOKEN = 'prod-token-0123456789abcdef';
const STAGING_TOKEN = 'staging-token-0123456789abcdef';
const ALERTS = 'C0ALERTS01';
const INCIDENTS = 'C0INCIDENT1';
// On Wednesday 25 November 2026 the example rotations have Carol on L1, Alice on L2, Bob on L3.
const ALICE = 'U0ALICE001';
const BOB = 'U0BOB00001';
const CAROL = 'U0CAROL001';
const DAVE = 'U0DAVE0001';
const MIN = 60_000;

type Body = Record<string, unknown> & { alerts: Array<Record<string, unknown>> };
const fixture = (name: string): Body => JSON.parse(readFileSync(join(__dirname, '..', 'contracts', 'alertmanager', `${name}.json`), 'utf8')) as Body;

/** The two-alert fixture, moved to prod (its `cluster` label and group key): a critical prod alert that pages. */
function prodCritical(): Body {
  return JSON.parse(JSON.stringify(fixture('firing-two-alerts')).replace(/cockpit-staging/g, 'cockpit-prod')) as Body;
}

describe('POST /hooks/alertmanager against the fake Slack', () => {
  let fake: FakeSlackApi;
  let cockpit: Cockpit;
  let base: string;
  let clock: ReturnType<typeof manualClock>;
  let alertmanager: Server;
  let silences: Array<Record<string, unknown>>;
  let alertmanagerUrl: string;

  beforeAll(async () => {
    fake = await startFakeSlackApi({ token: BOT_TOKEN });
    clock = manualClock('2026-11-25T12:00:00Z');
    silences = [];
    alertmanager = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/api/v2/silences') {
          silences.push(JSON.parse(body) as Record<string, unknown>);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ silenceID: `silence-${silences.length}` }));
        } else res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => alertmanager.listen(0, '127.0.0.1', r));
    alertmanagerUrl = `http://127.0.0.1:${(alertmanager.address() as AddressInfo).port}`;
    const team = exampleTeam();
    team.alerts!.stormGroupsPerMinute = 4;
    // Everyone of the example team holds a level each week; Dave holds none, so he can take an override.
    team.people.push({ slack: DAVE, name: 'Dave', roles: ['engineer'] });
    cockpit = await createCockpit(
      slackTestConfig(fake.url, { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }, { ALERTMANAGER_WEBHOOK_TOKENS: `prod=${PROD_TOKEN},staging=${STAGING_TOKEN}` }),
      team,
      { log: memoryLogger('error').log, clock, pagerTickMs: 10, slackPacing: { postIntervalMs: 5, updateIntervalMs: 5 } },
    );
    base = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}`;
  });
  // Each test in a minute of its own: the storm detector counts the groups of the last minute.
  beforeEach(() => clock.advance(2 * MIN));
  afterEach(async () => {
    // A page left open would escalate into the next test as its clock moves.
    for (const page of await cockpit.oncall.pager.open()) await cockpit.oncall.pager.resolveSource(page.source, 'test', 'r-cleanup');
    await cockpit.idle();
    fake.assertNoViolations();
    fake.reset();
  });
  afterAll(async () => {
    await cockpit.close();
    await fake.close();
    await new Promise((r) => alertmanager.close(r));
  });

  const post = (body: unknown, token: string | null = PROD_TOKEN, raw?: string) =>
    fetch(`${base}/hooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: raw ?? JSON.stringify(body),
    });
  const posts = (channel: string) => fake.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);
  const blocksOf = (channel: string, ts: string) => JSON.stringify(fake.messagesIn(channel).find((m) => m.ts === ts)?.blocks ?? []);
  const press = (actionId: string, value: string, userId: string, channelId: string, messageTs: string) =>
    sendAction({ url: `${base}/slack/events`, signingSecret: SIGNING_SECRET, actionId, value, userId, channelId, responseUrl: fake.responseUrl(), messageTs });
  const settle = () => cockpit.idle();

  test('a critical prod alert posts one grouped message and pages L1; repeats change nothing; no ack → L2 on time; ack in channel stops it and edits the message; resolve edits it', async () => {
    const body = prodCritical();
    body.alerts[0]!.labels = { ...(body.alerts[0]!.labels as object), customer_impact: 'true' };
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 2, kind: 'group', created: true, paged: true });
    const [message] = await fake.waitFor(() => posts(ALERTS).length > 0 && posts(ALERTS));
    const ts = String(message!.response.ts);
    await fake.waitFor(() => posts(CAROL).length > 0);
    await settle();
    const blocks = blocksOf(ALERTS, ts);
    expect(blocks).toContain('KubePodCrashLooping');
    expect(blocks).toContain('2 firing');
    expect(blocks).toContain('runbook');
    expect(blocks).toContain(ACTIONS.alertSilence);
    expect(blocks).toContain(ACTIONS.alertDeclareIncident);
    expect(blocks).toContain('L1');
    expect(String(posts(CAROL)[0]!.args.text)).toContain('PAGE');

    // Alertmanager's group_interval and repeat_interval resends: nothing new.
    const callsBefore = fake.calls.length;
    expect((await post(body)).status).toBe(200);
    expect((await post(body)).status).toBe(200);
    await settle();
    expect(fake.calls.length).toBe(callsBefore);

    clock.advance(5 * MIN);
    await fake.waitFor(() => posts(ALICE).length > 0, 3000);
    await settle();
    expect(posts(CAROL)).toHaveLength(2); // L1 keeps being paged

    // Alice (on call at L2) acknowledges on the alert's message in the channel.
    expect((await press(ACTIONS.alertAcknowledge, buttonValue(blocksOf(ALERTS, ts), ACTIONS.alertAcknowledge), ALICE, ALERTS, ts)).status).toBe(200);
    await fake.waitFor(() => blocksOf(ALERTS, ts).includes(`Acknowledged by <@${ALICE}>`), 3000).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify(fake.responses.map((r) => r.body.text))} ${blocksOf(ALERTS, ts)}`);
    });
    clock.advance(15 * MIN);
    await new Promise((r) => setTimeout(r, 100));
    await settle();
    expect(posts(BOB)).toHaveLength(0);

    const resolved = JSON.parse(JSON.stringify(fixture('resolved-one-alert')).replace(/cockpit-staging/g, 'cockpit-prod')) as Body;
    const second = { ...resolved.alerts[0]!, fingerprint: '8d02be64c1a9f377', startsAt: body.alerts[1]!.startsAt };
    resolved.alerts.push(second);
    expect((await post(resolved)).status).toBe(200);
    await fake.waitFor(() => blocksOf(ALERTS, ts).includes('0 firing'), 3000);
    expect(blocksOf(ALERTS, ts)).toContain('resolved');
    expect(posts(ALERTS)).toHaveLength(1);
    const metrics = await cockpit.metrics.registry.metrics();
    expect(metrics).toMatch(/cockpit_alerts_received_total\{status="firing"\} 6/);
    expect(metrics).toMatch(/cockpit_pages_total\{level="L1",outcome="acknowledged"\} 1/);
    expect(metrics).toMatch(/cockpit_page_ack_seconds_count\{level="L1"\} 1/);
  });

  test('a staging warning posts without paging; info is kept but not posted', async () => {
    const body = fixture('truncated-warning');
    const staging = JSON.parse(JSON.stringify(body).replace(/cockpit-prod/g, 'cockpit-staging')) as Body;
    expect((await post(staging, STAGING_TOKEN)).status).toBe(200);
    const [message] = await fake.waitFor(() => posts(ALERTS).length > 0 && posts(ALERTS));
    await settle();
    const blocks = blocksOf(ALERTS, String(message!.response.ts));
    expect(blocks).toContain('+148 more Alertmanager did not send');
    expect(blocks).toContain('staging');
    expect(fake.callsTo('chat.postMessage').filter((c) => /^U/.test(String(c.args.channel)))).toHaveLength(0);

    const info = JSON.parse(JSON.stringify(staging).replace(/"warning"/g, '"info"').replace(/NodeFilesystemSpaceFillingUp/g, 'SomethingInfo')) as Body;
    expect(await (await post(info, STAGING_TOKEN)).json()).toMatchObject({ shown: false, paged: false });
    await settle();
    expect(posts(ALERTS)).toHaveLength(1);
  });

  test('refuses what it cannot trust or read: 401, 403 for another stack, 400 with a reason, 413', async () => {
    expect((await post(prodCritical(), null)).status).toBe(401);
    expect((await post(prodCritical(), 'not-a-token-at-all-000000')).status).toBe(401);
    const wrongStack = await post(prodCritical(), STAGING_TOKEN);
    expect(wrongStack.status).toBe(403);
    expect(((await wrongStack.json()) as { error: string }).error).toContain("not prod's");
    const mixed = prodCritical();
    mixed.alerts[1]!.labels = { ...(mixed.alerts[1]!.labels as object), cluster: 'cockpit-dev' };
    expect((await post(mixed)).status).toBe(403);
    const noJson = await post(undefined, PROD_TOKEN, '{"version": "4",');
    expect(noJson.status).toBe(400);
    const v3 = await post({ ...prodCritical(), version: '3' });
    expect(v3.status).toBe(400);
    expect(((await v3.json()) as { error: string }).error).toMatch(/^version: only webhook format version "4"/);
    expect((await post({ ...prodCritical(), alerts: [{ status: 'firing', labels: { alertname: 42 } }] })).status).toBe(400);
    expect((await post({ ...prodCritical(), alerts: 'x'.repeat(100) })).status).toBe(400);
    expect(await postOnItsOwnConnection(`${base}/hooks/alertmanager`, PROD_TOKEN, JSON.stringify({ ...prodCritical(), junk: 'x'.repeat(9 * 1024 * 1024) }))).toBe(413);
    await settle();
    expect(fake.calls).toHaveLength(0);
  });

  test('a hostile body stays data: a __proto__ label, markup in annotations, a javascript: runbook link', async () => {
    const body = JSON.parse(JSON.stringify(prodCritical()).replace(/KubePodCrashLooping/g, 'HostileAlert').replace('"severity":"critical"', '"severity":"warning"')) as Body;
    body.commonLabels = { ...(body.commonLabels as object), severity: 'warning' };
    const raw = JSON.stringify(body).replace('"labels":{', '"labels":{"__proto__":{"polluted":"yes"},');
    const proto = await post(undefined, PROD_TOKEN, raw);
    expect(proto.status).toBe(400);
    expect(((await proto.json()) as { error: string }).error).toContain('"__proto__" is not a label name');
    expect((await post(undefined, PROD_TOKEN, JSON.stringify(body).replace('"labels":{', '"labels":{"constructor":"x",'))).status).toBe(400);
    body.alerts[0]!.annotations = { summary: '<!channel> <https://evil.example|click>', runbook_url: 'javascript:alert(1)' };
    const ok = await post(body);
    expect(ok.status).toBe(200);
    const [message] = await fake.waitFor(() => posts(ALERTS).length > 0 && posts(ALERTS));
    await settle();
    const blocks = blocksOf(ALERTS, String(message!.response.ts));
    expect(blocks).toContain('&lt;!channel&gt;');
    expect(blocks).not.toContain('javascript:');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('Silence 1h creates a silence in the group’s Alertmanager and the message shows it; a terminal may not silence prod', async () => {
    const body = JSON.parse(JSON.stringify(prodCritical()).replace('http://alertmanager.monitoring:9093', alertmanagerUrl).replace(/KubePodCrashLooping/g, 'SilenceMe')) as Body;
    expect((await post(body)).status).toBe(200);
    const [message] = await fake.waitFor(() => posts(ALERTS).length > 0 && posts(ALERTS));
    const ts = String(message!.response.ts);
    await settle();
    const group = buttonValue(blocksOf(ALERTS, ts), ACTIONS.alertSilence);
    const refused = await cockpit.core.act(ACTIONS.alertSilence, group, { requestId: 'r-c', actor: { id: BOB, via: 'console', as: 'bob' }, front: 'console', log: memoryLogger('error').log });
    expect(refused?.text).toMatch(/needs Slack/);
    expect((await press(ACTIONS.alertSilence, group, BOB, ALERTS, ts)).status).toBe(200);
    await fake.waitFor(() => blocksOf(ALERTS, ts).includes('Silenced by'), 3000);
    expect(silences).toHaveLength(1);
    expect(silences[0]).toMatchObject({
      matchers: expect.arrayContaining([{ name: 'alertname', value: 'SilenceMe', isRegex: false, isEqual: true }, { name: 'cluster', value: 'cockpit-prod', isRegex: false, isEqual: true }]),
      createdBy: 'Bob (via Cockpit)',
    });
    const window = new Date(String(silences[0]!.endsAt)).getTime() - new Date(String(silences[0]!.startsAt)).getTime();
    expect(window).toBe(60 * MIN);
  });

  test('a storm posts a few groups, then one digest edited in place; critical groups still page', async () => {
    for (let i = 0; i < 10; i++) {
      const body = prodCritical();
      body.groupKey = `storm-${i}`;
      body.commonLabels = { ...(body.commonLabels as object), alertname: `Storm${i % 3}`, severity: i < 8 ? 'warning' : 'critical' };
      for (const a of body.alerts) {
        a.labels = { ...(a.labels as object), alertname: `Storm${i % 3}`, severity: i < 8 ? 'warning' : 'critical' };
        a.fingerprint = `${String(a.fingerprint)}${i}`;
      }
      expect((await post(body)).status).toBe(200);
    }
    await settle();
    const channelPosts = posts(ALERTS);
    expect(channelPosts).toHaveLength(5); // four groups, then the digest
    const digest = channelPosts.find((c) => String(c.args.text).startsWith('Alert storm'))!;
    await fake.waitFor(() => blocksOf(ALERTS, String(digest.response.ts)).includes('6 new groups'), 3000);
    expect(blocksOf(ALERTS, String(digest.response.ts))).toContain('Storm');
    expect(posts(CAROL).length).toBeGreaterThanOrEqual(2); // the two critical groups paged L1
  });

  test('a 429 from Slack is waited out as Slack asks, and nothing is lost', async () => {
    fake.rateLimit('chat.postMessage', { retryAfterSeconds: 1, times: 1 });
    const body = JSON.parse(JSON.stringify(fixture('truncated-warning')).replace(/NodeFilesystemSpaceFillingUp/g, 'RateLimited')) as Body;
    body.groupKey = 'rate-limited';
    expect((await post(body)).status).toBe(200);
    await fake.waitFor(() => fake.callsTo('chat.postMessage').some((c) => c.status === 200), 4000);
    const [limited, ok] = fake.callsTo('chat.postMessage');
    expect(limited!.status).toBe(429);
    expect(ok!.at.getTime() - limited!.at.getTime()).toBeGreaterThanOrEqual(1000);
  });

  test('a silent Watchdog pages "monitoring is silent" for prod, and clears when beats return', async () => {
    const beat = fixture('watchdog');
    expect(await (await post(beat)).json()).toMatchObject({ kind: 'heartbeat', stack: 'prod' });
    await settle();
    expect(fake.calls).toHaveLength(0);
    clock.advance(6 * MIN);
    expect(await cockpit.scheduler.trigger('alerts.heartbeats')).toBe('ran');
    await fake.waitFor(() => posts(ALERTS).some((c) => String(c.args.text).includes('Monitoring is silent on cockpit-prod')), 3000);
    const pages = await cockpit.oncall.pager.open();
    const silent = pages.find((p) => p.source.kind === 'heartbeat')!;
    expect(silent.summary).toBe('monitoring is silent on cockpit-prod');
    expect((await post(beat)).status).toBe(200);
    await fake.waitFor(() => posts(ALERTS).some((c) => String(c.args.text).includes('Monitoring is back on cockpit-prod')), 3000);
    expect((await cockpit.oncall.pager.get(silent.id))!.status).toBe('resolved');
  });

  test('/cockpit oncall answers with an override in place, and the swap offer reaches the other person with Accept', async () => {
    const command = async (text: string, userId: string) => {
      const responseUrl = fake.responseUrl();
      expect((await sendSlashCommand({ url: `${base}/slack/events`, signingSecret: SIGNING_SECRET, text, userId, channelId: INCIDENTS, responseUrl })).status).toBe(200);
      const id = responseUrl.split('/').pop()!;
      return (await fake.waitFor(() => fake.responsesTo(id)[0]))!.body;
    };
    const override = await command(`oncall override <@${BOB}|bob> 2h`, CAROL);
    // Bob is on call at L3 this week: the override is refused, with the reason.
    expect(String(override.text)).toMatch(/Bob is on call at L3 then/);
    const ok = await command(`oncall override <@${DAVE}|dave> 2h`, CAROL);
    expect(String(ok.text)).toBe(`${DAVE} is on call at L1 until Wed 25 Nov ${new Date(clock.now().getTime() + 2 * 60 * MIN + 3_600_000).toISOString().slice(11, 16)}`);
    const who = await command('oncall', BOB);
    expect(String(who.text)).toContain(`L1: <@${DAVE}>`);
    await fake.waitFor(() => posts(DAVE).length > 0); // the taker is told
  });
});

/** A request on a connection of its own, closed after: a refused upload must not spoil the next request's socket. */
function postOnItsOwnConnection(url: string, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    req.end(body);
  });
}

function buttonValue(blocks: string, actionId: string): string {
  for (const m of blocks.matchAll(/"action_id":"([^"]+)","value":"([^"]+)"/g)) if (m[1] === actionId) return m[2]!;
  throw new Error(`no ${actionId} button in ${blocks}`);
}
