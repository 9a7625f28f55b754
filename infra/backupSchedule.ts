import { Cron } from 'croner';

/**
 * What a stack's backup schedule (a cron expression Velero runs in UTC) implies: how old the newest backup may get
 * before the age alert fires, and whether a run lands in the cluster's maintenance window. Plain data in and out,
 * so config.ts can refuse a bad schedule before anything is declared and the rules can be rendered from it.
 */

/** How long a backup may take: the age alert's margin past the longest gap, and the lead a run keeps before a maintenance window. */
export const BACKUP_ALLOWANCE_SECONDS = 3600;

/** DigitalOcean's maintenance window lasts four hours from its start time (a cluster's maintenance_policy.duration). */
export const MAINTENANCE_WINDOW_SECONDS = 4 * 3600;

const DAY_MS = 24 * 3600 * 1000;
/** Runs are counted from a fixed Monday, so an answer never depends on when it is asked. */
const REFERENCE = new Date(Date.UTC(2026, 0, 5));
/** A year and a week: every weekday of every month, and every month-length, comes round. */
const HORIZON_MS = 372 * DAY_MS;
/** An hourly schedule runs 8,928 times in the horizon; more runs than this means some are under an hour apart. */
const MAX_RUNS = 9000;

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

export type MaintenanceWindow = { day: 'any' | (typeof WEEKDAYS)[number]; startTime: string };

export type BackupCadence = {
  /** Every run in the horizon, and the first after it. */
  runs: readonly Date[];
  /** The longest time between two runs: a weekday-only schedule's is the weekend, a monthly one's 31 days. */
  longestGapSeconds: number;
  /** How old the newest successful backup may get before it is too old: the longest gap plus a backup's allowance. */
  maxAgeSeconds: number;
};

/** When a schedule runs and what follows from it, or what is wrong with it (Velero cannot run it, or it runs too often). */
export function backupCadence(schedule: string): BackupCadence | { problem: string } {
  let cron: Cron;
  try {
    // Velero reads five fields (or an @daily-style shorthand) in UTC, day-of-month and day-of-week OR-ed, as croner does.
    cron = new Cron(schedule, { timezone: 'UTC', mode: '5-part' });
  } catch (err) {
    return { problem: `is not a cron expression Velero can run: ${(err as Error).message.replace(/^CronPattern: /, '')}` };
  }
  const end = REFERENCE.getTime() + HORIZON_MS;
  const runs: Date[] = [];
  let next = cron.nextRun(new Date(REFERENCE.getTime() - 1));
  while (next !== null && runs.length <= MAX_RUNS) {
    runs.push(next);
    if (next.getTime() >= end) break;
    next = cron.nextRun(next);
  }
  if (runs.length < 3) return { problem: 'runs less than twice a year' };
  let longest = 0;
  for (let i = 1; i < runs.length; i++) {
    const gap = runs[i]!.getTime() - runs[i - 1]!.getTime();
    if (gap < BACKUP_ALLOWANCE_SECONDS * 1000) {
      return { problem: `has runs less than an hour apart (${hhmm(runs[i - 1]!)} and ${hhmm(runs[i]!)} UTC), and a backup may take an hour` };
    }
    longest = Math.max(longest, gap);
  }
  return { runs, longestGapSeconds: longest / 1000, maxAgeSeconds: longest / 1000 + BACKUP_ALLOWANCE_SECONDS };
}

/**
 * The first run that starts while the cluster may be draining nodes for maintenance, or less than a backup's
 * allowance before that: a file-level backup of a pod that is evicted midway ends PartiallyFailed. DigitalOcean
 * may pick any day for a window whose day is `any`, so then every day counts.
 */
export function runInMaintenanceWindow(cadence: BackupCadence, window: MaintenanceWindow): Date | undefined {
  const startHour = Number(window.startTime.slice(0, 2));
  const allowance = BACKUP_ALLOWANCE_SECONDS * 1000;
  for (let day = REFERENCE.getTime() - DAY_MS; day < REFERENCE.getTime() + HORIZON_MS; day += DAY_MS) {
    const start = day + startHour * 3600 * 1000;
    if (window.day !== 'any' && WEEKDAYS[new Date(start).getUTCDay()] !== window.day) continue;
    const end = start + MAINTENANCE_WINDOW_SECONDS * 1000;
    const hit = cadence.runs.find((r) => r.getTime() > start - allowance && r.getTime() < end);
    if (hit) return hit;
  }
  return undefined;
}

/** "tuesday 03:00" */
export function describeRun(run: Date): string {
  return `${WEEKDAYS[run.getUTCDay()]} ${hhmm(run)}`;
}

function hhmm(d: Date): string {
  return d.toISOString().slice(11, 16);
}
