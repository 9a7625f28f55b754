import { StackConfigError, parseStackConfig } from '../../infra/config';
import { type Json, STACKS, TEST_SECRETS, kubeconfigFor, stackConfigWithSecrets } from './harness';

/** The prod stack file with its secrets: the stack that needs the most settings. */
function prodConfig(): Record<string, string> {
  return stackConfigWithSecrets('prod').config;
}

function problemsOf(raw: Record<string, string>, stack = 'prod'): string[] {
  try {
    parseStackConfig(raw, stack);
  } catch (err) {
    if (err instanceof StackConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the configuration to be rejected');
}

function withSetting(raw: Record<string, string>, key: string, edit: (value: Record<string, Json>) => void): Record<string, string> {
  const value = JSON.parse(raw[key]!) as Record<string, Json>;
  edit(value);
  return { ...raw, [key]: JSON.stringify(value) };
}

function without(raw: Record<string, string>, key: string): Record<string, string> {
  const copy = { ...raw };
  delete copy[key];
  return copy;
}

describe('the committed stack files', () => {
  test.each(STACKS)('Pulumi.%s.yaml is valid with the secrets its header lists', (stack) => {
    const { config } = stackConfigWithSecrets(stack);
    expect(() => parseStackConfig(config, stack)).not.toThrow();
  });
});

describe('each required setting, when missing, is named in the error', () => {
  test.each([
    'cockpit:ephemeral',
    'cockpit:cluster',
    'cockpit:ingress',
    'cockpit:monitoring',
    'cockpit:alerting',
    'cockpit:logging',
    'cockpit:backups',
    'cockpit:product',
    'cockpit:bot',
  ])('%s', (key) => {
    expect(problemsOf(without(prodConfig(), key))).toEqual([`${key}: is required`]);
  });

  test.each([
    ['cockpit:alertmanagerWebhookToken', 'in every stack'],
    ['cockpit:grafanaAdminPassword', 'in every stack'],
    ['cockpit:backupAccessKeyId', 'in every stack'],
    ['cockpit:backupSecretAccessKey', 'in every stack'],
    ['cockpit:slackBotToken', 'when cockpit:bot.enabled is true'],
    ['cockpit:slackSigningSecret', 'when cockpit:bot.enabled is true'],
    ['cockpit:databaseUrl', 'when cockpit:bot.replicas is above 1'],
  ])('secret %s (required %s), with the command that sets it', (key, when) => {
    const [problem, ...rest] = problemsOf(without(prodConfig(), key));
    expect(rest).toEqual([]);
    expect(problem).toContain(`${key}: is required ${when}`);
    expect(problem).toContain(`pulumi config set --secret ${key}`);
  });

  test('cockpit:kubeconfig, when the cluster is an existing one', () => {
    const raw = withSetting(prodConfig(), 'cockpit:cluster', (c) => {
      for (const k of Object.keys(c)) delete c[k];
      Object.assign(c, { mode: 'existing', name: 'on-prem' });
    });
    expect(problemsOf(raw)).toEqual([
      'cockpit:kubeconfig: is required when cockpit:cluster.mode is "existing"; set it with `pulumi config set --secret cockpit:kubeconfig`',
    ]);
    expect(() => parseStackConfig({ ...raw, 'cockpit:kubeconfig': kubeconfigFor('t') }, 'prod')).not.toThrow();
  });

  test.each([
    ['cockpit:cluster', 'name'],
    ['cockpit:cluster', 'region'],
    ['cockpit:cluster', 'kubernetesVersion'],
    ['cockpit:cluster', 'nodeSize'],
    ['cockpit:cluster', 'nodeCount'],
    ['cockpit:ingress', 'acme'],
    ['cockpit:monitoring', 'prometheus'],
    ['cockpit:monitoring', 'alertmanager'],
    ['cockpit:alerting', 'cockpitUrl'],
    ['cockpit:alerting', 'runbookBaseUrl'],
    ['cockpit:logging', 'retentionDays'],
    ['cockpit:logging', 'elasticsearch'],
    ['cockpit:backups', 'bucket'],
    ['cockpit:backups', 'region'],
    ['cockpit:backups', 'endpoint'],
    ['cockpit:backups', 'prefix'],
    ['cockpit:backups', 'schedule'],
    ['cockpit:backups', 'retentionDays'],
    ['cockpit:product', 'namespaces'],
    ['cockpit:product', 'alphaBanner'],
    ['cockpit:bot', 'image'],
    ['cockpit:bot', 'replicas'],
    ['cockpit:bot', 'host'],
  ])('%s.%s', (key, field) => {
    const raw = withSetting(prodConfig(), key, (v) => delete v[field]);
    expect(problemsOf(raw)).toEqual([expect.stringMatching(new RegExp(`^${key}\\.${field}: is required`))]);
  });
});

describe('a wrong value is named with what would be right', () => {
  test('an unknown cluster mode lists the modes', () => {
    const raw = withSetting(prodConfig(), 'cockpit:cluster', (c) => (c.mode = 'gke'));
    expect(problemsOf(raw)).toEqual(['cockpit:cluster.mode: must be one of "managed", "existing" (got "gke")']);
  });

  test('a missing choice lists the choices', () => {
    const raw = withSetting(prodConfig(), 'cockpit:ingress', (i) => delete i.acme.server);
    expect(problemsOf(raw)).toEqual(['cockpit:ingress.acme.server: is required, one of "production", "staging"']);
  });

  test('an unknown region lists the DigitalOcean regions', () => {
    const raw = withSetting(prodConfig(), 'cockpit:cluster', (c) => (c.region = 'eu-west-1'));
    const [problem] = problemsOf(raw);
    expect(problem).toMatch(/^cockpit:cluster\.region: must be one of .*"fra1".*\(got "eu-west-1"\)$/);
  });

  test('a typo in a setting name is caught, at the top level and inside a setting', () => {
    expect(problemsOf({ ...prodConfig(), 'cockpit:clutser': '{}' })).toEqual([
      expect.stringMatching(/^cockpit:clutser: is not a setting this program reads \(known: .*cluster.*\)$/),
    ]);
    const raw = withSetting(prodConfig(), 'cockpit:cluster', (c) => (c.nodeCuont = 3));
    expect(problemsOf(raw)).toEqual(['cockpit:cluster: unknown key "nodeCuont"']);
  });

  test('settings of other namespaces (providers) are left alone', () => {
    expect(() => parseStackConfig({ ...prodConfig(), 'digitalocean:token': 'x' }, 'prod')).not.toThrow();
  });

  test('every problem is reported at once', () => {
    let raw = withSetting(prodConfig(), 'cockpit:cluster', (c) => (c.nodeCount = 0));
    raw = withSetting(raw, 'cockpit:bot', (b) => (b.image = 'ghcr.io/example/cockpit:latest'));
    raw = without(raw, 'cockpit:grafanaAdminPassword');
    expect(problemsOf(raw)).toEqual([
      'cockpit:cluster.nodeCount: must be at least 1 (got 0)',
      'cockpit:cluster.nodeCount: must lie between autoscale.minNodes (3) and autoscale.maxNodes (6)',
      'cockpit:bot.image: must name an image with a version tag or an @sha256 digest (not :latest) (got "ghcr.io/example/cockpit:latest")',
      expect.stringContaining('cockpit:grafanaAdminPassword: is required'),
    ]);
  });

  test('the node count must sit inside the autoscaler bounds', () => {
    const raw = withSetting(prodConfig(), 'cockpit:cluster', (c) => (c.nodeCount = 9));
    expect(problemsOf(raw)).toEqual(['cockpit:cluster.nodeCount: must lie between autoscale.minNodes (3) and autoscale.maxNodes (6)']);
  });

  test('a product service must live in one of the product namespaces', () => {
    const raw = withSetting(prodConfig(), 'cockpit:product', (p) => (p.services[1].namespace = 'billing'));
    expect(problemsOf(raw)).toEqual(['cockpit:product.services.1.namespace: "billing" is not one of product.namespaces (shop)']);
  });

  test('a product namespace may not be one the platform uses, nor appear twice', () => {
    const raw = withSetting(prodConfig(), 'cockpit:product', (p) => (p.namespaces = ['shop', 'monitoring', 'shop']));
    expect(problemsOf(raw)).toEqual([
      expect.stringMatching(/^cockpit:product\.namespaces\.1: "monitoring" belongs to the platform \(/),
      'cockpit:product.namespaces.2: "shop" is listed twice',
    ]);
  });

  test('plain http is refused for Cockpit’s webhook and the runbooks', () => {
    const raw = withSetting(prodConfig(), 'cockpit:alerting', (a) => (a.cockpitUrl = 'http://cockpit.example.com'));
    expect(problemsOf(raw)).toEqual(['cockpit:alerting.cockpitUrl: must be an https:// URL (got "http://cockpit.example.com")']);
  });

  test('untagged and :latest images are refused, tags and digests accepted', () => {
    for (const image of ['ghcr.io/example/cockpit', 'registry:5000/cockpit', 'ghcr.io/example/cockpit:latest']) {
      const raw = withSetting(prodConfig(), 'cockpit:bot', (b) => (b.image = image));
      expect(problemsOf(raw)).toEqual([expect.stringContaining('cockpit:bot.image: must name an image with a version tag')]);
    }
    for (const image of ['registry:5000/cockpit:1.2.3', `ghcr.io/example/cockpit@sha256:${'a'.repeat(64)}`]) {
      const raw = withSetting(prodConfig(), 'cockpit:bot', (b) => (b.image = image));
      expect(() => parseStackConfig(raw, 'prod')).not.toThrow();
    }
  });

  test('a disabled bot needs no Slack secrets and takes no other bot settings', () => {
    let raw = withSetting(prodConfig(), 'cockpit:bot', (b) => {
      for (const k of Object.keys(b)) delete b[k];
      b.enabled = false;
    });
    expect(problemsOf(raw)).toContain('cockpit:alertmanagerWebhookTokens: is only read when cockpit:bot.enabled is true (the Cockpit that receives the alerts)');
    for (const k of ['cockpit:slackBotToken', 'cockpit:slackSigningSecret', 'cockpit:databaseUrl', 'cockpit:alertmanagerWebhookTokens']) raw = without(raw, k);
    expect(parseStackConfig(raw, 'prod').bot).toEqual({ enabled: false });
    expect(problemsOf(withSetting(raw, 'cockpit:bot', (b) => (b.replicas = 2)))).toEqual(['cockpit:bot: unknown key "replicas"']);
  });

  test('the other stacks’ Alertmanager tokens: <stack>=<token>, never this stack’s own', () => {
    const set = (v: string) => problemsOf({ ...prodConfig(), 'cockpit:alertmanagerWebhookTokens': v });
    expect(set('dev=short')).toEqual(['cockpit:alertmanagerWebhookTokens: must be <stack>=<token>,… with each token at least 32 characters']);
    expect(set(`prod=${'x'.repeat(32)}`)).toEqual(['cockpit:alertmanagerWebhookTokens: must not name prod: its own token is cockpit:alertmanagerWebhookToken']);
    expect(parseStackConfig({ ...prodConfig(), 'cockpit:alertmanagerWebhookTokens': `dev=${'x'.repeat(32)},staging=${'y'.repeat(40)}` }, 'prod').secrets.bot?.alertmanagerWebhookTokens).toBe(`dev=${'x'.repeat(32)},staging=${'y'.repeat(40)}`);
  });

  test('a YAML number where Kubernetes wants a CPU string is accepted', () => {
    const raw = withSetting(prodConfig(), 'cockpit:logging', (l) => (l.elasticsearch.cpu = 2));
    expect(parseStackConfig(raw, 'prod').logging.elasticsearch.cpu).toBe('2');
  });
});

describe('backups against the schedule and the maintenance window', () => {
  const stagingConfig = () => stackConfigWithSecrets('staging').config;
  const withBackupAt = (raw: Record<string, string>, schedule: string) => withSetting(raw, 'cockpit:backups', (b) => (b.schedule = schedule));

  test('a backup starting inside the maintenance window is refused, naming the run and the window', () => {
    // Staging as it was: the daily 03:00 backup inside the tuesday 03:00 window, when nodes are drained.
    expect(problemsOf(withBackupAt(stagingConfig(), '0 3 * * *'), 'staging')).toEqual([
      'cockpit:backups.schedule: the tuesday 03:00 UTC run falls in or just before the maintenance window ' +
        '(cockpit:cluster.maintenanceWindow: tuesday 03:00 UTC, 4 hours), when nodes are drained and a file-level backup ' +
        'ends PartiallyFailed; start it at least 1 hour before the window, or after it',
    ]);
  });

  test('a backup needs an hour before the window; one that starts after the window is fine', () => {
    expect(problemsOf(withBackupAt(stagingConfig(), '30 2 * * *'), 'staging')).toEqual([expect.stringContaining('the tuesday 02:30 UTC run')]);
    expect(problemsOf(withBackupAt(stagingConfig(), '0 6 * * *'), 'staging')).toEqual([expect.stringContaining('the tuesday 06:00 UTC run')]);
    for (const ok of ['0 2 * * *', '0 7 * * *', '0 3 * * 1']) {
      expect(() => parseStackConfig(withBackupAt(stagingConfig(), ok), 'staging')).not.toThrow();
    }
  });

  test('a window on any day collides with a daily backup at that hour; an existing cluster has no window to check', () => {
    const anyDay = withSetting(withBackupAt(stagingConfig(), '0 4 * * 1'), 'cockpit:cluster', (c) => (c.maintenanceWindow.day = 'any'));
    expect(problemsOf(anyDay, 'staging')).toEqual([expect.stringContaining('the monday 04:00 UTC run')]);
    const existing = withSetting(withBackupAt(stagingConfig(), '0 3 * * *'), 'cockpit:cluster', (c) => {
      for (const k of Object.keys(c)) delete c[k];
      Object.assign(c, { mode: 'existing', name: 'on-prem' });
    });
    expect(() => parseStackConfig({ ...existing, 'cockpit:kubeconfig': kubeconfigFor('t') }, 'staging')).not.toThrow();
  });

  test('a schedule Velero cannot run, or one that runs too often or too rarely, is refused', () => {
    const scheduleProblem = (schedule: string) => problemsOf(withBackupAt(prodConfig(), schedule));
    expect(scheduleProblem('0 3 L * *')).toEqual(['cockpit:backups.schedule: must be a five-field cron expression like "0 3 * * *" (got "0 3 L * *")']);
    expect(scheduleProblem('0 25 * * *')).toEqual(['cockpit:backups.schedule: is not a cron expression Velero can run: Invalid value for hour: 25 (got "0 25 * * *")']);
    expect(scheduleProblem('*/30 * * * *')).toEqual([
      'cockpit:backups.schedule: has runs less than an hour apart (00:00 and 00:30 UTC), and a backup may take an hour (got "*/30 * * * *")',
    ]);
    expect(scheduleProblem('0 0 30 2 *')).toEqual(['cockpit:backups.schedule: runs less than twice a year (got "0 0 30 2 *")']);
  });

  test('retention shorter than the gap between backups is refused: there would be times with nothing to restore', () => {
    const monthly = withSetting(withBackupAt(prodConfig(), '0 1 1 * *'), 'cockpit:backups', (b) => (b.retentionDays = 14));
    expect(problemsOf(monthly)).toEqual([
      'cockpit:backups.retentionDays: 14 days is shorter than the 31 days the schedule can leave between backups, so at times there would be no backup to restore',
    ]);
  });

  test('the backup age limit is the schedule’s longest gap plus an hour', () => {
    const maxAge = (schedule: string) => parseStackConfig(withBackupAt(prodConfig(), schedule), 'prod').backups.maxAgeSeconds / 3600;
    expect(parseStackConfig(prodConfig(), 'prod').backups.maxAgeSeconds).toBe(25 * 3600);
    expect(maxAge('0 1 * * 0')).toBe(7 * 24 + 1);
    // Weekdays only: the weekend is the longest gap.
    expect(maxAge('0 1 * * 1-5')).toBe(3 * 24 + 1);
    expect(maxAge('0 1,13 * * *')).toBe(13);
  });
});

describe('secrets in errors', () => {
  test('a malformed secret is named, its value is not', () => {
    const raw = {
      ...prodConfig(),
      'cockpit:slackBotToken': 'xoxp-user-token-that-must-not-leak',
      'cockpit:databaseUrl': 'mysql://root:hunter2@db/cockpit',
      'cockpit:alertmanagerWebhookToken': 'short-token',
    };
    let message = '';
    try {
      parseStackConfig(raw, 'prod');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('Pulumi.prod.yaml is not valid');
    expect(message).toContain('cockpit:slackBotToken: must be a Slack bot token (xoxb-…)');
    expect(message).toContain('cockpit:databaseUrl: must be a postgres:// or postgresql:// URL');
    expect(message).toContain('cockpit:alertmanagerWebhookToken: must be at least 32 characters');
    for (const leaked of ['xoxp-user-token', 'hunter2', 'short-token']) expect(message).not.toContain(leaked);
  });

  test('a kubeconfig that is not one is refused without echoing it', () => {
    const raw = withSetting(prodConfig(), 'cockpit:cluster', (c) => {
      for (const k of Object.keys(c)) delete c[k];
      Object.assign(c, { mode: 'existing', name: 'on-prem' });
    });
    const problems = problemsOf({ ...raw, 'cockpit:kubeconfig': TEST_SECRETS['cockpit:slackBotToken'] });
    expect(problems).toEqual([expect.stringContaining('cockpit:kubeconfig: must be a kubeconfig')]);
    expect(problems.join('\n')).not.toContain(TEST_SECRETS['cockpit:slackBotToken']);
  });

  test('a kubeconfig in managed mode is pointed out rather than silently ignored', () => {
    expect(problemsOf({ ...prodConfig(), 'cockpit:kubeconfig': kubeconfigFor('t') })).toEqual([
      expect.stringContaining('cockpit:kubeconfig: is only read when cockpit:cluster.mode is "existing"'),
    ]);
  });
});

describe('what the program derives from the settings', () => {
  test('Alertmanager posts to Cockpit’s /hooks/alertmanager, and the heartbeat goes there unless redirected', () => {
    const parsed = parseStackConfig(prodConfig(), 'prod');
    expect(parsed.alerting).toEqual({
      cockpitWebhookUrl: 'https://cockpit.example.com/hooks/alertmanager',
      heartbeatUrl: 'https://cockpit.example.com/hooks/alertmanager',
      runbookBaseUrl: 'https://github.com/example/cockpit/blob/master/runbooks/',
    });
    const redirected = withSetting(prodConfig(), 'cockpit:alerting', (a) => {
      a.cockpitUrl = 'https://ops.example.com/cockpit';
      a.heartbeatUrl = 'https://hc-ping.com/0f8b2c';
      a.runbookBaseUrl = 'https://github.com/example/cockpit/blob/master/runbooks';
    });
    expect(parseStackConfig(redirected, 'prod').alerting).toEqual({
      cockpitWebhookUrl: 'https://ops.example.com/cockpit/hooks/alertmanager',
      heartbeatUrl: 'https://hc-ping.com/0f8b2c',
      runbookBaseUrl: 'https://github.com/example/cockpit/blob/master/runbooks/',
    });
  });
});
