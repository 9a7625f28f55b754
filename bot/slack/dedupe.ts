import type { Logger } from '../../handlers/ports';
import type { DeliveryLog } from '../deliveries';

/** A retried delivery is remembered this long; Slack retries within minutes, so an hour is ample. */
export const DELIVERY_TTL_MS = 60 * 60 * 1000;

/**
 * Slack re-sends a request it thinks failed (X-Slack-Retry-Num). A command must never run twice, so every
 * delivery's key is remembered and a retry of a known one is acknowledged and dropped.
 */
export function deliveryKey(body: Record<string, unknown>): string | undefined {
  if (typeof body.event_id === 'string') return `event:${body.event_id}`;
  if (typeof body.trigger_id === 'string') return `trigger:${body.trigger_id}`;
  return undefined;
}

/** True the first time a delivery is seen; a repeat is logged with Slack's retry headers and should be dropped. */
export async function isFirstDelivery(deliveries: DeliveryLog, log: Logger, body: unknown, context: { retryNum?: number; retryReason?: string }): Promise<boolean> {
  const key = deliveryKey(body as Record<string, unknown>);
  if (!key || (await deliveries.firstSeen(key, DELIVERY_TTL_MS))) return true;
  log.info({ key, retryNum: context.retryNum, retryReason: context.retryReason }, 'dropped a repeated Slack delivery');
  return false;
}
