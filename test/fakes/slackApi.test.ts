import { ErrorCode, LogLevel, WebClient, type Logger, type WebClientOptions } from '@slack/web-api';
import { FAKE_WORKSPACE, startFakeSlackApi, type FakeSlackApi } from './slackApi';

// The WebClient logs every failed call; these tests fail calls on purpose.
const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

let fake: FakeSlackApi;

function client(options: WebClientOptions & { token?: string | null } = {}): WebClient {
  const { token = FAKE_WORKSPACE.botToken, ...clientOptions } = options;
  return new WebClient(token ?? undefined, { slackApiUrl: fake.url, logger: silentLogger, retryConfig: { retries: 0 }, ...clientOptions });
}

beforeAll(async () => {
  fake = await startFakeSlackApi({ token: FAKE_WORKSPACE.botToken });
});

afterEach(() => {
  try {
    fake.assertNoViolations();
  } finally {
    fake.reset();
  }
});

afterAll(async () => {
  await fake.close();
});

describe('the contract check', () => {
  it('answers an unknown method with unknown_method and fails the test', async () => {
    await expect(client().apiCall('chat.postMessag', { channel: 'C0000000001', text: 'hi' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'unknown_method' },
    });
    expect(() => fake.assertNoViolations()).toThrow(/chat\.postMessag is not in Slack's Web API spec/);
    expect(fake.takeViolations()).toEqual([expect.objectContaining({ kind: 'unknown_method', request: 'POST /api/chat.postMessag' })]);
    expect(fake.calls).toEqual([]);
  });

  it('answers a missing required argument with invalid_arguments and fails the test', async () => {
    await expect(client().apiCall('chat.postMessage', { text: 'no channel' })).rejects.toMatchObject({
      data: { ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] missing required field: channel'] } },
    });
    await expect(client().chat.update({ channel: 'C0000000001', ts: '', text: 'blank ts' })).rejects.toMatchObject({
      data: { error: 'invalid_arguments' },
    });
    expect(fake.takeViolations().map((v) => v.detail)).toEqual([
      'chat.postMessage is missing required channel',
      'chat.update is missing required ts',
    ]);
  });

  it('requires the arguments Slack documents even where the spec file leaves them optional', async () => {
    await expect(client().apiCall('conversations.invite', { channel: 'C0000000001' })).rejects.toMatchObject({
      data: { error: 'invalid_arguments' },
    });
    expect(fake.takeViolations()).toEqual([expect.objectContaining({ detail: 'conversations.invite is missing required users' })]);
  });

  it('refuses a message with nothing to show', async () => {
    await expect(client().apiCall('chat.postMessage', { channel: 'C0000000001' })).rejects.toMatchObject({ data: { error: 'no_text' } });
    expect(fake.takeViolations()).toHaveLength(1);
  });

  it('answers a call without a token not_authed, and one with a foreign token invalid_auth', async () => {
    await expect(client({ token: null }).auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(client({ token: 'xoxb-someone-else' }).auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    expect(fake.takeViolations().map((v) => v.kind)).toEqual(['not_authed', 'invalid_auth']);
  });

  it('takes POST for every method but GET only where the spec declares it', async () => {
    const auth = { Authorization: `Bearer ${FAKE_WORKSPACE.botToken}` };
    const get = await fetch(`${fake.url}users.info?user=U0000000042`, { headers: auth });
    expect(await get.json()).toMatchObject({ ok: true, user: { id: 'U0000000042' } });

    const getPostOnly = await fetch(`${fake.url}chat.postMessage?channel=C0000000001&text=hi`, { headers: auth });
    expect(getPostOnly.status).toBe(405);
    const put = await fetch(`${fake.url}chat.postMessage`, { method: 'PUT', headers: auth });
    expect(put.status).toBe(405);
    expect(fake.takeViolations().map((v) => v.kind)).toEqual(['method_not_allowed', 'method_not_allowed']);
  });

  it('takes JSON only where the spec does, and only with a bearer token', async () => {
    const postJson = (method: string, body: object, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${fake.url}${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
        body: JSON.stringify(body),
      });
    const bearer = { Authorization: `Bearer ${FAKE_WORKSPACE.botToken}` };

    const ok = await postJson('chat.postMessage', { channel: 'C0000000001', blocks: [{ type: 'divider' }] }, bearer);
    expect(await ok.json()).toMatchObject({ ok: true, channel: 'C0000000001' });
    expect(fake.callsTo('chat.postMessage')[0]?.args.blocks).toEqual([{ type: 'divider' }]);

    expect(await (await postJson('users.info', { user: 'U0000000042' }, bearer)).json()).toMatchObject({ error: 'invalid_post_type' });
    expect(await (await postJson('chat.postMessage', { token: FAKE_WORKSPACE.botToken, channel: 'C0000000001', text: 'x' })).json()).toMatchObject({
      error: 'not_authed',
    });
    expect(fake.takeViolations().map((v) => v.kind)).toEqual(['unsupported_content_type', 'not_authed']);
  });

  it('refuses malformed Block Kit', async () => {
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    await expect(client().chat.postMessage({ channel: 'C0000000001', text: 'x', blocks: tooMany })).rejects.toMatchObject({
      data: { error: 'invalid_blocks' },
    });
    await expect(
      client().views.open({ trigger_id: '1.2.abc', view: { type: 'home', blocks: [] } as never }),
    ).rejects.toMatchObject({ data: { error: 'invalid_arguments' } });
    expect(fake.takeViolations().map((v) => v.detail)).toEqual([
      'chat.postMessage: blocks has 51 blocks; Slack allows 50',
      'views.open: view.type is home, expected modal',
    ]);
  });

  it('reports a request to a path Slack does not serve', async () => {
    const response = await fetch(`${fake.url.replace(/api\/$/, '')}oauth/authorize`);
    expect(response.status).toBe(404);
    expect(fake.takeViolations()).toEqual([expect.objectContaining({ kind: 'unknown_route', request: 'GET /oauth/authorize' })]);
  });
});

describe('valid calls', () => {
  it('posts a message and answers with its channel and ts, recording the call', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*deploy* started' } }];
    const result = await client().chat.postMessage({ channel: 'C0000000001', text: 'deploy started', blocks });

    expect(result).toMatchObject({ ok: true, channel: 'C0000000001', message: { text: 'deploy started', bot_id: FAKE_WORKSPACE.botId } });
    expect(result.ts).toMatch(/^\d{10}\.\d{6}$/);
    const [call] = fake.callsTo('chat.postMessage');
    expect(call).toMatchObject({ method: 'chat.postMessage', httpMethod: 'POST', token: FAKE_WORKSPACE.botToken, status: 200 });
    expect(call?.args).toEqual({ channel: 'C0000000001', text: 'deploy started', blocks });
    expect(fake.messagesIn('C0000000001')).toEqual([{ channel: 'C0000000001', ts: result.ts, text: 'deploy started', blocks, threadTs: undefined }]);
  });

  it('resolves a DM to a user and a channel by name, and refuses an unknown name', async () => {
    const dm = await client().chat.postMessage({ channel: 'U0000000042', text: 'you are on call' });
    expect(dm.channel).toBe('D0000000042');

    const created = await client().conversations.create({ name: 'inc-42-db-down' });
    const byName = await client().chat.postMessage({ channel: '#inc-42-db-down', text: 'hello' });
    expect(byName.channel).toBe(created.channel?.id);

    await expect(client().chat.postMessage({ channel: '#nowhere', text: 'x' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
  });

  it('updates a message in place', async () => {
    const posted = await client().chat.postMessage({ channel: 'C0000000001', text: 'waiting for approval' });
    const updated = await client().chat.update({ channel: 'C0000000001', ts: posted.ts!, text: 'approved by <@U0000000042>' });

    expect(updated).toMatchObject({ ok: true, channel: 'C0000000001', ts: posted.ts, text: 'approved by <@U0000000042>' });
    expect(fake.messagesIn('C0000000001').map((m) => m.text)).toEqual(['approved by <@U0000000042>']);
  });

  it('answers the other methods Cockpit uses realistically', async () => {
    const slack = client();
    expect(await slack.chat.postEphemeral({ channel: 'C0000000001', user: 'U0000000042', text: 'only you' })).toMatchObject({
      ok: true,
      message_ts: expect.stringMatching(/^\d{10}\.\d{6}$/),
    });

    const created = await slack.conversations.create({ name: 'inc-7-latency', is_private: false });
    expect(created.channel).toMatchObject({ id: expect.stringMatching(/^C[A-Z0-9]{8,}$/), name: 'inc-7-latency', is_channel: true });
    await expect(slack.conversations.create({ name: 'inc-7-latency' })).rejects.toMatchObject({ data: { error: 'name_taken' } });
    await expect(slack.conversations.create({ name: 'Inc 7' })).rejects.toMatchObject({ data: { error: 'invalid_name_specials' } });
    expect(await slack.conversations.invite({ channel: created.channel!.id!, users: 'U0000000042,U0000000043' })).toMatchObject({
      channel: { id: created.channel!.id },
    });
    expect(await slack.conversations.info({ channel: created.channel!.id! })).toMatchObject({ channel: { name: 'inc-7-latency' } });

    fake.addUser({ id: 'U0000000042', name: 'ada', real_name: 'Ada Lovelace', profile: { email: 'ada@example.org' } });
    expect(await slack.users.info({ user: 'U0000000042' })).toMatchObject({
      user: { id: 'U0000000042', name: 'ada', real_name: 'Ada Lovelace', is_bot: false, profile: { email: 'ada@example.org' } },
    });
    expect(await slack.users.info({ user: 'U0000000099' })).toMatchObject({ user: { id: 'U0000000099', deleted: false } });

    const modal = { type: 'modal' as const, callback_id: 'confirm_destroy', title: { type: 'plain_text' as const, text: 'Confirm' }, blocks: [] };
    expect(await slack.views.open({ trigger_id: '1.2.abc', view: modal })).toMatchObject({
      view: { id: expect.stringMatching(/^V/), type: 'modal', callback_id: 'confirm_destroy', team_id: FAKE_WORKSPACE.teamId },
    });
    expect(await slack.views.publish({ user_id: 'U0000000042', view: { type: 'home', blocks: [] } })).toMatchObject({ view: { type: 'home' } });

    expect(await slack.usergroups.users.update({ usergroup: 'S0000000001', users: 'U0000000042,U0000000043' })).toMatchObject({
      usergroup: { id: 'S0000000001', users: ['U0000000042', 'U0000000043'], user_count: 2 },
    });
    expect(await slack.auth.test()).toMatchObject({
      user_id: FAKE_WORKSPACE.botUserId,
      bot_id: FAKE_WORKSPACE.botId,
      team_id: FAKE_WORKSPACE.teamId,
    });
    expect(await slack.reactions.add({ channel: 'C0000000001', timestamp: '1700000000.000100', name: 'eyes' })).toEqual(
      expect.objectContaining({ ok: true }),
    );

    expect(fake.calls.map((c) => c.method)).toEqual([
      'chat.postEphemeral',
      'conversations.create',
      'conversations.create',
      'conversations.create',
      'conversations.invite',
      'conversations.info',
      'users.info',
      'users.info',
      'views.open',
      'views.publish',
      'usergroups.users.update',
      'auth.test',
      'reactions.add',
    ]);
  });
});

describe('incident channels', () => {
  it('keeps who was invited, what is pinned and bookmarked, as Slack answers them', async () => {
    const slack = client();
    const created = await slack.conversations.create({ name: 'inc-20261125-dashboard-fails' });
    const channel = created.channel!.id!;
    expect(fake.membersOf(channel)).toEqual([FAKE_WORKSPACE.botUserId]);
    await slack.conversations.invite({ channel, users: 'U0ALICE001' });
    await expect(slack.conversations.invite({ channel, users: 'U0ALICE001' })).rejects.toMatchObject({ data: { error: 'already_in_channel' } });
    await expect(slack.conversations.invite({ channel, users: FAKE_WORKSPACE.botUserId })).rejects.toMatchObject({ data: { error: 'cant_invite_self' } });
    expect(fake.membersOf(channel)).toEqual([FAKE_WORKSPACE.botUserId, 'U0ALICE001']);
    await expect(slack.conversations.create({ name: 'inc-20261125-dashboard-fails' })).rejects.toMatchObject({ data: { error: 'name_taken' } });

    const posted = await slack.chat.postMessage({ channel, text: 'summary' });
    await slack.pins.add({ channel, timestamp: posted.ts! });
    await expect(slack.pins.add({ channel, timestamp: '1.000001' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
    expect(fake.pinsIn(channel)).toEqual([posted.ts]);

    await slack.bookmarks.add({ channel_id: channel, title: 'Runbook', type: 'link', link: 'https://example.com/runbooks/incident-management' });
    await expect(slack.bookmarks.add({ channel_id: channel, title: 'Runbook', type: 'link', link: 'file:///runbooks/incident-management.md' })).rejects.toMatchObject({ data: { error: 'invalid_link' } });
    expect(fake.bookmarksIn(channel)).toEqual([{ title: 'Runbook', link: 'https://example.com/runbooks/incident-management' }]);
  });

  it('checks bookmarks.add, newer than the spec file, against its method reference', async () => {
    await expect(client().apiCall('bookmarks.add', { channel_id: 'C0000000001', title: 'Runbook', type: 'link' })).rejects.toMatchObject({ data: { error: 'invalid_arguments' } });
    expect(fake.takeViolations()).toEqual([expect.objectContaining({ kind: 'invalid_arguments', detail: 'bookmarks.add is missing required link' })]);
  });
});

describe('scripted responses', () => {
  it('answers with a scripted error, then the default once the script runs out', async () => {
    fake.respondWith('chat.postMessage', { ok: false, error: 'channel_not_found' }, { times: 1 });

    await expect(client().chat.postMessage({ channel: 'C0000000001', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'channel_not_found' },
    });
    await expect(client().chat.postMessage({ channel: 'C0000000001', text: 'x' })).resolves.toMatchObject({ ok: true });
    expect(fake.callsTo('chat.postMessage').map((c) => c.response.ok)).toEqual([false, true]);
  });

  it('computes a scripted answer from the call', async () => {
    fake.respondWith('users.info', ({ args }) => ({ ok: true, user: { id: args.user, tz: 'Asia/Tokyo' } }));
    expect(await client().users.info({ user: 'U0000000042' })).toMatchObject({ user: { id: 'U0000000042', tz: 'Asia/Tokyo' } });
  });

  it('still checks the contract before a script', async () => {
    fake.respondWith('chat.postMessage', { ok: true, channel: 'C0000000001', ts: '1700000000.000001' });
    await expect(client().apiCall('chat.postMessage', { text: 'no channel' })).rejects.toMatchObject({ data: { error: 'invalid_arguments' } });
    expect(fake.takeViolations()).toHaveLength(1);
  });

  it('will not script a method Slack does not have', () => {
    expect(() => fake.respondWith('chat.postMesage', { ok: true })).toThrow(/not a Slack Web API method/);
    expect(() => fake.rateLimit('chat.postMesage')).toThrow(/not a Slack Web API method/);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After, which the WebClient surfaces as a rate-limit error', async () => {
    fake.rateLimit('chat.postMessage', { retryAfterSeconds: 7 });

    await expect(client({ rejectRateLimitedCalls: true }).chat.postMessage({ channel: 'C0000000001', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 7,
    });
    expect(fake.callsTo('chat.postMessage')).toEqual([expect.objectContaining({ status: 429, response: { ok: false, error: 'ratelimited' } })]);
  });

  it('lets a retrying client through once the limit has passed', async () => {
    fake.rateLimit('chat.postMessage', { retryAfterSeconds: 0, times: 1 });
    const retrying = client({ retryConfig: { retries: 1, minTimeout: 1, maxTimeout: 1 } });

    await expect(retrying.chat.postMessage({ channel: 'C0000000001', text: 'x' })).resolves.toMatchObject({ ok: true });
    expect(fake.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
  });
});

describe('response_url', () => {
  const post = (url: string, body: unknown): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  it('records what is posted to a response_url it handed out', async () => {
    const url = fake.responseUrl('cmd-1');
    expect(url.startsWith(fake.url.replace(/api\/$/, ''))).toBe(true);

    const response = await post(url, { response_type: 'ephemeral', text: 'deploying staging' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(fake.responsesTo('cmd-1')).toEqual([
      expect.objectContaining({ id: 'cmd-1', body: { response_type: 'ephemeral', text: 'deploying staging' } }),
    ]);
  });

  it('fails a post to a response_url it never handed out, an empty one, and a sixth use', async () => {
    expect((await post(`${fake.url.replace(/api\/$/, '')}response_url/forged`, { text: 'x' })).status).toBe(404);

    const url = fake.responseUrl();
    expect((await post(url, { response_type: 'ephemeral' })).status).toBe(400);
    for (let use = 1; use <= 5; use += 1) expect((await post(url, { text: `update ${use}` })).status).toBe(200);
    expect((await post(url, { text: 'one too many' })).status).toBe(404);

    expect(fake.takeViolations().map((v) => v.kind)).toEqual(['response_url', 'response_url', 'response_url']);
    expect(fake.responses).toHaveLength(5);
  });
});

describe('waitFor', () => {
  it('resolves when an asynchronous call arrives', async () => {
    setTimeout(() => void client().chat.postMessage({ channel: 'C0000000001', text: 'later' }), 20);
    const call = await fake.waitFor(() => fake.callsTo('chat.postMessage')[0]);
    expect(call.args.text).toBe('later');
  });

  it('rejects with what was recorded when nothing matches in time', async () => {
    await client().auth.test();
    await expect(fake.waitFor(() => fake.callsTo('chat.update')[0], 50)).rejects.toThrow(/timed out after 50 ms; recorded: auth\.test/);
  });
});
