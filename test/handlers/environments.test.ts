import { parse } from 'node-cron';
import { openStore, type Store } from '../../bot/store/connect';
import type { Availability, CronSchedule } from '../../handlers/availability';
import { Deployer } from '../../handlers/deploy';
import { EnvironmentKeeper, SCHEDULER_ACTOR, type EnvironmentEvent } from '../../handlers/environments';
import { ConflictError, InputError, NotAllowedError, NotFoundError, UnavailableError } from '../../handlers/errors';
import { Policy } from '../../handlers/policy';
import type { Actor } from '../../handlers/model/identity';
import type { Team } from '../../handlers/team';
import { MemoryDeployPlans, MemoryDrillHistory, MemoryIncidentBoard } from '../fakes/memoryStores';
import { FakeInfraEngine } from '../fakes/pulumiEngine';
import { exampleTeam, manualClock } from '../helpers';

const alice: Actor = { id: 'U0ALICE001', name: 'Alice', via: 'slack' }; // engineer, sre, approver
const bob: Actor = { id: 'U0BOB00001', name: 'Bob', via: 'slack' }; // engineer, sre
const stranger: Actor = { id: 'U0NOBODY01', via: 'slack' };
const MIN = 60_000;
const HOUR = 60 * MIN;

function cron(expression: string): CronSchedule {
  const { minute, hour, dayOfMonth, month, dayOfWeek } = parse(expression);
  return { expression, fields: { minute, hour, dayOfMonth, month, dayOfWeek } };
}

/** Staging up Mondays and Wednesdays 07:00-20:00 Paris time (UTC+2 in May: 05:00-18:00 UTC). */
const stagingSchedule: Availability = { timezone: 'Europe/Paris', up: cron('0 7 * * 1,3'), down: cron('0 20 * * 1,3'), remindBeforeMinutes: 30 };

function teamWithSchedule(): Team {
  const team = exampleTeam();
  team.stacks.staging!.availability = stagingSchedule;
  return team;
}

describe('EnvironmentKeeper', () => {
  let store: Store;
  let engine: FakeInfraEngine;
  let clock: ReturnType<typeof manualClock>;
  let team: Team;
  let keeper: EnvironmentKeeper;
  let seq = 0;
  const meta = (actor: Actor) => ({ actor, requestId: `r-${++seq}` });
  let incidents: MemoryIncidentBoard;
  const scheduler = () => meta({ id: SCHEDULER_ACTOR, via: 'scheduler' });
  /** The next update still running: the fake hands out earlier, finished ones first. */
  async function runningUpdate() {
    for (;;) {
      const update = await engine.nextUpdate();
      if (!update.finished) return update;
    }
  }
  const kinds = (events: EnvironmentEvent[]) => events.map((e) => `${e.kind}:${'stack' in e ? e.stack : e.environment.stack}`);

  function newKeeper(owner = 'replica-a'): EnvironmentKeeper {
    const policy = new Policy({ team, plans: store.plans, incidents, audit: store.audit, clock });
    return new EnvironmentKeeper({ team, policy, engine, locks: store.locks, environments: store.environments, audit: store.audit, clock, owner, timing: { heartbeatMs: 10 } });
  }

  beforeEach(async () => {
    // Monday 2026-05-18, 06:00 in Paris.
    clock = manualClock('2026-05-18T04:00:00Z');
    store = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
    engine = new FakeInfraEngine();
    incidents = new MemoryIncidentBoard();
    team = teamWithSchedule();
    keeper = newKeeper();
  });
  afterEach(() => store.close());

  describe('deploys of stacks Cockpit tears down', () => {
    test('a deploy that brought a down ephemeral stack up gives it the default TTL; others are left alone', async () => {
      expect(await keeper.adoptDeployed('dev', meta(alice))).toMatchObject({ state: 'up', expiresAt: new Date(clock.now().getTime() + 4 * HOUR), upBy: alice.id });
      const [audit] = await store.audit.query({ action: 'environment.adopt' });
      expect(audit).toMatchObject({ target: 'dev', detail: expect.objectContaining({ via: 'deploy' }) });
      // Already up: its own expiry stands.
      clock.advance(HOUR);
      expect(await keeper.adoptDeployed('dev', meta(bob))).toBeUndefined();
      expect((await store.environments.get('dev'))?.upBy).toBe(alice.id);
      // Scheduled and permanent stacks follow their own rules.
      expect(await keeper.adoptDeployed('staging', meta(alice))).toBeUndefined();
      expect(await keeper.adoptDeployed('prod', meta(alice))).toBeUndefined();
      expect(await store.environments.get('prod')).toBeUndefined();
    });
  });

  describe('up', () => {
    test('brings an ephemeral stack up for 4 hours by default, counted from when it is up', async () => {
      engine.holdUpdates = true;
      const m = meta(alice);
      const running = keeper.up('dev', undefined, m);
      const update = await engine.nextUpdate();
      expect(update.kind).toBe('up');
      expect(update.target).toEqual({ stack: 'dev', pulumiStack: 'dev', branch: 'dev' });
      // Recorded before the engine runs, under the stack lock.
      expect(await store.environments.get('dev')).toMatchObject({ state: 'up', upBy: alice.id, expiresAt: new Date(clock.now().getTime() + 4 * HOUR) });
      expect(await store.locks.get('dev')).toMatchObject({ holder: alice.id, purpose: 'up', requestId: m.requestId, owner: 'replica-a' });

      clock.advance(6 * MIN);
      update.succeed();
      const outcome = await running;
      expect(outcome).toMatchObject({ kind: 'brought_up', result: { outcome: 'succeeded' } });
      expect(outcome.environment).toMatchObject({ stack: 'dev', state: 'up', expiresAt: new Date(clock.now().getTime() + 4 * HOUR), upBy: alice.id });
      expect(await store.locks.get('dev')).toBeUndefined();
      const audit = (await store.audit.query({ target: 'dev' })).map((e) => `${e.action}:${e.outcome}`).reverse();
      expect(audit).toEqual(['environment.up:started', 'environment.up:succeeded']);
    });

    test('takes the TTL asked for, up to 7 days', async () => {
      const outcome = await keeper.up('integration', 90, meta(bob));
      expect(outcome.environment.expiresAt).toEqual(new Date(clock.now().getTime() + 90 * MIN));
      await expect(keeper.up('dev', 7 * 24 * 60 + 1, meta(bob))).rejects.toThrow(new InputError('A TTL runs from 1 minute to 7d.'));
      await expect(keeper.up('dev', 0, meta(bob))).rejects.toBeInstanceOf(InputError);
      expect(engine.calls.filter((c) => c.method === 'up').map((c) => c.stack)).toEqual(['integration']);
    });

    test('on a stack that is up, runs nothing and only ever lengthens its time', async () => {
      await keeper.up('dev', 4 * 60, meta(alice));
      const first = (await store.environments.get('dev'))!.expiresAt!;
      clock.advance(HOUR);

      const shorter = await keeper.up('dev', 60, meta(bob));
      expect(shorter).toMatchObject({ kind: 'already_up', extended: false, environment: { expiresAt: first, upBy: alice.id } });

      const longer = await keeper.up('dev', 8 * 60, meta(bob));
      expect(longer).toMatchObject({ kind: 'already_up', extended: true, environment: { expiresAt: new Date(clock.now().getTime() + 8 * HOUR) } });
      expect(engine.calls.filter((c) => c.method === 'up')).toHaveLength(1);
    });

    test('two ups at once: one brings the stack up, the other is told who is doing it', async () => {
      engine.holdUpdates = true;
      const first = keeper.up('dev', undefined, meta(alice));
      const update = await engine.nextUpdate();
      await expect(keeper.up('dev', undefined, meta(bob))).rejects.toThrow(/^dev is locked by Alice since .* for up, ref r-/);
      update.succeed();
      expect((await first).kind).toBe('brought_up');
      expect(engine.calls.filter((c) => c.method === 'up')).toHaveLength(1);
    });

    test('an engine that refuses to start leaves the record as it was', async () => {
      engine.failNextUpdate('dev', new ConflictError('The stack is locked in the Pulumi backend.'));
      await expect(keeper.up('dev', undefined, meta(alice))).rejects.toThrow('The stack is locked in the Pulumi backend.');
      expect(await store.environments.get('dev')).toMatchObject({ state: 'down' });
      expect(await store.locks.get('dev')).toBeUndefined();
    });

    test('a failed run still expires: whatever it created is torn down with the TTL', async () => {
      engine.holdUpdates = true;
      const running = keeper.up('dev', 60, meta(alice));
      (await engine.nextUpdate()).failWith('quota exceeded');
      const outcome = await running;
      expect(outcome).toMatchObject({ kind: 'brought_up', result: { outcome: 'failed', error: 'quota exceeded' }, environment: { state: 'up' } });
      expect((await store.audit.query({ action: 'environment.up' }))[0]).toMatchObject({ outcome: 'failed', detail: expect.objectContaining({ error: 'quota exceeded' }) });
    });
  });

  describe('who may, and on which stacks', () => {
    test('deployers of the stack only', async () => {
      await expect(keeper.up('dev', undefined, meta(stranger))).rejects.toThrow(new NotAllowedError('U0NOBODY01 is not in the team file, so may not bring up dev.'));
      await expect(keeper.down('dev', meta(stranger))).rejects.toBeInstanceOf(NotAllowedError);
      expect(engine.calls).toEqual([]);
    });

    test('prod is permanent: never up, never down', async () => {
      await expect(keeper.up('prod', undefined, meta(alice))).rejects.toThrow(new InputError('prod is permanent: it is always up. Deploy it with /cockpit deploy prod.'));
      const down = await keeper.down('prod', meta(alice)).catch((e: unknown) => e);
      expect(down).toEqual(new InputError('prod is permanent: Cockpit never tears it down.'));
      expect((down as InputError).hint).toBe('Stacks that come and go: dev, integration.');
    });

    test('staging follows its schedule: no up by hand, and no down inside its window', async () => {
      clock.advance(2 * HOUR); // Monday 08:00 Paris: inside the window
      const up = await keeper.up('staging', undefined, meta(alice)).catch((e: unknown) => e);
      expect(up).toBeInstanceOf(InputError);
      expect((up as InputError).message).toBe('staging follows its schedule (up `0 7 * * 1,3`, down `0 20 * * 1,3` (Europe/Paris)): it is up until Mon 20:00 Europe/Paris.');
      await expect(keeper.down('staging', meta(alice))).rejects.toThrow(new NotAllowedError('staging is in its scheduled window until Mon 20:00 Europe/Paris: nobody takes it down then.'));

      clock.advance(13 * HOUR); // Monday 21:00 Paris: outside it, a person may (e.g. to retry a failed tear-down)
      const { environment, result } = await keeper.down('staging', meta(alice));
      expect(result.outcome).toBe('succeeded');
      expect(environment).toMatchObject({ stack: 'staging', state: 'down' });
      expect(engine.calls.map((c) => `${c.method}:${c.stack}`)).toEqual(['destroy:staging']);
    });

    test('unknown stacks and a missing engine are said plainly', async () => {
      await expect(keeper.up('qa', undefined, meta(alice))).rejects.toBeInstanceOf(NotFoundError);
      engine.availabilityResult = { available: false, reason: 'the pulumi CLI is not on PATH', install: 'curl -fsSL https://get.pulumi.com | sh' };
      await expect(keeper.up('dev', undefined, meta(alice))).rejects.toThrow(new UnavailableError('Stacks cannot be brought up or down here: the pulumi CLI is not on PATH'));
    });
  });

  describe('the stack lock, shared with deploys', () => {
    function deployer(): Deployer {
      const plans = new MemoryDeployPlans(clock.now);
      const incidents = new MemoryIncidentBoard();
      return new Deployer({
        team,
        policy: new Policy({ team, plans, incidents, audit: store.audit, clock }),
        engine,
        locks: store.locks,
        plans,
        drills: new MemoryDrillHistory(),
        incidents,
        audit: store.audit,
        clock,
        owner: 'replica-b',
        timing: { heartbeatMs: 10 },
      });
    }

    test('an up waits for nobody: a deploy running on the stack refuses it, saying who and why', async () => {
      const deploys = deployer();
      const plan = await deploys.preview('dev', meta(bob));
      engine.holdUpdates = true;
      const deploying = deploys.confirm(plan.id, meta(bob));
      const update = await engine.nextUpdate();
      clock.advance(3 * MIN);

      await expect(keeper.up('dev', undefined, meta(alice))).rejects.toThrow(new ConflictError(`dev is locked by Bob since 04:00 UTC (3m) for deploy, ref ${plan.id}`));
      expect((await store.audit.query({ action: 'environment.up' }))[0]).toMatchObject({ outcome: 'refused', detail: expect.objectContaining({ purpose: 'deploy' }) });
      expect(await store.environments.get('dev')).toBeUndefined();
      update.succeed();
      await deploying;
    });

    test('a deploy is refused while a tear-down runs', async () => {
      await keeper.up('dev', undefined, meta(alice));
      const deploys = deployer();
      const plan = await deploys.preview('dev', meta(bob));
      engine.holdUpdates = true;
      const tearingDown = keeper.down('dev', meta(alice));
      const destroy = await runningUpdate();
      expect(destroy.kind).toBe('destroy');
      await expect(deploys.confirm(plan.id, meta(bob))).rejects.toThrow(/dev is locked by Alice .* for destroy/);
      destroy.succeed();
      expect((await tearingDown).environment.state).toBe('down');
    });
  });

  describe('the sweep of ephemeral stacks', () => {
    async function bringUpDev(ttlMinutes = 4 * 60) {
      await keeper.up('dev', ttlMinutes, meta(alice));
      return (await store.environments.get('dev'))!.expiresAt!;
    }

    test('warns 30 minutes before the TTL ends, once, then tears down when it has', async () => {
      const expiresAt = await bringUpDev();
      clock.advance(3 * HOUR + 29 * MIN);
      expect(await keeper.sweep(scheduler())).toEqual([]);

      clock.advance(MIN);
      const warned = await keeper.sweep(scheduler());
      expect(warned).toEqual([{ kind: 'warning', environment: expect.objectContaining({ stack: 'dev', warnedAt: clock.now() }), tearDownAt: expiresAt, stackKind: 'ephemeral' }]);
      clock.advance(10 * MIN);
      expect(await keeper.sweep(scheduler())).toEqual([]);

      clock.advance(20 * MIN);
      const swept = await keeper.sweep(scheduler());
      expect(kinds(swept)).toEqual(['tearing_down:dev', 'torn_down:dev']);
      expect(await store.environments.get('dev')).toMatchObject({ state: 'down', upBy: alice.id });
      expect(engine.calls.map((c) => `${c.method}:${c.stack}`)).toEqual(['up:dev', 'destroy:dev']);
      const audit = (await store.audit.query({ target: 'dev' })).map((e) => `${e.action}:${e.outcome}`).reverse();
      expect(audit).toEqual(['environment.up:started', 'environment.up:succeeded', 'environment.warn:succeeded', 'environment.expire:started', 'environment.expire:succeeded']);
      expect(await keeper.sweep(scheduler())).toEqual([]);
    });

    test('the scheduler asks the policy too: a SEV1/SEV2 open on the stack postpones its tear-down until it is resolved', async () => {
      await bringUpDev(60);
      const incident = incidents.add({ severity: 'SEV2', title: 'payments failing on dev', stacks: ['dev'] });
      clock.advance(30 * MIN);
      await keeper.sweep(scheduler()); // the warning
      clock.advance(31 * MIN);
      const postponed = await keeper.sweep(scheduler());
      expect(postponed).toEqual([{ kind: 'postponed', stack: 'dev', what: 'destroy', reason: expect.stringContaining('dev is frozen by INC-1 SEV2 "payments failing on dev"') }]);
      expect(engine.calls.filter((c) => c.method === 'destroy')).toEqual([]);
      const [refused] = await store.audit.query({ action: 'policy.down' });
      expect(refused).toMatchObject({ actor: 'scheduler', outcome: 'refused' });
      incident.status = 'resolved';
      expect(kinds(await keeper.sweep(scheduler()))).toEqual(['tearing_down:dev', 'torn_down:dev']);
    });

    test('Keep pushes the tear-down 2 hours past the warned time; a second press of the same warning adds nothing', async () => {
      const expiresAt = await bringUpDev();
      clock.advance(3 * HOUR + 35 * MIN);
      await keeper.sweep(scheduler());

      const kept = await keeper.extend('dev', keeper.keepMinutes, meta(bob), expiresAt);
      expect(kept).toMatchObject({ kind: 'extended', environment: { expiresAt: new Date(expiresAt.getTime() + 2 * HOUR) } });
      expect(kept.environment).not.toHaveProperty('warnedAt');
      const again = await keeper.extend('dev', keeper.keepMinutes, meta(alice), expiresAt);
      expect(again).toMatchObject({ kind: 'already_extended', environment: { expiresAt: new Date(expiresAt.getTime() + 2 * HOUR) } });

      clock.advance(30 * MIN); // the old expiry: nothing happens
      expect(await keeper.sweep(scheduler())).toEqual([]);
      clock.advance(HOUR + 30 * MIN); // 30 minutes before the new one: a new warning
      expect(kinds(await keeper.sweep(scheduler()))).toEqual(['warning:dev']);
      expect((await store.audit.query({ action: 'environment.extend' }))[0]).toMatchObject({ actor: bob.id, detail: expect.objectContaining({ minutes: 120 }) });
    });

    test('Keep after the expiry (inside the notice) counts from now; after the tear-down it says so', async () => {
      const expiresAt = await bringUpDev(20);
      // TTL shorter than the warning lead: the first sweep warns, and the tear-down waits for the notice.
      const [warning] = await keeper.sweep(scheduler());
      expect(warning).toMatchObject({ kind: 'warning', tearDownAt: expiresAt });
      clock.advance(21 * MIN);
      const kept = await keeper.extend('dev', 120, meta(bob), expiresAt);
      expect(kept.environment.expiresAt).toEqual(new Date(clock.now().getTime() + 2 * HOUR));

      await keeper.down('dev', meta(alice));
      await expect(keeper.extend('dev', 120, meta(bob), kept.environment.expiresAt)).rejects.toThrow(new NotFoundError('dev is down already.'));
    });

    test('a warning that went out late is still followed by the full notice', async () => {
      const expiresAt = await bringUpDev();
      clock.advance(4 * HOUR + 10 * MIN); // no replica ran for the whole warning window
      const late = await keeper.sweep(scheduler());
      expect(late).toEqual([expect.objectContaining({ kind: 'warning', tearDownAt: new Date(clock.now().getTime() + 5 * MIN) })]);
      expect(expiresAt < clock.now()).toBe(true);
      clock.advance(4 * MIN);
      expect(await keeper.sweep(scheduler())).toEqual([]);
      clock.advance(MIN);
      expect(kinds(await keeper.sweep(scheduler()))).toEqual(['tearing_down:dev', 'torn_down:dev']);
    });

    test('Keep is refused while the tear-down runs', async () => {
      const expiresAt = await bringUpDev(10);
      await keeper.sweep(scheduler());
      clock.advance(10 * MIN);
      engine.holdUpdates = true;
      const sweeping = keeper.sweep(scheduler());
      const destroy = await runningUpdate();
      await expect(keeper.extend('dev', 120, meta(bob), expiresAt)).rejects.toBeInstanceOf(ConflictError);
      destroy.succeed();
      expect(kinds(await sweeping)).toEqual(['tearing_down:dev', 'torn_down:dev']);
    });

    test('a failed tear-down is tried again an hour later, without a new warning', async () => {
      await bringUpDev(30);
      await keeper.sweep(scheduler()); // warns
      clock.advance(30 * MIN);
      engine.holdUpdates = true;
      const sweeping = keeper.sweep(scheduler());
      (await runningUpdate()).failWith('finalizer stuck on namespace dev');
      const failed = await sweeping;
      expect(failed[1]).toMatchObject({ kind: 'tear_down_failed', retryAt: new Date(clock.now().getTime() + HOUR), result: { error: 'finalizer stuck on namespace dev' } });
      expect(await store.environments.get('dev')).toMatchObject({ state: 'up', warnedAt: clock.now() });

      engine.holdUpdates = false;
      clock.advance(59 * MIN);
      expect(await keeper.sweep(scheduler())).toEqual([]);
      clock.advance(MIN);
      expect(kinds(await keeper.sweep(scheduler()))).toEqual(['tearing_down:dev', 'torn_down:dev']);
    });

    test('a stack busy with a deploy is torn down on a later run', async () => {
      await bringUpDev(30);
      await keeper.sweep(scheduler());
      clock.advance(30 * MIN);
      await store.locks.acquire({ stack: 'dev', holder: bob.id, purpose: 'deploy', requestId: 'r-deploy', owner: 'replica-b' });
      const postponed = await keeper.sweep(scheduler());
      expect(postponed).toEqual([{ kind: 'postponed', stack: 'dev', what: 'destroy', lock: expect.objectContaining({ purpose: 'deploy', holder: bob.id }) }]);
      await store.locks.release('dev', 'r-deploy');
      expect(kinds(await keeper.sweep(scheduler()))).toEqual(['tearing_down:dev', 'torn_down:dev']);
    });

    test('two replicas sweeping at once warn once and tear down once', async () => {
      await bringUpDev(30);
      const other = newKeeper('replica-b');
      const [a, b] = await Promise.all([keeper.sweep(scheduler()), other.sweep(scheduler())]);
      expect([...a, ...b].filter((e) => e.kind === 'warning')).toHaveLength(1);
      clock.advance(30 * MIN);
      const [c, d] = await Promise.all([keeper.sweep(scheduler()), other.sweep(scheduler())]);
      expect([...c, ...d].filter((e) => e.kind === 'torn_down')).toHaveLength(1);
      expect(engine.calls.filter((e) => e.method === 'destroy')).toHaveLength(1);
    });

    test('leaves scheduled and permanent stacks to others', async () => {
      await store.environments.put({ stack: 'staging', state: 'up', expiresAt: clock.now(), upBy: 'schedule' });
      await store.environments.put({ stack: 'prod', state: 'up', expiresAt: clock.now(), upBy: 'U0ALICE001' });
      await store.environments.put({ stack: 'removed-from-the-file', state: 'up', expiresAt: clock.now(), upBy: 'U0ALICE001' });
      expect(await keeper.sweep(scheduler())).toEqual([]);
    });
  });

  describe('the staging schedule', () => {
    test('adopts the schedule as it stands, then brings staging up and down on time, reminding first', async () => {
      // Monday 06:00: before the window. First sight: recorded, nothing runs.
      const adopted = await keeper.followSchedules(scheduler());
      expect(adopted).toEqual([{ kind: 'schedule_adopted', environment: expect.objectContaining({ stack: 'staging', state: 'down', upBy: 'schedule' }) }]);
      expect(engine.calls).toEqual([]);
      expect(await keeper.followSchedules(scheduler())).toEqual([]);

      clock.advance(HOUR); // 07:00
      const up = await keeper.followSchedules(scheduler());
      expect(kinds(up)).toEqual(['bringing_up:staging', 'brought_up:staging']);
      expect(await store.environments.get('staging')).toMatchObject({ state: 'up', upBy: 'schedule', expiresAt: new Date('2026-05-18T18:00:00Z') });
      expect(engine.calls.map((c) => `${c.method}:${c.stack}`)).toEqual(['up:staging']);

      clock.advance(12 * HOUR + 29 * MIN); // 19:29
      expect(await keeper.followSchedules(scheduler())).toEqual([]);
      clock.advance(MIN); // 19:30: the reminder
      expect(await keeper.followSchedules(scheduler())).toEqual([
        { kind: 'warning', environment: expect.objectContaining({ stack: 'staging' }), tearDownAt: new Date('2026-05-18T18:00:00Z'), stackKind: 'scheduled', nextUp: new Date('2026-05-20T05:00:00Z') },
      ]);
      clock.advance(30 * MIN); // 20:00
      const down = await keeper.followSchedules(scheduler());
      expect(kinds(down)).toEqual(['tearing_down:staging', 'torn_down:staging']);
      expect(down[1]).toMatchObject({ stackKind: 'scheduled', nextUp: new Date('2026-05-20T05:00:00Z') });
      expect(await store.environments.get('staging')).toMatchObject({ state: 'down' });

      clock.advance(HOUR);
      expect(await keeper.followSchedules(scheduler())).toEqual([]);
      expect(engine.calls.map((c) => `${c.method}:${c.stack}`)).toEqual(['up:staging', 'destroy:staging']);
    });

    test('a tear-down missed while no replica ran is done late, after a reminder and the notice', async () => {
      clock.advance(HOUR);
      await keeper.followSchedules(scheduler()); // adopted as up (Monday 07:00)
      clock.advance(14 * HOUR); // Tuesday 00:00 Paris: the 20:00 down passed unseen
      expect(kinds(await keeper.followSchedules(scheduler()))).toEqual(['warning:staging']);
      clock.advance(5 * MIN);
      expect(kinds(await keeper.followSchedules(scheduler()))).toEqual(['tearing_down:staging', 'torn_down:staging']);
    });

    test('a tear-down missed until the window reopened is skipped: the next down is what counts', async () => {
      clock.advance(HOUR);
      await keeper.followSchedules(scheduler()); // up until Monday 20:00
      clock.advance(2 * 24 * HOUR); // Wednesday 07:00: Monday's down and Wednesday's up both passed unseen
      expect(await keeper.followSchedules(scheduler())).toEqual([]);
      expect(await store.environments.get('staging')).toMatchObject({ state: 'up', expiresAt: new Date('2026-05-20T18:00:00Z') });
      expect(engine.calls).toEqual([]);
    });

    test('a bring-up that fails is reported, and staging still goes down at its time', async () => {
      await keeper.followSchedules(scheduler());
      clock.advance(HOUR);
      engine.failNextUpdate('staging', new ConflictError('Another update is currently in progress.'));
      const failed = await keeper.followSchedules(scheduler());
      expect(failed[1]).toMatchObject({ kind: 'bring_up_failed', error: 'Another update is currently in progress.', environment: { state: 'up', expiresAt: new Date('2026-05-18T18:00:00Z') } });
      // Reported once: the next runs do not try again on their own.
      expect(await keeper.followSchedules(scheduler())).toEqual([]);
    });

    test('a schedule edited while staging is up moves its tear-down', async () => {
      clock.advance(HOUR);
      await keeper.followSchedules(scheduler());
      team.stacks.staging!.availability = { ...stagingSchedule, down: cron('0 22 * * 1,3') };
      expect(await keeper.followSchedules(scheduler())).toEqual([]);
      expect((await store.environments.get('staging'))?.expiresAt).toEqual(new Date('2026-05-18T20:00:00Z'));
    });

    test('a deploy holding staging at the up time postpones the bring-up to a later run', async () => {
      await keeper.followSchedules(scheduler());
      clock.advance(HOUR);
      await store.locks.acquire({ stack: 'staging', holder: bob.id, purpose: 'deploy', requestId: 'r-deploy', owner: 'replica-b' });
      expect(kinds(await keeper.followSchedules(scheduler()))).toEqual(['postponed:staging']);
      await store.locks.release('staging', 'r-deploy');
      clock.advance(MIN);
      expect(kinds(await keeper.followSchedules(scheduler()))).toEqual(['bringing_up:staging', 'brought_up:staging']);
    });
  });
});
