import { screenSlackPayload, type GateRules } from '../../bot/slack/gate';
import { unescapeSlackText } from '../../bot/slack/text';
import { FAKE_WORKSPACE } from '../fakes/slackApi';
import { blockActionsPayload, eventCallbackPayload, slashCommandPayload } from '../fakes/slackSigned';

const open: GateRules = { commands: ['/cockpit'], events: ['app_home_opened'], views: ['incident.declare'] };
const pinned: GateRules = { ...open, teamId: FAKE_WORKSPACE.teamId, appId: FAKE_WORKSPACE.apiAppId };

const command = (teamId?: string) => slashCommandPayload({ text: 'help', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl: 'https://hooks.slack.test/x', teamId });
const press = (overrides = {}) => blockActionsPayload({ actionId: 'deploy.confirm', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', overrides }) as unknown as Record<string, unknown>;

describe('screenSlackPayload', () => {
  test('a modal submission passes only for a modal Cockpit opened', () => {
    const submission = (callbackId: string) => ({ type: 'view_submission', team: { id: 'T1' }, user: { id: 'U0ALICE001' }, view: { id: 'V1', type: 'modal', callback_id: callbackId, state: { values: {} } } });
    expect(screenSlackPayload(submission('incident.declare'), open)).toEqual({ pass: true, kind: 'view' });
    expect(screenSlackPayload(submission('someone_elses'), open)).toMatchObject({ pass: false, refusal: 'unhandled' });
    expect(screenSlackPayload({ ...submission('incident.declare'), type: 'view_closed' }, open)).toMatchObject({ pass: false, refusal: 'unhandled' });
  });

  it('passes what Cockpit has listeners for', () => {
    expect(screenSlackPayload(command(), pinned)).toEqual({ pass: true, kind: 'command' });
    expect(screenSlackPayload(press(), pinned)).toEqual({ pass: true, kind: 'action' });
    expect(screenSlackPayload(eventCallbackPayload({ event: { type: 'app_home_opened', user: 'U1', tab: 'home' } }), pinned)).toEqual({ pass: true, kind: 'event' });
  });

  it('reads the workspace where Bolt does: the authorization of an event, the user’s team on an org-wide install', () => {
    const event = eventCallbackPayload({ event: { type: 'app_home_opened', user: 'U1' } }) as unknown as Record<string, unknown>;
    expect(screenSlackPayload({ ...event, team_id: 'T0OTHERTEAM' }, pinned)).toMatchObject({ pass: true });
    expect(screenSlackPayload({ ...event, authorizations: [{ team_id: 'T0OTHERTEAM' }] }, pinned)).toMatchObject({ pass: false, refusal: 'foreign' });
    const orgWide = press({ team: null });
    expect(screenSlackPayload(orgWide, pinned)).toMatchObject({ pass: true });
    expect(screenSlackPayload({ ...orgWide, user: { id: 'U1', team_id: 'T0OTHERTEAM' } }, pinned)).toMatchObject({ pass: false, refusal: 'foreign' });
  });

  it('refuses a payload that names no workspace when one is pinned, and one without api_app_id when an app is', () => {
    const { team_id: _team, ...noTeam } = command() as unknown as Record<string, unknown>;
    expect(screenSlackPayload(noTeam, pinned)).toMatchObject({ pass: false, refusal: 'malformed' });
    const { api_app_id: _app, ...noApp } = press();
    expect(screenSlackPayload(noApp, pinned)).toMatchObject({ pass: false, refusal: 'foreign', reason: 'request is for another Slack app' });
    expect(screenSlackPayload(noApp, open)).toMatchObject({ pass: true });
  });

  it('compares nothing when no workspace or app is pinned', () => {
    expect(screenSlackPayload(command('T0OTHERTEAM'), open)).toMatchObject({ pass: true });
  });

  it('refuses what is not an object, and names fields, never values, in its reasons', () => {
    for (const body of [null, [], 'x', 3]) expect(screenSlackPayload(body, open)).toMatchObject({ pass: false, refusal: 'malformed' });
    const verdict = screenSlackPayload({ ...press(), user: { id: 'EVIL<script>'.repeat(20) } }, open);
    expect(verdict).toMatchObject({ pass: false, refusal: 'malformed' });
    expect(JSON.stringify(verdict)).not.toContain('script');
  });
});

describe('unescapeSlackText', () => {
  it('undoes Slack’s three escapes once', () => {
    expect(unescapeSlackText('R&amp;D &lt;now&gt;')).toBe('R&D <now>');
    expect(unescapeSlackText('&amp;lt;')).toBe('&lt;');
    expect(unescapeSlackText('&quot; &#39; &nbsp;')).toBe('&quot; &#39; &nbsp;');
  });

  it('leaves what Slack links as it is', () => {
    expect(unescapeSlackText('swap <@U0BOB00001|bob> <#C0DEPLOYS01|deploys> <https://x.test|x>')).toBe('swap <@U0BOB00001|bob> <#C0DEPLOYS01|deploys> <https://x.test|x>');
  });
});
