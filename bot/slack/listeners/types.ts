import type { App } from '@slack/bolt';
import type { DeliveryLog } from '../../deliveries';
import type { CommandCore } from '../../commands';
import type { Logger } from '../../log';
import type { Metrics } from '../../metrics';
import { isFirstDelivery } from '../dedupe';

/** What every listener is given: the app to register on and the shared core. */
export interface ListenerDeps {
  app: App;
  core: CommandCore;
  log: Logger;
  metrics: Metrics;
  deliveries: DeliveryLog;
}

/**
 * Acks at once (Slack waits for nothing else), then tells whether this delivery is new: a retry of one
 * already handled must not run again.
 */
export async function ackFirst(
  deps: ListenerDeps,
  kind: string,
  args: { ack: () => Promise<void>; body: unknown; context: Record<string, unknown> & { retryNum?: number; retryReason?: string } },
): Promise<boolean> {
  await args.ack();
  observeAck(deps, kind, args.context);
  return isFirstDelivery(deps.deliveries, deps.log, args.body, args.context);
}

/** Seconds since the receiver saw the request, for the ack-latency histogram. */
function observeAck(deps: ListenerDeps, kind: string, context: Record<string, unknown>): void {
  const receivedAt = context.receivedAt;
  if (typeof receivedAt === 'bigint') {
    deps.metrics.ackLatency.observe({ kind }, Number(process.hrtime.bigint() - receivedAt) / 1e9);
  }
}
