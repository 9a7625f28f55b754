/**
 * Ports: what the domain needs from the outside world. Adapters in bot/ implement them; tests use in-memory
 * fakes that `implements` the same interfaces, so the compiler keeps both honest.
 */

/** The wall clock, injected so tests control time. */
export interface Clock {
  now(): Date;
}

/** Structured logger; pino's Logger satisfies it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Who asked, from where, under which request id: travels with every act and into every record. */
export interface Actor {
  /** Slack user id (U…), or `console:<login>` / `cli:<login>` off Slack. */
  id: string;
  /** Display name when known, for messages. */
  name?: string;
}

export type AuditOutcome = 'requested' | 'started' | 'succeeded' | 'failed' | 'refused' | 'cancelled';

export interface AuditEntry {
  at: Date;
  requestId: string;
  actor: string;
  /** What was done, as a stable dotted name: `deploy.preview`, `lock.break`, `command.status`. */
  action: string;
  /** What it was done to, e.g. the stack name; empty when none. */
  target: string;
  outcome: AuditOutcome;
  /** Small JSON-serialisable details (reason, counts, PR url); never secrets. */
  detail: Record<string, unknown>;
}

export interface AuditQuery {
  target?: string;
  action?: string;
  requestId?: string;
  limit?: number;
}

/** Append-only record of who did what, when, with which outcome. */
export interface AuditLog {
  record(entry: Omit<AuditEntry, 'at' | 'detail'> & { at?: Date; detail?: Record<string, unknown> }): Promise<void>;
  /** Newest first. */
  query(query?: AuditQuery): Promise<AuditEntry[]>;
}

export interface StackLock {
  stack: string;
  /** Actor id of the person (or `github:<login>`, `scheduler`) the operation runs for. */
  holder: string;
  /** What the lock is for, shown to whoever is refused: "deploy", "drill", "destroy". */
  purpose: string;
  requestId: string;
  /** The process (replica) running the operation; used to tell a live lock from one a crash left behind. */
  owner: string;
  acquiredAt: Date;
  /** Renewed by the owner while it works; a lock whose heartbeat is old is stale. */
  heartbeatAt: Date;
}

export type LockAttempt = { acquired: true; lock: StackLock } | { acquired: false; heldBy: StackLock };

/** One operation per stack at a time, held in the store so it holds across replicas. */
export interface StackLocks {
  acquire(request: Omit<StackLock, 'acquiredAt' | 'heartbeatAt'>): Promise<LockAttempt>;
  /** Refreshes the heartbeat; false when the lock is no longer ours (broken by someone). */
  heartbeat(stack: string, requestId: string): Promise<boolean>;
  /** Releases only the lock taken by that request; false when it was not held by it. */
  release(stack: string, requestId: string): Promise<boolean>;
  get(stack: string): Promise<StackLock | undefined>;
  list(): Promise<StackLock[]>;
  /** Removes whatever lock is on the stack (a person breaking a stale lock); returns what was removed. */
  forceRelease(stack: string): Promise<StackLock | undefined>;
}

/** A named, expiring lease: lets one replica at a time run a scheduled job. */
export interface Leases {
  /** Takes or renews the lease when free, expired, or already ours. */
  tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
}

export interface StoreHealth {
  /** `sqlite` or `postgres`. */
  dialect: string;
  reachable: boolean;
  migrationsApplied: number;
  migrationsPending: number;
  error?: string;
}

export interface StoreProbe {
  health(): Promise<StoreHealth>;
}
