import type { Clock } from '../../../handlers/ports';

/** Waits `ms` on the clock the limiter reads; tests pass one that moves a manual clock instead of sleeping. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Never more than `limit` requests in any `windowMs`: the same sliding log Discourse keeps per API key (the last
 * `limit` request times; a new one may start once the oldest of them is a window old). A burst goes at once
 * while the log has room, and the rest wait exactly as long as the forum would make them. When the forum says
 * to wait anyway (a 429 from a limit we do not know, another client on the key), `pauseUntil` holds every
 * request until then.
 */
export class SlidingWindowLimiter {
  private readonly starts: number[] = [];
  private pausedUntil = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
    private readonly sleep: Sleep = realSleep,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`the limit must be a whole number of requests, got ${limit}`);
  }

  /** Reserves the next slot and waits for it; slots are handed out in call order. */
  async take(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now().getTime();
    const oldest = this.starts.length >= this.limit ? this.starts[this.starts.length - this.limit]! : Number.NEGATIVE_INFINITY;
    const last = this.starts[this.starts.length - 1] ?? Number.NEGATIVE_INFINITY;
    // Reserved before waiting, so concurrent callers line up behind each other instead of all waking at once.
    const start = Math.max(now, oldest + this.windowMs, this.pausedUntil, last);
    this.starts.push(start);
    if (this.starts.length > this.limit) this.starts.splice(0, this.starts.length - this.limit);
    if (start > now) await this.sleep(start - now, signal);
  }

  /** Holds every request until `at`. */
  pauseUntil(at: Date): void {
    this.pausedUntil = Math.max(this.pausedUntil, at.getTime());
  }

  /** When the next request could start, for the worker's scheduling. */
  nextSlotAt(): Date {
    const now = this.clock.now().getTime();
    const oldest = this.starts.length >= this.limit ? this.starts[this.starts.length - this.limit]! + this.windowMs : now;
    return new Date(Math.max(now, oldest, this.pausedUntil));
  }
}
