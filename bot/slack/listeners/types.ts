import type { App } from '@slack/bolt';
import type { CommandCore } from '../../commands';
import type { Logger } from '../../log';
import type { Metrics } from '../../metrics';

/** What every listener is given: the app to register on and the shared core. */
export interface ListenerDeps {
  app: App;
  core: CommandCore;
  log: Logger;
  metrics: Metrics;
}

/** Seconds since the receiver saw the request, for the ack-latency histogram. */
export function observeAck(deps: ListenerDeps, kind: string, context: Record<string, unknown>): void {
  const receivedAt = context.receivedAt;
  if (typeof receivedAt === 'bigint') {
    deps.metrics.ackLatency.observe({ kind }, Number(process.hrtime.bigint() - receivedAt) / 1e9);
  }
}
