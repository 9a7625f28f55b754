import { loadConfig } from '../../bot/config';

describe('Slack workspace and app ids in the configuration', () => {
  const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'shh' };

  it('reads SLACK_TEAM_ID and SLACK_APP_ID, and leaves both unset by default', () => {
    expect(loadConfig({ ...base, SLACK_TEAM_ID: 'T0FAKETEAM', SLACK_APP_ID: 'A0FAKEAPP1' }).slack).toMatchObject({ teamId: 'T0FAKETEAM', appId: 'A0FAKEAPP1' });
    expect(loadConfig({ ...base, SLACK_TEAM_ID: ' ', SLACK_APP_ID: '' }).slack).toMatchObject({ teamId: undefined, appId: undefined });
  });

  it('refuses ids of the wrong kind, naming the key', () => {
    expect(() => loadConfig({ ...base, SLACK_TEAM_ID: 'U0ALICE001' })).toThrow(/SLACK_TEAM_ID: must be a Slack team id/);
    expect(() => loadConfig({ ...base, SLACK_APP_ID: 'cockpit' })).toThrow(/SLACK_APP_ID: must be a Slack app id/);
  });
});
