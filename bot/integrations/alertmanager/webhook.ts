import { z } from 'zod';
import type { AlertNotification, IncomingAlert } from '../../../handlers/model/alerts';

/**
 * Alertmanager's webhook body, format version 4 (prometheus.io/docs/alerting/latest/configuration/#webhook_config),
 * validated before anything reads it. Every string and map is bounded, so a hostile body cannot make Cockpit
 * store or post megabytes, and a label named `__proto__` stays a plain key.
 */

/** Alertmanager sends all of a group's alerts unless `max_alerts` cuts them; this many is already a storm. */
export const MAX_ALERTS_PER_BODY = 5000;
const MAX_LABELS = 64;

const labelName = z.string().min(1).max(256);
/** JSON.parse keeps a `__proto__` key as data, but zod's records drop it silently: refuse it instead of losing it. */
const FORBIDDEN_NAMES = ['__proto__', 'constructor', 'prototype'];
const labelMap = (maxValue: number) =>
  z
    .preprocess((value, ctx) => {
      const bad = value && typeof value === 'object' ? FORBIDDEN_NAMES.find((n) => Object.hasOwn(value, n)) : undefined;
      if (bad) ctx.addIssue({ code: 'custom', message: `"${bad}" is not a label name` });
      return value;
    }, z.record(labelName, z.string().max(maxValue)))
    .refine((m) => Object.keys(m).length <= MAX_LABELS, `at most ${MAX_LABELS} entries`)
    // A fresh object with own properties only, whatever the keys are called.
    .transform((m) => Object.fromEntries(Object.entries(m)) as Record<string, string>);
const labels = labelMap(1024);
const annotations = labelMap(16 * 1024);

/** RFC 3339 as Go writes it (nanoseconds, offsets); Go's zero time means "no end". */
const rfc3339 = z
  .string()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, 'must be an RFC 3339 time')
  .transform((text, ctx) => {
    if (text.startsWith('0001-01-01')) return undefined;
    // JavaScript reads milliseconds; Go writes up to nanoseconds.
    const date = new Date(text.replace(/(\.\d{3})\d+/, '$1'));
    if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) {
      ctx.addIssue({ code: 'custom', message: 'is not a usable time' });
      return z.NEVER;
    }
    return date;
  });

const status = z.enum(['firing', 'resolved']);

const alertSchema = z.object({
  status,
  labels,
  annotations: annotations.default({}),
  startsAt: rfc3339,
  endsAt: rfc3339.optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().min(1).max(64),
});

export const webhookSchema = z.object({
  version: z.literal('4', 'only webhook format version "4" is understood'),
  groupKey: z.string().min(1).max(4096),
  truncatedAlerts: z.number().int().min(0).default(0),
  status,
  receiver: z.string().min(1).max(256),
  groupLabels: labels,
  commonLabels: labels,
  commonAnnotations: annotations.default({}),
  externalURL: z.string().max(2048),
  alerts: z.array(alertSchema).min(1).max(MAX_ALERTS_PER_BODY),
});

export type ParsedWebhook = { ok: true; notification: AlertNotification } | { ok: false; reason: string };

export function parseWebhook(body: unknown): ParsedWebhook {
  const parsed = webhookSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
    return { ok: false, reason: `${where}: ${issue.message}`.slice(0, 300) };
  }
  const b = parsed.data;
  const alerts: IncomingAlert[] = [];
  for (const [i, a] of b.alerts.entries()) {
    if (!a.startsAt) return { ok: false, reason: `alerts.${i}.startsAt: must be a real time` };
    alerts.push({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      ...(a.endsAt ? { endsAt: a.endsAt } : {}),
      ...(a.generatorURL ? { generatorUrl: a.generatorURL } : {}),
      fingerprint: a.fingerprint,
    });
  }
  return {
    ok: true,
    notification: {
      receiver: b.receiver,
      status: b.status,
      groupKey: b.groupKey,
      truncatedAlerts: b.truncatedAlerts,
      groupLabels: b.groupLabels,
      commonLabels: b.commonLabels,
      commonAnnotations: b.commonAnnotations,
      externalUrl: b.externalURL,
      alerts,
    },
  };
}
