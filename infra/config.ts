import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  BACKUP_ALLOWANCE_SECONDS,
  type BackupCadence,
  MAINTENANCE_WINDOW_SECONDS,
  backupCadence,
  describeRun,
  runInMaintenanceWindow,
} from './backupSchedule';

/**
 * Every per-stack setting, read and validated in one place before any resource is declared.
 *
 * Settings live in Pulumi.<stack>.yaml under the `cockpit:` namespace; secrets are set with
 * `pulumi config set --secret cockpit:<key>`. Components receive typed values and never read config, so a
 * difference between stacks is a line in a stack file, not a branch in the program.
 */

export const CONFIG_NAMESPACE = 'cockpit';

const DOKS_REGIONS = ['ams3', 'atl1', 'blr1', 'fra1', 'lon1', 'nyc1', 'nyc3', 'sfo2', 'sfo3', 'sgp1', 'syd1', 'tor1'] as const;
const WEEKDAYS = ['any', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

const int = (min: number, max: number) => z.number().int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
const dnsLabel = z
  .string()
  .regex(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label: lowercase letters, digits and dashes, starting with a letter');
const hostname = z
  .string()
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a fully qualified host name like cockpit.example.com');
const quantity = z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti)$/, 'must be a Kubernetes quantity like 512Mi or 20Gi');
// YAML reads `cpu: 1` as a number; Kubernetes wants the string.
const cpu = z.preprocess(
  (v) => (typeof v === 'number' ? String(v) : v),
  z.string().regex(/^(\d+m|\d+(\.\d+)?)$/, 'must be a CPU quantity like 250m or 2'),
);
const promDuration = z.string().regex(/^\d+(ms|s|m|h|d|w|y)$/, 'must be a duration like 30s, 15d or 2w');
// Five fields of numbers, three-letter names, * and ?, with ranges, steps and lists: what Velero's cron parser reads
// (croner, which checks the values, would also take L, W and #, which Velero rejects).
const cronToken = String.raw`(\*|\?|\d+|[A-Za-z]{3})(-(\d+|[A-Za-z]{3}))?(\/\d+)?`;
const cronField = `${cronToken}(,${cronToken})*`;
const cron = z
  .string()
  .regex(
    new RegExp(`^(@(hourly|daily|weekly|monthly)|${cronField}(\\s+${cronField}){4})$`),
    'must be a five-field cron expression like "0 3 * * *"',
  );
const httpsUrl = z.string().refine((v) => {
  try {
    return new URL(v).protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an https:// URL');
const stringMap = z.record(z.string(), z.string());
const imageRef = z.string().refine(isPinnedImage, 'must name an image with a version tag or an @sha256 digest (not :latest)');

const managedClusterSchema = z
  .strictObject({
    mode: z.literal('managed'),
    name: dnsLabel,
    region: z.enum(DOKS_REGIONS),
    /** Minor version; the newest DOKS patch release of it is used and kept current by auto-upgrade. */
    kubernetesVersion: z.string().regex(/^1\.\d{2}$/, 'must be a Kubernetes minor version like "1.33"'),
    nodeSize: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)+$/, 'must be a DigitalOcean droplet size slug like s-4vcpu-8gb'),
    nodeCount: int(1, 100),
    autoscale: z.strictObject({ minNodes: int(1, 100), maxNodes: int(1, 100) }).optional(),
    highAvailability: z.boolean().default(false),
    maintenanceWindow: z
      .strictObject({
        day: z.enum(WEEKDAYS),
        startTime: z.string().regex(/^([01]\d|2[0-3]):00$/, 'must be a full hour in UTC like "03:00"'),
      })
      .default({ day: 'sunday', startTime: '03:00' }),
  })
  .superRefine((c, ctx) => {
    if (c.autoscale && !(c.autoscale.minNodes <= c.nodeCount && c.nodeCount <= c.autoscale.maxNodes)) {
      ctx.addIssue({
        code: 'custom',
        path: ['nodeCount'],
        message: `must lie between autoscale.minNodes (${c.autoscale.minNodes}) and autoscale.maxNodes (${c.autoscale.maxNodes})`,
      });
    }
  });

const existingClusterSchema = z.strictObject({ mode: z.literal('existing'), name: dnsLabel });

const clusterModeSchema = z.looseObject({ mode: z.enum(['managed', 'existing']) });

const ingressSchema = z.strictObject({
  /** IngressClass the controller registers and every Ingress here uses. */
  className: dnsLabel.default('traefik'),
  replicas: int(1, 10).default(1),
  acme: z.strictObject({
    email: z.email('must be an email address Let’s Encrypt can write to about expiring certificates'),
    /** `staging` for clusters rebuilt often: Let’s Encrypt limits duplicate production certificates to 5 a week. */
    server: z.enum(['production', 'staging']),
  }),
  loadBalancerAnnotations: stringMap.default({}),
});

const monitoringSchema = z.strictObject({
  prometheus: z.strictObject({
    replicas: int(1, 3),
    retention: promDuration,
    storage: quantity,
    cpu,
    memory: quantity,
  }),
  alertmanager: z.strictObject({ replicas: int(1, 5), storage: quantity.default('1Gi') }),
  /** Managed control planes (DOKS) expose no etcd/scheduler/controller-manager metrics; scraping them only raises TargetDown. */
  scrapeControlPlane: z.boolean().default(false),
});

const alertingSchema = z.strictObject({
  /** Cockpit's public base URL; Alertmanager posts to `<cockpitUrl>/hooks/alertmanager`. */
  cockpitUrl: httpsUrl,
  /** Where the Watchdog heartbeat goes; Cockpit's webhook by default. */
  heartbeatUrl: httpsUrl.optional(),
  /** Where runbooks/ is browsable, e.g. https://github.com/acme/infra/blob/master/runbooks/ */
  runbookBaseUrl: httpsUrl,
});

const loggingSchema = z.strictObject({
  retentionDays: int(1, 365),
  elasticsearch: z.strictObject({ nodes: int(1, 9), storage: quantity, memory: quantity, cpu }),
});

const backupsSchema = z.strictObject({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  region: z.string().min(1, 'must name the bucket’s region'),
  /** S3 API endpoint, e.g. https://fra1.digitaloceanspaces.com for DigitalOcean Spaces. */
  endpoint: httpsUrl,
  prefix: z.string().regex(/^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/, 'must be a path like "clusters/prod"'),
  schedule: cron,
  retentionDays: int(1, 3650),
  /**
   * Other clusters' backups this cluster may restore but never writes: a ReadOnly BackupStorageLocation each, in
   * the same bucket. The weekly restore drill reads prod's newest backup on staging's cluster through one.
   */
  readOnlyLocations: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes name').refine((n) => n !== 'default', 'must not be "default", this cluster\'s own location'),
        prefix: z.string().regex(/^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/, 'must be a path like "clusters/prod"'),
      }),
    )
    .default([]),
})
  .refine((b) => b.readOnlyLocations.every((l) => l.prefix !== b.prefix), { message: 'a read-only location must not point at this cluster\'s own prefix', path: ['readOnlyLocations'] });

/** Namespaces the program creates for itself; a product namespace of the same name would be declared twice. */
const PLATFORM_NAMESPACES = ['monitoring', 'logging', 'elastic-system', 'velero', 'traefik', 'cert-manager', 'cockpit', 'kube-system', 'default'];

const productServiceSchema = z.strictObject({
  name: dnsLabel,
  namespace: dnsLabel,
  /** Labels of the product's Service to scrape. */
  selector: stringMap.refine((m) => Object.keys(m).length > 0, 'must name at least one label'),
  /** Name of the Service port that serves metrics. */
  port: z.string().min(1),
  path: z.string().startsWith('/', 'must start with /').default('/metrics'),
  interval: promDuration.default('30s'),
});

const productSchema = z
  .strictObject({
    namespaces: z.array(dnsLabel).min(1, 'must list at least one namespace'),
    services: z.array(productServiceSchema).default([]),
    /** Shows "ALPHA VERSION — NO SUPPORT" in the product; stated in every stack so it is never on by accident. */
    alphaBanner: z.boolean(),
  })
  .superRefine((p, ctx) => {
    p.namespaces.forEach((ns, i) => {
      if (PLATFORM_NAMESPACES.includes(ns)) {
        ctx.addIssue({ code: 'custom', path: ['namespaces', i], message: `"${ns}" belongs to the platform (${PLATFORM_NAMESPACES.join(', ')})` });
      } else if (p.namespaces.indexOf(ns) !== i) {
        ctx.addIssue({ code: 'custom', path: ['namespaces', i], message: `"${ns}" is listed twice` });
      }
    });
    p.services.forEach((s, i) => {
      if (!p.namespaces.includes(s.namespace)) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'namespace'],
          message: `"${s.namespace}" is not one of product.namespaces (${p.namespaces.join(', ')})`,
        });
      }
    });
  });

const botEnabledSchema = z.looseObject({ enabled: z.boolean() });
const botSchema = z.strictObject({
  enabled: z.literal(true),
  image: imageRef,
  replicas: int(1, 10),
  host: hostname,
  cpu: cpu.default('250m'),
  memory: quantity.default('512Mi'),
  /** Size of the SQLite volume; unused when cockpit:databaseUrl is set. */
  storage: quantity.default('5Gi'),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** The team file (channels, people, stacks), relative to infra/. */
  teamConfigFile: z.string().min(1).default('../cockpit.yml'),
});
const botDisabledSchema = z.strictObject({ enabled: z.literal(false) });

type ManagedCluster = z.infer<typeof managedClusterSchema>;
type ExistingCluster = z.infer<typeof existingClusterSchema>;
export type ClusterSettings = ManagedCluster | ExistingCluster;
export type IngressSettings = z.infer<typeof ingressSchema>;
export type MonitoringSettings = z.infer<typeof monitoringSchema>;
export type AlertingSettings = { cockpitWebhookUrl: string; heartbeatUrl: string; runbookBaseUrl: string };
export type LoggingSettings = z.infer<typeof loggingSchema>;
export type BackupSettings = z.infer<typeof backupsSchema> & {
  /** How old the newest scheduled backup may get before VeleroBackupTooOld fires; derived from `schedule`. */
  maxAgeSeconds: number;
};
export type ProductSettings = z.infer<typeof productSchema>;
export type ProductService = z.infer<typeof productServiceSchema>;
export type BotSettings = z.infer<typeof botSchema>;

/** Secret settings: never printed, always handed to resources as Pulumi secrets. */
export const SECRET_KEYS = [
  'alertmanagerWebhookToken',
  'alertmanagerWebhookTokens',
  'grafanaAdminPassword',
  'backupAccessKeyId',
  'backupSecretAccessKey',
  'kubeconfig',
  'slackBotToken',
  'slackSigningSecret',
  'databaseUrl',
  'pulumiAccessToken',
  'digitaloceanToken',
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

const SETTING_KEYS = ['ephemeral', 'cluster', 'ingress', 'monitoring', 'alerting', 'logging', 'backups', 'product', 'bot'] as const;
const KNOWN_KEYS: readonly string[] = [...SETTING_KEYS, ...SECRET_KEYS];

export type Settings<S> = {
  /** Disposable cluster: no deletion protection, volumes and load balancers go with it. */
  ephemeral: boolean;
  cluster: ClusterSettings;
  ingress: IngressSettings;
  monitoring: MonitoringSettings;
  alerting: AlertingSettings;
  logging: LoggingSettings;
  backups: BackupSettings;
  product: ProductSettings;
  bot: BotSettings | { enabled: false };
  secrets: {
    alertmanagerWebhookToken: S;
    grafanaAdminPassword: S;
    backupAccessKeyId: S;
    backupSecretAccessKey: S;
    /** Set in existing-cluster mode. */
    kubeconfig?: S;
    /** Set when the bot runs here. */
    bot?: { slackBotToken: S; slackSigningSecret: S; databaseUrl?: S; pulumiAccessToken?: S; digitaloceanToken?: S; alertmanagerWebhookTokens?: S };
  };
};

/** What parseStackConfig returns: secrets still plain, so the checks can read them. */
export type ParsedStackConfig = Settings<string>;
/** What components receive: every secret wrapped as a Pulumi secret output. */
export type StackConfig = Settings<pulumi.Output<string>> & { stack: string; teamConfig?: string };

/** A stack file that cannot run. The message names every bad key and, for secrets, never the value. */
export class StackConfigError extends pulumi.RunError {
  constructor(
    readonly stackName: string,
    readonly problems: string[],
  ) {
    super(`Pulumi.${stackName}.yaml is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StackConfigError';
  }
}

const key = (name: string) => `${CONFIG_NAMESPACE}:${name}`;
const setSecret = (name: SecretKey) => `set it with \`pulumi config set --secret ${key(name)}\``;

/**
 * Validates the whole stack configuration and reports every problem at once.
 * `raw` is Pulumi's flat config map (`cockpit:cluster` → JSON text), as the engine hands it to the program.
 */
export function parseStackConfig(raw: Readonly<Record<string, string>>, stack: string): ParsedStackConfig {
  const problems: string[] = [];

  for (const k of Object.keys(raw)) {
    const [ns, name] = splitKey(k);
    if (ns === CONFIG_NAMESPACE && !KNOWN_KEYS.includes(name)) {
      problems.push(`${k}: is not a setting this program reads (known: ${KNOWN_KEYS.join(', ')})`);
    }
  }

  const setting = <T>(name: (typeof SETTING_KEYS)[number], schema: z.ZodType<T>): T | undefined => {
    const text = raw[key(name)];
    if (text === undefined) {
      problems.push(`${key(name)}: is required`);
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // A plain string in the stack file arrives unquoted; let the schema say what it should have been.
      value = text;
    }
    const result = schema.safeParse(value, { reportInput: true });
    if (!result.success) {
      problems.push(...result.error.issues.map((i) => describeIssue(key(name), i, true)));
      return undefined;
    }
    return result.data;
  };

  const ephemeral = setting('ephemeral', z.boolean());
  const clusterMode = setting('cluster', clusterModeSchema);
  const cluster =
    clusterMode?.mode === 'managed'
      ? setting('cluster', managedClusterSchema)
      : clusterMode?.mode === 'existing'
        ? setting('cluster', existingClusterSchema)
        : undefined;
  const ingress = setting('ingress', ingressSchema);
  const monitoring = setting('monitoring', monitoringSchema);
  const alerting = setting('alerting', alertingSchema);
  const logging = setting('logging', loggingSchema);
  const backups = setting('backups', backupsSchema);
  const product = setting('product', productSchema);
  const botEnabled = setting('bot', botEnabledSchema);
  const bot = botEnabled?.enabled === true ? setting('bot', botSchema) : botEnabled ? setting('bot', botDisabledSchema) : undefined;

  // Checked against the cluster's maintenance window too, so only once both parsed.
  const cadence = backups && checkBackupSchedule(backups, cluster, problems);

  const secret = (name: SecretKey, required: string | false, check?: z.ZodType<string>): string | undefined => {
    const value = raw[key(name)];
    if (value === undefined || value === '') {
      if (required) problems.push(`${key(name)}: is required ${required}; ${setSecret(name)}`);
      return undefined;
    }
    const result = (check ?? z.string()).safeParse(value);
    if (!result.success) problems.push(...result.error.issues.map((i) => describeIssue(key(name), i, false)));
    return value;
  };

  const always = 'in every stack';
  const alertmanagerWebhookToken = secret(
    'alertmanagerWebhookToken',
    always,
    z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)'),
  );
  const grafanaAdminPassword = secret('grafanaAdminPassword', always, z.string().min(16, 'must be at least 16 characters'));
  const backupAccessKeyId = secret('backupAccessKeyId', always);
  const backupSecretAccessKey = secret('backupSecretAccessKey', always);
  const kubeconfig = secret(
    'kubeconfig',
    cluster?.mode === 'existing' ? 'when cockpit:cluster.mode is "existing"' : false,
    z.string().refine(isKubeconfig, 'must be a kubeconfig (YAML with apiVersion v1, kind Config and at least one cluster)'),
  );
  if (cluster?.mode === 'managed' && kubeconfig !== undefined) {
    problems.push(`${key('kubeconfig')}: is only read when cockpit:cluster.mode is "existing"; remove it or switch the mode`);
  }

  const botOn = bot?.enabled === true;
  const whenBot = botOn ? 'when cockpit:bot.enabled is true' : false;
  const slackBotToken = secret('slackBotToken', whenBot, z.string().startsWith('xoxb-', 'must be a Slack bot token (xoxb-…)'));
  const slackSigningSecret = secret('slackSigningSecret', whenBot);
  const databaseUrl = secret(
    'databaseUrl',
    botOn && bot.replicas > 1 ? `when cockpit:bot.replicas is above 1 (SQLite allows one writer)` : false,
    z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL'),
  );
  const pulumiAccessToken = secret('pulumiAccessToken', false);
  // The Cockpit every stack's Alertmanager posts to holds the other stacks' tokens too: `dev=…,staging=…`.
  const alertmanagerWebhookTokens = secret(
    'alertmanagerWebhookTokens',
    false,
    z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,30}=\S{32,}(,[a-z][a-z0-9-]{0,30}=\S{32,})*$/, 'must be <stack>=<token>,… with each token at least 32 characters')
      .refine((v) => !v.split(',').some((entry) => entry.split('=', 1)[0] === stack), `must not name ${stack}: its own token is cockpit:alertmanagerWebhookToken`),
  );
  if (bot !== undefined && !botOn && alertmanagerWebhookTokens !== undefined) problems.push(`${key('alertmanagerWebhookTokens')}: is only read when cockpit:bot.enabled is true (the Cockpit that receives the alerts)`);
  const digitaloceanToken = secret('digitaloceanToken', false);

  if (problems.length > 0) throw new StackConfigError(stack, problems);
  // Every setting parsed, so none of these is undefined; the checks above are what proves it.
  const alertingSettings = alerting!;
  const cockpitUrl = withTrailingSlash(alertingSettings.cockpitUrl);
  const webhookUrl = new URL('hooks/alertmanager', cockpitUrl).toString();
  return {
    ephemeral: ephemeral!,
    cluster: cluster!,
    ingress: ingress!,
    monitoring: monitoring!,
    alerting: {
      cockpitWebhookUrl: webhookUrl,
      heartbeatUrl: alertingSettings.heartbeatUrl ?? webhookUrl,
      runbookBaseUrl: withTrailingSlash(alertingSettings.runbookBaseUrl),
    },
    logging: logging!,
    backups: { ...backups!, maxAgeSeconds: cadence!.maxAgeSeconds },
    product: product!,
    bot: bot!,
    secrets: {
      alertmanagerWebhookToken: alertmanagerWebhookToken!,
      grafanaAdminPassword: grafanaAdminPassword!,
      backupAccessKeyId: backupAccessKeyId!,
      backupSecretAccessKey: backupSecretAccessKey!,
      kubeconfig,
      bot: botOn
        ? { slackBotToken: slackBotToken!, slackSigningSecret: slackSigningSecret!, databaseUrl, pulumiAccessToken, digitaloceanToken, alertmanagerWebhookTokens }
        : undefined,
    },
  };
}

/** Reads the running stack's configuration through Pulumi, validates it, and wraps secrets. */
export function loadStackConfig(infraDir: string = __dirname): StackConfig {
  const stack = pulumi.getStack();
  const parsed = parseStackConfig(pulumi.runtime.allConfig(), stack);
  const s = parsed.secrets;
  const wrap = (v: string) => pulumi.secret(v);
  const wrapOptional = (v: string | undefined) => (v === undefined ? undefined : wrap(v));

  let teamConfig: string | undefined;
  if (parsed.bot.enabled) {
    const file = path.resolve(infraDir, parsed.bot.teamConfigFile);
    try {
      teamConfig = readFileSync(file, 'utf8');
    } catch {
      throw new StackConfigError(stack, [`${key('bot')}.teamConfigFile: cannot read ${file}`]);
    }
  }

  return {
    ...parsed,
    stack,
    teamConfig,
    secrets: {
      alertmanagerWebhookToken: wrap(s.alertmanagerWebhookToken),
      grafanaAdminPassword: wrap(s.grafanaAdminPassword),
      backupAccessKeyId: wrap(s.backupAccessKeyId),
      backupSecretAccessKey: wrap(s.backupSecretAccessKey),
      kubeconfig: wrapOptional(s.kubeconfig),
      bot: s.bot && {
        slackBotToken: wrap(s.bot.slackBotToken),
        slackSigningSecret: wrap(s.bot.slackSigningSecret),
        databaseUrl: wrapOptional(s.bot.databaseUrl),
        pulumiAccessToken: wrapOptional(s.bot.pulumiAccessToken),
        digitaloceanToken: wrapOptional(s.bot.digitaloceanToken),
        alertmanagerWebhookTokens: wrapOptional(s.bot.alertmanagerWebhookTokens),
      },
    },
  };
}

function describeIssue(fullKey: string, issue: z.core.$ZodIssue, showInput: boolean): string {
  const where = [fullKey, ...issue.path.map(String)].join('.');
  const got = showInput && 'input' in issue && issue.input !== undefined && typeof issue.input !== 'object' ? ` (got ${JSON.stringify(issue.input)})` : '';
  switch (issue.code) {
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
      return 'input' in issue && issue.input !== undefined ? `${where}: must be one of ${allowed}${got}` : `${where}: is required, one of ${allowed}`;
    }
    case 'invalid_type':
      return 'input' in issue && issue.input !== undefined ? `${where}: must be ${article(issue.expected)}${got}` : `${where}: is required`;
    case 'unrecognized_keys':
      return `${where}: unknown ${issue.keys.length > 1 ? 'keys' : 'key'} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'custom':
    default:
      return `${where}: ${issue.message}${got}`;
  }
}

function article(expected: string): string {
  if (expected === 'object') return 'a mapping (YAML object)';
  if (expected === 'array') return 'a list';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function splitKey(k: string): [string, string] {
  const i = k.indexOf(':');
  return i < 0 ? ['', k] : [k.slice(0, i), k.slice(i + 1)];
}

/**
 * What the backup schedule implies (see backupSchedule.ts), with a problem for each way it cannot work: Velero
 * cannot run it, it leaves gaps longer than the retention, or a run meets the cluster's maintenance window.
 */
function checkBackupSchedule(
  b: z.infer<typeof backupsSchema>,
  cluster: ClusterSettings | undefined,
  problems: string[],
): BackupCadence | undefined {
  const cadence = backupCadence(b.schedule);
  if ('problem' in cadence) {
    problems.push(`${key('backups')}.schedule: ${cadence.problem} (got ${JSON.stringify(b.schedule)})`);
    return undefined;
  }
  const gapDays = cadence.longestGapSeconds / 86400;
  if (gapDays > b.retentionDays) {
    problems.push(
      `${key('backups')}.retentionDays: ${b.retentionDays} days is shorter than the ${formatDays(gapDays)} the schedule can leave between ` +
        'backups, so at times there would be no backup to restore',
    );
  }
  // An existing cluster's maintenance, if any, is not this program's to know.
  const w = cluster?.mode === 'managed' ? cluster.maintenanceWindow : undefined;
  const run = w && runInMaintenanceWindow(cadence, w);
  if (w && run) {
    problems.push(
      `${key('backups')}.schedule: the ${describeRun(run)} UTC run falls in or just before the maintenance window ` +
        `(${key('cluster')}.maintenanceWindow: ${w.day} ${w.startTime} UTC, ${MAINTENANCE_WINDOW_SECONDS / 3600} hours), when nodes are drained ` +
        `and a file-level backup ends PartiallyFailed; start it at least ${BACKUP_ALLOWANCE_SECONDS / 3600} hour before the window, or after it`,
    );
  }
  return cadence;
}

function formatDays(days: number): string {
  return days === 1 ? '1 day' : `${Math.round(days * 10) / 10} days`;
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function isPinnedImage(ref: string): boolean {
  const [name, digest] = ref.split('@');
  if (digest !== undefined) return /^sha256:[a-f0-9]{64}$/.test(digest) && name !== '';
  const lastSegment = name!.split('/').pop() ?? '';
  const colon = lastSegment.indexOf(':');
  if (colon < 0) return false;
  const tag = lastSegment.slice(colon + 1);
  return /^[\w][\w.-]{0,127}$/.test(tag) && tag !== 'latest';
}

function isKubeconfig(text: string): boolean {
  try {
    const doc: unknown = parseYaml(text);
    if (typeof doc !== 'object' || doc === null) return false;
    const { apiVersion, kind, clusters } = doc as Record<string, unknown>;
    return apiVersion === 'v1' && kind === 'Config' && Array.isArray(clusters) && clusters.length > 0;
  } catch {
    return false;
  }
}
