/**
 * What a suite opened, closed newest first when it ends — also when its setup threw halfway. A `beforeAll` that
 * started a fake server and then failed used to leave that server listening (its `afterAll` died on the thing
 * that was never built), and an open server keeps jest alive forever.
 *
 *   const opened = new Teardown();
 *   afterAll(() => opened.run());
 *   beforeAll(async () => { fake = opened.add(await startFakeSlackApi(...)); ... });
 */
export class Teardown {
  private readonly steps: Array<() => unknown> = [];

  /** Registers `thing.close()` and hands `thing` back, so opening and registering is one expression. */
  add<T extends { close(): unknown }>(thing: T): T {
    this.steps.push(() => thing.close());
    return thing;
  }

  /** Registers any other undo step (stopping an app, removing a directory). */
  defer(step: () => unknown): void {
    this.steps.push(step);
  }

  /** Runs every step, newest first; one failing step does not stop the others, and its error is rethrown after. */
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} teardown steps failed`);
  }
}
