import { hostname } from 'node:os';
import { z } from 'zod';
import type { DiscourseConfig } from './integrations/discourse';
import type { GitHubConfig } from './integrations/github';
import type { PulumiConfig } from './integrations/pulumi';
import { extraNameProblems } from './integrations/pulumi/environment';

/**
 * The process configuration: one zod schema over the environment, validated once at start-up.
 * This module is the only reader of process.env; everything else receives a Config.
 */

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const envSchema = z
  .object({
    SLACK_BOT_TOKEN: optionalString.pipe(z.string().startsWith('xoxb-', 'must be a bot token (xoxb-…)').optional()),
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_APP_TOKEN: optionalString.pipe(z.string().startsWith('xapp-', 'must be an app-level token (xapp-…)').optional()),
    SLACK_API_URL: z.url().default('https://slack.com/api/'),
    /** Known bot ids spare Bolt its start-up `auth.test` call. */
    SLACK_BOT_ID: optionalString,
    SLACK_BOT_USER_ID: optionalString,
    /** The installed workspace and app: requests naming another are refused. Unset: not compared. */
    SLACK_TEAM_ID: optionalString.pipe(z.string().regex(/^T[A-Z0-9]{2,}$/, 'must be a Slack team id (T…)').optional()),
    SLACK_APP_ID: optionalString.pipe(z.string().regex(/^A[A-Z0-9]{2,}$/, 'must be a Slack app id (A…)').optional()),
    /**
     * Unset: 3000. Empty or 0 is refused: either would have the OS pick a random port, where Slack's requests
     * and the health checks can never find Cockpit.
     */
    PORT: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (text === undefined) return 3000;
        const port = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
        if (Number.isInteger(port) && port >= 1 && port <= 65535) return port;
        const what = text.trim() === '' ? 'is empty' : port === 0 ? 'is 0 (a random port)' : 'is not a port number';
        ctx.addIssue({ code: 'custom', message: `${what}: set a port from 1 to 65535, or unset PORT for 3000` });
        return z.NEVER;
      }),
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    COCKPIT_DATA_DIR: z.string().min(1).default('./.cockpit'),
    LOG_LEVEL: logLevel.default('info'),
    COCKPIT_CONFIG: z.string().min(1).default('./cockpit.yml'),
    /** The team member (Slack user id) the local console acts as; default: the first person in the team file. */
    COCKPIT_CONSOLE_USER: optionalString,
    /** The runbooks folder the bot serves with `/cockpit runbook`. */
    RUNBOOKS_DIR: z.string().min(1).default('runbooks'),
    /** Where people read a runbook page, e.g. https://github.com/acme/infra/blob/master/runbooks; unset: file links. */
    RUNBOOKS_BASE_URL: optionalString.pipe(z.url().optional()),
    /** Names this replica on the locks it takes; default host-pid. */
    COCKPIT_REPLICA_ID: optionalString,

    /** Pulumi: where state lives (`https://api.pulumi.com`, `s3://…`, `file://…`); unset uses the CLI's login. */
    PULUMI_BACKEND_URL: optionalString,
    PULUMI_CONFIG_PASSPHRASE: optionalString,
    PULUMI_SECRETS_PROVIDER: optionalString,
    /** The infra repo to clone per stack (https or ssh URL); unset: INFRA_DIR is used as it is. */
    INFRA_REPO_URL: optionalString,
    /** A local checkout of the infra repo (development); default: this repository. */
    INFRA_DIR: z.string().min(1).default('.'),
    /** The Pulumi program's directory inside the infra repo. */
    INFRA_PROGRAM_DIR: z.string().min(1).default('infra'),
    /** Comma-separated names Pulumi, git and npm may also see, beyond their built-in allowlist. */
    COCKPIT_ENGINE_ENV_ALLOW: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((n) => n.trim()).filter(Boolean))
      .superRefine((names, ctx) => extraNameProblems(names).forEach((message) => ctx.addIssue({ code: 'custom', message }))),

    /** GitHub: the infra repo as owner/name; unset disables promote and the GitHub webhook. */
    GITHUB_REPO: optionalString.pipe(z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name').optional()),
    GITHUB_API_URL: z.url().default('https://api.github.com'),
    GITHUB_TOKEN: optionalString,
    GITHUB_APP_ID: optionalString,
    /** PEM text of the GitHub App's private key (newlines may be written as \n). */
    GITHUB_APP_PRIVATE_KEY: optionalString,
    GITHUB_APP_INSTALLATION_ID: optionalString.pipe(z.string().regex(/^\d+$/, 'must be a number').transform(Number).optional()),
    GITHUB_WEBHOOK_SECRET: optionalString,

    /** The single token of old: good for every stack ALERTMANAGER_WEBHOOK_TOKENS does not name (all when it is unset). */
    ALERTMANAGER_WEBHOOK_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
    /** One token per stack: `dev=<token>,staging=<token>`; a stack's token only carries that stack's alerts. */
    ALERTMANAGER_WEBHOOK_TOKENS: z
      .string()
      .default('')
      .transform((text, ctx) => {
        const tokens: Record<string, string> = {};
        for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
          const m = /^([a-z][a-z0-9-]{0,30})=(\S{16,})$/.exec(entry);
          if (!m) {
            // Never echo the entry: it holds a token.
            ctx.addIssue({ code: 'custom', message: 'each entry must be <stack>=<token of at least 16 characters>, separated by commas' });
            return z.NEVER;
          }
          if (m[1]! in tokens) ctx.addIssue({ code: 'custom', message: `names stack ${m[1]} twice` });
          tokens[m[1]!] = m[2]!;
        }
        return tokens;
      }),
    /** Signs the personal on-call calendar URLs; unset: only the per-level feeds are served. */
    ONCALL_CALENDAR_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
    /** Where people reach Cockpit, for links it hands out (calendar feeds), e.g. https://cockpit.example.com. */
    COCKPIT_PUBLIC_URL: optionalString.pipe(z.url().optional()),
    /** Discourse: the status forum customers follow; unset keeps incidents in Slack. */
    DISCOURSE_URL: optionalString.pipe(z.url().optional()),
    DISCOURSE_API_KEY: optionalString,
    DISCOURSE_API_USERNAME: optionalString,
    /** The key's limit; Discourse allows admin keys 60 a minute unless its DISCOURSE_MAX_ADMIN_API_REQS_PER_MINUTE says more. */
    DISCOURSE_MAX_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(6000).default(60),
    /** The secret of the forum's webhook to POST /hooks/discourse (support tickets); unset refuses every delivery. */
    DISCOURSE_WEBHOOK_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  })
  .superRefine((env, ctx) => {
    if (env.GITHUB_REPO) {
      const app = [env.GITHUB_APP_ID, env.GITHUB_APP_PRIVATE_KEY, env.GITHUB_APP_INSTALLATION_ID];
      if (!env.GITHUB_TOKEN && app.some((v) => v === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['GITHUB_TOKEN'],
          message: 'GITHUB_REPO needs GITHUB_TOKEN, or a GitHub App: GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID',
        });
      }
    }
    if (env.DISCOURSE_URL || env.DISCOURSE_API_KEY || env.DISCOURSE_API_USERNAME) {
      for (const key of ['DISCOURSE_URL', 'DISCOURSE_API_KEY', 'DISCOURSE_API_USERNAME'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required with the other DISCOURSE_* settings' });
      }
    }
    const slackKeys = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'] as const;
    const anySlack = slackKeys.some((k) => env[k] !== undefined);
    if (!anySlack) return; // no Slack at all: the local console runs
    if (!env.SLACK_BOT_TOKEN) {
      ctx.addIssue({ code: 'custom', path: ['SLACK_BOT_TOKEN'], message: 'is required when any SLACK_* token is set' });
    }
    if (!env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_SIGNING_SECRET'],
        message: 'is required for HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

export type SlackConfig = {
  botToken: string;
  signingSecret?: string;
  /** Set: Socket Mode. Unset: Events API over HTTP at POST /slack/events. */
  appToken?: string;
  apiUrl: string;
  botId?: string;
  botUserId?: string;
  /** Set: a request from another workspace (team_id) or app (api_app_id) is answered and runs nothing. */
  teamId?: string;
  appId?: string;
  /** Waits and retries of the Slack clients; the defaults suit Slack, tests shrink them. */
  timing?: Partial<SlackTiming>;
};

export interface SlackTiming {
  /** A Web API call unanswered by then is abandoned (and retried, up to `retries` times). */
  requestTimeoutMs: number;
  /** Retries of a Web API call that failed on the network or was rate limited. */
  retries: number;
  /** A health probe (auth.test) unanswered by then counts as Slack being down. */
  probeTimeoutMs: number;
  /** How long a probe's answer is reused: /readyz polled every second asks Slack at most this often. */
  probeCacheMs: number;
  /** Socket Mode: ping interval and pong deadline; a reconnect waits this long times the failures in a row. */
  socketPingTimeoutMs: number;
}

export type Config = {
  /** Absent: no Slack tokens, so `npm start` opens the local console. */
  slack?: SlackConfig;
  port: number;
  store: { kind: 'postgres'; url: string } | { kind: 'sqlite'; file: string };
  dataDir: string;
  logLevel: z.infer<typeof logLevel>;
  teamConfigPath: string;
  consoleUser?: string;
  runbooks: { dir: string; baseUrl?: string };
  replicaId: string;
  pulumi: PulumiConfig;
  github?: GitHubSettings;
  alertmanager: { tokens: { perStack: Record<string, string>; any?: string } };
  oncall: { calendarSecret?: string; publicUrl?: string };
  /** Absent: nothing is posted to customers. */
  discourse?: DiscourseConfig;
  /** Verifies POST /hooks/discourse; unset: every delivery is refused. */
  discourseWebhook: { secret?: string };
};

export type GitHubSettings = GitHubConfig & {
  /** Unset: POST /hooks/github refuses everything (no secret, no way to tell GitHub from a forger). */
  webhookSecret?: string;
};

/** A configuration that cannot start the program. Its message names every bad key and no value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function githubSettings(e: Env, fullName: string): GitHubSettings {
  const [owner = '', repo = ''] = fullName.split('/');
  return {
    apiUrl: e.GITHUB_API_URL,
    owner,
    repo,
    auth: e.GITHUB_TOKEN
      ? { kind: 'token', token: e.GITHUB_TOKEN }
      : { kind: 'app', appId: e.GITHUB_APP_ID!, privateKey: e.GITHUB_APP_PRIVATE_KEY!.replace(/\\n/g, '\n'), installationId: e.GITHUB_APP_INSTALLATION_ID! },
    webhookSecret: e.GITHUB_WEBHOOK_SECRET,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // zod messages describe the rule, not the value, so no secret leaks into this text.
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`));
  }
  const e = parsed.data;
  const dataDir = e.COCKPIT_DATA_DIR;
  return {
    slack: e.SLACK_BOT_TOKEN
      ? {
          botToken: e.SLACK_BOT_TOKEN,
          signingSecret: e.SLACK_SIGNING_SECRET,
          appToken: e.SLACK_APP_TOKEN,
          apiUrl: e.SLACK_API_URL,
          botId: e.SLACK_BOT_ID,
          botUserId: e.SLACK_BOT_USER_ID,
          teamId: e.SLACK_TEAM_ID,
          appId: e.SLACK_APP_ID,
        }
      : undefined,
    port: e.PORT,
    store: e.DATABASE_URL ? { kind: 'postgres', url: e.DATABASE_URL } : { kind: 'sqlite', file: `${dataDir}/cockpit.db` },
    dataDir,
    logLevel: e.LOG_LEVEL,
    teamConfigPath: e.COCKPIT_CONFIG,
    consoleUser: e.COCKPIT_CONSOLE_USER,
    runbooks: { dir: e.RUNBOOKS_DIR, baseUrl: e.RUNBOOKS_BASE_URL },
    replicaId: e.COCKPIT_REPLICA_ID ?? `${hostname()}-${process.pid}`,
    pulumi: {
      backendUrl: e.PULUMI_BACKEND_URL,
      passphrase: e.PULUMI_CONFIG_PASSPHRASE,
      secretsProvider: e.PULUMI_SECRETS_PROVIDER,
      infraRepo: e.INFRA_REPO_URL ? { url: e.INFRA_REPO_URL } : { localDir: e.INFRA_DIR },
      workDir: `${dataDir}/workspaces`,
      programDir: e.INFRA_PROGRAM_DIR,
      extraEnvNames: e.COCKPIT_ENGINE_ENV_ALLOW,
    },
    github: e.GITHUB_REPO ? githubSettings(e, e.GITHUB_REPO) : undefined,
    alertmanager: { tokens: { perStack: e.ALERTMANAGER_WEBHOOK_TOKENS, ...(e.ALERTMANAGER_WEBHOOK_TOKEN ? { any: e.ALERTMANAGER_WEBHOOK_TOKEN } : {}) } },
    oncall: { calendarSecret: e.ONCALL_CALENDAR_SECRET, publicUrl: e.COCKPIT_PUBLIC_URL },
    discourse:
      e.DISCOURSE_URL && e.DISCOURSE_API_KEY && e.DISCOURSE_API_USERNAME
        ? { url: e.DISCOURSE_URL, apiKey: e.DISCOURSE_API_KEY, apiUsername: e.DISCOURSE_API_USERNAME, requestsPerMinute: e.DISCOURSE_MAX_REQUESTS_PER_MINUTE }
        : undefined,
    discourseWebhook: { secret: e.DISCOURSE_WEBHOOK_SECRET },
  };
}
