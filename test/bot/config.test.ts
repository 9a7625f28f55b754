import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../bot/config';
import { loadTeamConfig, parseTeamConfig, TeamConfigError } from '../../bot/teamConfig';

const root = join(__dirname, '..', '..');
const example = readFileSync(join(root, 'cockpit.yml'), 'utf8');

/** What the team-file check says of `text`; a test of a bad file fails if the file is accepted. */
function problems(text: string): string[] {
  try {
    parseTeamConfig(text, 'cockpit.yml');
  } catch (err) {
    if (err instanceof TeamConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

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

  test('PORT: unset is 3000; empty, 0 or not a number is refused, never a random port', () => {
    expect(loadConfig({}).port).toBe(3000);
    expect(loadConfig({ PORT: ' 8080 ' }).port).toBe(8080);
    expect(() => loadConfig({ PORT: '' })).toThrow('PORT: is empty: set a port from 1 to 65535, or unset PORT for 3000');
    expect(() => loadConfig({ PORT: '0' })).toThrow('PORT: is 0 (a random port): set a port from 1 to 65535');
    for (const bad of ['65536', '-1', '3000.5', '0x50', '80 80']) expect(() => loadConfig({ PORT: bad })).toThrow(/PORT: is not a port number/);
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

  test('COCKPIT_ENGINE_ENV_ALLOW: extra names for Pulumi, never Cockpit’s own', () => {
    expect(loadConfig({}).pulumi.extraEnvNames).toEqual([]);
    expect(loadConfig({ COCKPIT_ENGINE_ENV_ALLOW: ' CLOUDFLARE_API_TOKEN, VAULT_TOKEN ,' }).pulumi.extraEnvNames).toEqual(['CLOUDFLARE_API_TOKEN', 'VAULT_TOKEN']);
    expect(() => loadConfig({ COCKPIT_ENGINE_ENV_ALLOW: 'VAULT_TOKEN,SLACK_BOT_TOKEN' })).toThrow(
      "COCKPIT_ENGINE_ENV_ALLOW: Cockpit's own settings, never passed to Pulumi, git or npm: SLACK_BOT_TOKEN",
    );
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

  test('approver roles that nobody holds are refused at their line: prod could never be approved', () => {
    const text = example.replace('approvers: [approver]', 'approvers: [release-manager]');
    const line = text.split('\n').findIndex((l) => l.includes('approvers: [release-manager]')) + 1;
    expect(problems(text)).toEqual([`cockpit.yml:${line}: stacks.prod.approvers: nobody in people holds the role "release-manager", so no deploy of prod could ever be approved`]);
    // One role that somebody holds is enough.
    expect(() => parseTeamConfig(example.replace('approvers: [approver]', 'approvers: [release-manager, approver]'))).not.toThrow();
    // Taking the role away from everyone is the same mistake.
    expect(problems(example.replace(/roles: \[(.*?), ?approver\]/g, 'roles: [$1]'))[0]).toMatch(/stacks.prod.approvers: nobody in people holds the role "approver"/);
  });

  test('YAML syntax errors carry their line', () => {
    expect(problems('version: 1\nstacks: [\n')[0]).toMatch(/^cockpit.yml:\d+: /);
  });

  test('an unreadable file says so', () => {
    expect(() => loadTeamConfig('/nonexistent/cockpit.yml')).toThrow(/cannot read the file: ENOENT/);
  });
});

describe('team config: a staging availability schedule', () => {
  /** The shipped, commented-out example, switched on: what a team does to use it. */
  const withSchedule = example.replace(/^ {4}# (availability:| {2}timezone:| {2}up:| {2}down:| {2}remindBefore:)/gm, '    $1');
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  test('the shipped example is off by default, and valid once uncommented', () => {
    expect(loadTeamConfig(join(root, 'cockpit.yml')).stacks.staging?.availability).toBeUndefined();
    expect(withSchedule).not.toBe(example);
    const staging = parseTeamConfig(withSchedule).stacks.staging!;
    expect(staging.availability).toMatchObject({
      timezone: 'Europe/Paris',
      up: { expression: '0 7 * * 1-5', fields: { minute: [0], hour: [7], dayOfWeek: [1, 2, 3, 4, 5] } },
      down: { expression: '0 20 * * 1-5', fields: { hour: [20] } },
      remindBeforeMinutes: 30,
    });
  });

  test('remindBefore defaults to 30 minutes and takes a duration', () => {
    expect(parseTeamConfig(withSchedule.replace(/^ {6}remindBefore: 30m\n/m, '')).stacks.staging?.availability?.remindBeforeMinutes).toBe(30);
    expect(parseTeamConfig(withSchedule.replace('remindBefore: 30m', 'remindBefore: 1h30m')).stacks.staging?.availability?.remindBeforeMinutes).toBe(90);
  });

  test('a schedule that does not keep staging up two days every week is refused, at its line', () => {
    const text = withSchedule.replace('up: "0 7 * * 1-5"', 'up: "0 7 * * 1"').replace('down: "0 20 * * 1-5"', 'down: "0 20 * * 1"');
    expect(problems(text)).toEqual([
      `cockpit.yml:${lineOf(text, '    availability:')}: stacks.staging.availability: the schedule guarantees only 1 day (Mon) in the week of 2026-01-05; every week needs 2 days with staging up 8 hours in a row between midnight and midnight Europe/Paris`,
    ]);
  });

  test('DST is part of the check: a time skipped in spring loses its day', () => {
    const text = withSchedule.replace('up: "0 7 * * 1-5"', 'up: "30 2 * * 0,3"').replace('down: "0 20 * * 1-5"', 'down: "30 23 * * 0,3"');
    expect(problems(text)[0]).toMatch(/stacks\.staging\.availability: the schedule guarantees only 1 day \(Wed\) in the week of 2026-03-23;/);
  });

  test('bad zones, cron expressions and durations are named at their own lines', () => {
    const text = withSchedule
      .replace('timezone: Europe/Paris', 'timezone: Paris')
      .replace('up: "0 7 * * 1-5"', 'up: "0 25 * * 1-5"')
      .replace('down: "0 20 * * 1-5"', 'down: "0 0 20 * * 1-5"')
      .replace('remindBefore: 30m', 'remindBefore: 2m');
    expect(problems(text)).toEqual([
      `cockpit.yml:${lineOf(text, 'timezone: Paris')}: stacks.staging.availability.timezone: must be an IANA time zone like Europe/Paris or UTC`,
      `cockpit.yml:${lineOf(text, 'up: "0 25')}: stacks.staging.availability.up: is not a cron expression: 25 is a invalid expression for hour`,
      `cockpit.yml:${lineOf(text, 'down: "0 0 20')}: stacks.staging.availability.down: has a seconds field: schedules work to the minute (minute hour day month weekday)`,
      `cockpit.yml:${lineOf(text, 'remindBefore: 2m')}: stacks.staging.availability.remindBefore: must be a duration from 5m to 24h, like 30m or 1h`,
    ]);
  });

  test('an ephemeral stack has a TTL, not a schedule; production never gets one', () => {
    const schedule = ['    availability:', '      timezone: UTC', '      up: "0 7 * * *"', '      down: "0 20 * * *"', ''].join('\n');
    const onDev = example.replace('    deployers: [engineer]    # roles', `${schedule}    deployers: [engineer]    # roles`);
    expect(problems(onDev)).toEqual([
      `cockpit.yml:${lineOf(onDev, '    availability:')}: stacks.dev.availability: an ephemeral stack lives by its TTL (/cockpit up --ttl); a schedule is for a long-lived stack like staging`,
    ]);
    const onProd = example.replace('    approvers: [approver]', `${schedule}    approvers: [approver]`);
    expect(problems(onProd)).toEqual([`cockpit.yml:${lineOf(onProd, '    availability:')}: stacks.prod.availability: prod ends the promotion chain (production): Cockpit never tears it down`]);
  });
});

describe('team config: restore drills', () => {
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  test('the shipped drills section reads as the engine needs it', () => {
    const drills = loadTeamConfig(join(root, 'cockpit.yml')).drills!;
    expect(drills).toMatchObject({ veleroNamespace: 'velero', schedule: 'velero-product', backupTtlHours: 72, excludeResources: ['ingresses.networking.k8s.io', 'cronjobs.batch'] });
    expect(drills.timeouts).toEqual({ backupMinutes: 30, restoreMinutes: 60, readyMinutes: 15, jobMinutes: 10, cleanupMinutes: 10 });
    expect(drills.stacks.integration).toEqual({ kubeconfig: { kind: 'stack-output', output: 'kubeconfig' }, namespaces: ['shop'], backup: 'fresh', targets: { rtoMinutes: 240, rpoMinutes: 1440 } });
    expect(drills.stacks.prod?.backup).toBe('latest');
    expect(drills.weekly).toEqual({ source: 'prod', cluster: 'staging', storageLocation: 'prod', cron: '0 10 * * 1', timezone: 'Europe/Paris' });
  });

  test('kubeconfig sources: in-cluster, a named output, an absolute file; anything else is refused at its line', () => {
    const ok = (source: string) => parseTeamConfig(example.replace('kubeconfig: stack-output\n      namespaces: [shop]\n      backup: fresh', `kubeconfig: ${source}\n      namespaces: [shop]\n      backup: fresh`)).drills!.stacks.integration!.kubeconfig;
    expect(ok('in-cluster')).toEqual({ kind: 'in-cluster' });
    expect(ok('stack-output:adminKubeconfig')).toEqual({ kind: 'stack-output', output: 'adminKubeconfig' });
    expect(ok('file:/etc/cockpit/kube/integration')).toEqual({ kind: 'file', path: '/etc/cockpit/kube/integration' });
    const text = example.replace('kubeconfig: stack-output\n      namespaces: [shop]\n      backup: fresh', 'kubeconfig: file:relative/path\n      namespaces: [shop]\n      backup: fresh');
    expect(problems(text)).toEqual([`cockpit.yml:${lineOf(text, 'file:relative/path')}: drills.stacks.integration.kubeconfig: must be stack-output, stack-output:<output name>, in-cluster or file:/absolute/path`]);
  });

  test('unknown stacks, a weekly drill of a stack without an entry, :latest images and bad durations are refused', () => {
    const text = example
      .replace('    staging:\n      kubeconfig: stack-output', '    stagnig:\n      kubeconfig: stack-output')
      .replace('image: ghcr.io/example/shop-tools:1.4.2', 'image: ghcr.io/example/shop-tools:latest')
      .replace('backup: 30m', 'backup: soon');
    expect(problems(text)).toEqual([
      `cockpit.yml:${lineOf(text, 'image: ghcr.io/example/shop-tools:latest')}: drills.marker.image: must be a version tag or digest, never :latest`,
      `cockpit.yml:${lineOf(text, 'timeouts:')}: drills.timeouts.backup: must be a duration from 1m to 24h, like 30m or 4h`,
    ]);
    const unknown = example.replace('    staging:\n      kubeconfig: stack-output', '    stagnig:\n      kubeconfig: stack-output');
    expect(problems(unknown)).toEqual([
      `cockpit.yml:${lineOf(unknown, '    stagnig:')}: drills.stacks.stagnig: names unknown stack "stagnig" (known: dev, integration, staging, prod)`,
      `cockpit.yml:${lineOf(unknown, '    cluster: staging')}: drills.weekly.cluster: names "staging", which has no entry under drills.stacks (its kubeconfig and namespaces)`,
    ]);
  });
});

describe('team config: support tickets', () => {
  test('the shipped tickets section reads as the desk needs it', () => {
    const team = loadTeamConfig(join(root, 'cockpit.yml'));
    expect(team.tickets).toEqual({
      categoryId: 7,
      categorySlug: 'support',
      channel: 'C0SUPPORT01',
      discourseAssign: true,
      priorities: [
        { name: 'urgent', respondWithinMinutes: 60 },
        { name: 'high', respondWithinMinutes: 120 },
        { name: 'normal', respondWithinMinutes: 240 },
        { name: 'low', respondWithinMinutes: 2880 },
      ],
      defaultPriority: 'normal',
      businessHours: { timezone: 'Europe/Paris', days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromMinute: 540, toMinute: 1080 },
    });
    expect(team.people.find((p) => p.slack === 'U0BOB00001')?.discourse).toBe('bob');
  });

  test('refuses an unknown default priority, business hours that end before they start, and a forum user listed twice', () => {
    const bad = example
      .replace('defaultPriority: normal', 'defaultPriority: medium')
      .replace('    to: "18:00"', '    to: "08:00"')
      .replace('discourse: carol', 'discourse: Bob');
    const found = problems(bad).join('\n');
    expect(found).toContain('tickets.defaultPriority: names unknown priority "medium" (known: urgent, high, normal, low)');
    expect(found).toContain('tickets.businessHours.to: from must be before to');
    expect(found).toContain('people.2.discourse: Bob is listed twice');
  });

  test('refuses a slug that is not a category slug and a channel that is not a channel id', () => {
    const found = problems(example.replace('categorySlug: support', 'categorySlug: "support/7"').replace('channel: C0SUPPORT01', 'channel: "#support"')).join('\n');
    expect(found).toContain('tickets.categorySlug: must be the category slug its URL shows, like support');
    expect(found).toMatch(/tickets\.channel: /);
  });
});
