import { createCockpit, type Cockpit } from '../../bot/cockpit';
import { FAKE_WORKSPACE, startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { blockActionsPayload, formEncode, sendAction, sendEvent, sendInteraction, sendSigned, sendSlashCommand, slashCommandPayload } from '../fakes/slackSigned';
import { exampleTeam, memoryLogger, slackTestConfig } from '../helpers';

/**
 * The Slack front on what Slack may send that Cockpit has no use for, or that is not what Slack sends at all:
 * each gets an answer at once (never Bolt's 3-second hold and 404, never a 500), and none runs anything.
 */

const SIGNING_SECRET = 'edges-signing-secret';
const BOT_TOKEN = 'xoxb-edges-0000';

describe('Slack payloads no listener handles, and malformed ones', () => {
  let fake: FakeSlackApi;
  let cockpit: Cockpit;
  let url: string;
  const logger = memoryLogger('info');
  const signed = { get url() { return url; }, signingSecret: SIGNING_SECRET };

  beforeAll(async () => {
    fake = await startFakeSlackApi({ token: BOT_TOKEN });
    cockpit = await createCockpit(slackTestConfig(fake.url, { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }), exampleTeam(), { log: logger.log });
    url = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}/slack/events`;
  });
  afterEach(() => {
    fake.assertNoViolations();
    fake.reset();
  });
  afterAll(async () => {
    await cockpit.close();
    await fake.close();
  });

  const user = { id: 'U0ALICE001', username: 'alice', name: 'alice', team_id: FAKE_WORKSPACE.teamId };
  const common = { team: { id: FAKE_WORKSPACE.teamId, domain: FAKE_WORKSPACE.teamDomain }, api_app_id: FAKE_WORKSPACE.apiAppId, token: FAKE_WORKSPACE.verificationToken, trigger_id: '1.2.unhandled' };

  test.each([
    ['a view_submission', { ...common, type: 'view_submission', user, view: { id: 'V0MODAL01', type: 'modal', callback_id: 'someone_elses', state: { values: {} }, blocks: [] } }],
    ['a view_closed', { ...common, type: 'view_closed', user, view: { id: 'V0MODAL01', type: 'modal', callback_id: 'x' }, is_cleared: false }],
    ['a global shortcut', { ...common, type: 'shortcut', user, callback_id: 'open_cockpit', action_ts: '1.2' }],
    ['a block_suggestion', { ...common, type: 'block_suggestion', user, action_id: 'pick', block_id: 'b', value: 'st' }],
    ['a block_actions with no action', blockActionsPayload({ actionId: 'x', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', overrides: { actions: [] } }) as unknown as Record<string, unknown>],
    ['a legacy interactive_message', { ...common, type: 'interactive_message', user, actions: [{ name: 'x', type: 'button', value: '1' }], callback_id: 'old' }],
  ])('%s is acknowledged at once and runs nothing', async (_name, payload) => {
    const res = await sendInteraction(signed, payload);
    // Bolt answered these 404 after holding them 3 s (the old behaviour), or 500.
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(fake.calls).toHaveLength(0);
    expect(logger.lines().at(-1)).toMatchObject({ msg: 'answered a Slack request no listener handles' });
  });

  test('a command Cockpit does not have is answered at once, saying which it has', async () => {
    const responseUrl = fake.responseUrl();
    const res = await sendSlashCommand({ ...signed, command: '/deploy', text: 'prod', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl });
    expect(res.status).toBe(200);
    expect(res.text).toBe('Cockpit answers /cockpit only.');
    expect(await cockpit.store.audit.query()).toHaveLength(0);
  });

  test('an event type no listener subscribes to is acknowledged and runs nothing', async () => {
    const res = await sendEvent({ ...signed, event: { type: 'reaction_added', user: 'U0ALICE001', reaction: 'tada', item: { type: 'message', channel: 'C0DEPLOYS01', ts: '1.1' } } });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.calls).toHaveLength(0);
  });

  test('a signed block_actions without a user gets 400, not 500, and nothing runs', async () => {
    const payload = blockActionsPayload({ actionId: 'deploy.confirm', value: '{}', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01' }) as unknown as Record<string, unknown>;
    delete payload.user;
    const res = await sendInteraction(signed, payload);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/^action payload: user: /);
    expect(logger.lines().at(-1)).toMatchObject({ level: 40, msg: 'refused a malformed Slack request', reason: expect.stringContaining('user') });
    expect(logger.text()).not.toContain('unhandled error');
  });

  test.each([
    ['a payload of no kind Slack sends', 'application/x-www-form-urlencoded', formEncode({ payload: JSON.stringify({ type: 'nonsense', user: { id: 'U1' } }) })],
    ['a command without a user', 'application/x-www-form-urlencoded', formEncode({ command: '/cockpit', text: 'help', team_id: FAKE_WORKSPACE.teamId, channel_id: 'C0DEPLOYS01' })],
    ['an event that is not an object', 'application/json', JSON.stringify({ type: 'event_callback', team_id: FAKE_WORKSPACE.teamId, event: 'app_home_opened' })],
    ['a block_actions whose action has no id', 'application/x-www-form-urlencoded', formEncode({ payload: JSON.stringify({ type: 'block_actions', user: { id: 'U0ALICE001' }, team: { id: FAKE_WORKSPACE.teamId }, actions: [{ type: 'button' }] }) })],
    ['a body that is not JSON', 'application/json', '{"type": "event_callback",'],
  ])('%s gets 400', async (_name, contentType, body) => {
    const res = await sendSigned(signed, contentType, body);
    expect(res.status).toBe(400);
    expect(fake.calls).toHaveLength(0);
  });

  test('a command without text is read as a bare /cockpit (help), and answered', async () => {
    const responseUrl = fake.responseUrl();
    const fields: Record<string, string> = { ...slashCommandPayload({ text: '', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl }) };
    delete fields.text;
    expect((await sendSigned(signed, 'application/x-www-form-urlencoded', formEncode(fields))).status).toBe(200);
    const id = responseUrl.split('/').pop()!;
    const [reply] = await fake.waitFor(() => fake.responsesTo(id).length > 0 && fake.responsesTo(id));
    expect(reply!.body).toMatchObject({ text: 'Cockpit commands' });
    expect(logger.text()).not.toContain('unhandled error');
  });

  test('Slack’s escaping of the text is undone once: a reply never shows &amp;amp;', async () => {
    const responseUrl = fake.responseUrl();
    // What Slack sends for `/cockpit deploy R&D<1>` typed by a person.
    await sendSlashCommand({ ...signed, text: 'deploy R&amp;D&lt;1&gt;', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl });
    const id = responseUrl.split('/').pop()!;
    const [reply] = await fake.waitFor(() => fake.responsesTo(id).length > 0 && fake.responsesTo(id));
    expect(String(reply!.body.text)).toMatch(/^deploy: unknown stack "R&D<1>"/);
    const shown = JSON.stringify(reply!.body.blocks);
    expect(shown).toContain('R&amp;D&lt;1&gt;');
    expect(shown).not.toContain('&amp;amp;');
    expect(shown).not.toContain('&amp;lt;');
  });

  test('mentions Slack links itself are left as they are, so they still parse', async () => {
    const responseUrl = fake.responseUrl();
    await sendSlashCommand({ ...signed, text: 'deploy <@U0BOB00001|bob>', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl });
    const id = responseUrl.split('/').pop()!;
    const [reply] = await fake.waitFor(() => fake.responsesTo(id).length > 0 && fake.responsesTo(id));
    expect(String(reply!.body.text)).toContain('"<@U0BOB00001|bob>"');
  });
});

describe('with SLACK_TEAM_ID and SLACK_APP_ID set', () => {
  let fake: FakeSlackApi;
  let cockpit: Cockpit;
  let url: string;
  const logger = memoryLogger('info');
  const signed = { get url() { return url; }, signingSecret: SIGNING_SECRET };

  beforeAll(async () => {
    fake = await startFakeSlackApi({ token: BOT_TOKEN });
    const config = slackTestConfig(fake.url, { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }, { SLACK_TEAM_ID: FAKE_WORKSPACE.teamId, SLACK_APP_ID: FAKE_WORKSPACE.apiAppId });
    cockpit = await createCockpit(config, exampleTeam(), { log: logger.log });
    url = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}/slack/events`;
  });
  afterEach(() => {
    fake.assertNoViolations();
    fake.reset();
  });
  afterAll(async () => {
    await cockpit.close();
    await fake.close();
  });

  const command = (extra: { teamId?: string; apiAppId?: string }) => {
    const responseUrl = fake.responseUrl();
    return { responseUrl, sent: sendSlashCommand({ ...signed, text: 'cancel staging', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl, ...extra }) };
  };

  test('the installed workspace and app are served', async () => {
    const { sent, responseUrl } = command({});
    expect((await sent).status).toBe(200);
    await fake.waitFor(() => fake.responsesTo(responseUrl.split('/').pop()!).length > 0);
  });

  test.each([
    ['another workspace', { teamId: 'T0OTHERTEAM' }, 'request comes from another Slack workspace'],
    ['another app', { apiAppId: 'A0OTHERAPP' }, 'request is for another Slack app'],
  ])('a command from %s is refused, logged, and runs nothing', async (_name, extra, reason) => {
    const before = (await cockpit.store.audit.query()).length;
    const { sent, responseUrl } = command(extra);
    const res = await sent;
    expect(res.status).toBe(200);
    expect(res.text).toBe('This Cockpit serves another Slack workspace.');
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.responsesTo(responseUrl.split('/').pop()!)).toHaveLength(0);
    expect(await cockpit.store.audit.query()).toHaveLength(before);
    expect(logger.lines().at(-1)).toMatchObject({ level: 40, msg: 'refused a Slack request from another workspace or app', reason });
  });

  test('a button and an event from another workspace run nothing', async () => {
    const responseUrl = fake.responseUrl();
    const press = await sendAction({ ...signed, actionId: 'old.button', value: 'x', userId: 'U0BOB00001', channelId: 'C0DEPLOYS01', responseUrl, teamId: 'T0OTHERTEAM' });
    expect(press.status).toBe(200);
    const home = await sendEvent({ ...signed, event: { type: 'app_home_opened', user: 'U0ALICE001', channel: 'D0HOME0001', tab: 'home' }, teamId: 'T0OTHERTEAM' });
    expect(home.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.responsesTo(responseUrl.split('/').pop()!)).toHaveLength(0);
    expect(fake.callsTo('views.publish')).toHaveLength(0);
  });
});
