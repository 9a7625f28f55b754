import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CodeHostEvent, DeliveryLog, Logger } from '../../handlers/ports';
import { parsePullRequestEvent, verifyGitHubSignature } from '../integrations/github';
import { readBody, sendJson, type RouteHandler } from './server';

/**
 * POST /hooks/github. Only a delivery signed with the webhook secret (X-Hub-Signature-256) does anything;
 * anything else gets 401. GitHub gives a hook 10 seconds, and a preview or a deploy takes minutes, so the
 * event is accepted at once (202) and handled after the answer. A redelivery (same X-GitHub-Delivery) runs
 * nothing twice.
 */

export interface GitHubHookDeps {
  /** Without a secret nothing can be verified, so everything is refused. */
  secret?: string;
  deliveries: DeliveryLog;
  log: Logger;
  handle(event: CodeHostEvent, deliveryId: string): Promise<void>;
  /** Receives the work started after each answer, so tests (and shutdown) can wait for it. */
  track?(work: Promise<void>): void;
}

/** GitHub caps payloads at 25 MB; pull_request deliveries are a few tens of kB. */
const BODY_LIMIT = 5 * 1024 * 1024;
const DELIVERY_TTL_MS = 7 * 24 * 60 * 60 * 1000; // GitHub lets people redeliver for days

export function githubHook(deps: GitHubHookDeps): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const deliveryId = header(req, 'x-github-delivery');
    const eventName = header(req, 'x-github-event');
    const log = deps.log.child({ hook: 'github', deliveryId, event: eventName });
    const body = await readBody(req, BODY_LIMIT);
    if (!deps.secret || !(await verifyGitHubSignature(deps.secret, body, req.headers['x-hub-signature-256']))) {
      log.warn({ signed: req.headers['x-hub-signature-256'] !== undefined, configured: Boolean(deps.secret) }, 'refused an unverified GitHub delivery');
      sendJson(res, 401, { error: 'signature does not match' });
      return;
    }
    if (eventName === 'ping') {
      sendJson(res, 200, { pong: true });
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      sendJson(res, 400, { error: 'body is not JSON' });
      return;
    }
    const parsed = parsePullRequestEvent(eventName, payload);
    if (!parsed.event) {
      log.info({ reason: parsed.reason }, parsed.malformed ? 'malformed GitHub delivery' : 'GitHub delivery ignored');
      sendJson(res, parsed.malformed ? 400 : 202, { ignored: parsed.reason });
      return;
    }
    if (deliveryId && !(await deps.deliveries.firstSeen(`github:${deliveryId}`, DELIVERY_TTL_MS))) {
      log.info({}, 'GitHub redelivery of a handled event: nothing to do');
      sendJson(res, 200, { duplicate: true });
      return;
    }
    sendJson(res, 202, { accepted: parsed.event.kind });
    const event = parsed.event;
    const work = deps.handle(event, deliveryId ?? 'unknown').catch((err: unknown) => log.error({ err, kind: event.kind }, 'GitHub event handling failed'));
    deps.track?.(work);
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v.length <= 200 ? v : undefined;
}
