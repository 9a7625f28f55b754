import type { HealthProbe } from '../handlers/ports';
import type { ServiceHealth } from '../handlers/model/health';

/**
 * Health of the services Cockpit depends on, asked sparingly: /readyz is polled every few seconds by every
 * kubelet and load balancer in front of every replica, and a status command may be typed by many people at
 * once, so each vendor is asked at most once per window, and never for longer than a bound.
 */

/**
 * `call`, its answer reused: a success for `okMs`, a failure for `failedMs`; callers that ask while it runs share
 * the one call in flight.
 */
export function reuseAnswer<T>(call: () => Promise<T>, ttl: { okMs: number; failedMs: number }, now: () => number): () => Promise<T> {
  let latest: { promise: Promise<T>; settledAt?: number; ok?: boolean } | undefined;
  return () => {
    if (latest && (latest.settledAt === undefined || now() - latest.settledAt < (latest.ok ? ttl.okMs : ttl.failedMs))) return latest.promise;
    const entry: { promise: Promise<T>; settledAt?: number; ok?: boolean } = { promise: Promise.resolve().then(call) };
    entry.promise.then(
      () => Object.assign(entry, { ok: true, settledAt: now() }),
      () => Object.assign(entry, { ok: false, settledAt: now() }),
    );
    latest = entry;
    return entry.promise;
  };
}

/**
 * A probe from a check that resolves with what it saw ("bot U0… in T0…") or throws why the service is down. The
 * answer is reused for `cacheMs`, a check slower than `timeoutMs` counts as down, and the probe never throws.
 */
export function healthProbe(check: () => Promise<string>, options: { timeoutMs: number; cacheMs: number; now: () => number }): HealthProbe {
  const bounded = async (): Promise<ServiceHealth> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<ServiceHealth>((resolve) => {
      timer = setTimeout(() => resolve({ up: false, detail: `no answer within ${formatSeconds(options.timeoutMs)}` }), options.timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([check().then((detail): ServiceHealth => ({ up: true, detail }), (err: unknown): ServiceHealth => ({ up: false, detail: reasonOf(err) })), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  return { check: reuseAnswer(bounded, { okMs: options.cacheMs, failedMs: options.cacheMs }, options.now) };
}

/** A probe that always gives the same answer: a service that is not configured, or one that need not be asked. */
export function fixedHealth(health: ServiceHealth): HealthProbe {
  return { check: async () => health };
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n', 1)[0]!.slice(0, 200);
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
