/**
 * When a scheduled stack (staging) must be up. Its availability schedule is two cron expressions, `up` and
 * `down`, read as wall-clock times in an IANA time zone: the stack is up from an `up` time to the next `down`
 * time. Firing `up` while up (or `down` while down) changes nothing.
 *
 * Pure functions over parsed cron fields, so the domain needs no cron library: the bot layer parses the
 * expressions with node-cron and hands over the fields, and the rules here follow node-cron's reading of them
 * (day of month AND day of week, `L`, `L-n`, `nW`, `LW`, `n#k`, `nL`). Across daylight-saving changes a time
 * that does not exist that day (the hour skipped in spring) does not fire, as in node-cron; a time that
 * happens twice (the hour repeated in autumn) fires once, at its first occurrence.
 *
 * The guarantee the team file promises: every week, Monday to Sunday in the schedule's zone, has at least
 * `REQUIRED_DAYS_PER_WEEK` days on each of which the stack is up for `AVAILABLE_DAY_MINUTES` without a break
 * between that day's midnights (a working day). `checkAvailability` walks every week of 28 years to prove it:
 * every kind of calendar year (the weekday of 1 January, leap or not) and the zone's DST rules as projected.
 */

/** A cron expression's fields as node-cron parses them (seconds left out: schedules work to the minute). */
export interface CronFields {
  minute: number[];
  hour: number[];
  /** Days 1-31, or `L`, `L-n`, `nW`, `LW`. */
  dayOfMonth: Array<number | string>;
  month: number[];
  /** 0-6 with 0 = Sunday, or `n#k` (the k-th weekday n of the month), `nL` (the last one). */
  dayOfWeek: Array<number | string>;
}

export interface CronSchedule {
  /** As written in the team file, for messages. */
  expression: string;
  fields: CronFields;
}

export interface Availability {
  /** IANA zone the cron times are read in, e.g. `Europe/Paris`. */
  timezone: string;
  up: CronSchedule;
  down: CronSchedule;
  /** How long before a scheduled tear-down the deploys channel is reminded. */
  remindBeforeMinutes: number;
}

export type TransitionKind = 'up' | 'down';

export interface Transition {
  kind: TransitionKind;
  at: Date;
}

/** A day counts as available when the stack is up this long without a break between its midnights. */
export const AVAILABLE_DAY_MINUTES = 8 * 60;
export const REQUIRED_DAYS_PER_WEEK = 2;
/** Twenty-eight years hold every kind of calendar year; fixed, so a team file valid today is valid tomorrow. */
export const CHECK_FROM = new Date('2026-01-05T12:00:00Z'); // a Monday in every zone
export const CHECK_WEEKS = 28 * 53;
/** How far back and ahead a transition is looked for: a schedule that fires less than yearly is no schedule. */
const SEARCH_DAYS = 400;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** True for a zone name the runtime knows (`Europe/Paris`, `UTC`); offsets like `+01:00` are not zones. */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** "up 0 7 * * 1,3, down 0 20 * * 1,3 (Europe/Paris)": how people wrote it. */
export function describeAvailability(availability: Availability): string {
  return `up \`${availability.up.expression}\`, down \`${availability.down.expression}\` (${availability.timezone})`;
}

/** Whether the schedule wants the stack up at `at`, and since which transition (none found within a year: down). */
export function scheduledState(availability: Availability, at: Date): { up: boolean; since?: Date } {
  const walker = new DayWalker(availability, localDayOf(availability.timezone, at.getTime()));
  for (let i = 0; i < SEARCH_DAYS; i++) {
    const day = walker.current();
    const past = day.points.filter((p) => p.at <= at.getTime());
    const last = past[past.length - 1];
    if (last) return { up: last.kind === 'up', since: new Date(last.at) };
    walker.back();
  }
  return { up: false };
}

/** The first transition strictly after `after`, of the given kind when one is named. */
export function nextTransition(availability: Availability, after: Date, kind?: TransitionKind): Transition | undefined {
  const walker = new DayWalker(availability, localDayOf(availability.timezone, after.getTime()));
  for (let i = 0; i < SEARCH_DAYS; i++) {
    const found = walker.current().points.find((p) => p.at > after.getTime() && (kind === undefined || p.kind === kind));
    if (found) return { kind: found.kind, at: new Date(found.at) };
    walker.forward();
  }
  return undefined;
}

/** When one expression fires in [from, to), read in `timezone`, by the rules above. */
export function firings(schedule: CronSchedule, timezone: string, from: Date, to: Date): Date[] {
  const never: CronSchedule = { expression: '', fields: { minute: [], hour: [], dayOfMonth: [], month: [], dayOfWeek: [] } };
  const walker = new DayWalker({ timezone, up: schedule, down: never, remindBeforeMinutes: 0 }, localDayOf(timezone, from.getTime()));
  const found: Date[] = [];
  while (walker.current().start < to.getTime()) {
    for (const point of walker.current().points) if (point.at >= from.getTime() && point.at < to.getTime()) found.push(new Date(point.at));
    walker.forward();
  }
  return found;
}

export interface WeekAvailability {
  /** The week's Monday, `YYYY-MM-DD` in the schedule's zone. */
  weekOf: string;
  /** Its available days, e.g. `['Mon', 'Wed']`. */
  days: string[];
}

export type AvailabilityCheck =
  | { ok: true; weeksChecked: number; fewest: WeekAvailability }
  | { ok: false; weeksChecked: number; problem: string };

/**
 * Walks every week from the Monday of `from` and says whether each has enough available days; when one does
 * not, the problem names the first such week, in words a person fixes the team file with.
 */
export function checkAvailability(availability: Availability, options: { from?: Date; weeks?: number } = {}): AvailabilityCheck {
  const zone = availability.timezone;
  const weeks = options.weeks ?? CHECK_WEEKS;
  const fromDay = localDayOf(zone, (options.from ?? CHECK_FROM).getTime());
  const monday = fromDay - ((weekdayOf(fromDay) + 6) % 7);
  const walker = new DayWalker(availability, monday);
  let up = scheduledState(availability, new Date(walker.current().start - 1)).up;
  let fewest: WeekAvailability | undefined;

  for (let week = 0; week < weeks; week++) {
    const days: string[] = [];
    for (let d = 0; d < 7; d++) {
      const day = walker.current();
      if (day.clash !== undefined) {
        const at = formatLocal(day.dayNumber, day.clash);
        return { ok: false, weeksChecked: week + 1, problem: `up and down both fire at ${at} (${zone}); give them different times` };
      }
      let longest = 0;
      let stretchFrom = day.start;
      for (const point of day.points) {
        if (point.kind === 'up' && !up) stretchFrom = point.at;
        if (point.kind === 'down' && up) longest = Math.max(longest, point.at - stretchFrom);
        up = point.kind === 'up';
      }
      if (up) longest = Math.max(longest, day.end - stretchFrom);
      if (longest >= AVAILABLE_DAY_MINUTES * MINUTE_MS) days.push(WEEKDAYS[weekdayOf(day.dayNumber)]!);
      walker.forward();
    }
    const summary = { weekOf: isoDate(monday + week * 7), days };
    if (days.length < REQUIRED_DAYS_PER_WEEK) {
      const had = days.length === 0 ? 'no day' : `only ${days.length} day (${days.join(', ')})`;
      return {
        ok: false,
        weeksChecked: week + 1,
        problem:
          `guarantees ${had} in the week of ${summary.weekOf}; every week needs ${REQUIRED_DAYS_PER_WEEK} days ` +
          `with staging up ${AVAILABLE_DAY_MINUTES / 60} hours in a row between midnight and midnight ${zone}`,
      };
    }
    if (!fewest || days.length < fewest.days.length) fewest = summary;
  }
  return { ok: true, weeksChecked: weeks, fewest: fewest ?? { weekOf: isoDate(monday), days: [] } };
}

// --- cron fields over local days ------------------------------------------------------------------------------

/** A local calendar day as its number of days since 1970-01-01 (the UTC day with the same date). */
type DayNumber = number;

function ymd(day: DayNumber): { year: number; month: number; day: number } {
  const d = new Date(day * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function weekdayOf(day: DayNumber): number {
  return (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

function isoDate(day: DayNumber): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function formatLocal(day: DayNumber, minuteOfDay: number): string {
  const hh = String(Math.floor(minuteOfDay / 60)).padStart(2, '0');
  const mm = String(minuteOfDay % 60).padStart(2, '0');
  return `${WEEKDAYS[weekdayOf(day)]} ${isoDate(day)} ${hh}:${mm}`;
}

function lastDayOfMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function nearestWeekday(year: number, month: number, target: number): number {
  const last = lastDayOfMonth(year, month);
  if (target < 1 || target > last) return -1;
  const weekday = new Date(Date.UTC(year, month - 1, target)).getUTCDay();
  if (weekday === 6) return target === 1 ? 3 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function matchesDayOfMonth(field: CronFields['dayOfMonth'], year: number, month: number, day: number): boolean {
  const last = lastDayOfMonth(year, month);
  return field.some((value) => {
    if (typeof value === 'number') return value === day;
    if (value === 'L') return day === last;
    const weekday = /^(\d{1,2}|L)W$/.exec(value);
    if (weekday) return nearestWeekday(year, month, weekday[1] === 'L' ? last : Number(weekday[1])) === day;
    const offset = /^L-(\d{1,2})$/.exec(value);
    if (offset) return last - Number(offset[1]) >= 1 && last - Number(offset[1]) === day;
    return false;
  });
}

function matchesDayOfWeek(field: CronFields['dayOfWeek'], year: number, month: number, day: number, weekday: number): boolean {
  return field.some((value) => {
    if (typeof value === 'number') return value % 7 === weekday;
    const nth = /^([0-7])#([1-5])$/.exec(value);
    if (nth) return Number(nth[1]) % 7 === weekday && Math.floor((day - 1) / 7) + 1 === Number(nth[2]);
    const lastOf = /^([0-7])L$/i.exec(value);
    if (lastOf) return Number(lastOf[1]) % 7 === weekday && day + 7 > lastDayOfMonth(year, month);
    return false;
  });
}

/** The minutes of the local day (0-1439) at which the expression fires, ascending; empty on other days. */
function minutesOn(fields: CronFields, day: DayNumber): number[] {
  const { year, month, day: date } = ymd(day);
  if (!fields.month.includes(month)) return [];
  if (!matchesDayOfMonth(fields.dayOfMonth, year, month, date)) return [];
  if (!matchesDayOfWeek(fields.dayOfWeek, year, month, date, weekdayOf(day))) return [];
  const minutes: number[] = [];
  for (const hour of fields.hour) for (const minute of fields.minute) minutes.push(hour * 60 + minute);
  return [...new Set(minutes)].sort((a, b) => a - b);
}

// --- time zones -------------------------------------------------------------------------------------------------

const formats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset at `ms`, asked of the runtime's time zone database (a few microseconds a call). */
function askOffset(zone: string, ms: number): number {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(ms))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / MINUTE_MS);
}

/** A year of a zone's offsets: the offset at its start, then each change (instant, new offset), in order. */
interface ZoneYear {
  changes: Array<{ at: number; offset: number }>;
}

const zoneYears = new Map<string, ZoneYear>();
const SAMPLE_MS = 7 * DAY_MS;

/**
 * A year's offset changes, found by asking once a week and bisecting to the minute where the answer differs:
 * about eighty lookups a year instead of one per question. Zones change offset months apart, never twice in a week.
 */
function zoneYear(zone: string, year: number): ZoneYear {
  const key = `${zone}|${year}`;
  const cached = zoneYears.get(key);
  if (cached) return cached;
  const from = Date.UTC(year, 0, 1);
  const to = Date.UTC(year + 1, 0, 1);
  const changes = [{ at: from, offset: askOffset(zone, from) }];
  let at = from;
  let offset = changes[0]!.offset;
  while (at < to) {
    const next = Math.min(at + SAMPLE_MS, to);
    const nextOffset = askOffset(zone, next);
    if (nextOffset !== offset) {
      let lo = at;
      let hi = next;
      while (hi - lo > MINUTE_MS) {
        const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
        if (askOffset(zone, mid) === offset) lo = mid;
        else hi = mid;
      }
      changes.push({ at: hi, offset: askOffset(zone, hi) });
    }
    at = next;
    offset = nextOffset;
  }
  const entry = { changes };
  zoneYears.set(key, entry);
  return entry;
}

/** Minutes to add to UTC for the wall clock of `zone` at instant `ms`. */
function offsetMinutes(zone: string, ms: number): number {
  const { changes } = zoneYear(zone, new Date(ms).getUTCFullYear());
  let offset = changes[0]!.offset;
  for (const change of changes) {
    if (change.at > ms) break;
    offset = change.offset;
  }
  return offset;
}

/** The local day `ms` falls on in `zone`. */
function localDayOf(zone: string, ms: number): DayNumber {
  return Math.floor((ms + offsetMinutes(zone, ms) * MINUTE_MS) / DAY_MS);
}

/**
 * The instants at which the wall clock of `zone` reads `wallMs` (a local time written as if it were UTC): none
 * in a spring-forward gap, two in a fall-back overlap, else one. Zones change offset at most once in a day and a
 * half, so the offsets a day either side are the only candidates.
 */
function instantsAt(zone: string, wallMs: number): number[] {
  const found = new Set<number>();
  for (const offset of [offsetMinutes(zone, wallMs - DAY_MS), offsetMinutes(zone, wallMs + DAY_MS)]) {
    const candidate = wallMs - offset * MINUTE_MS;
    if (offsetMinutes(zone, candidate) === offset) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b);
}

interface Point {
  kind: TransitionKind;
  at: number;
}

interface Day {
  dayNumber: DayNumber;
  /** The instant the day begins: its midnight, or the end of the gap when midnight is skipped. */
  start: number;
  end: number;
  /** Both expressions' firings that day, in time order; `up` first when both fire in the same minute. */
  points: Point[];
  /** The minute of the day at which up and down both fire, if any. */
  clash?: number;
}

/**
 * Walks local days one at a time, computing each day's bounds and firings. Days without an offset change (all
 * but two a year) are pure arithmetic; one zone lookup a day finds the next midnight.
 */
class DayWalker {
  private readonly zone: string;
  private day: Day;

  constructor(
    private readonly availability: Availability,
    start: DayNumber,
  ) {
    this.zone = availability.timezone;
    this.day = this.build(start);
  }

  current(): Day {
    return this.day;
  }

  forward(): void {
    const next = this.day.dayNumber + 1;
    const endOffset = Math.round((next * DAY_MS - this.day.end) / MINUTE_MS);
    this.day = this.build(next, this.day.end, this.midnight(next + 1, endOffset));
  }

  back(): void {
    this.day = this.build(this.day.dayNumber - 1, undefined, this.day.start);
  }

  private build(dayNumber: DayNumber, knownStart?: number, knownEnd?: number): Day {
    const start = knownStart ?? this.midnight(dayNumber);
    const end = knownEnd ?? this.midnight(dayNumber + 1);
    const wall = dayNumber * DAY_MS;
    const startOffset = Math.round((wall - start) / MINUTE_MS);
    const endOffset = Math.round(((dayNumber + 1) * DAY_MS - end) / MINUTE_MS);
    const steady = startOffset === endOffset && end - start === DAY_MS;
    const toInstant = (minute: number): number | undefined => {
      const local = wall + minute * MINUTE_MS;
      return steady ? local - startOffset * MINUTE_MS : instantsAt(this.zone, local)[0];
    };

    const ups = minutesOn(this.availability.up.fields, dayNumber);
    const downs = new Set(minutesOn(this.availability.down.fields, dayNumber));
    const clash = ups.find((m) => downs.has(m));
    const points: Point[] = [];
    for (const [kind, minutes] of [['up', ups], ['down', [...downs]]] as const) {
      for (const minute of minutes) {
        const at = toInstant(minute);
        if (at !== undefined && at >= start && at < end) points.push({ kind, at });
      }
    }
    points.sort((a, b) => a.at - b.at || (a.kind === 'up' ? -1 : 1));
    return { dayNumber, start, end, points, ...(clash !== undefined ? { clash } : {}) };
  }

  /** With the offset in force the day before as a hint, one zone lookup settles the usual case. */
  private midnight(dayNumber: DayNumber, hintOffset?: number): number {
    const wall = dayNumber * DAY_MS;
    if (hintOffset !== undefined) {
      const guess = wall - hintOffset * MINUTE_MS;
      if (offsetMinutes(this.zone, guess) === hintOffset) return guess;
    }
    const instants = instantsAt(this.zone, wall);
    // Midnight skipped by a spring-forward change: the day begins when the clock jumps, at the old offset's midnight.
    return instants[0] ?? wall - offsetMinutes(this.zone, wall - DAY_MS) * MINUTE_MS;
  }
}

/** "Wed 20:00 Europe/Paris": a schedule time in the schedule's own zone. */
export function formatInZone(at: Date, timezone: string): string {
  const text = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
  return `${text.replace(',', '')} ${timezone}`;
}
