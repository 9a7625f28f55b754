import { clashes, layerMemberAt, resolveAt, shiftsBetween, type Rotation, type RotationLayer, type ScheduleOverride } from '../../handlers/rotation';

const A = 'U0ALICE001';
const B = 'U0BOB00001';
const C = 'U0CAROL001';
const at = (iso: string) => new Date(iso);

const weekly = (members: string[], o: Partial<RotationLayer> = {}): RotationLayer => ({ name: 'weekly', members, shiftMinutes: 7 * 1440, start: '2026-03-16T10:00', timezone: 'Europe/Paris', ...o });
const rotation = (...layers: RotationLayer[]): Rotation => ({ level: 'L1', layers });

describe('rotations', () => {
  test('a weekly Monday 10:00 handover stays at 10:00 local across the spring DST change', () => {
    const r = rotation(weekly([A, B, C]));
    // Europe/Paris moves from UTC+1 to UTC+2 on Sunday 29 March 2026.
    const shifts = shiftsBetween(r, [], at('2026-03-16T09:00:00Z'), at('2026-04-06T08:00:00Z'));
    expect(shifts.map((s) => [s.userId, s.from.toISOString()])).toEqual([
      [A, '2026-03-16T09:00:00.000Z'], // 10:00 CET
      [B, '2026-03-23T09:00:00.000Z'], // 10:00 CET
      [C, '2026-03-30T08:00:00.000Z'], // 10:00 CEST: an hour earlier in UTC
    ]);
    // Alice's week ends at 10:00 local; Bob's week is a real week, Carol's starts after a 167-hour Bob week.
    expect(shifts[1]!.to.getTime() - shifts[1]!.from.getTime()).toBe(167 * 3_600_000);
    expect(layerMemberAt(r.layers[0]!, at('2026-03-30T07:59:00Z'))).toBe(B);
    expect(layerMemberAt(r.layers[0]!, at('2026-03-30T08:00:00Z'))).toBe(C);
  });

  test('a 12-hour shift keeps 08:00 and 20:00 local across the autumn DST change', () => {
    const r = rotation({ name: 'halves', members: [A, B], shiftMinutes: 720, start: '2026-10-24T08:00', timezone: 'Europe/Paris' });
    const shifts = shiftsBetween(r, [], at('2026-10-24T06:00:00Z'), at('2026-10-26T08:00:00Z'));
    const local = (d: Date) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(d);
    expect(shifts.map((s) => local(s.from))).toEqual(['08:00', '20:00', '08:00', '20:00', '08:00']);
    // The night the clocks go back is 13 hours long.
    expect(shifts[1]!.to.getTime() - shifts[1]!.from.getTime()).toBe(13 * 3_600_000);
  });

  test('zones differ: the same rotation in New York hands over at 10:00 there', () => {
    const r = rotation(weekly([A, B], { timezone: 'America/New_York', start: '2026-03-02T10:00' }));
    // New York moves to daylight time on 8 March 2026, three weeks before Paris.
    expect(resolveAt(r, [], at('2026-03-09T13:59:00Z')).userId).toBe(A);
    expect(resolveAt(r, [], at('2026-03-09T14:00:00Z')).userId).toBe(B);
  });

  test('the last layer that covers an instant wins; outside its window the layers under it answer', () => {
    const weekends: RotationLayer = { name: 'weekends', members: [C], shiftMinutes: 1440, start: '2026-03-14T00:00', timezone: 'Europe/Paris', restriction: { days: ['sat', 'sun'], fromMinute: 0, toMinute: 1440 } };
    const r = rotation(weekly([A, B], { start: '2026-03-09T10:00' }), weekends);
    expect(resolveAt(r, [], at('2026-03-13T12:00:00Z'))).toEqual({ userId: A, source: 'weekly' }); // Friday
    expect(resolveAt(r, [], at('2026-03-14T12:00:00Z'))).toEqual({ userId: C, source: 'weekends' }); // Saturday
    expect(resolveAt(r, [], at('2026-03-15T22:59:00Z'))).toEqual({ userId: C, source: 'weekends' }); // Sunday 23:59 local
    expect(resolveAt(r, [], at('2026-03-15T23:00:00Z'))).toEqual({ userId: A, source: 'weekly' }); // Monday 00:00 local
    const shifts = shiftsBetween(r, [], at('2026-03-13T00:00:00Z'), at('2026-03-17T00:00:00Z'));
    expect(shifts.map((s) => `${s.userId === C ? 'C' : s.userId === A ? 'A' : 'B'}@${s.from.toISOString().slice(5, 16)}`)).toEqual(['A@03-13T00:00', 'C@03-13T23:00', 'A@03-15T23:00', 'B@03-16T09:00']);
  });

  test('a window over midnight belongs to the day it starts', () => {
    const nights: RotationLayer = { name: 'nights', members: [C], shiftMinutes: 1440, start: '2026-03-01T00:00', timezone: 'UTC', restriction: { days: ['fri'], fromMinute: 22 * 60, toMinute: 6 * 60 } };
    const r = rotation(weekly([A], { start: '2026-03-02T10:00', timezone: 'UTC' }), nights);
    expect(resolveAt(r, [], at('2026-03-13T23:00:00Z')).userId).toBe(C); // Friday night
    expect(resolveAt(r, [], at('2026-03-14T05:59:00Z')).userId).toBe(C); // Saturday early morning
    expect(resolveAt(r, [], at('2026-03-14T06:00:00Z')).userId).toBe(A);
    expect(resolveAt(r, [], at('2026-03-12T23:00:00Z')).userId).toBe(A); // Thursday night: not the window
  });

  test('nobody is on call before a layer starts, and overrides win over every layer (the newest where they overlap)', () => {
    const r = rotation(weekly([A, B]));
    expect(resolveAt(r, [], at('2026-03-16T08:59:00Z'))).toEqual({ source: 'none' });
    const overrides: ScheduleOverride[] = [
      { id: 'o1', level: 'L1', userId: C, from: at('2026-03-17T00:00:00Z'), to: at('2026-03-18T00:00:00Z'), createdAt: at('2026-03-16T12:00:00Z') },
      { id: 'o2', level: 'L1', userId: B, from: at('2026-03-17T06:00:00Z'), to: at('2026-03-17T08:00:00Z'), createdAt: at('2026-03-16T13:00:00Z') },
      { id: 'o3', level: 'L2', userId: B, from: at('2026-03-17T00:00:00Z'), to: at('2026-03-19T00:00:00Z'), createdAt: at('2026-03-16T13:00:00Z') },
    ];
    expect(resolveAt(r, overrides, at('2026-03-17T05:00:00Z'))).toEqual({ userId: C, source: 'override', overrideId: 'o1' });
    expect(resolveAt(r, overrides, at('2026-03-17T07:00:00Z'))).toEqual({ userId: B, source: 'override', overrideId: 'o2' });
    expect(resolveAt(r, overrides, at('2026-03-18T00:00:00Z'))).toEqual({ userId: A, source: 'weekly' });
    const shifts = shiftsBetween(r, overrides, at('2026-03-16T12:00:00Z'), at('2026-03-18T12:00:00Z'));
    expect(shifts.map((s) => `${s.source}:${s.from.toISOString().slice(8, 13)}`)).toEqual(['weekly:16T12', 'override:17T00', 'override:17T06', 'override:17T08', 'weekly:18T00']);
  });

  test('finds a person on call at two levels at once', () => {
    const l1 = { level: 'L1' as const, layers: [weekly([A, B])] };
    const l2 = { level: 'L2' as const, layers: [weekly([B, A])] };
    const l3 = { level: 'L3' as const, layers: [weekly([C])] };
    expect(clashes([l1, l2, l3], [], at('2026-03-16T09:00:00Z'), at('2026-04-16T09:00:00Z'))).toEqual([]);
    const bad = { level: 'L2' as const, layers: [weekly([A, B])] };
    expect(clashes([l1, bad], [], at('2026-03-16T09:00:00Z'), at('2026-04-16T09:00:00Z'))[0]).toEqual({ userId: A, levels: ['L1', 'L2'], at: at('2026-03-16T09:00:00Z') });
  });
});
