/**
 * Typed errors with stable codes. Handlers throw them; each front (Slack, console, CLI) translates them once
 * into a short reply. Anything that is not a CockpitError is unexpected: the user sees "failed, ref <id>" and
 * the whole error goes to the log.
 */
export type ErrorCode = 'INPUT' | 'NOT_ALLOWED' | 'NOT_FOUND' | 'CONFLICT' | 'UNAVAILABLE' | 'NOT_AVAILABLE_YET';

export class CockpitError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra text shown under the message, e.g. the usage of the command. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request itself is wrong: unknown verb, bad argument. */
export class InputError extends CockpitError {
  constructor(message: string, hint?: string) {
    super('INPUT', message, hint);
  }
}

/** The person may not do this (role, own approval, freeze). */
export class NotAllowedError extends CockpitError {
  constructor(message: string, hint?: string) {
    super('NOT_ALLOWED', message, hint);
  }
}

export class NotFoundError extends CockpitError {
  constructor(message: string, hint?: string) {
    super('NOT_FOUND', message, hint);
  }
}

/** The act collides with another one in flight (stack lock, PR already merged). */
export class ConflictError extends CockpitError {
  constructor(message: string, hint?: string) {
    super('CONFLICT', message, hint);
  }
}

/** A system Cockpit depends on is missing or down (Pulumi CLI absent, GitHub unreachable). */
export class UnavailableError extends CockpitError {
  constructor(message: string, hint?: string) {
    super('UNAVAILABLE', message, hint);
  }
}

/** The command parses but its capability has not shipped yet. */
export class NotAvailableYetError extends CockpitError {
  constructor(verb: string) {
    super('NOT_AVAILABLE_YET', `\`${verb}\` is not available yet.`);
  }
}

export function isCockpitError(err: unknown): err is CockpitError {
  return err instanceof CockpitError;
}
