import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { childEnvironment, execGit, execInstaller, fromConfig, localAutomation } from '../../../bot/integrations/pulumi';
import { extraNameProblems } from '../../../bot/integrations/pulumi/environment';
import { STAGING, localInfraDir, tempDir } from './helpers';

/**
 * What the processes the adapter starts can see. Cockpit's own secrets sit in this test process's environment
 * as they would in production; stand-in `pulumi`, `git` and `npm` executables write down the environment they
 * received, and none of the secrets may be in it.
 */

const COCKPIT_SECRETS = {
  SLACK_BOT_TOKEN: 'xoxb-leak-me',
  SLACK_SIGNING_SECRET: 'slack-signing-leak',
  SLACK_APP_TOKEN: 'xapp-leak',
  GITHUB_TOKEN: 'ghs_leak',
  GITHUB_APP_PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----leak',
  GITHUB_WEBHOOK_SECRET: 'gh-webhook-leak',
  DATABASE_URL: 'postgres://cockpit:leak@db/cockpit',
  COCKPIT_CONSOLE_USER: 'U0LEAK',
  DISCOURSE_API_KEY: 'discourse-leak',
  ALERTMANAGER_WEBHOOK_SECRET: 'am-leak',
  STATUSPAGE_WEBHOOK_SECRET: 'other-webhook-leak',
  SOME_APP_SETTING: 'unrelated-leak',
};

/** What the CLI and the providers need; present in the environment, so they must get through. */
const PROVIDER_VARS = {
  PULUMI_ACCESS_TOKEN: 'pul-token',
  AWS_ACCESS_KEY_ID: 'AKIATEST',
  AWS_REGION: 'eu-west-1',
  DIGITALOCEAN_TOKEN: 'do-token',
  KUBECONFIG: '/etc/kube/config',
  GOOGLE_APPLICATION_CREDENTIALS: '/etc/gcp.json',
  ARM_CLIENT_ID: 'arm-id',
  HTTPS_PROXY: 'http://proxy.internal:3128',
  SSL_CERT_FILE: '/etc/ssl/certs/ca.pem',
  LC_ALL: 'C.UTF-8',
  CLOUDFLARE_API_TOKEN: 'cf-token',
  GIT_SSH_COMMAND: 'ssh -i /etc/deploy-key',
  npm_config_registry: 'https://registry.internal/',
};

const dir = tempDir('pulumi-env');
const dumps = join(dir.path, 'dumps');
const bin = join(dir.path, 'bin');
const saved: Record<string, string | undefined> = {};

/**
 * A stand-in executable that writes its arguments and environment to `<dumps>/<name>-<pid>.txt`, answers
 * `version` like the Pulumi CLI and ends a run's `--event-log` with an empty summary, as a no-change preview
 * does. (v3.200 still writes events to a file; later ones stream them to the SDK.) The output place is written
 * into the script: the environment is what is tested.
 */
function standIn(name: string): string {
  const path = join(bin, name);
  const summary = JSON.stringify({ sequence: 1, timestamp: 1, summaryEvent: { maybeCorrupt: false, durationSeconds: 0, resourceChanges: {}, policyPacks: {} } });
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      `{ printf 'ARGS %s\\n' "$*"; env; } > "${dumps}/${name}-$$.txt"`,
      'if [ "$1" = "version" ]; then echo v3.200.0; fi',
      'log=""; prev=""; for a in "$@"; do if [ "$prev" = "--event-log" ]; then log="$a"; fi; prev="$a"; done',
      `if [ -n "$log" ]; then echo '${summary}' >> "$log"; fi`,
      'exit 0',
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return path;
}

/** Every run of `name` so far: its arguments and the names of the variables it received. */
function runsOf(name: string): Array<{ args: string; env: Map<string, string> }> {
  return readdirSync(dumps)
    .filter((f) => f.startsWith(`${name}-`))
    .map((f) => {
      const [first, ...lines] = readFileSync(join(dumps, f), 'utf8').split('\n');
      const env = new Map<string, string>();
      for (const line of lines) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
        if (m) env.set(m[1]!, m[2]!);
      }
      return { args: (first ?? '').replace(/^ARGS /, ''), env };
    });
}

function expectNoCockpitSecret(env: Map<string, string>): void {
  for (const name of Object.keys(COCKPIT_SECRETS)) expect([name, env.has(name)]).toEqual([name, false]);
  const values = [...env.values()].join('\n');
  for (const value of Object.values(COCKPIT_SECRETS)) expect(values).not.toContain(value);
}

beforeAll(() => {
  mkdirSync(dumps);
  mkdirSync(bin);
  ['pulumi', 'git', 'npm'].forEach(standIn);
  localInfraDir(join(dir.path, 'repo'));
  for (const [name, value] of Object.entries({ ...COCKPIT_SECRETS, ...PROVIDER_VARS })) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
});
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  dir.cleanup();
});

/** The environment Cockpit runs with: all of the above, and the stand-ins first on PATH. */
const cockpitEnv = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: [bin, process.env.PATH].join(delimiter) });

describe('the Pulumi CLI, through the Automation API', () => {
  it('gets the Pulumi and provider variables and none of Cockpit’s secrets, on every call', async () => {
    const engine = fromConfig(
      {
        infraRepo: { localDir: join(dir.path, 'repo') },
        workDir: dir.path,
        programDir: 'infra',
        backendUrl: 's3://state',
        passphrase: 'config-passphrase',
        extraEnvNames: ['CLOUDFLARE_API_TOKEN'],
      },
      { env: cockpitEnv() },
    );

    expect(await engine.availability()).toEqual({ available: true, version: '3.200.0' });
    await engine.preview(STAGING);
    await engine.cancel(STAGING);
    await localAutomation({ env: cockpitEnv(), extraEnvNames: ['CLOUDFLARE_API_TOKEN'] }).installDependencies(join(dir.path, 'repo', 'infra'), { envVars: {} });

    const runs = runsOf('pulumi');
    expect(runs.map((r) => r.args.split(' ')[0])).toEqual(expect.arrayContaining(['version', 'stack', 'preview', 'cancel', 'install']));
    for (const { args, env } of runs) {
      expectNoCockpitSecret(env);
      for (const name of ['PULUMI_ACCESS_TOKEN', 'AWS_ACCESS_KEY_ID', 'DIGITALOCEAN_TOKEN', 'KUBECONFIG', 'HTTPS_PROXY', 'SSL_CERT_FILE', 'HOME']) {
        expect([args, name, env.get(name)]).toEqual([args, name, process.env[name]]);
      }
      // The CLI's directory goes first on PATH, so the plugins installed beside it are found.
      expect(env.get('PATH')?.split(delimiter)[0]).toBe(bin);
      // A provider outside the built-in list, named by the team.
      expect(env.get('CLOUDFLARE_API_TOKEN')).toBe('cf-token');
      // Not the CLI's business: git's and npm's settings.
      expect(env.has('GIT_SSH_COMMAND')).toBe(false);
      expect(env.has('npm_config_registry')).toBe(false);
    }
    const preview = runs.find((r) => r.args.startsWith('preview'))!;
    expect(preview.env.get('PULUMI_BACKEND_URL')).toBe('s3://state');
    expect(preview.env.get('PULUMI_CONFIG_PASSPHRASE')).toBe('config-passphrase');
  });
});

describe('git and the package manager', () => {
  it('git gets its own settings, an agent and proxies, but no secrets and no cloud credentials', async () => {
    const git = execGit({ env: cockpitEnv() });
    await git(['status'], { env: { GIT_AUTHOR_NAME: 'added by the caller' } });
    const [run] = runsOf('git');
    expectNoCockpitSecret(run!.env);
    expect(run!.env.get('GIT_SSH_COMMAND')).toBe('ssh -i /etc/deploy-key');
    expect(run!.env.get('GIT_TERMINAL_PROMPT')).toBe('0');
    expect(run!.env.get('GIT_AUTHOR_NAME')).toBe('added by the caller');
    expect(run!.env.get('HTTPS_PROXY')).toBe('http://proxy.internal:3128');
    for (const name of ['AWS_ACCESS_KEY_ID', 'PULUMI_ACCESS_TOKEN', 'DIGITALOCEAN_TOKEN', 'CLOUDFLARE_API_TOKEN']) expect(run!.env.has(name)).toBe(false);
  });

  it('the package manager gets its registry settings, and neither secrets nor cloud credentials', async () => {
    const install = execInstaller({ env: cockpitEnv(), extraEnvNames: ['CLOUDFLARE_API_TOKEN'] });
    await install({ dir: dir.path, lockfile: 'package-lock.json', command: 'npm', args: ['ci'] });
    const [run] = runsOf('npm');
    expect(run!.args).toBe('ci');
    expectNoCockpitSecret(run!.env);
    expect(run!.env.get('npm_config_registry')).toBe('https://registry.internal/');
    for (const name of ['AWS_ACCESS_KEY_ID', 'PULUMI_ACCESS_TOKEN', 'PULUMI_CONFIG_PASSPHRASE', 'DIGITALOCEAN_TOKEN']) expect(run!.env.has(name)).toBe(false);
    // The team's extra names (a private registry's token, say) go to every tool.
    expect(run!.env.get('CLOUDFLARE_API_TOKEN')).toBe('cf-token');
  });
});

describe('the allowlist', () => {
  const source = { ...COCKPIT_SECRETS, ...PROVIDER_VARS, PATH: '/usr/bin', HOME: '/home/cockpit', PULUMI_CONFIG_PASSPHRASE: 'p' };

  it('never passes Cockpit’s own names, even when the team names them or a prefix would match', () => {
    const pulumiOwnLookalike = { ...source, PULUMI_WEBHOOK_SECRET: 'x', COCKPIT_ENGINE_ENV_ALLOW: 'SLACK_BOT_TOKEN' };
    const env = childEnvironment(pulumiOwnLookalike, 'pulumi', ['SLACK_BOT_TOKEN', 'GITHUB_TOKEN', 'DATABASE_URL']);
    expect(Object.keys(env).sort()).toEqual(
      [
        'ARM_CLIENT_ID',
        'AWS_ACCESS_KEY_ID',
        'AWS_REGION',
        'DIGITALOCEAN_TOKEN',
        'GOOGLE_APPLICATION_CREDENTIALS',
        'HOME',
        'HTTPS_PROXY',
        'KUBECONFIG',
        'LC_ALL',
        'PATH',
        'PULUMI_ACCESS_TOKEN',
        'PULUMI_CONFIG_PASSPHRASE',
        'SSL_CERT_FILE',
      ].sort(),
    );
  });

  it('refuses extra names that are Cockpit’s own or no variable names, naming each', () => {
    expect(extraNameProblems(['CLOUDFLARE_API_TOKEN', 'VAULT_TOKEN'])).toEqual([]);
    expect(extraNameProblems(['SLACK_BOT_TOKEN', 'X_WEBHOOK_SECRET', 'not a name', 'A=B'])).toEqual([
      'not variable names: "not a name", "A=B"',
      "Cockpit's own settings, never passed to Pulumi, git or npm: SLACK_BOT_TOKEN, X_WEBHOOK_SECRET",
    ]);
    expect(() =>
      fromConfig({ infraRepo: { localDir: dir.path }, workDir: dir.path, programDir: 'infra', extraEnvNames: ['DATABASE_URL'] }),
    ).toThrow("COCKPIT_ENGINE_ENV_ALLOW: Cockpit's own settings, never passed to Pulumi, git or npm: DATABASE_URL");
  });
});
