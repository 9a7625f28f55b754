import { DateTime } from 'luxon';
import type { OnCallLevel } from './model/oncall';

/**
 * Rotations as Grafana OnCall and PagerDuty resolve them. A level's rotation is a stack of layers; each layer
 * hands its shift from member to member at fixed wall-clock times in its time zone, optionally only on some days
 * and hours. At any instant the last layer that covers it wins; overrides (kept in the store) sit above every
 * layer. Shift boundaries are wall-clock arithmetic (luxon), so a weekly Monday 10:00 handover stays at 10:00
 * across a daylight-saving change, and a 12-hour shift keeps its 08:00 and 20:00.
 */

export const ONCALL_LEVELS: readonly OnCallLevel[] = ['L1', 'L2', 'L3'];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A window of the week a layer is limited to: these days, from `from` to `to` (minutes after local midnight). */
export interface LayerRestriction {
  days: Weekday[];
  fromMinute: number;
  /** Up to 1440 (midnight at the end of the day); less than `fromMinute` means the window runs past midnight. */
  toMinute: number;
}

export interface RotationLayer {
  name: string;
  /** Slack user ids, in the order they take the shift. */
  members: string[];
  /** Length of one shift in wall-clock minutes: 1440 daily, 10080 weekly. */
  shiftMinutes: number;
  /** The first shift's start, as local date and time in `timezone` (`2026-01-05T10:00`); members[0] takes it. */
  start: string;
  timezone: string;
  restriction?: LayerRestriction;
}

export interface Rotation {
  level: OnCallLevel;
  layers: RotationLayer[];
  /** A Slack user group kept to whoever is on call at this level. */
  userGroup?: string;
}

/** A stretch of time in which one person (or nobody) is on call at a level. */
export interface Shift {
  level: OnCallLevel;
  /** Absent: nobody is on call then (a gap in the rotation). */
  userId?: string;
  from: Date;
  to: Date;
  /** The layer's name, or `override` when an override decides it. */
  source: string;
  overrideId?: string;
}

/** An override as the schedule reads it: someone on call at a level for a while, above every layer. */
export interface ScheduleOverride {
  id: string;
  level: OnCallLevel;
  userId: string;
  from: Date;
  to: Date;
  /** Later overrides win where they overlap. */
  createdAt: Date;
}

const MINUTE_MS = 60_000;

/** Local wall-clock time as a "floating" UTC instant, so arithmetic on it ignores daylight saving. */
function floating(at: Date, zone: string): DateTime {
  return DateTime.fromJSDate(at, { zone }).setZone('utc', { keepLocalTime: true });
}

function fromFloating(float: DateTime, zone: string): Date {
  return float.setZone(zone, { keepLocalTime: true }).toJSDate();
}

function anchor(layer: RotationLayer): DateTime {
  return DateTime.fromISO(layer.start, { zone: 'utc' });
}

/** The instant shift `index` of the layer starts. */
export function shiftStart(layer: RotationLayer, index: number): Date {
  return fromFloating(anchor(layer).plus({ minutes: index * layer.shiftMinutes }), layer.timezone);
}

/** Which shift of the layer holds `at` (negative before the layer's start). */
export function shiftIndex(layer: RotationLayer, at: Date): number {
  const offset = floating(at, layer.timezone).toMillis() - anchor(layer).toMillis();
  let index = Math.floor(offset / (layer.shiftMinutes * MINUTE_MS));
  // The floating estimate can be an hour off around a DST change; the real boundaries decide.
  while (shiftStart(layer, index + 1).getTime() <= at.getTime()) index++;
  while (shiftStart(layer, index).getTime() > at.getTime()) index--;
  return index;
}

function restrictionCovers(restriction: LayerRestriction, at: Date, zone: string): boolean {
  const local = DateTime.fromJSDate(at, { zone });
  const minute = local.hour * 60 + local.minute;
  const day = WEEKDAYS[local.weekday - 1]!;
  const yesterday = WEEKDAYS[(local.weekday + 5) % 7]!;
  const { fromMinute, toMinute, days } = restriction;
  if (fromMinute < toMinute) return days.includes(day) && minute >= fromMinute && minute < toMinute;
  // A window over midnight (22:00-06:00) belongs to the day it starts on.
  return (days.includes(day) && minute >= fromMinute) || (days.includes(yesterday) && minute < toMinute);
}

/** Who the layer puts on call at `at`; undefined when the layer does not cover that instant. */
export function layerMemberAt(layer: RotationLayer, at: Date): string | undefined {
  if (layer.members.length === 0) return undefined;
  const index = shiftIndex(layer, at);
  if (index < 0) return undefined;
  if (layer.restriction && !restrictionCovers(layer.restriction, at, layer.timezone)) return undefined;
  return layer.members[index % layer.members.length];
}

/** Who is on call at a level at `at`, and what decided it: the newest override covering it, else the last layer. */
export function resolveAt(rotation: Rotation, overrides: readonly ScheduleOverride[], at: Date): { userId?: string; source: string; overrideId?: string } {
  const t = at.getTime();
  const override = overrides
    .filter((o) => o.level === rotation.level && o.from.getTime() <= t && t < o.to.getTime())
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (b.id < a.id ? -1 : 1))[0];
  if (override) return { userId: override.userId, source: 'override', overrideId: override.id };
  for (let i = rotation.layers.length - 1; i >= 0; i--) {
    const layer = rotation.layers[i]!;
    const member = layerMemberAt(layer, at);
    if (member) return { userId: member, source: layer.name };
  }
  return { source: 'none' };
}

/** Every instant in [from, to) at which the answer of `resolveAt` may change. */
function boundaries(rotation: Rotation, overrides: readonly ScheduleOverride[], from: Date, to: Date): number[] {
  const points = new Set<number>([from.getTime()]);
  const add = (d: Date) => {
    const t = d.getTime();
    if (t > from.getTime() && t < to.getTime()) points.add(t);
  };
  for (const layer of rotation.layers) {
    for (let i = Math.max(0, shiftIndex(layer, from)); ; i++) {
      const start = shiftStart(layer, i);
      if (start.getTime() >= to.getTime()) break;
      add(start);
    }
    const r = layer.restriction;
    if (r) {
      // Each local day in the window contributes its window's two edges.
      let day = DateTime.fromJSDate(from, { zone: layer.timezone }).startOf('day').minus({ days: 1 });
      const last = DateTime.fromJSDate(to, { zone: layer.timezone }).endOf('day');
      while (day <= last) {
        const midnight = day.setZone('utc', { keepLocalTime: true });
        add(fromFloating(midnight.plus({ minutes: r.fromMinute }), layer.timezone));
        add(fromFloating(midnight.plus({ minutes: r.toMinute }), layer.timezone));
        day = day.plus({ days: 1 });
      }
    }
  }
  for (const o of overrides) {
    if (o.level !== rotation.level) continue;
    add(o.from);
    add(o.to);
  }
  return [...points].sort((a, b) => a - b);
}

/** The level's shifts in [from, to), adjacent stretches of the same person and source merged. */
export function shiftsBetween(rotation: Rotation, overrides: readonly ScheduleOverride[], from: Date, to: Date): Shift[] {
  if (to.getTime() <= from.getTime()) return [];
  const points = boundaries(rotation, overrides, from, to);
  const shifts: Shift[] = [];
  points.forEach((t, i) => {
    const end = points[i + 1] ?? to.getTime();
    const who = resolveAt(rotation, overrides, new Date(t));
    const previous = shifts[shifts.length - 1];
    if (previous && previous.userId === who.userId && previous.source === who.source && previous.overrideId === who.overrideId) {
      previous.to = new Date(end);
      return;
    }
    shifts.push({ level: rotation.level, userId: who.userId, from: new Date(t), to: new Date(end), source: who.source, ...(who.overrideId ? { overrideId: who.overrideId } : {}) });
  });
  return shifts;
}

/** The stretch a person holds at `at` (rotation and overrides merged, whatever decided it). */
export function stretchAt(rotation: Rotation, overrides: readonly ScheduleOverride[], at: Date, horizonDays = 35): Shift {
  const from = new Date(at.getTime() - horizonDays * 86_400_000);
  const to = new Date(at.getTime() + horizonDays * 86_400_000);
  const merged = mergeByPerson(shiftsBetween(rotation, overrides, from, to));
  return merged.find((s) => s.from.getTime() <= at.getTime() && at.getTime() < s.to.getTime())!;
}

/** Adjacent shifts of the same person joined, whatever decided them: what a person experiences as "my shift". */
export function mergeByPerson(shifts: readonly Shift[]): Shift[] {
  const merged: Shift[] = [];
  for (const s of shifts) {
    const previous = merged[merged.length - 1];
    if (previous && previous.userId === s.userId && previous.to.getTime() === s.from.getTime()) {
      previous.to = s.to;
      if (previous.source !== s.source) previous.source = previous.source === 'override' || s.source === 'override' ? 'override' : previous.source;
      continue;
    }
    merged.push({ ...s });
  }
  return merged;
}

/**
 * Instants in [from, to) where one person is on call at two levels at once, which the runbook forbids ("nobody
 * holds two levels in the same week"). Returns the first few clashes.
 */
export function clashes(rotations: readonly Rotation[], overrides: readonly ScheduleOverride[], from: Date, to: Date, limit = 3): Array<{ userId: string; levels: OnCallLevel[]; at: Date }> {
  const all = rotations.flatMap((r) => shiftsBetween(r, overrides, from, to)).filter((s) => s.userId !== undefined);
  const found: Array<{ userId: string; levels: OnCallLevel[]; at: Date }> = [];
  for (let i = 0; i < all.length && found.length < limit; i++) {
    for (let j = i + 1; j < all.length && found.length < limit; j++) {
      const a = all[i]!;
      const b = all[j]!;
      if (a.level === b.level || a.userId !== b.userId) continue;
      const start = Math.max(a.from.getTime(), b.from.getTime());
      if (start < Math.min(a.to.getTime(), b.to.getTime())) found.push({ userId: a.userId!, levels: [a.level, b.level].sort(), at: new Date(start) });
    }
  }
  return found.sort((x, y) => x.at.getTime() - y.at.getTime());
}

/** "Mon 12 Jan 10:00", in the zone, for schedules and handovers. */
export function formatShiftTime(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).toFormat('ccc d LLL HH:mm');
}

/** The instant a local date (and time) in a zone names: `2026-12-07` or `2026-12-07T10:00`. */
export function localInstant(text: string, zone: string): Date | undefined {
  const parsed = DateTime.fromISO(text, { zone });
  return parsed.isValid ? parsed.toJSDate() : undefined;
}
