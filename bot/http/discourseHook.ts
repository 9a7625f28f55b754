import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../handlers/ports';
import type { DeliveryLog } from '../deliveries';
import { deliveryKey, parseDiscourseEvent, verifyDiscourseSignature, type DiscourseEvent } from '../integrations/discourse/webhook';
import { readBody, sendJson, type RouteHandler } from './server';

/**
 * POST /hooks/discourse: the support forum's webhook. Authentication first: without DISCOURSE_WEBHOOK_SECRET
 * every delivery is refused (503); a missing or wrong X-Discourse-Event-Signature is 401, and so is a body
 * already handled (a replay), since the signature covers the body alone and a replayed body may come with any
 * event id. Then the body: size-limited (413), JSON (400), Discourse's shape (400). A delivery is accepted (202)
 * before its work (reading the forum, posting in Slack), so Discourse never waits on Slack; when the work fails
 * its key is forgotten, so Discourse's Redeliver runs it again, and the sweep catches it up anyway.
 */

export interface DiscourseHookDeps {
  /** Without a secret nothing can be verified, so everything is refused. */
  secret?: string;
  deliveries: DeliveryLog;
  log: Logger;
  /** Does the event's work; a rejection means it was not done, and a redelivery may run it again. */
  handle(event: DiscourseEvent): Promise<void>;
  /** Receives the work started after each answer, so tests (and shutdown) can wait for it. */
  track?(work: Promise<void>): void;
}

/** A post is at most 32,000 characters by default (max_post_length), and its cooked HTML rides along. */
export const DISCOURSE_BODY_LIMIT = 2 * 1024 * 1024;
/** A body is remembered this long; older replays meet the tickets' own idempotency (known topics, seen posts). */
const DELIVERY_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** While its work runs, a repeat is a replay too; a replica that died mid-work frees the key after this. */
const IN_FLIGHT_TTL_MS = 10 * 60 * 1000;

export function discourseHook(deps: DiscourseHookDeps): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const event = header(req, 'x-discourse-event');
    const log = deps.log.child({ hook: 'discourse', eventId: header(req, 'x-discourse-event-id'), event, instance: header(req, 'x-discourse-instance') });
    const refuse = (status: number, reason: string, detail: Record<string, unknown> = {}) => {
      log.warn({ status, reason, ...detail }, 'refused a Discourse delivery');
      sendJson(res, status, { error: reason });
    };
    if (!deps.secret) {
      req.resume();
      return refuse(503, 'the webhook secret is not configured on Cockpit (DISCOURSE_WEBHOOK_SECRET): every delivery is refused');
    }
    const body = await readBody(req, DISCOURSE_BODY_LIMIT);
    const signature = req.headers['x-discourse-event-signature'];
    if (!verifyDiscourseSignature(deps.secret, body, signature)) return refuse(401, 'signature does not match', { signed: signature !== undefined });

    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return refuse(400, 'body is not JSON');
    }
    const parsed = parseDiscourseEvent(event, payload);
    if (!parsed.event) {
      if (parsed.malformed) return refuse(400, parsed.reason);
      log.info({ reason: parsed.reason }, 'Discourse delivery ignored');
      sendJson(res, 202, { ignored: parsed.reason });
      return;
    }
    const delivered = parsed.event;
    // A ping does nothing, so it needs no replay check (and "Ping" pressed twice sends the same body).
    if (delivered.kind === 'ping') {
      sendJson(res, 200, { pong: true });
      return;
    }
    const key = deliveryKey(body);
    if (!(await deps.deliveries.firstSeen(key, IN_FLIGHT_TTL_MS))) return refuse(401, 'this body was delivered before: a replay');
    sendJson(res, 202, { accepted: delivered.name });
    const work = deps
      .handle(delivered)
      .then(
        () => deps.deliveries.keep(key, DELIVERY_TTL_MS),
        async (err: unknown) => {
          log.error({ err, kind: delivered.kind }, 'Discourse event handling failed; a redelivery (or the sweep) runs it again');
          await deps.deliveries.forget(key);
        },
      )
      .catch((err: unknown) => log.error({ err, key }, 'could not record how a Discourse delivery ended'));
    deps.track?.(work);
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v.length <= 200 ? v : undefined;
}
