import { createTask, parse } from 'node-cron';
import {
  checkAvailability,
  CHECK_WEEKS,
  firings,
  isTimeZone,
  nextTransition,
  scheduledState,
  type Availability,
  type CronSchedule,
} from '../../handlers/availability';

/** An expression as the team file hands it to the domain: parsed by node-cron, seconds left out. */
function cron(expression: string): CronSchedule {
  const { minute, hour, dayOfMonth, month, dayOfWeek } = parse(expression);
  return { expression, fields: { minute, hour, dayOfMonth, month, dayOfWeek } };
}

function schedule(timezone: string, up: string, down: string): Availability {
  return { timezone, up: cron(up), down: cron(down), remindBeforeMinutes: 30 };
}

const at = (iso: string) => new Date(iso);

describe('scheduledState and nextTransition', () => {
  const staging = schedule('Europe/Paris', '0 7 * * 1,3', '0 20 * * 1,3');

  test('up inside a window, down outside it, with the transition that decided it', () => {
    // 2026-05-20 is a Wednesday; Paris is UTC+2 in May.
    expect(scheduledState(staging, at('2026-05-20T10:00:00Z'))).toEqual({ up: true, since: at('2026-05-20T05:00:00Z') });
    expect(scheduledState(staging, at('2026-05-20T18:00:00Z'))).toEqual({ up: false, since: at('2026-05-20T18:00:00Z') });
    expect(scheduledState(staging, at('2026-05-20T04:59:59.999Z'))).toEqual({ up: false, since: at('2026-05-18T18:00:00Z') });
    expect(scheduledState(staging, at('2026-05-23T12:00:00Z'))).toEqual({ up: false, since: at('2026-05-20T18:00:00Z') });
  });

  test('the next transition, of any kind or of one kind, strictly after the instant', () => {
    expect(nextTransition(staging, at('2026-05-20T10:00:00Z'))).toEqual({ kind: 'down', at: at('2026-05-20T18:00:00Z') });
    expect(nextTransition(staging, at('2026-05-20T18:00:00Z'))).toEqual({ kind: 'up', at: at('2026-05-25T05:00:00Z') });
    expect(nextTransition(staging, at('2026-05-20T10:00:00Z'), 'up')).toEqual({ kind: 'up', at: at('2026-05-25T05:00:00Z') });
    // In winter the same wall-clock times are an hour later in UTC.
    expect(nextTransition(staging, at('2026-12-01T00:00:00Z'), 'up')).toEqual({ kind: 'up', at: at('2026-12-02T06:00:00Z') });
  });

  test('the IANA zones the runtime knows, and nothing that merely looks like one', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('America/Argentina/Buenos_Aires')).toBe(true);
    expect(isTimeZone('Etc/GMT+5')).toBe(true);
    for (const bad of ['Europe/Pariss', '+01:00', 'GMT+1 ', '', 'Europe/../Paris', 'Europe/Paris; rm']) expect(isTimeZone(bad)).toBe(false);
  });
});

describe('daylight saving', () => {
  test('a time skipped in spring does not fire that day; the next day it does', () => {
    const up = cron('30 2 * * *');
    expect(firings(up, 'Europe/Paris', at('2026-03-28T00:00:00Z'), at('2026-03-31T00:00:00Z'))).toEqual([at('2026-03-28T01:30:00Z'), at('2026-03-30T00:30:00Z')]);
  });

  test('a time repeated in autumn fires once, at its first occurrence', () => {
    const up = cron('30 2 * * *');
    expect(firings(up, 'Europe/Paris', at('2026-10-24T12:00:00Z'), at('2026-10-26T12:00:00Z'))).toEqual([at('2026-10-25T00:30:00Z'), at('2026-10-26T01:30:00Z')]);
  });

  test('a midnight skipped by the change (Santiago) does not fire, and the day still begins', () => {
    const midnight = cron('0 0 * * *');
    expect(firings(midnight, 'America/Santiago', at('2026-09-05T00:00:00Z'), at('2026-09-08T00:00:00Z'))).toEqual([at('2026-09-05T04:00:00Z'), at('2026-09-07T03:00:00Z')]);
  });

  test('half-hour changes (Lord Howe) are followed to the minute', () => {
    const up = cron('0 2 * * *');
    // 02:00-02:30 does not exist on 2026-10-04: 02:00 is skipped.
    expect(firings(up, 'Australia/Lord_Howe', at('2026-10-02T00:00:00Z'), at('2026-10-05T00:00:00Z'))).toEqual([at('2026-10-02T15:30:00Z'), at('2026-10-04T15:00:00Z')]);
  });

  /**
   * The domain reads cron fields itself (node-cron's matcher is not public). This compares, minute by minute
   * around each kind of DST change and month end, with node-cron's own `match`: node-cron matches both
   * instants of a repeated wall-clock time, and fires at one of them; we fire at the first.
   */
  test.each([
    ['Europe/Paris', '2026-03-28T00:00:00Z'],
    ['Europe/Paris', '2026-10-24T00:00:00Z'],
    ['America/New_York', '2026-03-07T00:00:00Z'],
    ['America/New_York', '2026-10-31T00:00:00Z'],
    ['America/Santiago', '2026-04-03T00:00:00Z'],
    ['America/Santiago', '2026-09-05T00:00:00Z'],
    ['Australia/Lord_Howe', '2026-10-02T12:00:00Z'],
    ['UTC', '2028-02-27T00:00:00Z'],
    ['Europe/Paris', '2026-05-29T00:00:00Z'],
  ])('fires exactly where node-cron matches, in %s from %s', (zone, from) => {
    const expressions = ['30 2 * * *', '0 0 * * *', '15 1 L * *', '0 9 L-2 * *', '0 9 1W,LW * *', '*/20 0-3 * * 0,6', '45 23 * * 6', '0 7 * * 5#1', '0 22 * * 0L'];
    const start = at(from).getTime();
    const end = start + 3 * 86_400_000;
    for (const expression of expressions) {
      const task = createTask(expression, () => undefined, { timezone: zone });
      try {
        const byWallClock = new Map<string, number>();
        const wall = new Intl.DateTimeFormat('en-GB', { timeZone: zone, dateStyle: 'short', timeStyle: 'short' });
        for (let t = start; t < end; t += 60_000) {
          if (!task.match(new Date(t))) continue;
          const key = wall.format(new Date(t));
          if (!byWallClock.has(key)) byWallClock.set(key, t);
        }
        const expected = [...byWallClock.values()].map((t) => new Date(t));
        expect({ expression, fires: firings(cron(expression), zone, new Date(start), new Date(end)) }).toEqual({ expression, fires: expected });
      } finally {
        void task.destroy();
      }
    }
  });
});

describe('checkAvailability: at least two working days every week', () => {
  test('two weekdays of 13 hours pass, over every week of 28 years', () => {
    const check = checkAvailability(schedule('Europe/Paris', '0 7 * * 1,3', '0 20 * * 1,3'));
    expect(check).toEqual({ ok: true, weeksChecked: CHECK_WEEKS, fewest: { weekOf: '2026-01-05', days: ['Mon', 'Wed'] } });
  });

  test('one day a week is refused, naming the week and what is missing', () => {
    const check = checkAvailability(schedule('Europe/Paris', '0 7 * * 1', '0 20 * * 1'));
    expect(check).toEqual({
      ok: false,
      weeksChecked: 1,
      problem: 'guarantees only 1 day (Mon) in the week of 2026-01-05; every week needs 2 days with staging up 8 hours in a row between midnight and midnight Europe/Paris',
    });
  });

  test('eight hours is a working day; a minute less is not', () => {
    expect(checkAvailability(schedule('UTC', '0 7 * * 2,4', '0 15 * * 2,4')).ok).toBe(true);
    const short = checkAvailability(schedule('UTC', '0 7 * * 2,4', '59 14 * * 2,4'));
    expect(short.ok).toBe(false);
    expect(!short.ok && short.problem).toMatch(/^guarantees no day in the week of 2026-01-05/);
  });

  test('an overnight weekend window counts the days it covers whole', () => {
    const weekend = schedule('Europe/Paris', '0 20 * * 5', '0 8 * * 1');
    const check = checkAvailability(weekend);
    // Friday has 4 hours, Saturday and Sunday 24, Monday 8 (midnight to 08:00).
    expect(check).toEqual({ ok: true, weeksChecked: CHECK_WEEKS, fewest: { weekOf: '2026-01-05', days: ['Mon', 'Sat', 'Sun'] } });
    expect(scheduledState(weekend, at('2026-05-24T12:00:00Z')).up).toBe(true); // a Sunday
  });

  test('a window that lasts all week, broken by one short night, still counts every day with 8 hours', () => {
    const check = checkAvailability(schedule('UTC', '0 2 * * *', '0 1 * * *'));
    expect(check.ok && check.fewest.days).toEqual(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
  });

  test('DST: an up time skipped in spring loses its day that week, and the schedule is refused', () => {
    const check = checkAvailability(schedule('Europe/Paris', '30 2 * * 0,3', '30 23 * * 0,3'));
    expect(check.ok).toBe(false);
    expect(!check.ok && check.problem).toMatch(/^guarantees only 1 day \(Wed\) in the week of 2026-03-23;/);
  });

  test('DST: an eight-hour window is seven hours on the short day, and the schedule is refused', () => {
    const check = checkAvailability(schedule('America/New_York', '0 0 * * 0,3', '0 8 * * 0,3'));
    expect(check.ok).toBe(false);
    expect(!check.ok && check.problem).toMatch(/in the week of 2026-03-02;/); // Sunday 2026-03-08
    // The same window on the long autumn day (nine hours) and in a zone without DST passes.
    expect(checkAvailability(schedule('Asia/Tokyo', '0 0 * * 0,3', '0 8 * * 0,3')).ok).toBe(true);
  });

  test('DST: a midnight skipped in spring (Santiago) delays that day, and the check follows it', () => {
    // Up Saturday 16:00 to Sunday 23:00: Sunday 2026-09-06 begins at 01:00, so it has 22 hours, still a day.
    expect(checkAvailability(schedule('America/Santiago', '0 16 * * 6', '0 23 * * 0')).ok).toBe(true);
  });

  test('a schedule tied to days of the month fails the first week without them', () => {
    const check = checkAvailability(schedule('UTC', '0 7 1-7 * *', '0 20 1-7 * *'));
    expect(!check.ok && check.problem).toMatch(/^guarantees no day in the week of 2026-01-12;/);
  });

  test('up and down in the same minute is refused: the state would depend on the order', () => {
    const check = checkAvailability(schedule('UTC', '0 7 * * *', '0 7,20 * * 1'));
    expect(check).toEqual({ ok: false, weeksChecked: 1, problem: 'up and down both fire at Mon 2026-01-05 07:00 (UTC); give them different times' });
  });

  test('a rare calendar is found: down only on leap days fails first in 2044, when 29 February is a Monday', () => {
    const check = checkAvailability(schedule('UTC', '0 7 * * 1', '0 20 29 2 *'));
    expect(!check.ok && check.problem).toMatch(/^guarantees only 1 day \(Mon\) in the week of 2044-02-29;/);
    // In 2028 the leap day is a Tuesday, which leaves Monday and Tuesday.
    const until2043 = checkAvailability(schedule('UTC', '0 7 * * 1', '0 20 29 2 *'), { weeks: 52 * 17 });
    expect(until2043.ok && until2043.fewest).toEqual({ weekOf: '2028-02-28', days: ['Mon', 'Tue'] });
  });

  test('the check is quick enough to run when the team file loads', () => {
    const started = Date.now();
    checkAvailability(schedule('Europe/Berlin', '0 6 * * 1-5', '0 21 * * 1-5'));
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
