import { readFileSync } from 'node:fs';
import { validateDetailed } from 'node-cron';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { checkAvailability, isTimeZone, type CronSchedule } from '../handlers/availability';
import type { KubeconfigSource } from '../handlers/team';
import { parseDurationMinutes } from './router/tokens';

/**
 * The team's settings: a versioned YAML file (COCKPIT_CONFIG, default ./cockpit.yml) kept in git beside the
 * code. One schema for the whole file; later capabilities add their sections here.
 */

const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id like U012ABCDEF');
const slackChannelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id like C012ABCDEF');
const name = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be lowercase letters, digits and dashes');
/** GitHub's own rule: 1-39 characters, letters, digits and single dashes, not at either end. */
const githubLogin = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/, 'must be a GitHub login like octocat');

/** Five cron fields (minute hour day-of-month month day-of-week) as node-cron reads them, parsed once here. */
const cronSchedule = z.string().transform((written, ctx): CronSchedule => {
  const expression = written.trim();
  if (expression.split(/\s+/).length === 6) {
    ctx.addIssue({ code: 'custom', message: 'has a seconds field: schedules work to the minute (minute hour day month weekday)' });
    return z.NEVER;
  }
  const parsed = validateDetailed(expression);
  if (!parsed.valid || !parsed.fields) {
    ctx.addIssue({ code: 'custom', message: `is not a cron expression: ${parsed.errors.map((e) => e.message).join('; ')}` });
    return z.NEVER;
  }
  const { minute, hour, dayOfMonth, month, dayOfWeek } = parsed.fields;
  return { expression, fields: { minute, hour, dayOfMonth, month, dayOfWeek } };
});

/** When a long-lived stack (staging) is up; checked to keep it up at least two working days every week. */
export const availabilitySchema = z
  .strictObject({
    /** IANA zone the cron times are read in. */
    timezone: z.string().refine(isTimeZone, 'must be an IANA time zone like Europe/Paris or UTC'),
    /** When Cockpit brings the stack up. */
    up: cronSchedule,
    /** When Cockpit tears it down. */
    down: cronSchedule,
    /** How long before a tear-down the deploys channel is reminded: 5m to 24h, 30m when absent. */
    remindBefore: z
      .string()
      .optional()
      .transform((text, ctx) => {
        const minutes = text === undefined ? 30 : parseDurationMinutes(text);
        if (minutes === undefined || minutes < 5 || minutes > 24 * 60) {
          ctx.addIssue({ code: 'custom', message: 'must be a duration from 5m to 24h, like 30m or 1h' });
          return z.NEVER;
        }
        return minutes;
      }),
  })
  .transform(({ timezone, up, down, remindBefore }) => ({ timezone, up, down, remindBeforeMinutes: remindBefore }))
  .superRefine((availability, ctx) => {
    const check = checkAvailability(availability);
    if (!check.ok) ctx.addIssue({ code: 'custom', message: `the schedule ${check.problem}` });
  });

export const stackSchema = z.strictObject({
  /** The infra repo branch whose code this stack runs. */
  branch: z.string().min(1),
  /** The Pulumi stack name (Pulumi.<name>.yaml). */
  pulumiStack: name,
  /** Ephemeral clusters may be torn down and rebuilt at will (dev, integration). */
  ephemeral: z.boolean().default(false),
  /** The stack whose branch is promoted into this one; absent for the first stack. */
  promotesFrom: name.optional(),
  /** Roles allowed to deploy this stack. */
  deployers: z.array(name).min(1),
  /** A second person with one of these roles must approve each deploy; empty means no approval step. */
  approvers: z.array(name).default([]),
  /** A restore drill must pass on every promotion PR into this stack. */
  promotionRequiresDrill: z.boolean().default(false),
  /** Cockpit brings the stack up and tears it down on this schedule (staging). */
  availability: availabilitySchema.optional(),
});

export const personSchema = z.strictObject({
  slack: slackUserId,
  name: z.string().min(1),
  roles: z.array(name).default([]),
  /** Their GitHub login: a merge, review or PR on GitHub counts as theirs only through it. */
  github: githubLogin.optional(),
});

/** A duration like 30m, 4h or 2d, within bounds, as minutes. */
const minutes = (min: number, max: number) =>
  z.string().transform((text, ctx) => {
    const value = parseDurationMinutes(text);
    if (value === undefined || value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `must be a duration from ${min}m to ${max / 60}h, like 30m or 4h` });
      return z.NEVER;
    }
    return value;
  });

/** `stack-output` (the Pulumi output `kubeconfig`), `stack-output:<name>`, `in-cluster`, or `file:<absolute path>`. */
const kubeconfigSource = z.string().transform((text, ctx): KubeconfigSource => {
  if (text === 'in-cluster') return { kind: 'in-cluster' };
  const output = /^stack-output(?::([A-Za-z][A-Za-z0-9_]*))?$/.exec(text);
  if (output) return { kind: 'stack-output', output: output[1] ?? 'kubeconfig' };
  const file = /^file:(\/\S+)$/.exec(text);
  if (file) return { kind: 'file', path: file[1]! };
  ctx.addIssue({ code: 'custom', message: 'must be stack-output, stack-output:<output name>, in-cluster or file:/absolute/path' });
  return z.NEVER;
});

const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes name (lowercase letters, digits, dashes)').max(63);
const command = z.array(z.string().min(1)).min(1);

export const stackDrillSchema = z
  .strictObject({
    /** Where the cluster's kubeconfig comes from. */
    kubeconfig: kubeconfigSource,
    /** Product namespaces the drill backs up and restores; scratch copies are named drill-<id>-<namespace>. */
    namespaces: z.array(k8sName.max(40)).min(1),
    backup: z.enum(['fresh', 'latest']).default('fresh'),
    targets: z.strictObject({ rto: minutes(1, 7 * 1440), rpo: minutes(1, 31 * 1440) }),
  })
  .transform(({ targets, ...rest }) => ({ ...rest, targets: { rtoMinutes: targets.rto, rpoMinutes: targets.rpo } }));

export const drillsSchema = z.strictObject({
  veleroNamespace: k8sName.default('velero'),
  schedule: k8sName.default('velero-product'),
  backupTtl: minutes(60, 30 * 1440).default(72 * 60).transform((m) => m / 60),
  excludeResources: z.array(z.string().regex(/^[a-z0-9.-]+$/, 'must be a resource like ingresses.networking.k8s.io')).default(['ingresses.networking.k8s.io', 'cronjobs.batch']),
  marker: z.strictObject({
    image: z.string().min(1).refine((i) => !/:latest$/.test(i), 'must be a version tag or digest, never :latest'),
    plant: command,
    verify: command,
    envFromSecrets: z.array(k8sName).default([]),
  }),
  timeouts: z
    .strictObject({ backup: minutes(1, 1440), restore: minutes(1, 1440), ready: minutes(1, 1440), job: minutes(1, 1440), cleanup: minutes(1, 1440) })
    .partial()
    .default({})
    .transform((t) => ({
      backupMinutes: t.backup ?? 30,
      restoreMinutes: t.restore ?? 60,
      readyMinutes: t.ready ?? 15,
      jobMinutes: t.job ?? 10,
      cleanupMinutes: t.cleanup ?? 10,
    })),
  stacks: z.record(name, stackDrillSchema).default({}),
  weekly: z
    .strictObject({
      /** The stack whose latest backup is restored (prod). */
      source: name,
      /** The stack whose cluster it is restored on. */
      cluster: name,
      /** The BackupStorageLocation on that cluster that reads the source's backups. */
      storageLocation: k8sName,
      at: cronSchedule,
      timezone: z.string().refine(isTimeZone, 'must be an IANA time zone like Europe/Paris or UTC').default('UTC'),
    })
    .transform(({ at, ...rest }) => ({ ...rest, cron: at.expression }))
    .optional(),
}).transform(({ backupTtl, ...rest }) => ({ ...rest, backupTtlHours: backupTtl }));

export const teamConfigSchema = z
  .strictObject({
    version: z.literal(1),
    stacks: z.record(name, stackSchema).refine((s) => Object.keys(s).length > 0, 'must name at least one stack'),
    channels: z.strictObject({
      deploys: slackChannelId,
      alerts: slackChannelId,
      incidents: slackChannelId,
    }),
    people: z.array(personSchema).default([]),
    /** Restore drills; absent: `/cockpit drill` says what to configure. */
    drills: drillsSchema.optional(),
  })
  .superRefine((cfg, ctx) => {
    for (const [stack, s] of Object.entries(cfg.stacks)) {
      if (s.promotesFrom !== undefined && !(s.promotesFrom in cfg.stacks)) {
        ctx.addIssue({
          code: 'custom',
          path: ['stacks', stack, 'promotesFrom'],
          message: `names unknown stack "${s.promotesFrom}" (known: ${Object.keys(cfg.stacks).join(', ')})`,
        });
      }
      if (s.availability && s.ephemeral) {
        ctx.addIssue({ code: 'custom', path: ['stacks', stack, 'availability'], message: 'an ephemeral stack lives by its TTL (/cockpit up --ttl); a schedule is for a long-lived stack like staging' });
      }
      // The end of the promotion chain is production: a typo must never have Cockpit tear it down every night.
      const promotedFurther = Object.values(cfg.stacks).some((other) => other.promotesFrom === stack);
      if (s.availability && s.promotesFrom !== undefined && !promotedFurther) {
        ctx.addIssue({ code: 'custom', path: ['stacks', stack, 'availability'], message: `${stack} ends the promotion chain (production): Cockpit never tears it down` });
      }
    }
    for (const stack of Object.keys(cfg.drills?.stacks ?? {})) {
      if (!(stack in cfg.stacks)) ctx.addIssue({ code: 'custom', path: ['drills', 'stacks', stack], message: `names unknown stack "${stack}" (known: ${Object.keys(cfg.stacks).join(', ')})` });
    }
    const weekly = cfg.drills?.weekly;
    for (const key of ['source', 'cluster'] as const) {
      if (weekly && !(weekly[key] in (cfg.drills?.stacks ?? {}))) {
        ctx.addIssue({ code: 'custom', path: ['drills', 'weekly', key], message: `names "${weekly[key]}", which has no entry under drills.stacks (its kubeconfig and namespaces)` });
      }
    }
    const seen = new Set<string>();
    const logins = new Set<string>();
    cfg.people.forEach((p, i) => {
      if (seen.has(p.slack)) ctx.addIssue({ code: 'custom', path: ['people', i, 'slack'], message: `${p.slack} is listed twice` });
      seen.add(p.slack);
      // Two people on one login would let either one's merge pass for the other's.
      const login = p.github?.toLowerCase();
      if (login && logins.has(login)) ctx.addIssue({ code: 'custom', path: ['people', i, 'github'], message: `${p.github} is listed twice` });
      if (login) logins.add(login);
    });
  });

export type TeamConfig = z.infer<typeof teamConfigSchema>;
export type StackSettings = z.infer<typeof stackSchema>;
export type Person = z.infer<typeof personSchema>;

export class TeamConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TeamConfigError';
  }
}

/** Parses and validates the team file's text; errors carry `file:line` so a person can find the bad key. */
export function parseTeamConfig(text: string, file = 'cockpit.yml'): TeamConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new TeamConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return `${file}:${pos.line}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  const parsed = teamConfigSchema.safeParse(doc.toJS());
  if (parsed.success) return parsed.data;
  throw new TeamConfigError(
    file,
    parsed.error.issues.map((issue) => {
      const path = issue.path.map(String);
      return `${file}:${lineOf(doc, lineCounter, path)}: ${path.join('.') || '(top level)'}: ${describeIssue(issue)}`;
    }),
  );
}

/** The line of the deepest key of `path` that exists, so a missing key points at its parent's key. */
function lineOf(doc: ReturnType<typeof parseDocument>, lines: LineCounter, path: string[]): number {
  let node: unknown = doc.contents;
  let line = isNode(node) && node.range ? lines.linePos(node.range[0]).line : 1;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === segment);
      if (!pair) break;
      if (isNode(pair.key) && pair.key.range) line = lines.linePos(pair.key.range[0]).line;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(segment)];
      if (isNode(node) && node.range) line = lines.linePos(node.range[0]).line;
      else break;
    } else {
      break;
    }
  }
  return line;
}

/** zod's wording for an absent key is about types; people want to hear that the key is missing. */
function describeIssue(issue: { code: string; message: string }): string {
  return issue.code === 'invalid_type' && /received undefined$/.test(issue.message) ? 'is required' : issue.message;
}

export function loadTeamConfig(path: string): TeamConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TeamConfigError(path, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseTeamConfig(text, path);
}

/** Names of the stacks in the order the file gives them (dev first, prod last). */
export function stackNames(cfg: TeamConfig): string[] {
  return Object.keys(cfg.stacks);
}
