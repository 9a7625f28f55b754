import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LEASE_MS, Scheduler, type Job, type JobRun } from '../../bot/scheduler';
import { openStore, type Store } from '../../bot/store/connect';
import type { Clock } from '../../handlers/ports';
import type { Leases } from '../../bot/scheduler/leases';
import { manualClock, memoryLogger } from '../helpers';

/** Two replicas: each its own connection to one database, its own scheduler and owner id. */
describe('Scheduler: one replica at a time', () => {
  let dir: string;
  let clock: ReturnType<typeof manualClock>;
  const stores: Store[] = [];
  const schedulers: Scheduler[] = [];

  async function replica(owner: string, jobs: Job[], options: { clock?: Clock; renewEveryMs?: number } = {}) {
    const storeClock = options.clock ?? clock;
    const store = await openStore({ kind: 'sqlite', file: join(dir, 'cockpit.db') }, { clock: storeClock });
    stores.push(store);
    const logger = memoryLogger();
    let runs = 0;
    const scheduler = new Scheduler({ leases: store.leases, owner, log: logger.log, clock: storeClock, newRunId: () => `${owner}-run-${++runs}`, renewEveryMs: options.renewEveryMs ?? 10 });
    for (const job of jobs) scheduler.add(job);
    schedulers.push(scheduler);
    return { scheduler, store, logger };
  }

  /** A job whose runs the test holds open and lets finish. */
  function heldJob(name = 'sweep', leaseMs = 50_000) {
    const runs: Array<{ run: JobRun; finish: () => void }> = [];
    const job: Job = {
      name,
      schedule: '* * * * *',
      leaseMs,
      run: (run) => new Promise<void>((resolve) => runs.push({ run, finish: resolve })),
    };
    return { job, runs };
  }

  const tick = (ms = 40) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cockpit-scheduler-'));
    clock = manualClock('2026-05-20T09:00:00Z');
  });

  afterEach(async () => {
    await Promise.all(schedulers.splice(0).map((s) => s.stop()));
    await Promise.all(stores.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('of two replicas triggered at the same slot, exactly one runs the job', async () => {
    const ran: string[] = [];
    const job = (owner: string): Job => ({ name: 'sweep', schedule: '* * * * *', run: async (run) => void ran.push(`${owner}:${run.requestId}`) });
    const a = await replica('replica-a', [job('a')]);
    const b = await replica('replica-b', [job('b')]);
    const slot = clock.now();
    const outcomes = await Promise.all([a.scheduler.trigger('sweep', slot), b.scheduler.trigger('sweep', slot)]);
    expect(outcomes.sort()).toEqual(['not_elected', 'ran']);
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatch(/^(a:replica-a|b:replica-b)-run-1$/);
  });

  test('the holder keeps the job while it runs, renewing past the lease; the other takes it once it has lapsed', async () => {
    const a = heldJob();
    const b = heldJob();
    const first = await replica('replica-a', [a.job]);
    const second = await replica('replica-b', [b.job]);

    const running = first.scheduler.trigger('sweep');
    await tick();
    expect(a.runs).toHaveLength(1);
    expect(await first.scheduler.trigger('sweep')).toBe('busy');

    // Twice 40 s on a 50 s lease: only the renewals in between keep it.
    clock.advance(40_000);
    await tick();
    clock.advance(40_000);
    await tick();
    expect(await second.scheduler.trigger('sweep')).toBe('not_elected');

    a.runs[0]!.finish();
    expect(await running).toBe('ran');
    // Finished, the lease is left to run out rather than released: the same slot cannot run again elsewhere.
    expect(await second.scheduler.trigger('sweep')).toBe('not_elected');
    clock.advance(DEFAULT_LEASE_MS);
    const taken = second.scheduler.trigger('sweep');
    await tick();
    expect(b.runs).toHaveLength(1);
    b.runs[0]!.finish();
    expect(await taken).toBe('ran');
  });

  test('a replica that died stops renewing, and another takes the job after the lease', async () => {
    const a = heldJob('schedule', 30_000);
    const b = heldJob('schedule', 30_000);
    const first = await replica('replica-a', [a.job], { renewEveryMs: 60_000 }); // never renews in time: as if frozen
    const second = await replica('replica-b', [b.job]);
    void first.scheduler.trigger('schedule');
    await tick();
    clock.advance(29_000);
    expect(await second.scheduler.trigger('schedule')).toBe('not_elected');
    clock.advance(1_000);
    const taken = second.scheduler.trigger('schedule');
    await tick();
    expect(b.runs).toHaveLength(1);
    b.runs[0]!.finish();
    a.runs[0]!.finish();
    expect(await taken).toBe('ran');
  });

  test('a failing job is logged with its run id, and the next run goes ahead', async () => {
    let calls = 0;
    const { scheduler, logger } = await replica('replica-a', [
      {
        name: 'sweep',
        schedule: '* * * * *',
        run: async () => {
          calls += 1;
          if (calls === 1) throw new Error('the store went away');
        },
      },
    ]);
    expect(await scheduler.trigger('sweep')).toBe('failed');
    const failure = logger.lines().find((l) => l.msg === 'job run failed');
    expect(failure).toMatchObject({ job: 'sweep', requestId: 'replica-a-run-1', err: expect.objectContaining({ message: 'the store went away' }) });
    expect(await scheduler.trigger('sweep')).toBe('ran');
  });

  test('without the store nobody can say who runs the job, so nobody does (fail closed)', async () => {
    const broken: Leases = {
      tryAcquire: async () => {
        throw new Error('connect ECONNREFUSED');
      },
      release: async () => undefined,
    };
    const logger = memoryLogger();
    let ran = false;
    const scheduler = new Scheduler({ leases: broken, owner: 'replica-a', log: logger.log, clock });
    scheduler.add({ name: 'sweep', schedule: '* * * * *', run: async () => void (ran = true) });
    expect(await scheduler.trigger('sweep')).toBe('failed');
    expect(ran).toBe(false);
    expect(logger.text()).toContain('cannot ask the store who runs the job');
  });

  test('refuses a duplicate or a misconfigured job, and names the jobs it knows', async () => {
    const { scheduler } = await replica('replica-a', [{ name: 'sweep', schedule: '* * * * *', run: async () => undefined }]);
    expect(() => scheduler.add({ name: 'sweep', schedule: '* * * * *', run: async () => undefined })).toThrow(/already scheduled/);
    expect(() => scheduler.add({ name: 'other', schedule: '* * * * *', leaseMs: 0, run: async () => undefined })).toThrow(RangeError);
    await expect(scheduler.trigger('nope')).rejects.toThrow('no job named nope (scheduled: sweep)');
  });

  test("through node-cron's own timer and run coordinator, every slot runs on exactly one replica", async () => {
    const systemClock = { now: () => new Date() };
    const slots: Array<{ slot: string; owner: string }> = [];
    const job = (owner: string): Job => ({
      name: 'tick',
      schedule: '* * * * * *', // every second, so the test sees several slots
      leaseMs: 800,
      run: async (run) => void slots.push({ slot: run.slot.toISOString(), owner }),
    });
    const a = await replica('replica-a', [job('replica-a')], { clock: systemClock, renewEveryMs: 100 });
    const b = await replica('replica-b', [job('replica-b')], { clock: systemClock, renewEveryMs: 100 });
    a.scheduler.start();
    b.scheduler.start();
    await tick(3_500);
    await a.scheduler.stop();
    await b.scheduler.stop();

    const bySlot = new Map<string, string[]>();
    for (const { slot, owner } of slots) bySlot.set(slot, [...(bySlot.get(slot) ?? []), owner]);
    expect(bySlot.size).toBeGreaterThanOrEqual(2);
    for (const [slot, owners] of bySlot) expect({ slot, owners: owners.length }).toEqual({ slot, owners: 1 });
    // The losing replica heard it was not elected, through node-cron's skip event.
    const skipped = [...a.logger.lines(), ...b.logger.lines()].filter((l) => l.msg === 'another replica runs this slot');
    expect(skipped.length).toBeGreaterThanOrEqual(1);
  }, 15_000);
});
