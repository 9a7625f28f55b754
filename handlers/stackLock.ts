import { UnavailableError } from './errors';
import type { InfraEngine, StackLocks } from './ports';
import type { StackLock, StackTarget } from './model/stacks';
import { displayName, type Team } from './team';

/**
 * Running an engine operation under a stack's lock, shared by every capability that changes a stack (deploy,
 * up, down, scheduled tear-downs), so that one operation at a time runs on a stack whichever capability
 * started it. The owner renews the lock's heartbeat while it works; if someone breaks the lock (a person
 * judging it stale), another operation may start, so this one is cancelled rather than left to race it.
 */

export interface StackLockDeps {
  locks: StackLocks;
  /** Cancelled when someone breaks the lock; absent for work that is not an engine run (a drill watches `lost`). */
  engine?: InfraEngine;
  /** This replica's id, written on the lock so a crashed replica's lock can be told apart. */
  owner: string;
  heartbeatMs: number;
  /** Told after the lock is released, so work that waited for the stack (queued merges) can go. */
  onReleased?(stack: string): void;
}

export interface StackLockRequest {
  target: StackTarget;
  /** Actor id, or `scheduler` for what the schedule does. */
  holder: string;
  /** Shown to whoever is refused: "deploy", "up", "destroy". */
  purpose: string;
  requestId: string;
}

export type Locked<T> = { acquired: true; value: T } | { acquired: false; heldBy: StackLock };

/**
 * Takes the lock, runs `work` with a heartbeat, and always releases; when the lock is held, says by whom. `lost`
 * aborts when the lock is broken under the work, which must then stop.
 */
export async function withStackLock<T>(deps: StackLockDeps, request: StackLockRequest, work: (lost: AbortSignal) => Promise<T>): Promise<Locked<T>> {
  const { target } = request;
  const attempt = await deps.locks.acquire({ stack: target.stack, holder: request.holder, purpose: request.purpose, requestId: request.requestId, owner: deps.owner });
  if (!attempt.acquired) return { acquired: false, heldBy: attempt.heldBy };
  const lost = new AbortController();
  const heartbeat = setInterval(() => {
    deps.locks.heartbeat(target.stack, request.requestId).then(
      (ours) => {
        if (ours) return;
        // Someone broke our lock: another operation may start, so this one must stop.
        lost.abort(new Error(`the lock on ${target.stack} was broken`));
        deps.engine?.cancel(target).catch(() => undefined);
      },
      () => undefined, // a store blip: the next beat tries again, and staleness needs several misses
    );
  }, deps.heartbeatMs);
  heartbeat.unref();
  try {
    return { acquired: true, value: await work(lost.signal) };
  } finally {
    clearInterval(heartbeat);
    await deps.locks.release(target.stack, request.requestId);
    deps.onReleased?.(target.stack);
  }
}

/** An engine that cannot run here is said so before anything is announced: `what` names what is unavailable. */
export async function requireEngine(engine: InfraEngine, what: string): Promise<void> {
  const availability = await engine.availability();
  if (!availability.available) throw new UnavailableError(`${what}: ${availability.reason}`, availability.install);
}

/** "staging is locked by Bob since 14:02 UTC (12m) for deploy, ref r-…": what a refused person needs to know. */
export function describeLock(team: Team, lock: StackLock, now: Date): string {
  const ageMin = Math.max(0, Math.round((now.getTime() - lock.acquiredAt.getTime()) / 60_000));
  const since = lock.acquiredAt.toISOString().slice(11, 16);
  return `${lock.stack} is locked by ${displayName(team, lock.holder)} since ${since} UTC (${ageMin}m) for ${lock.purpose}, ref ${lock.requestId}`;
}
