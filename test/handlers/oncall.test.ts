import { openStore, type Store } from '../../bot/store/connect';
import { ConflictError, InputError, NotAllowedError } from '../../handlers/errors';
import { OnCallService } from '../../handlers/oncall';
import { judgeOnCall, Policy, type OnCallFacts } from '../../handlers/policy';
import type { Actor } from '../../handlers/model/identity';
import type { Team } from '../../handlers/team';
import { MemoryDeployPlans, MemoryIncidentBoard } from '../fakes/memoryStores';
import { manualClock } from '../helpers';
import { ALICE, BOB, CAROL, DAVE, ERIN, oncallTeam } from './oncallTeam';

const slack = (id: string): Actor => ({ id, via: 'slack' });
const HOUR = 3_600_000;

describe('OnCallService', () => {
  let store: Store;
  let clock: ReturnType<typeof manualClock>;
  let team: Team;
  let oncall: OnCallService;
  let seq = 0;
  const meta = (actor: Actor) => ({ actor, requestId: `r-${++seq}` });

  beforeEach(async () => {
    clock = manualClock('2026-11-25T12:00:00Z'); // Wednesday: Dave holds L1 this week
    store = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
    team = oncallTeam();
    const policy = new Policy({ team, plans: new MemoryDeployPlans(), incidents: new MemoryIncidentBoard(), audit: store.audit, clock });
    oncall = new OnCallService({ team, overrides: store.overrides, policy, audit: store.audit, clock });
  });
  afterEach(() => store.close());

  test('answers who is on call at each level, until when, and the next handovers', async () => {
    const now = await oncall.now();
    expect(now.map((l) => [l.level, l.current.userId, l.current.to.toISOString()])).toEqual([
      ['L1', DAVE, '2026-11-30T09:00:00.000Z'], // Monday 10:00 Paris
      ['L2', ALICE, expect.any(String)],
      ['L3', BOB, expect.any(String)],
    ]);
    expect(now[0]!.next.map((s) => s.userId)).toEqual([CAROL, DAVE]);
    expect(await oncall.onCall('L1')).toEqual([DAVE]);
  });

  test('an override hands the slot over from now; /cockpit oncall shows the taker, and it is audited', async () => {
    const result = await oncall.override({ takerId: ERIN, minutes: 180 }, meta(slack(DAVE)));
    expect(result.override).toMatchObject({ level: 'L1', userId: ERIN, replaces: DAVE, createdBy: DAVE });
    expect(await oncall.onCall('L1')).toEqual([ERIN]);
    expect(await oncall.onCall('L1', new Date(clock.now().getTime() + 3 * HOUR))).toEqual([DAVE]);
    const now = await oncall.now();
    expect(now[0]!.current).toMatchObject({ userId: ERIN, source: 'override' });
    expect(now[0]!.next[0]).toMatchObject({ userId: DAVE });
    expect(await store.audit.query({ action: 'oncall.override' })).toHaveLength(1);
  });

  test('refuses an override from a terminal, from someone not holding the slot, and one that makes two levels', async () => {
    await expect(oncall.override({ takerId: ERIN, minutes: 60 }, meta({ id: DAVE, via: 'console', as: 'dave' }))).rejects.toThrow(NotAllowedError);
    // Bob holds L3, not L1, and is no manager.
    await expect(oncall.override({ takerId: ERIN, minutes: 60, level: 'L1' }, meta(slack(BOB)))).rejects.toThrow(/only its holder, the taker/);
    // Bob is on call at L3: he cannot take L1 as well.
    await expect(oncall.override({ takerId: BOB, minutes: 60 }, meta(slack(DAVE)))).rejects.toThrow(ConflictError);
    // Dave's week ends Monday: an override past it gives away Carol's time.
    await expect(oncall.override({ takerId: ERIN, minutes: 7 * 24 * 60 }, meta(slack(DAVE)))).rejects.toThrow(/not on call for all of that time/);
    const refusals = await store.audit.query({ action: 'policy.override' });
    expect(refusals.map((r) => r.detail.via)).toEqual(['slack', 'slack', 'console']);
  });

  test('a manager may override anyone, and the taker may take a slot on', async () => {
    await oncall.override({ takerId: ERIN, minutes: 60, level: 'L1' }, meta(slack(CAROL))); // Carol is an approver
    expect(await oncall.onCall('L1')).toEqual([ERIN]);
    clock.advance(2 * HOUR);
    await oncall.override({ takerId: ERIN, minutes: 60, level: 'L1' }, meta(slack(ERIN)));
    expect(await oncall.onCall('L1')).toEqual([ERIN]);
    await expect(oncall.override({ takerId: ERIN, minutes: 30, level: 'L1' }, meta(slack(ERIN)))).rejects.toThrow(InputError);
    await expect(oncall.override({ takerId: DAVE, minutes: 60 }, meta(slack(CAROL)))).rejects.toThrow(/not on call now/);
  });

  test('a swap changes nothing until the other person accepts; then both shifts move, once', async () => {
    // Dave's next shift is 7-14 December; Carol's next after it is 14-21 December.
    const swap = await oncall.proposeSwap({ counterpart: CAROL, shift: 'next' }, meta(slack(DAVE)));
    expect(swap).toMatchObject({ level: 'L1', status: 'proposed', give: { from: new Date('2026-12-07T09:00:00Z') }, take: { from: new Date('2026-12-14T09:00:00Z') } });
    expect(await oncall.onCall('L1', new Date('2026-12-08T12:00:00Z'))).toEqual([DAVE]);
    await expect(oncall.acceptSwap(swap.id, meta(slack(ERIN)))).rejects.toThrow(/offered to someone else/);
    await expect(oncall.acceptSwap(swap.id, meta({ id: CAROL, via: 'cli', as: 'carol' }))).rejects.toThrow(/needs Slack/);
    const { swap: accepted, shifts } = await oncall.acceptSwap(swap.id, meta(slack(CAROL)));
    expect(accepted.status).toBe('accepted');
    expect(shifts.map((s) => s.userId)).toEqual([CAROL, DAVE]);
    expect(await oncall.onCall('L1', new Date('2026-12-08T12:00:00Z'))).toEqual([CAROL]);
    expect(await oncall.onCall('L1', new Date('2026-12-15T12:00:00Z'))).toEqual([DAVE]);
    await expect(oncall.acceptSwap(swap.id, meta(slack(CAROL)))).rejects.toThrow(/accepted already/);
  });

  test('a swap is refused when either person would hold two levels, or has no shift to trade', async () => {
    await expect(oncall.proposeSwap({ counterpart: ALICE, shift: 'next' }, meta(slack(DAVE)))).rejects.toThrow(/has no L1 shift/);
    await expect(oncall.proposeSwap({ counterpart: CAROL, shift: '2027-06-01' }, meta(slack(DAVE)))).rejects.toThrow(InputError);
    await expect(oncall.proposeSwap({ counterpart: DAVE, shift: 'now' }, meta(slack(ERIN)))).rejects.toThrow(/no shift/);
    const swap = await oncall.proposeSwap({ counterpart: CAROL, shift: 'now' }, meta(slack(DAVE)));
    expect(swap.give.from).toEqual(clock.now()); // the rest of the current shift
    expect((await oncall.declineSwap(swap.id, meta(slack(CAROL)))).status).toBe('declined');
  });
});

describe('the policy of on-call acts', () => {
  const team = oncallTeam();
  const row = (act: Parameters<typeof judgeOnCall>[2], actor: Actor, facts: OnCallFacts) => judgeOnCall(team, actor, act, facts).allowed;
  const console_ = (id: string): Actor => ({ id, via: 'console', as: 'someone' });

  test.each([
    // act, actor, facts, allowed
    ['page', slack(ERIN), {}, true],
    ['page', console_(ERIN), {}, true],
    ['page', slack('U0STRANGER'), {}, false],
    ['acknowledge', slack(ERIN), { paged: true }, true],
    ['acknowledge', slack(ERIN), { onCall: true }, true],
    ['acknowledge', slack(ERIN), {}, false],
    ['acknowledge', slack(ERIN), { everyone: true }, true],
    ['acknowledge', console_(DAVE), { paged: true }, false],
    ['escalate', console_(DAVE), { paged: true }, true],
    ['escalate', slack(ERIN), {}, false],
    ['escalate', slack(ERIN), { raisedBy: ERIN }, true],
    ['resolve', slack(ERIN), { acknowledgedBy: ERIN }, true],
    ['resolve', console_(ERIN), { acknowledgedBy: ERIN }, false],
    ['silence', slack(ERIN), { pagingStack: true }, false],
    ['silence', slack(ERIN), { onCall: true, pagingStack: true }, true],
    ['silence', slack(BOB), { pagingStack: true }, true], // sre
    ['silence', console_(BOB), { pagingStack: true }, false],
    ['silence', console_(BOB), { pagingStack: false }, true],
    ['override', slack(DAVE), { holdsShift: true, takerId: ERIN }, true],
    ['override', slack(ERIN), { takerId: ERIN }, true],
    ['override', slack(CAROL), { takerId: ERIN }, true], // approver: a manager
    ['override', slack(BOB), { takerId: ERIN }, false],
    ['override', console_(CAROL), { takerId: ERIN }, false],
    ['swap', slack(DAVE), { holdsShift: true }, true],
    ['swap', slack(DAVE), { holdsShift: false }, false],
    ['accept_swap', slack(CAROL), { counterpart: CAROL }, true],
    ['accept_swap', slack(ERIN), { counterpart: CAROL }, false],
    ['accept_swap', { id: CAROL, via: 'cli', as: 'c' }, { counterpart: CAROL }, false],
  ] as const)('%s by %o with %o: %s', (act, actor, facts, allowed) => {
    expect(row(act, actor as Actor, facts as OnCallFacts)).toBe(allowed);
  });

  test('the scheduler does no on-call act on anyone’s behalf', () => {
    expect(row('acknowledge', { id: 'scheduler', via: 'scheduler' }, { paged: true })).toBe(false);
  });

  test('with whoMayAcknowledge: paged, being on call is not enough', () => {
    const strict = oncallTeam('escalation:\n  whoMayAcknowledge: paged\n  policies:\n    default:\n      - { notify: L1, wait: 5m }\n      - { notify: everyone }\n    person:\n      - { notify: target, wait: 5m }\n');
    expect(judgeOnCall(strict, slack(ERIN), 'acknowledge', { onCall: true }).allowed).toBe(false);
    expect(judgeOnCall(strict, slack(ERIN), 'acknowledge', { paged: true }).allowed).toBe(true);
  });
});
