import { FAKE_WORKSPACE } from '../fakes/slackApi';
import { blockActionsPayload, formEncode, sendAction, sendEvent, sendInteraction, sendSigned, sendSlashCommand, slashCommandPayload } from '../fakes/slackSigned';
import { useSlackCockpit } from './rig';

/**
 * The Slack front on what Slack may send that Cockpit has no use for, or that is not what Slack sends at all:
 * each gets an answer at once (never Bolt's 3-second hold and 404, never a 500), and none runs anything.
 */

describe('Slack payloads no listener handles, and malformed ones', () => {
  const rig = useSlackCockpit();

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
    const res = await sendInteraction(rig.signed, payload);
    // Bolt answered these 404 after holding them 3 s (the old behaviour), or 500.
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(rig.fake.calls).toHaveLength(0);
    expect(rig.logger.lines().at(-1)).toMatchObject({ msg: 'answered a Slack request no listener handles' });
  });

  test('a command Cockpit does not have is answered at once, saying which it has', async () => {
    const responseUrl = rig.fake.responseUrl();
    const res = await sendSlashCommand({ ...rig.signed, command: '/deploy', text: 'prod', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl });
    expect(res.status).toBe(200);
    expect(res.text).toBe('Cockpit answers /cockpit only.');
    expect(await rig.cockpit.store.audit.query()).toHaveLength(0);
  });

  test('an event type no listener subscribes to is acknowledged and runs nothing', async () => {
    const res = await sendEvent({ ...rig.signed, event: { type: 'reaction_added', user: 'U0ALICE001', reaction: 'tada', item: { type: 'message', channel: 'C0DEPLOYS01', ts: '1.1' } } });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(rig.fake.calls).toHaveLength(0);
  });

  test('a signed block_actions without a user gets 400, not 500, and nothing runs', async () => {
    const payload = blockActionsPayload({ actionId: 'deploy.confirm', value: '{}', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01' }) as unknown as Record<string, unknown>;
    delete payload.user;
    const res = await sendInteraction(rig.signed, payload);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/^action payload: user: /);
    expect(rig.logger.lines().at(-1)).toMatchObject({ level: 40, msg: 'refused a malformed Slack request', reason: expect.stringContaining('user') });
    expect(rig.logger.text()).not.toContain('unhandled error');
  });

  test.each([
    ['a payload of no kind Slack sends', 'application/x-www-form-urlencoded', formEncode({ payload: JSON.stringify({ type: 'nonsense', user: { id: 'U1' } }) })],
    ['a command without a user', 'application/x-www-form-urlencoded', formEncode({ command: '/cockpit', text: 'help', team_id: FAKE_WORKSPACE.teamId, channel_id: 'C0DEPLOYS01' })],
    ['an event that is not an object', 'application/json', JSON.stringify({ type: 'event_callback', team_id: FAKE_WORKSPACE.teamId, event: 'app_home_opened' })],
    ['a block_actions whose action has no id', 'application/x-www-form-urlencoded', formEncode({ payload: JSON.stringify({ type: 'block_actions', user: { id: 'U0ALICE001' }, team: { id: FAKE_WORKSPACE.teamId }, actions: [{ type: 'button' }] }) })],
    ['a body that is not JSON', 'application/json', '{"type": "event_callback",'],
  ])('%s gets 400', async (_name, contentType, body) => {
    const res = await sendSigned(rig.signed, contentType, body);
    expect(res.status).toBe(400);
    expect(rig.fake.calls).toHaveLength(0);
  });

  test('a command without text is read as a bare /cockpit (help), and answered', async () => {
    const responseUrl = rig.fake.responseUrl();
    const fields: Record<string, string> = { ...slashCommandPayload({ text: '', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl }) };
    delete fields.text;
    expect((await sendSigned(rig.signed, 'application/x-www-form-urlencoded', formEncode(fields))).status).toBe(200);
    const id = responseUrl.split('/').pop()!;
    const reply = await rig.fake.firstResponseTo(id);
    expect(reply.body).toMatchObject({ text: 'Cockpit commands' });
    expect(rig.logger.text()).not.toContain('unhandled error');
  });

  test('Slack’s escaping of the text is undone once: a reply never shows &amp;amp;', async () => {
    const responseUrl = rig.fake.responseUrl();
    // What Slack sends for `/cockpit deploy R&D<1>` typed by a person.
    await sendSlashCommand({ ...rig.signed, text: 'deploy R&amp;D&lt;1&gt;', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl });
    const id = responseUrl.split('/').pop()!;
    const reply = await rig.fake.firstResponseTo(id);
    expect(String(reply.body.text)).toMatch(/^deploy: unknown stack "R&D<1>"/);
    const shown = JSON.stringify(reply.body.blocks);
    expect(shown).toContain('R&amp;D&lt;1&gt;');
    expect(shown).not.toContain('&amp;amp;');
    expect(shown).not.toContain('&amp;lt;');
  });

  test('mentions Slack links itself are left as they are, so they still parse', async () => {
    const responseUrl = rig.fake.responseUrl();
    await sendSlashCommand({ ...rig.signed, text: 'deploy <@U0BOB00001|bob>', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl });
    const id = responseUrl.split('/').pop()!;
    const reply = await rig.fake.firstResponseTo(id);
    expect(String(reply.body.text)).toContain('"<@U0BOB00001|bob>"');
  });
});

describe('with SLACK_TEAM_ID and SLACK_APP_ID set', () => {
  const rig = useSlackCockpit(() => ({ env: { SLACK_TEAM_ID: FAKE_WORKSPACE.teamId, SLACK_APP_ID: FAKE_WORKSPACE.apiAppId } }));

  const command = (extra: { teamId?: string; apiAppId?: string }) => {
    const responseUrl = rig.fake.responseUrl();
    return { responseUrl, sent: sendSlashCommand({ ...rig.signed, text: 'cancel staging', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl, ...extra }) };
  };

  test('the installed workspace and app are served', async () => {
    const { sent, responseUrl } = command({});
    expect((await sent).status).toBe(200);
    await rig.fake.waitFor(() => rig.fake.responsesTo(responseUrl.split('/').pop()!).length > 0);
  });

  test.each([
    ['another workspace', { teamId: 'T0OTHERTEAM' }, 'request comes from another Slack workspace'],
    ['another app', { apiAppId: 'A0OTHERAPP' }, 'request is for another Slack app'],
  ])('a command from %s is refused, logged, and runs nothing', async (_name, extra, reason) => {
    const before = (await rig.cockpit.store.audit.query()).length;
    const { sent, responseUrl } = command(extra);
    const res = await sent;
    expect(res.status).toBe(200);
    expect(res.text).toBe('This Cockpit serves another Slack workspace.');
    await new Promise((r) => setTimeout(r, 100));
    expect(rig.fake.responsesTo(responseUrl.split('/').pop()!)).toHaveLength(0);
    expect(await rig.cockpit.store.audit.query()).toHaveLength(before);
    expect(rig.logger.lines().at(-1)).toMatchObject({ level: 40, msg: 'refused a Slack request from another workspace or app', reason });
  });

  test('a button and an event from another workspace run nothing', async () => {
    const responseUrl = rig.fake.responseUrl();
    const press = await sendAction({ ...rig.signed, actionId: 'old.button', value: 'x', userId: 'U0BOB00001', channelId: 'C0DEPLOYS01', responseUrl, teamId: 'T0OTHERTEAM' });
    expect(press.status).toBe(200);
    const home = await sendEvent({ ...rig.signed, event: { type: 'app_home_opened', user: 'U0ALICE001', channel: 'D0HOME0001', tab: 'home' }, teamId: 'T0OTHERTEAM' });
    expect(home.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(rig.fake.responsesTo(responseUrl.split('/').pop()!)).toHaveLength(0);
    expect(rig.fake.callsTo('views.publish')).toHaveLength(0);
  });
});
