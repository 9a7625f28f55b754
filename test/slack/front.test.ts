import { loadConfig, type Config } from '../../bot/config';
import { createCockpit } from '../../bot/cockpit';
import { listen } from '../../bot/http/server';
import { sendAction, sendEvent, sendSlashCommand } from '../fakes/slackSigned';
import { exampleTeam, memoryLogger } from '../helpers';
import { RIG_BOT_TOKEN, RIG_SIGNING_SECRET, useSlackCockpit } from './rig';

/** The Slack front end to end: signed HTTP in, real Bolt, real WebClient out to a contract-checked fake. */
describe('Slack front over HTTP', () => {
  const rig = useSlackCockpit();

  const slash = (text: string, extra: Partial<Parameters<typeof sendSlashCommand>[0]> = {}) => {
    const responseUrl = rig.fake.responseUrl();
    return {
      responseUrl,
      sent: sendSlashCommand({ ...rig.signed, text, userId: 'U0ALICE001', userName: 'alice', channelId: 'C0DEPLOYS01', responseUrl, ...extra }),
    };
  };

  test('start-up did not call auth.test (the bot ids are configured)', () => {
    expect(rig.fake.callsTo('auth.test')).toHaveLength(0);
  });

  test('a signed /cockpit help is acked within 3 s and answered ephemerally through response_url', async () => {
    const started = Date.now();
    const { sent, responseUrl } = slash('help');
    const res = await sent;
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
    const id = responseUrl.split('/').pop()!;
    const reply = await rig.fake.firstResponseTo(id);
    expect(reply.body).toMatchObject({ response_type: 'ephemeral', text: 'Cockpit commands' });
    expect(JSON.stringify(reply.body.blocks)).toContain('/cockpit deploy <stack> [--preview]');
  });

  test('bad input gets a short ephemeral error with the usage', async () => {
    const { sent, responseUrl } = slash('deploy moon');
    expect((await sent).status).toBe(200);
    const id = responseUrl.split('/').pop()!;
    const reply = await rig.fake.firstResponseTo(id);
    expect(reply.body.response_type).toBe('ephemeral');
    expect(String(reply.body.text)).toMatch(/^deploy: unknown stack "moon"/);
    expect(String(reply.body.text)).toContain('/cockpit deploy <stack> [--preview]');
  });

  test.each([
    ['unsigned', { unsigned: true }],
    ['stale', { stale: true }],
    ['tampered', { tamper: true }],
    ['signed with another secret', { signingSecret: 'not-the-secret' }],
  ])('%s requests get 401 and run nothing', async (_name, forged) => {
    const { sent, responseUrl } = slash('status', forged);
    expect((await sent).status).toBe(401);
    await new Promise((r) => setTimeout(r, 150));
    expect(rig.fake.responsesTo(responseUrl.split('/').pop()!)).toHaveLength(0);
    expect(rig.fake.calls).toHaveLength(0);
  });

  test('a Slack retry of the same delivery never runs the command twice', async () => {
    const responseUrl = rig.fake.responseUrl();
    const id = responseUrl.split('/').pop()!;
    const base = { ...rig.signed, text: 'cancel staging', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl, triggerId: '1111.2222.retrytest' };
    expect((await sendSlashCommand(base)).status).toBe(200);
    expect((await sendSlashCommand({ ...base, retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);
    expect((await sendSlashCommand({ ...base, retryNum: 2, retryReason: 'http_timeout' })).status).toBe(200);
    await rig.fake.waitFor(() => rig.fake.responsesTo(id).length > 0);
    await new Promise((r) => setTimeout(r, 150));
    expect(rig.fake.responsesTo(id)).toHaveLength(1);
    const audited = await rig.cockpit.store.audit.query({ action: 'command.cancel' });
    expect(audited).toHaveLength(1);
    expect(rig.logger.text()).toContain('dropped a repeated Slack delivery');
  });

  test('each request logs under its own request id, user and command', async () => {
    const { sent, responseUrl } = slash('unlock staging it looks stuck');
    await sent;
    await rig.fake.waitFor(() => rig.fake.responsesTo(responseUrl.split('/').pop()!).length > 0);
    const refused = rig.logger.lines().find((l) => l.msg === 'command refused' && l.command === 'unlock');
    expect(refused).toMatchObject({ user: 'U0ALICE001', requestId: expect.stringMatching(/^r-/) });
    // Bound once, by the core that parsed it (the listener bound it too, and every line carried it twice).
    const raw = rig.logger.text().split('\n').find((l) => l.includes('"command refused"'));
    expect(raw?.match(/"command":/g)).toHaveLength(1);
    expect(rig.logger.text()).not.toContain(RIG_BOT_TOKEN);
    expect(rig.logger.text()).not.toContain(RIG_SIGNING_SECRET);
  });

  test('a button press goes through the core; an unknown button answers the presser only', async () => {
    const responseUrl = rig.fake.responseUrl();
    const res = await sendAction({ ...rig.signed, actionId: 'old.button', value: 'x', userId: 'U0BOB00001', channelId: 'C0DEPLOYS01', responseUrl });
    expect(res.status).toBe(200);
    const reply = await rig.fake.firstResponseTo(responseUrl.split('/').pop()!);
    expect(reply.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(reply.body.text)).toMatch(/no longer handled/);
  });

  test('opening App Home publishes the status board', async () => {
    const res = await sendEvent({ ...rig.signed, event: { type: 'app_home_opened', user: 'U0ALICE001', channel: 'D0HOME0001', tab: 'home' } });
    expect(res.status).toBe(200);
    const [publish] = await rig.fake.waitFor(() => rig.fake.callsTo('views.publish').length > 0 && rig.fake.callsTo('views.publish'));
    expect(publish!.args.user_id).toBe('U0ALICE001');
    expect(JSON.stringify(publish!.args.view)).toContain('Cockpit status');
  });

  test('ack latency and command outcomes reach /metrics', async () => {
    const { sent, responseUrl } = slash('status');
    await sent;
    await rig.fake.waitFor(() => rig.fake.responsesTo(responseUrl.split('/').pop()!).length > 0);
    const metrics = await (await fetch(rig.signed.url.replace('/slack/events', '/metrics'))).text();
    expect(metrics).toMatch(/cockpit_slack_ack_seconds_count\{kind="command"\} [1-9]/);
    expect(metrics).toMatch(/cockpit_commands_total\{command="status",outcome="ok",front="slack"\} [1-9]/);
  });
});

describe('Slack front in Socket Mode', () => {
  test('SLACK_APP_TOKEN selects Socket Mode: no /slack/events route, health endpoints still served', async () => {
    const config: Config = {
      ...loadConfig({ SLACK_BOT_TOKEN: RIG_BOT_TOKEN, SLACK_APP_TOKEN: 'xapp-1-test', SLACK_BOT_ID: 'B1', SLACK_BOT_USER_ID: 'U1' }),
      port: 0,
      store: { kind: 'sqlite', file: ':memory:' },
    };
    const cockpit = await createCockpit(config, exampleTeam(), { log: memoryLogger().log });
    try {
      expect(cockpit.slack?.requestListener).toBeUndefined();
      // listen() would open the Socket Mode connection; the HTTP server alone is enough to check the routes.
      const port = await listen(cockpit.server!, 0, '127.0.0.1');
      expect((await fetch(`http://127.0.0.1:${port}/slack/events`, { method: 'POST', body: '' })).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await cockpit.close();
    }
  });
});
