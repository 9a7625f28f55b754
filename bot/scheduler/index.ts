import { createTask, type Logger as CronLogger, type RunCoordinator, type ScheduledTask } from 'node-cron';
import type { Clock, Logger } from '../../handlers/ports';
import type { Leases } from './leases';
import { newRequestId } from '../requestId';

/**
 * Scheduled jobs, run by one replica at a time. node-cron fires each job on every replica; its run coordinator
 * (`distributed: true` with a per-task `runCoordinator`) asks the store's lease named after the job before each
 * run, and only the replica that gets it runs. The winner renews the lease while the run lasts, so a long run
 * (a tear-down takes minutes) is never started a second time elsewhere; when it ends the lease is left to
 * expire rather than released, so a replica whose clock runs a little behind cannot run the same slot again.
 * A replica that dies stops renewing: after `leaseMs` another one takes the job.
 *
 * node-cron's `noOverlap` keeps a replica from stacking runs of a slow job; `trigger` runs a job now through the
 * same election, for tests and for operators, without waiting for its cron time.
 */

export interface JobRun {
  /** The cron time this run is for (the trigger time for a triggered run). */
  slot: Date;
  /** One id per run: in its log lines, its audit entries and the locks it takes. */
  requestId: string;
  log: Logger;
}

export interface Job {
  /** Unique, and the same on every replica: the lease is named after it. */
  name: string;
  /** node-cron expression; a leading seconds field is allowed. */
  schedule: string;
  /** Zone the expression is read in; UTC when absent. */
  timezone?: string;
  /** How long a replica holds the job past its last renewal; more than the replicas' clock skew. */
  leaseMs?: number;
  run(run: JobRun): Promise<void>;
}

export type TriggerOutcome = 'ran' | 'failed' | 'not_elected' | 'busy';

export interface SchedulerDeps {
  leases: Leases;
  /** This replica's id: the lease's owner. */
  owner: string;
  log: Logger;
  clock: Clock;
  newRunId?: () => string;
  /** How often a running job renews its lease; a third of its `leaseMs` when absent. */
  renewEveryMs?: number;
}

/** Less than a minute, so a job that runs every minute can change hands at its next slot. */
export const DEFAULT_LEASE_MS = 50_000;

/** The store's lease as node-cron's run coordinator: one per job, whatever slot node-cron asks about. */
export class LeaseRunCoordinator implements RunCoordinator {
  constructor(
    private readonly leases: Leases,
    readonly leaseName: string,
    private readonly owner: string,
  ) {}

  shouldRun(_slotKey: string, ttlMs: number): Promise<boolean> {
    return this.leases.tryAcquire(this.leaseName, this.owner, ttlMs);
  }
}

interface Registered {
  job: Job;
  leaseMs: number;
  coordinator: LeaseRunCoordinator;
  task?: ScheduledTask;
  /** The run in progress on this replica, cron-fired or triggered. */
  running?: Promise<TriggerOutcome>;
}

export class Scheduler {
  private readonly jobs = new Map<string, Registered>();
  private readonly newRunId: () => string;
  private started = false;

  constructor(private readonly deps: SchedulerDeps) {
    this.newRunId = deps.newRunId ?? newRequestId;
  }

  add(job: Job): void {
    if (this.jobs.has(job.name)) throw new Error(`a job named ${job.name} is already scheduled`);
    if (this.started) throw new Error('add jobs before starting the scheduler');
    const leaseMs = job.leaseMs ?? DEFAULT_LEASE_MS;
    if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new RangeError(`job ${job.name}: leaseMs must be positive`);
    this.jobs.set(job.name, { job, leaseMs, coordinator: new LeaseRunCoordinator(this.deps.leases, `scheduler:${job.name}`, this.deps.owner) });
  }

  names(): string[] {
    return [...this.jobs.keys()];
  }

  /** Arms every job's cron; timers are unref'd, so the scheduler alone keeps no process alive. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const entry of this.jobs.values()) {
      const { job } = entry;
      const log = this.deps.log.child({ job: job.name });
      const task = createTask(
        job.schedule,
        async (context) => {
          await this.runElected(entry, context.date);
        },
        {
          name: job.name,
          timezone: job.timezone ?? 'UTC',
          noOverlap: true,
          distributed: true,
          runCoordinator: entry.coordinator,
          distributedLease: entry.leaseMs,
          logger: cronLogger(log),
          // Missed slots are not run late by node-cron; the jobs compare state instead, so the next run catches up.
          suppressMissedWarning: true,
          unref: true,
        },
      );
      task.on('execution:skipped', (context) => log.debug({ slot: context.date, reason: context.reason }, 'another replica runs this slot'));
      task.on('execution:overlap', (context) => log.info({ slot: context.date }, 'previous run still going: slot skipped'));
      task.on('execution:missed', (context) => log.warn({ slot: context.date }, 'slot missed (event loop blocked or process paused)'));
      void task.start();
      entry.task = task;
    }
    this.deps.log.info({ jobs: this.names(), owner: this.deps.owner }, 'scheduler started');
  }

  /** Stops the crons and waits for the runs in progress here to finish. */
  async stop(): Promise<void> {
    for (const entry of this.jobs.values()) {
      await entry.task?.destroy();
      entry.task = undefined;
    }
    this.started = false;
    await Promise.all([...this.jobs.values()].map((entry) => entry.running));
  }

  /**
   * Runs a job now, through the same election as its cron: 'not_elected' when another replica holds it,
   * 'busy' when it already runs here.
   */
  async trigger(name: string, slot: Date = this.deps.clock.now()): Promise<TriggerOutcome> {
    const entry = this.jobs.get(name);
    if (!entry) throw new Error(`no job named ${name} (scheduled: ${this.names().join(', ') || 'none'})`);
    if (entry.running) return 'busy';
    let elected: boolean;
    try {
      elected = await entry.coordinator.shouldRun(`${name}:${slot.toISOString()}`, entry.leaseMs);
    } catch (err) {
      // Fail closed, as node-cron does: without the store nobody can tell whether another replica runs it.
      this.deps.log.error({ err, job: name }, 'cannot ask the store who runs the job: skipped');
      return 'failed';
    }
    if (!elected) return 'not_elected';
    return this.runElected(entry, slot);
  }

  private async runElected(entry: Registered, slot: Date): Promise<TriggerOutcome> {
    if (entry.running) return 'busy'; // a triggered run is in progress when the cron fires, or the reverse
    const run = this.execute(entry, slot);
    entry.running = run;
    try {
      return await run;
    } finally {
      entry.running = undefined;
    }
  }

  private async execute(entry: Registered, slot: Date): Promise<TriggerOutcome> {
    const { job, leaseMs, coordinator } = entry;
    const requestId = this.newRunId();
    const log = this.deps.log.child({ job: job.name, requestId });
    const renewal = setInterval(() => {
      this.deps.leases.tryAcquire(coordinator.leaseName, this.deps.owner, leaseMs).then(
        (ours) => {
          if (!ours) log.warn({}, 'lost the job lease while running: another replica may start the job');
        },
        (err: unknown) => log.warn({ err }, 'could not renew the job lease; trying again'),
      );
    }, this.deps.renewEveryMs ?? Math.max(10, Math.floor(leaseMs / 3)));
    renewal.unref();
    const startedAt = Date.now();
    try {
      await job.run({ slot, requestId, log });
      log.debug({ durationMs: Date.now() - startedAt }, 'job run finished');
      return 'ran';
    } catch (err) {
      log.error({ err, durationMs: Date.now() - startedAt }, 'job run failed');
      return 'failed';
    } finally {
      clearInterval(renewal);
    }
  }
}

/** node-cron's own messages, into Cockpit's log. */
function cronLogger(log: Logger): CronLogger {
  const split = (message: string | Error, err?: Error): [object, string] =>
    message instanceof Error ? [{ err: message }, message.message] : [err ? { err } : {}, message];
  return {
    info: (message) => log.info({}, message),
    warn: (message) => log.warn({}, message),
    error: (message, err) => log.error(...split(message, err)),
    debug: (message, err) => log.debug(...split(message, err)),
  };
}
