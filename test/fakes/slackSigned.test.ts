import { randomBytes } from 'node:crypto';
import { App, LogLevel, type BlockAction, type ButtonAction, type SlashCommand } from '@slack/bolt';
import { FAKE_WORKSPACE, startFakeSlackApi, type FakeSlackApi } from './slackApi';
import { Teardown } from '../teardown';
import {
  formEncode,
  sendAction,
  sendEvent,
  sendSlashCommand,
  sendUrlVerification,
  signSlackRequest,
  slackEventsUrl,
  slashCommandPayload,
  type DeliveryOptions,
} from './slackSigned';

// The worked example in Slack's "Verifying requests from Slack".
const SLACK_DOC_EXAMPLE = {
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: 1531420618,
  body:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
    '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
    '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

const signingSecret = randomBytes(16).toString('hex');
const USER = 'U0000000042';
const CHANNEL = 'C0000000001';

type Received =
  | { kind: 'command'; command: SlashCommand; retryNum?: number; retryReason?: string }
  | { kind: 'action'; body: BlockAction; action: ButtonAction }
  | { kind: 'event'; event: Record<string, unknown> };

let fake: FakeSlackApi;
let app: App;
let url: string;
const received: Received[] = [];

const opened = new Teardown();

beforeAll(async () => {
  fake = opened.add(await startFakeSlackApi({ token: FAKE_WORKSPACE.botToken }));
  app = new App({
    token: FAKE_WORKSPACE.botToken,
    botId: FAKE_WORKSPACE.botId,
    botUserId: FAKE_WORKSPACE.botUserId,
    signingSecret,
    clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
    // Bolt warns on every refused signature; these tests send forged requests on purpose.
    logLevel: LogLevel.ERROR,
  });
  app.command('/cockpit', async ({ command, ack, respond, client, context }) => {
    await ack();
    received.push({ kind: 'command', command, retryNum: context.retryNum, retryReason: context.retryReason });
    await respond({ response_type: 'ephemeral', text: `working on: ${command.text}` });
    await client.chat.postMessage({ channel: command.channel_id, text: `<@${command.user_id}> ran ${command.text}` });
  });
  app.action<BlockAction<ButtonAction>>('approve', async ({ ack, body, action, respond }) => {
    await ack();
    received.push({ kind: 'action', body, action });
    await respond({ replace_original: true, text: `approved ${action.value}` });
  });
  app.event('app_mention', async ({ event, say }) => {
    received.push({ kind: 'event', event: { ...event } });
    await say('on it');
  });
  url = slackEventsUrl(await app.start(0));
  opened.defer(() => app.stop());
});

afterEach(() => {
  received.length = 0;
  try {
    fake.assertNoViolations();
  } finally {
    fake.reset();
  }
});

afterAll(() => opened.run());

describe('the signature', () => {
  it("reproduces the example in Slack's documentation, field order and encoding included", () => {
    const payload = slashCommandPayload({
      verificationToken: 'xyzz0WbapA4vBCDEFasx0q6G',
      teamId: 'T1DC2JH3J',
      teamDomain: 'testteamnow',
      channelId: 'G8PSS9T3V',
      channelName: 'foobar',
      userId: 'U2CERLKJA',
      userName: 'roadrunner',
      command: '/webhook-collect',
      text: '',
      responseUrl: 'https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN',
      triggerId: '398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    });
    // Slack has added these two fields since the example was written.
    const { api_app_id: _appId, is_enterprise_install: _enterprise, ...fieldsOfTheExample } = payload;

    expect(formEncode(fieldsOfTheExample)).toBe(SLACK_DOC_EXAMPLE.body);
    expect(signSlackRequest(SLACK_DOC_EXAMPLE.signingSecret, SLACK_DOC_EXAMPLE.timestamp, SLACK_DOC_EXAMPLE.body)).toBe(SLACK_DOC_EXAMPLE.signature);
  });
});

describe('a slash command through Bolt', () => {
  const command = (options: Partial<DeliveryOptions> = {}, responseUrlId = 'cmd') =>
    sendSlashCommand({
      url,
      signingSecret,
      text: 'deploy staging',
      userId: USER,
      channelId: CHANNEL,
      responseUrl: fake.responseUrl(responseUrlId),
      ...options,
    });

  it('is accepted when signed, and reaches the listener with every field Slack sends', async () => {
    const delivery = await command();

    expect(delivery.status).toBe(200);
    const reply = await fake.waitFor(() => fake.responsesTo('cmd')[0]);
    expect(reply.body).toEqual({ response_type: 'ephemeral', text: 'working on: deploy staging' });
    const post = await fake.waitFor(() => fake.callsTo('chat.postMessage')[0]);
    expect(post).toMatchObject({ token: FAKE_WORKSPACE.botToken, args: { channel: CHANNEL, text: `<@${USER}> ran deploy staging` } });

    expect(received).toHaveLength(1);
    const [first] = received;
    expect(first?.kind === 'command' && first.command).toEqual({
      token: FAKE_WORKSPACE.verificationToken,
      team_id: FAKE_WORKSPACE.teamId,
      team_domain: FAKE_WORKSPACE.teamDomain,
      channel_id: CHANNEL,
      channel_name: 'cockpit',
      user_id: USER,
      user_name: USER.toLowerCase(),
      command: '/cockpit',
      text: 'deploy staging',
      api_app_id: FAKE_WORKSPACE.apiAppId,
      is_enterprise_install: 'false',
      response_url: fake.responseUrl('cmd'),
      trigger_id: expect.stringMatching(/^\d{12}\.\d{11}\.[0-9a-f]{32}$/),
    });
  });

  it.each([
    ['unsigned', { unsigned: true }],
    ['stale (over five minutes old)', { stale: true }],
    ['tampered after signing', { tamper: true }],
    ['signed with another secret', { signingSecret: 'not-the-signing-secret' }],
    ['given an extra argument after signing', { tamper: (body: string) => `${body}&text=destroy+production` }],
  ])('is refused with 401 when %s, and the listener never runs', async (_case, forgery) => {
    const delivery = await command(forgery);

    expect(delivery.status).toBe(401);
    expect(received).toEqual([]);
    expect(fake.calls).toEqual([]);
    expect(fake.responses).toEqual([]);
  });

  it('passes on the redelivery headers', async () => {
    expect((await command({ retryNum: 2, retryReason: 'http_timeout' })).status).toBe(200);
    await fake.waitFor(() => fake.callsTo('chat.postMessage')[0]);

    expect(received).toEqual([expect.objectContaining({ kind: 'command', retryNum: 2, retryReason: 'http_timeout' })]);
  });

  it('refuses a tamper that leaves the body as signed', async () => {
    await expect(command({ tamper: (body) => body })).rejects.toThrow(/unchanged/);
  });
});

describe('a button click through Bolt', () => {
  it('is accepted when signed and reaches the action listener', async () => {
    const delivery = await sendAction({
      url,
      signingSecret,
      actionId: 'approve',
      value: 'deploy-17',
      userId: USER,
      channelId: CHANNEL,
      messageTs: '1700000000.000100',
      responseUrl: fake.responseUrl('click'),
    });

    expect(delivery.status).toBe(200);
    const reply = await fake.waitFor(() => fake.responsesTo('click')[0]);
    expect(reply.body).toEqual({ replace_original: true, text: 'approved deploy-17' });
    const [first] = received;
    expect(first?.kind === 'action' && first.body).toMatchObject({
      type: 'block_actions',
      user: { id: USER },
      team: { id: FAKE_WORKSPACE.teamId },
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: CHANNEL },
      actions: [{ type: 'button', action_id: 'approve', value: 'deploy-17' }],
    });
  });

  it('is refused with 401 when the clicking user was swapped after signing', async () => {
    const delivery = await sendAction({ url, signingSecret, actionId: 'approve', value: 'x', userId: USER, channelId: CHANNEL, tamper: true });

    expect(delivery.status).toBe(401);
    expect(received).toEqual([]);
  });
});

describe('an Events API delivery through Bolt', () => {
  const mention = { type: 'app_mention', user: USER, text: `<@${FAKE_WORKSPACE.botUserId}> status`, channel: CHANNEL, ts: '1700000000.000200' };

  it('is accepted when signed and reaches the event listener', async () => {
    const delivery = await sendEvent({ url, signingSecret, event: mention });

    expect(delivery.status).toBe(200);
    const said = await fake.waitFor(() => fake.callsTo('chat.postMessage')[0]);
    expect(said.args).toMatchObject({ channel: CHANNEL, text: 'on it' });
    expect(received).toEqual([{ kind: 'event', event: expect.objectContaining(mention) }]);
  });

  it('is refused with 401 when the event was altered after signing', async () => {
    const delivery = await sendEvent({ url, signingSecret, event: mention, tamper: true });

    expect(delivery.status).toBe(401);
    expect(received).toEqual([]);
  });

  it('answers the url_verification handshake when signed, and refuses it unsigned', async () => {
    const handshake = await sendUrlVerification({ url, signingSecret, challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
    expect(handshake.status).toBe(200);
    expect(handshake.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });

    expect((await sendUrlVerification({ url, signingSecret, challenge: 'x', unsigned: true })).status).toBe(401);
  });
});
