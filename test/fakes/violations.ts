/** A request a fake refused because it broke the vendor's contract. */
export interface ContractViolation<Kind extends string = string> {
  kind: Kind;
  request: string;
  detail: string;
}

/**
 * What the spec-checked fakes (Slack, Discourse) remember of the requests they refused, so a test fails on a
 * contract violation even when the code under test swallowed the vendor's error.
 */
export class ViolationLog<Kind extends string> {
  private readonly log: ContractViolation<Kind>[] = [];

  constructor(private readonly vendor: string) {}

  record(violation: ContractViolation<Kind>): void {
    this.log.push(violation);
  }

  /** Contract violations seen so far, oldest first. */
  get all(): readonly ContractViolation<Kind>[] {
    return this.log;
  }

  /** Throws when any request broke the contract; call it in `afterEach` or at the end of a test. */
  assertNone(): void {
    if (this.log.length === 0) return;
    const lines = this.log.map((v) => `  - ${v.request}: ${v.kind}: ${v.detail}`);
    throw new Error(`fake ${this.vendor} saw ${this.log.length} contract violation(s):\n${lines.join('\n')}`);
  }

  /** Returns the violations and forgets them, for tests that provoke one on purpose. */
  take(): ContractViolation<Kind>[] {
    return this.log.splice(0, this.log.length);
  }
}
