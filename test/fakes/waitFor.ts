import type { EventEmitter } from 'node:events';

/**
 * Resolves with the first truthy value `probe` returns, checking now and again on every `event` the fake emits,
 * so a test awaits an asynchronous call without sleeping. Rejects after `timeoutMs` with what `describe` says was
 * seen, when `probe` throws, or on `closedEvent`.
 */
export function waitForProbe<T>(
  changes: EventEmitter,
  options: { event: string; closedEvent?: string; timeoutMs: number; describe: () => string },
  probe: () => T | undefined | null | false,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const check = (): void => {
      let value: T | undefined | null | false;
      try {
        value = probe();
      } catch (error) {
        cleanup();
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (!value) return;
      cleanup();
      resolve(value);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the fake closed while waiting'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`waitFor timed out after ${options.timeoutMs} ms; ${options.describe()}`));
    }, options.timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      changes.off(options.event, check);
      if (options.closedEvent) changes.off(options.closedEvent, onClose);
    };
    changes.on(options.event, check);
    if (options.closedEvent) changes.on(options.closedEvent, onClose);
    check();
  });
}
