import { nextTransition, scheduledState, type Availability } from './availability';
import { ConflictError, InputError, isCockpitError, NotFoundError } from './errors';
import { kindOf, recordAct, type Policy, type RequestMeta, type StackKind } from './policy';
import type { AuditLog, Clock, Environments, InfraEngine, StackLocks } from './ports';
import type { AuditOutcome } from './model/audit';
import type { Environment } from './model/environments';
import type { EngineProgress, PreviewResult, UpdateResult } from './model/infra';
import type { StackLock, StackTarget } from './model/stacks';
import { describeLock, requireEngine, withStackLock, type Locked } from './stackLock';
import type { Team } from './team';

/**
 * Stacks Cockpit brings up and tears down, as opposed to deploying them:
 *
 * - ephemeral stacks (dev, integration) come up on request for a TTL (`/cockpit up dev --ttl 4h`) and are torn
 *   down when it runs out, after a warning in the deploys channel whose "Keep 2h more" button extends it;
 * - scheduled stacks (staging) follow their availability schedule: up at its `up` times, down at its `down`
 *   times, with a reminder before each tear-down. Nobody takes them down inside their window: that is the
 *   guarantee the team file promises. Outside it `/cockpit down` may (to retry a failed scheduled tear-down);
 * - every other stack (prod) is permanent: Cockpit never tears it down.
 *
 * A tear-down always follows a warning by at least `minimumNoticeMinutes`: when no replica was alive to warn
 * in time, the warning goes out late and the tear-down waits. Everything runs under the stack's lock, the same
 * one deploys take, so an `up` never races a deploy.
 *
 * Scheduled stacks are reconciled rather than fired at their cron times: each minute the schedule's state now is
 * compared with the record, so a transition missed while no replica ran is applied late, once. A schedule seen
 * for the first time is recorded as it stands, without acting: adding one never tears staging down on the spot.
 */

export interface EnvironmentDeps {
  team: Team;
  policy: Policy;
  engine: InfraEngine;
  locks: StackLocks;
  environments: Environments;
  audit: AuditLog;
  clock: Clock;
  /** This replica's id, written on the locks it takes. */
  owner: string;
  /** Told when this replica releases a stack's lock: merges queued behind it may go. */
  onReleased?(stack: string): void;
  timing?: Partial<EnvironmentTiming>;
}

export interface EnvironmentTiming {
  defaultTtlMinutes: number;
  maxTtlMinutes: number;
  /** How long before an ephemeral stack's TTL ends the channel is warned. */
  warnBeforeMinutes: number;
  /** A tear-down never comes sooner than this after its warning. */
  minimumNoticeMinutes: number;
  /** What "Keep" adds. */
  keepMinutes: number;
  /** After a failed tear-down of an ephemeral stack, when the sweep tries again. */
  retryAfterMinutes: number;
  /** How long a `/cockpit down` confirmation may be pressed. */
  downConfirmationMinutes: number;
  heartbeatMs: number;
}

export const DEFAULT_ENVIRONMENT_TIMING: EnvironmentTiming = {
  defaultTtlMinutes: 4 * 60,
  maxTtlMinutes: 7 * 24 * 60,
  warnBeforeMinutes: 30,
  minimumNoticeMinutes: 5,
  keepMinutes: 2 * 60,
  retryAfterMinutes: 60,
  downConfirmationMinutes: 10,
  heartbeatMs: 30_000,
};

export type { RequestMeta };

/** What the scheduler's runs are done as, in locks and the audit log. */
export const SCHEDULER_ACTOR = 'scheduler';
/** `upBy` of a stack its schedule brought up. */
export const SCHEDULE = 'schedule';

export type { StackKind };

export type ProgressListener = (progress: EngineProgress) => void;

export type UpOutcome =
  | { kind: 'brought_up'; environment: Environment; result: UpdateResult }
  /** It was up already: nothing ran, the TTL was extended when the new one ends later. */
  | { kind: 'already_up'; environment: Environment; extended: boolean };

export type ExtendOutcome = { kind: 'extended'; environment: Environment } | { kind: 'already_extended'; environment: Environment };

/** What the scheduler's runs did, in order, for the channel to see. */
export type EnvironmentEvent =
  | { kind: 'warning'; environment: Environment; tearDownAt: Date; stackKind: 'ephemeral' | 'scheduled'; nextUp?: Date }
  | { kind: 'tearing_down'; environment: Environment; stackKind: 'ephemeral' | 'scheduled' }
  | { kind: 'torn_down'; environment: Environment; result: UpdateResult; stackKind: 'ephemeral' | 'scheduled'; nextUp?: Date }
  | { kind: 'tear_down_failed'; environment: Environment; result?: UpdateResult; error?: string; retryAt?: Date; stackKind: 'ephemeral' | 'scheduled' }
  | { kind: 'bringing_up'; stack: string }
  | { kind: 'brought_up'; environment: Environment; result: UpdateResult }
  | { kind: 'bring_up_failed'; environment: Environment; result?: UpdateResult; error?: string }
  /** The stack is locked by another operation, or frozen by an incident: the scheduler tries again on its next run. */
  | { kind: 'postponed'; stack: string; what: 'up' | 'destroy'; lock?: StackLock; reason?: string }
  /** A schedule seen for the first time, recorded as it stands. */
  | { kind: 'schedule_adopted'; environment: Environment };

export type EventListener = (event: EnvironmentEvent) => Promise<void> | void;

const MINUTE_MS = 60_000;

export class EnvironmentKeeper {
  private readonly timing: EnvironmentTiming;

  constructor(private readonly deps: EnvironmentDeps) {
    this.timing = { ...DEFAULT_ENVIRONMENT_TIMING, ...deps.timing };
  }

  kindOf(stack: string): StackKind {
    return kindOf(this.deps.policy.stack(stack));
  }

  /** The record of a stack Cockpit brings up and tears down; undefined before the first time. */
  async environment(stack: string): Promise<Environment | undefined> {
    this.deps.policy.stack(stack);
    return this.deps.environments.get(stack);
  }

  /** The checks `up` and `down` make before anything is announced: fronts call it first. */
  async assertMay(verb: 'up' | 'down', stack: string, meta: RequestMeta, ttlMinutes?: number): Promise<void> {
    if (verb === 'up' && ttlMinutes !== undefined) this.mustBeValidTtl(stack, ttlMinutes);
    await this.deps.policy.mayChangeEnvironment(verb, stack, meta);
    await this.mustHaveEngine();
  }

  /** What `/cockpit down` would delete, for the confirmation a person reads: the tear-down's own checks first. */
  async previewDown(stack: string, meta: RequestMeta): Promise<PreviewResult> {
    await this.assertMay('down', stack, meta);
    return this.deps.engine.previewDestroy(this.target(stack));
  }

  /** How long a tear-down's confirmation may be pressed: what it listed may not be what the stack holds later. */
  get downConfirmationMinutes(): number {
    return this.timing.downConfirmationMinutes;
  }

  /** Cancel pressed on a tear-down's confirmation. */
  async mayCancelDown(stack: string, askedBy: string, meta: RequestMeta): Promise<void> {
    await this.deps.policy.mayCancelTearDown(stack, askedBy, meta);
  }

  /** `/cockpit up <stack> [--ttl]`: brings an ephemeral stack up for a while, or extends it when it is up. */
  async up(stack: string, ttlMinutes: number | undefined, meta: RequestMeta, onProgress?: ProgressListener): Promise<UpOutcome> {
    const ttl = ttlMinutes ?? this.timing.defaultTtlMinutes;
    await this.assertMay('up', stack, meta, ttl);
    const target = this.target(stack);

    const existing = await this.deps.environments.get(stack);
    if (existing?.state === 'up' && existing.expiresAt) {
      // Mid bring-up or mid tear-down, "up already" would be wrong either way.
      const lock = await this.deps.locks.get(stack);
      if (lock && lock.purpose !== 'deploy') throw new ConflictError(this.describeLock(lock), 'Try again when it is free, or see /cockpit status.');
      const wanted = new Date(this.deps.clock.now().getTime() + ttl * MINUTE_MS);
      if (wanted <= existing.expiresAt) return { kind: 'already_up', environment: existing, extended: false };
      const moved = await this.deps.environments.moveExpiry(stack, existing.expiresAt, wanted);
      const environment = moved ?? (await this.deps.environments.get(stack)) ?? existing;
      await this.audit(meta, 'environment.extend', stack, 'succeeded', { from: existing.expiresAt.toISOString(), to: environment.expiresAt?.toISOString(), via: 'up' });
      return { kind: 'already_up', environment, extended: moved !== undefined };
    }

    const locked = await this.locked(target, meta.actor.id, 'up', meta.requestId, async (): Promise<UpOutcome> => {
      // Read again under the lock: another `up` may have finished since the record was read.
      const current = await this.deps.environments.get(stack);
      if (current?.state === 'up' && current.expiresAt) return { kind: 'already_up', environment: current, extended: false };
      // Written before the engine runs: a process that dies mid-way leaves a record the sweep will clean up.
      const startedAt = this.deps.clock.now();
      await this.deps.environments.put({ stack, state: 'up', expiresAt: new Date(startedAt.getTime() + ttl * MINUTE_MS), upBy: meta.actor.id });
      await this.audit(meta, 'environment.up', stack, 'started', { ttlMinutes: ttl });
      let result: UpdateResult;
      try {
        result = await this.deps.engine.up(target, { onEvent: onProgress });
      } catch (err) {
        // The engine throws only when it did not start (busy, missing, unreachable): nothing was created.
        await this.restore(stack, current, meta.actor.id);
        await this.audit(meta, 'environment.up', stack, 'failed', { error: errorText(err) });
        throw err;
      }
      // The TTL counts from when the stack is there; a failed run may have created some of it, so it expires too.
      const expiresAt = new Date(this.deps.clock.now().getTime() + ttl * MINUTE_MS);
      const environment = await this.deps.environments.put({ stack, state: 'up', expiresAt, upBy: meta.actor.id });
      await this.audit(meta, 'environment.up', stack, outcomeOf(result), { ttlMinutes: ttl, expiresAt: expiresAt.toISOString(), durationMs: result.durationMs, ...(result.error ? { error: result.error } : {}) });
      return { kind: 'brought_up', environment, result };
    });
    return this.unlocked(locked, meta, 'environment.up', stack);
  }

  /**
   * A deploy ran on a stack Cockpit tears down by TTL. If Cockpit had it down (or never knew it), the deploy just
   * brought it up: give it the default TTL, so nothing a deploy creates is left running and billing forever.
   */
  async adoptDeployed(stack: string, meta: RequestMeta): Promise<Environment | undefined> {
    if (this.kindOf(stack) !== 'ephemeral') return undefined;
    const existing = await this.deps.environments.get(stack);
    if (existing?.state === 'up') return undefined;
    const expiresAt = new Date(this.deps.clock.now().getTime() + this.timing.defaultTtlMinutes * MINUTE_MS);
    const environment = await this.deps.environments.put({ stack, state: 'up', expiresAt, upBy: meta.actor.id });
    await this.audit(meta, 'environment.adopt', stack, 'succeeded', { expiresAt: expiresAt.toISOString(), via: 'deploy' });
    return environment;
  }

  /** `/cockpit down <stack>`: tears an ephemeral stack down now (a scheduled one only outside its window). */
  async down(stack: string, meta: RequestMeta, onProgress?: ProgressListener): Promise<{ environment: Environment; result: UpdateResult }> {
    await this.assertMay('down', stack, meta);
    const target = this.target(stack);
    const locked = await this.locked(target, meta.actor.id, 'destroy', meta.requestId, async () => {
      const before = await this.deps.environments.get(stack);
      await this.audit(meta, 'environment.down', stack, 'started', { expiresAt: before?.expiresAt?.toISOString() });
      let result: UpdateResult;
      try {
        result = await this.deps.engine.destroy(target, { onEvent: onProgress });
      } catch (err) {
        await this.audit(meta, 'environment.down', stack, 'failed', { error: errorText(err) });
        throw err;
      }
      const environment = await this.afterTearDown(stack, before, result, meta.actor.id);
      await this.audit(meta, 'environment.down', stack, outcomeOf(result), { durationMs: result.durationMs, ...(result.error ? { error: result.error } : {}) });
      return { environment, result };
    });
    return this.unlocked(locked, meta, 'environment.down', stack);
  }

  /**
   * Keep pressed: pushes an ephemeral stack's tear-down `minutes` later. `seenExpiry` is the tear-down the
   * person was warned about; when someone already moved it, the stack is not extended twice.
   */
  async extend(stack: string, minutes: number, meta: RequestMeta, seenExpiry?: Date): Promise<ExtendOutcome> {
    await this.deps.policy.mayChangeEnvironment('extend', stack, meta);
    const environment = await this.deps.environments.get(stack);
    if (!environment || environment.state !== 'up' || !environment.expiresAt) {
      throw new NotFoundError(`${stack} is down already.`, `Bring it up again with /cockpit up ${stack}.`);
    }
    const lock = await this.deps.locks.get(stack);
    if (lock?.purpose === 'destroy') throw new ConflictError(`${stack} is being torn down already (ref ${lock.requestId}).`, `Bring it up again afterwards with /cockpit up ${stack}.`);
    const from = seenExpiry ?? environment.expiresAt;
    if (from.getTime() !== environment.expiresAt.getTime()) return { kind: 'already_extended', environment };

    const now = this.deps.clock.now();
    const latest = now.getTime() + this.timing.maxTtlMinutes * MINUTE_MS;
    const to = new Date(Math.min(Math.max(from.getTime(), now.getTime()) + minutes * MINUTE_MS, latest));
    if (to <= from) throw new InputError(`${stack} already runs for the longest a TTL allows (${formatMinutes(this.timing.maxTtlMinutes)}).`);
    const moved = await this.deps.environments.moveExpiry(stack, from, to);
    if (!moved) {
      const current = await this.deps.environments.get(stack);
      if (current?.state !== 'up') throw new NotFoundError(`${stack} is down already.`, `Bring it up again with /cockpit up ${stack}.`);
      return { kind: 'already_extended', environment: current };
    }
    await this.audit(meta, 'environment.extend', stack, 'succeeded', { from: from.toISOString(), to: to.toISOString(), minutes });
    return { kind: 'extended', environment: moved };
  }

  /** What Keep adds, for the button's label. */
  get keepMinutes(): number {
    return this.timing.keepMinutes;
  }

  /** The TTL of an `up` that names none. */
  get defaultTtlMinutes(): number {
    return this.timing.defaultTtlMinutes;
  }

  /** The scheduler's sweep of ephemeral stacks: warns before a TTL ends, tears down when it has. */
  async sweep(meta: RequestMeta, onEvent?: EventListener): Promise<EnvironmentEvent[]> {
    const events: EnvironmentEvent[] = [];
    const emit = async (event: EnvironmentEvent) => {
      events.push(event);
      await onEvent?.(event);
    };
    for (const environment of await this.deps.environments.list()) {
      if (!this.isKnown(environment.stack) || this.kindOf(environment.stack) !== 'ephemeral') continue;
      await this.settle(environment, 'ephemeral', this.timing.warnBeforeMinutes, meta, emit);
    }
    return events;
  }

  /** The scheduler's run for scheduled stacks: brings them up and down as their schedule says, reminding first. */
  async followSchedules(meta: RequestMeta, onEvent?: EventListener): Promise<EnvironmentEvent[]> {
    const events: EnvironmentEvent[] = [];
    const emit = async (event: EnvironmentEvent) => {
      events.push(event);
      await onEvent?.(event);
    };
    for (const [stack, settings] of Object.entries(this.deps.team.stacks)) {
      if (settings.ephemeral || !settings.availability) continue;
      const environment = await this.followSchedule(stack, settings.availability, meta, emit);
      if (environment) await this.settle(environment, 'scheduled', settings.availability.remindBeforeMinutes, meta, emit);
    }
    return events;
  }

  /** "locked by Bob since 14:02 UTC (12m) for deploy, ref r-…". */
  describeLock(lock: StackLock): string {
    return describeLock(this.deps.team, lock, this.deps.clock.now());
  }

  // --- the scheduler's work ---------------------------------------------------------------------------------

  /** Applies the schedule's state to the record; returns the record for `settle` to warn and tear down. */
  private async followSchedule(stack: string, availability: Availability, meta: RequestMeta, emit: EventListener): Promise<Environment | undefined> {
    const now = this.deps.clock.now();
    const state = scheduledState(availability, now);
    const nextDown = state.up ? nextTransition(availability, now, 'down')?.at : undefined;
    const environment = await this.deps.environments.get(stack);

    if (!environment) {
      const adopted = { stack, state: state.up ? ('up' as const) : ('down' as const), expiresAt: nextDown, upBy: SCHEDULE };
      if (await this.deps.environments.create(adopted)) {
        const recorded = (await this.deps.environments.get(stack))!;
        await this.audit(meta, 'environment.schedule', stack, 'succeeded', { adopted: recorded.state, expiresAt: nextDown?.toISOString() });
        await emit({ kind: 'schedule_adopted', environment: recorded });
      }
      return undefined;
    }
    // A transition counts once: only one that happened after the record last changed moves it.
    const fresh = state.since !== undefined && state.since > environment.updatedAt;

    if (state.up && environment.state === 'down') {
      if (fresh) await this.bringUp(stack, state.since!, nextDown, meta, emit);
      return undefined;
    }
    if (state.up && environment.state === 'up' && nextDown && environment.expiresAt?.getTime() !== nextDown.getTime()) {
      // The team file changed, or a down time passed unseen and the window reopened: the next down is what counts.
      return this.deps.environments.put({ stack, state: 'up', expiresAt: nextDown, upBy: environment.upBy });
    }
    if (!state.up && environment.state === 'up' && fresh && (!environment.expiresAt || environment.expiresAt > now)) {
      // The schedule says down since a moment the record has not seen (a team file change): tear down, after notice.
      return this.deps.environments.put({ stack, state: 'up', expiresAt: state.since, upBy: environment.upBy });
    }
    return environment;
  }

  private async bringUp(stack: string, since: Date, nextDown: Date | undefined, meta: RequestMeta, emit: EventListener): Promise<void> {
    const target = this.target(stack);
    const refusal = await this.refusal(() => this.deps.policy.mayChangeEnvironment('up', stack, meta));
    if (refusal) return void (await emit({ kind: 'postponed', stack, what: 'up', reason: refusal }));
    const locked = await this.locked(target, SCHEDULER_ACTOR, 'up', meta.requestId, async () => {
      // Read again under the lock: another replica may have brought it up since the record was read.
      const current = await this.deps.environments.get(stack);
      if (current?.state === 'up' || (current && current.updatedAt >= since)) return;
      await emit({ kind: 'bringing_up', stack });
      await this.audit(meta, 'environment.up', stack, 'started', { by: SCHEDULE });
      let result: UpdateResult | undefined;
      let error: string | undefined;
      try {
        result = await this.deps.engine.up(target);
      } catch (err) {
        error = errorText(err);
      }
      // Even a failed run may have created part of the stack; the record says up so the next down removes it.
      const environment = await this.deps.environments.put({ stack, state: 'up', expiresAt: nextDown, upBy: SCHEDULE });
      await this.audit(meta, 'environment.up', stack, result ? outcomeOf(result) : 'failed', { by: SCHEDULE, ...(result ? { durationMs: result.durationMs } : {}), ...(error ?? result?.error ? { error: error ?? result?.error } : {}) });
      if (result?.outcome === 'succeeded') await emit({ kind: 'brought_up', environment, result });
      else await emit({ kind: 'bring_up_failed', environment, ...(result ? { result } : {}), ...(error ? { error } : {}) });
    });
    if (!locked.acquired) await emit({ kind: 'postponed', stack, lock: locked.heldBy, what: 'up' });
  }

  /** Warns of a due tear-down once, then tears down once the notice has run. */
  private async settle(environment: Environment, stackKind: 'ephemeral' | 'scheduled', warnBeforeMinutes: number, meta: RequestMeta, emit: EventListener): Promise<void> {
    if (environment.state !== 'up' || !environment.expiresAt) return;
    const now = this.deps.clock.now();
    const expiresAt = environment.expiresAt;
    let warnedAt = environment.warnedAt;
    if (!warnedAt && now.getTime() >= expiresAt.getTime() - warnBeforeMinutes * MINUTE_MS) {
      if (!(await this.deps.environments.markWarned(environment.stack, expiresAt, now))) return; // another replica did
      warnedAt = now;
      await this.audit(meta, 'environment.warn', environment.stack, 'succeeded', { expiresAt: expiresAt.toISOString() });
      await emit({
        kind: 'warning',
        environment: { ...environment, warnedAt },
        tearDownAt: this.tearDownAt(expiresAt, warnedAt),
        stackKind,
        ...this.nextUp(environment.stack, expiresAt),
      });
    }
    if (warnedAt && now >= this.tearDownAt(expiresAt, warnedAt)) await this.expire(environment.stack, stackKind, meta, emit);
  }

  private tearDownAt(expiresAt: Date, warnedAt: Date): Date {
    return new Date(Math.max(expiresAt.getTime(), warnedAt.getTime() + this.timing.minimumNoticeMinutes * MINUTE_MS));
  }

  private async expire(stack: string, stackKind: 'ephemeral' | 'scheduled', meta: RequestMeta, emit: EventListener): Promise<void> {
    const target = this.target(stack);
    // The scheduler asks the policy too: an open SEV1/SEV2 on the stack postpones its tear-down.
    const refusal = await this.refusal(() => this.deps.policy.mayChangeEnvironment('down', stack, meta));
    if (refusal) return void (await emit({ kind: 'postponed', stack, what: 'destroy', reason: refusal }));
    const locked = await this.locked(target, SCHEDULER_ACTOR, 'destroy', meta.requestId, async () => {
      // Read again under the lock: Keep may have been pressed, or a person torn it down, since the list was read.
      const environment = await this.deps.environments.get(stack);
      const now = this.deps.clock.now();
      if (!environment || environment.state !== 'up' || !environment.expiresAt || !environment.warnedAt) return;
      if (now < this.tearDownAt(environment.expiresAt, environment.warnedAt)) return;

      await emit({ kind: 'tearing_down', environment, stackKind });
      await this.audit(meta, 'environment.expire', stack, 'started', { expiresAt: environment.expiresAt.toISOString(), upBy: environment.upBy });
      let result: UpdateResult | undefined;
      let error: string | undefined;
      try {
        result = await this.deps.engine.destroy(target);
      } catch (err) {
        error = errorText(err);
      }
      const after = await this.afterTearDown(stack, environment, result, SCHEDULER_ACTOR);
      await this.audit(meta, 'environment.expire', stack, result ? outcomeOf(result) : 'failed', { ...(result ? { durationMs: result.durationMs } : {}), ...(error ?? result?.error ? { error: error ?? result?.error } : {}) });
      if (result?.outcome === 'succeeded') {
        await emit({ kind: 'torn_down', environment: after, result, stackKind, ...this.nextUp(stack, now) });
      } else {
        await emit({ kind: 'tear_down_failed', environment: after, stackKind, ...(result ? { result } : {}), ...(error ? { error } : {}), ...(after.expiresAt ? { retryAt: after.expiresAt } : {}) });
      }
    });
    if (!locked.acquired) await emit({ kind: 'postponed', stack, lock: locked.heldBy, what: 'destroy' });
  }

  /**
   * The record after a tear-down. A failed one may have left resources, so the stack stays "up": an ephemeral
   * one is tried again after `retryAfterMinutes` (already warned, so without a new warning); a scheduled one
   * waits for a person, whose `/cockpit down` is allowed outside its window.
   */
  private async afterTearDown(stack: string, before: Environment | undefined, result: UpdateResult | undefined, by: string): Promise<Environment> {
    const upBy = before?.upBy ?? by;
    if (result?.outcome === 'succeeded') return this.deps.environments.put({ stack, state: 'down', upBy });
    const now = this.deps.clock.now();
    if (this.kindOf(stack) === 'ephemeral') {
      const retryAt = new Date(now.getTime() + this.timing.retryAfterMinutes * MINUTE_MS);
      return this.deps.environments.put({ stack, state: 'up', expiresAt: retryAt, warnedAt: now, upBy });
    }
    return this.deps.environments.put({ stack, state: 'up', upBy });
  }

  private nextUp(stack: string, after: Date): { nextUp?: Date } {
    const availability = this.deps.policy.stack(stack).availability;
    const next = availability && nextTransition(availability, after, 'up');
    return next ? { nextUp: next.at } : {};
  }

  // --- helpers ----------------------------------------------------------------------------------------------

  private async locked<T>(target: StackTarget, holder: string, purpose: 'up' | 'destroy', requestId: string, work: () => Promise<T>): Promise<Locked<T>> {
    const lockDeps = { locks: this.deps.locks, engine: this.deps.engine, owner: this.deps.owner, heartbeatMs: this.timing.heartbeatMs, onReleased: this.deps.onReleased };
    return withStackLock(lockDeps, { target, holder, purpose, requestId }, work);
  }

  private async unlocked<T>(locked: Locked<T>, meta: RequestMeta, action: string, stack: string): Promise<T> {
    if (locked.acquired) return locked.value;
    await this.audit(meta, action, stack, 'refused', { lockedBy: locked.heldBy.holder, purpose: locked.heldBy.purpose, lockRequestId: locked.heldBy.requestId });
    throw new ConflictError(this.describeLock(locked.heldBy), 'Try again when it is free, or see /cockpit status.');
  }

  /** Puts back the record an `up` replaced when the engine never started. */
  private async restore(stack: string, previous: Environment | undefined, actorId: string): Promise<void> {
    if (!previous) {
      await this.deps.environments.put({ stack, state: 'down', upBy: actorId });
      return;
    }
    const { updatedAt: _unchanged, ...record } = previous;
    await this.deps.environments.put(record);
  }

  /** The policy's refusal of a scheduled act, as text for the channel; undefined when it may go ahead. */
  private async refusal(check: () => Promise<void>): Promise<string | undefined> {
    try {
      await check();
      return undefined;
    } catch (err) {
      if (isCockpitError(err)) return err.message;
      throw err;
    }
  }

  private isKnown(stack: string): boolean {
    return stack in this.deps.team.stacks;
  }

  private target(stack: string): StackTarget {
    return this.deps.policy.target(stack);
  }

  private mustBeValidTtl(stack: string, ttlMinutes: number): void {
    if (!Number.isInteger(ttlMinutes) || ttlMinutes <= 0 || ttlMinutes > this.timing.maxTtlMinutes) {
      throw new InputError(`A TTL runs from 1 minute to ${formatMinutes(this.timing.maxTtlMinutes)}.`, `/cockpit up ${stack} --ttl 4h`);
    }
  }

  private mustHaveEngine(): Promise<void> {
    return requireEngine(this.deps.engine, 'Stacks cannot be brought up or down here');
  }

  private audit(meta: RequestMeta, action: string, target: string, outcome: AuditOutcome, detail: Record<string, unknown>): Promise<void> {
    return recordAct(this.deps.audit, meta, { action, target, outcome, detail });
  }
}

function outcomeOf(result: UpdateResult): AuditOutcome {
  return result.outcome === 'succeeded' ? 'succeeded' : result.outcome === 'cancelled' ? 'cancelled' : 'failed';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** "4h", "7d", "1d 2h": a TTL as people write it. */
export function formatMinutes(minutes: number): string {
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : ''].filter(Boolean).join(' ') || '0m';
}
