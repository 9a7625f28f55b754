import { loadConfig } from '../../bot/config';
import { createCockpit, type Cockpit } from '../../bot/cockpit';
import { FAKE_WORKSPACE, startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { FakeSocketMode } from '../fakes/slackSocketMode';
import { blockActionsPayload, eventCallbackPayload, slashCommandPayload } from '../fakes/slackSigned';
import { exampleTeam, memoryLogger } from '../helpers';
import { Teardown } from '../teardown';

/**
 * Socket Mode end to end through the configured Web API URL: Bolt's Socket Mode client opens its connection with
 * apps.connections.open on SLACK_API_URL (it went to slack.com whatever the setting), takes envelopes from the
 * fake's WebSocket, acknowledges each, and reconnects when Slack asks it to.
 */

const BOT_TOKEN = 'xoxb-socket-0000';
const APP_TOKEN = 'xapp-1-A0FAKEAPP1-0000-socket';

describe('Slack front in Socket Mode, through SLACK_API_URL', () => {
  let api: FakeSlackApi;
  let socket: FakeSocketMode;
  let cockpit: Cockpit;
  let base: string;
  const logger = memoryLogger('info');

  const opened = new Teardown();

  beforeAll(async () => {
    api = opened.add(await startFakeSlackApi({ token: BOT_TOKEN, appToken: APP_TOKEN }));
    socket = opened.add(await FakeSocketMode.start(api));
    const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: api.url, SLACK_BOT_ID: 'B0FAKEBOT1', SLACK_BOT_USER_ID: 'U0FAKEBOT1' });
    // A reconnect waits the ping timeout times the failures in a row: 5 s by default.
    cockpit = opened.add(await createCockpit({ ...config, port: 0, slack: { ...config.slack!, timing: { socketPingTimeoutMs: 1000 } }, store: { kind: 'sqlite', file: ':memory:' } }, exampleTeam(), { log: logger.log }));
  });
  afterEach(() => {
    api.assertNoViolations();
    socket.assertNoViolations();
  });
  afterAll(() => opened.run());

  const readyz = async () => {
    const res = await fetch(`${base}/readyz`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  test('starts by calling apps.connections.open on the configured URL with the app token, and is ready once connected', async () => {
    expect(await cockpit.slack!.health.ready()).toEqual({ up: false, detail: 'Socket Mode not connected' });
    base = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}`;
    const opened = api.callsTo('apps.connections.open');
    expect(opened).toHaveLength(1);
    expect(opened[0]!.token).toBe(APP_TOKEN);
    expect(socket.connections).toHaveLength(1);
    expect(await readyz()).toMatchObject({ status: 200, body: { slack: { up: true, detail: 'Socket Mode connected' } } });
    expect((await fetch(`${base}/slack/events`, { method: 'POST', body: '' })).status).toBe(404);
  });

  test('a slash command envelope is acknowledged, then answered through its response_url', async () => {
    const responseUrl = api.responseUrl();
    const ack = await socket.send('slash_commands', slashCommandPayload({ text: 'help', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl }) as unknown as Record<string, unknown>);
    expect(ack.payload).toEqual({});
    const id = responseUrl.split('/').pop()!;
    const reply = await api.firstResponseTo(id);
    expect(reply.body).toMatchObject({ response_type: 'ephemeral', text: 'Cockpit commands' });
  });

  test('an interactive envelope (a button) is acknowledged and goes through the core', async () => {
    const responseUrl = api.responseUrl();
    await socket.send('interactive', blockActionsPayload({ actionId: 'old.button', value: 'x', userId: 'U0BOB00001', channelId: 'C0DEPLOYS01', responseUrl }) as unknown as Record<string, unknown>);
    const id = responseUrl.split('/').pop()!;
    const reply = await api.firstResponseTo(id);
    expect(String(reply.body.text)).toMatch(/no longer handled/);
  });

  test('an events_api envelope is acknowledged and handled', async () => {
    const ack = await socket.send('events_api', eventCallbackPayload({ event: { type: 'app_home_opened', user: 'U0ALICE001', channel: 'D0HOME0001', tab: 'home' } }) as unknown as Record<string, unknown>);
    expect(ack.payload).toEqual({});
    await api.waitFor(() => api.callsTo('views.publish').length > 0);
  });

  test('what no listener handles is acknowledged at once, and a malformed payload is acknowledged and dropped', async () => {
    const unknownCommand = await socket.send('slash_commands', slashCommandPayload({ command: '/other', text: 'x', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl: api.responseUrl() }) as unknown as Record<string, unknown>);
    expect(unknownCommand.payload).toEqual({ text: 'Cockpit answers /cockpit only.' });
    const view = { type: 'view_submission', team: { id: FAKE_WORKSPACE.teamId }, user: { id: 'U0ALICE001' }, api_app_id: FAKE_WORKSPACE.apiAppId, view: { id: 'V1', type: 'modal', callback_id: 'x', state: { values: {} } } };
    expect((await socket.send('interactive', view)).payload).toEqual({});
    const noUser = blockActionsPayload({ actionId: 'deploy.confirm', value: '{}', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01' }) as unknown as Record<string, unknown>;
    delete noUser.user;
    expect((await socket.send('interactive', noUser)).payload).toEqual({});
    expect(logger.text()).toContain('refused a malformed Slack request');
    expect(logger.text()).not.toContain('unhandled error');
  });

  test('a disconnect asking to reconnect opens a new connection the same way, and envelopes flow on it', async () => {
    socket.disconnect('refresh_requested');
    await socket.waitForConnections(2, 10_000);
    await api.waitFor(() => api.callsTo('apps.connections.open').length === 2, 10_000);
    // Ready once the new connection's hello has arrived.
    for (let waited = 0; (await readyz()).status !== 200; waited += 20) {
      if (waited > 5000) throw new Error('not ready 5 s after reconnecting');
      await new Promise((r) => setTimeout(r, 20));
    }
    const responseUrl = api.responseUrl();
    await socket.send('slash_commands', slashCommandPayload({ text: 'status', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl }) as unknown as Record<string, unknown>);
    const id = responseUrl.split('/').pop()!;
    const reply = await api.firstResponseTo(id);
    expect(JSON.stringify(reply.body.blocks)).toContain('Socket Mode connected');
  });

  test('a stopped front is not ready', async () => {
    await cockpit.slack!.stop();
    expect(await cockpit.slack!.health.ready()).toEqual({ up: false, detail: 'Socket Mode not connected' });
  });
});
