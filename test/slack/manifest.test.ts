import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SLASH_COMMAND } from '../../bot/slack/ids';

/** The manifest is what a team imports to create the app: it must match what the code listens to. */
describe('app.manifest.yml', () => {
  const manifest = parse(readFileSync(join(__dirname, '..', '..', 'app.manifest.yml'), 'utf8')) as {
    features: { slash_commands: Array<{ command: string; url: string; should_escape: boolean }>; app_home: Record<string, boolean> };
    oauth_config: { scopes: { bot: string[] } };
    settings: { event_subscriptions: { request_url: string; bot_events: string[] }; interactivity: { is_enabled: boolean; request_url: string }; socket_mode_enabled: boolean };
  };

  test('declares the slash command the listener registers, escaped, on the events endpoint', () => {
    const [cmd] = manifest.features.slash_commands;
    expect(cmd?.command).toBe(SLASH_COMMAND);
    expect(cmd?.should_escape).toBe(true);
    expect(cmd?.url).toMatch(/\/slack\/events$/);
  });

  test('interactivity and events reach POST /slack/events; App Home is on', () => {
    expect(manifest.settings.interactivity).toMatchObject({ is_enabled: true, request_url: expect.stringMatching(/\/slack\/events$/) });
    expect(manifest.settings.event_subscriptions.request_url).toMatch(/\/slack\/events$/);
    expect(manifest.settings.event_subscriptions.bot_events).toContain('app_home_opened');
    expect(manifest.settings.event_subscriptions.bot_events).toContain('member_joined_channel');
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(typeof manifest.settings.socket_mode_enabled).toBe('boolean');
  });

  test('asks for the scopes the whole product needs', () => {
    for (const scope of ['commands', 'chat:write', 'im:write', 'channels:manage', 'groups:write', 'users:read', 'usergroups:write', 'usergroups:read', 'pins:write', 'bookmarks:write']) {
      expect(manifest.oauth_config.scopes.bot).toContain(scope);
    }
    expect(new Set(manifest.oauth_config.scopes.bot).size).toBe(manifest.oauth_config.scopes.bot.length);
  });
});
