import { readFileSync } from 'node:fs';
import { validateDetailed } from 'node-cron';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { AlertSettings } from '../handlers/alerts';
import { checkAvailability, isTimeZone, type CronSchedule } from '../handlers/availability';
import { DEFAULT_MAX_OVERRIDE_MINUTES, OnCallService, type OnCallSettings } from '../handlers/oncall';
import type { EscalationSettings, EscalationStep } from '../handlers/page';
import type { OnCallLevel } from '../handlers/model/oncall';
import { ONCALL_LEVELS, WEEKDAYS, formatShiftTime, localInstant, type Rotation, type RotationLayer } from '../handlers/rotation';
import type { KubeconfigSource } from '../handlers/team';
import type { TicketSettings } from '../handlers/ticketModel';
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


const timeZone = z.string().refine(isTimeZone, 'must be an IANA time zone like Europe/Paris or UTC');
const clock = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be a time like 10:00');
const minutesOf = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
const level = z.enum(['L1', 'L2', 'L3']);
/** A duration like 5m, 2h or 7d; `zero` allows 0 (off). */
const duration = (opts: { zero?: boolean; max?: number } = {}) =>
  z.union([z.string(), z.number()]).transform((written, ctx) => {
    const text = String(written).trim();
    const minutes = text === '0' && opts.zero ? 0 : parseDurationMinutes(text);
    if (minutes === undefined || (opts.max !== undefined && minutes > opts.max)) {
      ctx.addIssue({ code: 'custom', message: `must be a duration like 5m, 2h or 7d${opts.zero ? ' (0 turns it off)' : ''}` });
      return z.NEVER;
    }
    return minutes;
  });

const layerSchema = z.strictObject({
  name: z.string().min(1).max(40).optional(),
  /** Slack ids, in the order they take the shift. */
  members: z.array(slackUserId).min(1),
  /** daily, weekly, or `{ days: N }` / `{ hours: N }`, counted in wall-clock time. */
  shift: z.union([z.enum(['daily', 'weekly']), z.strictObject({ days: z.number().int().min(1).max(28) }), z.strictObject({ hours: z.number().int().min(1).max(168) })]).default('weekly'),
  /** The date of the first shift; members[0] takes it. */
  start: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-01-05'),
  /** When shifts change hands, local time. */
  handover: clock.default('10:00'),
  timezone: timeZone.optional(),
  /** Only these days and hours (a weekend or business-hours layer). */
  restrict: z.strictObject({ days: z.array(z.enum(WEEKDAYS)).min(1), from: clock, to: clock }).optional(),
});

const rotationSchema = z.strictObject({
  layers: z.array(layerSchema).min(1),
  /** A Slack user group (S…) kept to whoever is on call at this level. */
  userGroup: z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id like S012ABCDEF').optional(),
});

export const oncallSchema = z.strictObject({
  timezone: timeZone.default('UTC'),
  /** Handovers are posted here; the incidents channel when absent. */
  channel: slackChannelId.optional(),
  /** Roles that may override anyone's shift. */
  managers: z.array(name).default(['approver']),
  maxOverride: duration().optional(),
  rotations: z.strictObject({ L1: rotationSchema.optional(), L2: rotationSchema.optional(), L3: rotationSchema.optional() }),
});

const stepSchema = z.strictObject({
  /** L1, L2, L3, a person (U…), `target` (whom the page is for) or `everyone` (@here in the everyone channel). */
  notify: z.union([level, z.enum(['target', 'everyone']), slackUserId]),
  wait: duration({ zero: true }).optional(),
  repeat: z.number().int().min(0).max(10).default(0),
});

export const escalationSchema = z.strictObject({
  whoMayAcknowledge: z.enum(['on_call', 'paged']).default('on_call'),
  remindAfter: duration({ zero: true }).default(30),
  everyoneChannel: slackChannelId.optional(),
  policies: z.record(name, z.array(stepSchema).min(1)),
  levelPolicy: name.default('default'),
  personPolicy: name.default('person'),
});

export const alertsSchema = z.strictObject({
  /** stack → its `cluster` label (infra/Pulumi.<stack>.yaml cockpit:cluster.name). */
  clusters: z.record(name, z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'must be a cluster name like cockpit-prod')),
  channels: z.record(name, slackChannelId).default({}),
  paging: z.strictObject({ stacks: z.array(name), severities: z.array(z.string().min(1)).default(['critical']), level: level.default('L1') }),
  silencers: z.array(name).default(['sre']),
  heartbeatSilentAfter: duration({ zero: true }).default(5),
  stormGroupsPerMinute: z.number().int().min(1).max(1000).default(10),
  silence: duration({ max: 24 * 60 }).default(60),
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
  /** Their username on the support forum, where a ticket they take is assigned to them (discourse-assign). */
  discourse: z.string().regex(/^[A-Za-z0-9_.-]{1,60}$/, 'must be a Discourse username like alice_smith').optional(),
});

/** Components customers recognise ("Dashboard", "API"): lower-case names, shown as written. */
const componentName = z.string().regex(/^[a-z0-9][a-z0-9 _-]{0,40}$/, 'must be a short lower-case name like dashboard or public-api');

/** How incidents are told to customers: the status forum's category and the product's components. */
export const incidentsSchema = z.strictObject({
  /** The id of the Discourse category public incidents are posted in (its URL reads /c/<slug>/<id>). */
  statusCategory: z.number().int().positive().optional(),
  /** What a declaration may name as affected; offered as choices in the declare form. */
  components: z.array(componentName).default([]),
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
/** When the team answers tickets: these days, from `from` to `to`, local time. */
const businessHoursSchema = z
  .strictObject({
    timezone: timeZone,
    days: z.array(z.enum(WEEKDAYS)).min(1),
    from: clock,
    to: clock,
  })
  .refine((h) => minutesOf(h.from) < minutesOf(h.to), { message: 'from must be before to (business hours do not run past midnight)', path: ['to'] });

/** Customer support tickets: topics of a forum category, posted in a Slack channel (runbooks/support-tickets.md). */
export const ticketsSchema = z.strictObject({
  /** The id of the Discourse category customers open tickets in (its URL reads /c/<slug>/<id>). */
  category: z.number().int().positive(),
  /** That category's slug, the other half of its URL. */
  categorySlug: z.string().regex(/^[\w-]{1,100}$/, 'must be the category slug its URL shows, like support'),
  channel: slackChannelId,
  /** The forum has the discourse-assign plugin: a taken topic is assigned to its taker's `discourse` user too. */
  discourseAssign: z.boolean().default(false),
  businessHours: businessHoursSchema.optional(),
  /** Priority → how soon a ticket must be taken, most urgent first; a topic tagged with a priority's name has it. */
  priorities: z
    .record(name, duration({ max: 30 * 24 * 60 }))
    .refine((p) => Object.keys(p).length > 0, 'must name at least one priority')
    .default({ normal: 240 }),
  defaultPriority: name.default('normal'),
});

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
    oncall: oncallSchema.optional(),
    escalation: escalationSchema.optional(),
    alerts: alertsSchema.optional(),
    incidents: incidentsSchema.optional(),
    /** Restore drills; absent: `/cockpit drill` says what to configure. */
    drills: drillsSchema.optional(),
    tickets: ticketsSchema.optional(),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.tickets && !(cfg.tickets.defaultPriority in cfg.tickets.priorities)) {
      ctx.addIssue({ code: 'custom', path: ['tickets', 'defaultPriority'], message: `names unknown priority "${cfg.tickets.defaultPriority}" (known: ${Object.keys(cfg.tickets.priorities).join(', ')})` });
    }
    checkOnCallSections(cfg, ctx);
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
    const components = cfg.incidents?.components ?? [];
    components.forEach((c, i) => {
      if (components.indexOf(c) !== i) ctx.addIssue({ code: 'custom', path: ['incidents', 'components', i], message: `${c} is listed twice` });
    });
    // A stack whose approver roles nobody holds can never be deployed: say so now, not at the first prod deploy.
    const held = new Set(cfg.people.flatMap((p) => p.roles));
    for (const [stack, s] of Object.entries(cfg.stacks)) {
      const unheld = s.approvers.filter((role) => !held.has(role));
      if (s.approvers.length > 0 && unheld.length === s.approvers.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['stacks', stack, 'approvers'],
          message: `nobody in people holds ${unheld.length === 1 ? 'the role' : 'any of the roles'} ${unheld.map((r) => `"${r}"`).join(', ')}, so no deploy of ${stack} could ever be approved`,
        });
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
    const forumUsers = new Set<string>();
    cfg.people.forEach((p, i) => {
      if (seen.has(p.slack)) ctx.addIssue({ code: 'custom', path: ['people', i, 'slack'], message: `${p.slack} is listed twice` });
      seen.add(p.slack);
      // Two people on one login would let either one's merge pass for the other's.
      const login = p.github?.toLowerCase();
      if (login && logins.has(login)) ctx.addIssue({ code: 'custom', path: ['people', i, 'github'], message: `${p.github} is listed twice` });
      if (login) logins.add(login);
      // A forum user is one person's: two would let either take the other's tickets on the forum.
      const forumUser = p.discourse?.toLowerCase();
      if (forumUser && forumUsers.has(forumUser)) ctx.addIssue({ code: 'custom', path: ['people', i, 'discourse'], message: `${p.discourse} is listed twice` });
      if (forumUser) forumUsers.add(forumUser);
    });
  });

/** The checked sections in the shapes the domain reads (handlers/oncall.ts, page.ts, alerts.ts). */
const teamConfigShape = teamConfigSchema.transform(({ oncall, escalation, alerts, tickets, ...rest }) => ({
  ...rest,
  ...(tickets ? { tickets: toTickets(tickets) } : {}),
  ...(oncall ? { oncall: toOnCall(oncall, rest.channels.incidents) } : {}),
  ...(escalation ? { escalation: toEscalation(escalation, rest.channels.incidents) } : {}),
  ...(alerts ? { alerts: toAlerts(alerts) } : {}),
}));

export type TeamConfig = z.infer<typeof teamConfigShape>;
export type StackSettings = z.infer<typeof stackSchema>;
export type Person = z.infer<typeof personSchema>;


type RawConfig = z.infer<typeof teamConfigSchema>;
type RawOnCall = z.infer<typeof oncallSchema>;

function toLayer(raw: z.infer<typeof layerSchema>, level: OnCallLevel, index: number, zone: string): RotationLayer {
  const shiftMinutes = raw.shift === 'daily' ? 1440 : raw.shift === 'weekly' ? 7 * 1440 : 'days' in raw.shift ? raw.shift.days * 1440 : raw.shift.hours * 60;
  return {
    name: raw.name ?? `${level} layer ${index + 1}`,
    members: raw.members,
    shiftMinutes,
    start: `${raw.start}T${raw.handover === '24:00' ? '00:00' : raw.handover}`,
    timezone: raw.timezone ?? zone,
    ...(raw.restrict ? { restriction: { days: raw.restrict.days, fromMinute: minutesOf(raw.restrict.from), toMinute: minutesOf(raw.restrict.to) } } : {}),
  };
}

function toOnCall(raw: RawOnCall, incidents: string): OnCallSettings {
  const rotations: Rotation[] = ONCALL_LEVELS.flatMap((level) => {
    const r = raw.rotations[level];
    return r ? [{ level, layers: r.layers.map((l, i) => toLayer(l, level, i, raw.timezone)), ...(r.userGroup ? { userGroup: r.userGroup } : {}) }] : [];
  });
  return { timezone: raw.timezone, rotations, channel: raw.channel ?? incidents, managers: raw.managers, maxOverrideMinutes: raw.maxOverride ?? DEFAULT_MAX_OVERRIDE_MINUTES };
}

function toStep(raw: z.infer<typeof stepSchema>): EscalationStep {
  const notify: EscalationStep['notify'] =
    raw.notify === 'target' ? { kind: 'target' } : raw.notify === 'everyone' ? { kind: 'everyone' } : /^L[123]$/.test(raw.notify) ? { kind: 'level', level: raw.notify as OnCallLevel } : { kind: 'user', userId: raw.notify };
  return { notify, waitMinutes: raw.wait ?? 0, repeat: raw.repeat };
}

function toEscalation(raw: z.infer<typeof escalationSchema>, incidents: string): EscalationSettings {
  return {
    policies: Object.fromEntries(Object.entries(raw.policies).map(([n, steps]) => [n, steps.map(toStep)])),
    levelPolicy: raw.levelPolicy,
    personPolicy: raw.personPolicy,
    whoMayAcknowledge: raw.whoMayAcknowledge,
    remindAfterMinutes: raw.remindAfter,
    everyoneChannel: raw.everyoneChannel ?? incidents,
  };
}

function toTickets(raw: z.infer<typeof ticketsSchema>): TicketSettings {
  const hours = raw.businessHours;
  return {
    categoryId: raw.category,
    categorySlug: raw.categorySlug,
    channel: raw.channel,
    discourseAssign: raw.discourseAssign,
    priorities: Object.entries(raw.priorities).map(([name, respondWithinMinutes]) => ({ name, respondWithinMinutes })),
    defaultPriority: raw.defaultPriority,
    ...(hours ? { businessHours: { timezone: hours.timezone, days: hours.days, fromMinute: minutesOf(hours.from), toMinute: minutesOf(hours.to) } } : {}),
  };
}

function toAlerts(raw: z.infer<typeof alertsSchema>): AlertSettings {
  return {
    clusters: raw.clusters,
    channels: raw.channels,
    paging: raw.paging,
    silencers: raw.silencers,
    heartbeatSilentAfterMinutes: raw.heartbeatSilentAfter,
    stormGroupsPerMinute: raw.stormGroupsPerMinute,
    silenceMinutes: raw.silence,
  };
}

/** The on-call sections name only people, stacks and policies the file knows, and keep the runbook's rules. */
function checkOnCallSections(cfg: RawConfig, ctx: z.RefinementCtx): void {
  const people = new Set(cfg.people.map((p) => p.slack));
  const stacks = Object.keys(cfg.stacks);
  const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (cfg.oncall) {
    for (const level of ONCALL_LEVELS) {
      cfg.oncall.rotations[level]?.layers.forEach((layer, i) =>
        layer.members.forEach((m, j) => {
          if (!people.has(m)) issue(['oncall', 'rotations', level, 'layers', i, 'members', j], `${m} is not in people`);
        }),
      );
    }
    // "Nobody holds two levels in the same week" (runbooks/on-call.md), checked over the next 16 weeks of the rotations.
    const settings = toOnCall(cfg.oncall, cfg.channels.incidents);
    const starts = settings.rotations.flatMap((r) => r.layers.map((l) => localInstant(l.start, l.timezone)?.getTime() ?? 0));
    if (starts.length > 0) {
      const from = new Date(Math.max(...starts));
      for (const clash of OnCallService.clashesIn(settings, from)) {
        const who = cfg.people.find((p) => p.slack === clash.userId)?.name ?? clash.userId;
        issue(['oncall', 'rotations'], `${who} would be on call at ${clash.levels.join(' and ')} at once from ${formatShiftTime(clash.at, settings.timezone)} (${settings.timezone}): nobody holds two levels at once`);
      }
    }
  }
  if (cfg.escalation) {
    const e = cfg.escalation;
    for (const key of ['levelPolicy', 'personPolicy'] as const) {
      if (!(e[key] in e.policies)) issue(['escalation', key], `names unknown policy "${e[key]}" (known: ${Object.keys(e.policies).join(', ')})`);
    }
    for (const [policy, steps] of Object.entries(e.policies)) {
      steps.forEach((step, i) => {
        if (/^[UW]/.test(step.notify) && !people.has(step.notify)) issue(['escalation', 'policies', policy, i, 'notify'], `${step.notify} is not in people`);
        const last = i === steps.length - 1;
        if (!last && step.notify !== 'everyone' && !step.wait) issue(['escalation', 'policies', policy, i, 'wait'], 'a step before the last needs a wait, like 5m');
      });
    }
  }
  if (cfg.alerts) {
    const a = cfg.alerts;
    const seen = new Map<string, string>();
    for (const [stack, cluster] of Object.entries(a.clusters)) {
      if (!stacks.includes(stack)) issue(['alerts', 'clusters', stack], `names unknown stack "${stack}" (known: ${stacks.join(', ')})`);
      if (seen.has(cluster)) issue(['alerts', 'clusters', stack], `${cluster} is ${seen.get(cluster)}'s cluster already`);
      seen.set(cluster, stack);
    }
    for (const stack of stacks) if (!(stack in a.clusters)) issue(['alerts', 'clusters'], `names no cluster for stack "${stack}"`);
    for (const stack of Object.keys(a.channels)) if (!stacks.includes(stack)) issue(['alerts', 'channels', stack], `names unknown stack "${stack}"`);
    a.paging.stacks.forEach((stack, i) => {
      if (!stacks.includes(stack)) issue(['alerts', 'paging', 'stacks', i], `names unknown stack "${stack}" (known: ${stacks.join(', ')})`);
    });
  }
}

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
  const parsed = teamConfigShape.safeParse(doc.toJS());
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
