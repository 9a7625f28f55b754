import { z } from 'zod';

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
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
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
  })
  .superRefine((env, ctx) => {
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
};

export type Config = {
  /** Absent: no Slack tokens, so `npm start` opens the local console. */
  slack?: SlackConfig;
  port: number;
  store: { kind: 'postgres'; url: string } | { kind: 'sqlite'; file: string };
  dataDir: string;
  logLevel: z.infer<typeof logLevel>;
  teamConfigPath: string;
  consoleUser?: string;
};

/** A configuration that cannot start the program. Its message names every bad key and no value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
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
        }
      : undefined,
    port: e.PORT,
    store: e.DATABASE_URL ? { kind: 'postgres', url: e.DATABASE_URL } : { kind: 'sqlite', file: `${dataDir}/cockpit.db` },
    dataDir,
    logLevel: e.LOG_LEVEL,
    teamConfigPath: e.COCKPIT_CONFIG,
    consoleUser: e.COCKPIT_CONSOLE_USER,
  };
}
