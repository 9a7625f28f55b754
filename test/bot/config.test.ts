import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../bot/config';
import { loadTeamConfig, parseTeamConfig, TeamConfigError } from '../../bot/teamConfig';

const root = join(__dirname, '..', '..');

describe('loadConfig (environment)', () => {
  test('no Slack tokens: console mode on the embedded store, with defaults', () => {
    const c = loadConfig({});
    expect(c.slack).toBeUndefined();
    expect(c.port).toBe(3000);
    expect(c.store).toEqual({ kind: 'sqlite', file: './.cockpit/cockpit.db' });
    expect(c.teamConfigPath).toBe('./cockpit.yml');
    expect(c.logLevel).toBe('info');
  });

  test('HTTP mode and PostgreSQL', () => {
    const c = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1-2-3',
      SLACK_SIGNING_SECRET: 'shh',
      SLACK_API_URL: 'http://127.0.0.1:9999/api/',
      PORT: '8080',
      DATABASE_URL: 'postgres://cockpit:pw@db:5432/cockpit',
    });
    expect(c.slack).toMatchObject({ botToken: 'xoxb-1-2-3', signingSecret: 'shh', apiUrl: 'http://127.0.0.1:9999/api/' });
    expect(c.slack?.appToken).toBeUndefined();
    expect(c.port).toBe(8080);
    expect(c.store).toEqual({ kind: 'postgres', url: 'postgres://cockpit:pw@db:5432/cockpit' });
  });

  test('Socket Mode needs no signing secret', () => {
    const c = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' });
    expect(c.slack?.appToken).toBe('xapp-1');
  });

  test('empty strings count as unset', () => {
    expect(loadConfig({ SLACK_BOT_TOKEN: '', DATABASE_URL: '  ' }).slack).toBeUndefined();
  });

  test('names every bad key and never prints a secret value', () => {
    const secret = 'super-secret-signing-value';
    let error: unknown;
    try {
      loadConfig({
        SLACK_BOT_TOKEN: 'not-a-bot-token-SECRETISH',
        SLACK_APP_TOKEN: secret,
        PORT: 'eighty',
        DATABASE_URL: 'mysql://root:hunter2@db/x',
        LOG_LEVEL: 'loud',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const key of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'PORT', 'DATABASE_URL', 'LOG_LEVEL']) expect(message).toContain(key);
    for (const value of [secret, 'SECRETISH', 'hunter2', 'eighty', 'loud']) expect(message).not.toContain(value);
  });

  test('a bot token alone is not enough for HTTP mode', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/SLACK_SIGNING_SECRET: is required/);
    expect(() => loadConfig({ SLACK_SIGNING_SECRET: 'x' })).toThrow(/SLACK_BOT_TOKEN: is required/);
  });
});

describe('team config (cockpit.yml)', () => {
  test('the shipped example is valid and is what the console runs with', () => {
    const team = loadTeamConfig(join(root, 'cockpit.yml'));
    expect(Object.keys(team.stacks)).toEqual(['dev', 'integration', 'staging', 'prod']);
    expect(team.stacks.prod).toMatchObject({ branch: 'master', pulumiStack: 'prod', ephemeral: false, approvers: ['approver'] });
    expect(team.stacks.dev?.ephemeral).toBe(true);
    expect(team.stacks.integration?.promotesFrom).toBe('dev');
    expect(team.people.length).toBeGreaterThan(1);
  });

  const example = readFileSync(join(root, 'cockpit.yml'), 'utf8');

  function problems(text: string): string[] {
    try {
      parseTeamConfig(text, 'cockpit.yml');
    } catch (err) {
      if (err instanceof TeamConfigError) return err.problems;
      throw err;
    }
    throw new Error('expected the config to be rejected');
  }

  test('errors give the line of the bad key', () => {
    const text = example.replace('pulumiStack: staging', 'pulumiStack: Staging Stack');
    const line = text.split('\n').findIndex((l) => l.includes('Staging Stack')) + 1;
    expect(problems(text)).toEqual([`cockpit.yml:${line}: stacks.staging.pulumiStack: must be lowercase letters, digits and dashes`]);
  });

  test('a missing key points at its parent', () => {
    const text = example.replace(/^ {4}branch: dev\n/m, '');
    const line = text.split('\n').findIndex((l) => l === '  dev:') + 1;
    expect(problems(text)).toEqual([`cockpit.yml:${line}: stacks.dev.branch: is required`]);
  });

  test('unknown keys, bad ids, unknown promotion source and duplicates are all reported', () => {
    const text = example
      .replace('deploys: C0DEPLOYS01', 'deploys: "#deploys"')
      .replace('promotesFrom: staging', 'promotesFrom: preprod')
      .replace('    ephemeral: true          #', '    ephemral: true          #')
      .replace('slack: U0BOB00001', 'slack: U0ALICE001');
    const found = problems(text).join('\n');
    expect(found).toMatch(/channels.deploys: must be a Slack channel id/);
    expect(found).toMatch(/stacks.prod.promotesFrom: names unknown stack "preprod"/);
    expect(found).toMatch(/stacks.dev: Unrecognized key: "ephemral"/);
    expect(found).toMatch(/people.1.slack: U0ALICE001 is listed twice/);
  });

  test('YAML syntax errors carry their line', () => {
    expect(problems('version: 1\nstacks: [\n')[0]).toMatch(/^cockpit.yml:\d+: /);
  });

  test('an unreadable file says so', () => {
    expect(() => loadTeamConfig('/nonexistent/cockpit.yml')).toThrow(/cannot read the file: ENOENT/);
  });
});
