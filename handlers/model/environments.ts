/** Stacks Cockpit brings up and tears down, and until when. */

export type EnvironmentState = 'up' | 'down';

/** A stack Cockpit brings up and tears down: an ephemeral one with a TTL, or one that follows a schedule. */
export interface Environment {
  stack: string;
  state: EnvironmentState;
  /** When Cockpit tears it down: the end of its TTL, or its schedule's next down time; absent when down. */
  expiresAt?: Date;
  /** When the channel was warned of the tear-down at `expiresAt`; cleared whenever `expiresAt` moves. */
  warnedAt?: Date;
  /** Who brought it up last: an actor id, or `schedule`. */
  upBy: string;
  /** When its state or its expiry last changed (a warning does not count). */
  updatedAt: Date;
}
