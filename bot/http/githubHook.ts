import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../handlers/ports';
import type { DeliveryLog } from '../deliveries';
import type { CodeHostEvent } from '../../handlers/model/code';
import { parseGitHubEvent, printable, verifyGitHubSignature } from '../integrations/github';
import { readBody, sendJson, type RouteHandler } from './server';

/**
 * POST /hooks/github. Only a delivery signed with the webhook secret (X-Hub-Signature-256) does anything. GitHub
 * sends either content type a webhook can be set to, JSON or a form whose `payload` field is the JSON, and signs
 * the body as sent in both cases. GitHub gives a hook 10 seconds, and a preview or a deploy takes minutes, so the
 * event is accepted at once (202) and handled after the answer.
 *
 * De-duplication keys on the event itself (the PR and its merge commit, the head, the comment), which the
 * signature covers, not on X-GitHub-Delivery, which it does not. A delivery is remembered as done only once its
 * work succeeded: while it runs a repeat is answered as a duplicate, and when it fails the key is forgotten, so
 * GitHub's Redeliver runs it again.
 */

export interface GitHubHookDeps {
  /** Without a secret nothing can be verified, so everything is refused. */
  secret?: string;
  deliveries: DeliveryLog;
  log: Logger;
  /** Does the event's work; a rejection means it was not done, and the delivery may run again. */
  handle(event: CodeHostEvent, deliveryId: string): Promise<void>;
  /** Receives the work started after each answer, so tests (and shutdown) can wait for it. */
  track?(work: Promise<void>): void;
}

/** GitHub caps payloads at 25 MB; the events Cockpit reads are a few tens of kB. */
const BODY_LIMIT = 5 * 1024 * 1024;
/** GitHub lets people redeliver for 3 days (GitHub Enterprise Server: 7). */
const DELIVERY_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * How long a delivery counts as running. Longer than any preview or deploy, short enough that when a replica dies
 * mid-work, a redelivery an hour later runs it again.
 */
const IN_FLIGHT_TTL_MS = 60 * 60 * 1000;

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

export function githubHook(deps: GitHubHookDeps): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const deliveryId = header(req, 'x-github-delivery');
    const eventName = header(req, 'x-github-event');
    const log = deps.log.child({ hook: 'github', deliveryId, event: eventName });
    const refuse = (status: number, reason: string, detail: Record<string, unknown> = {}) => {
      log.warn({ status, reason, ...detail }, 'refused a GitHub delivery');
      sendJson(res, status, { error: reason });
    };

    if (!deps.secret) {
      return refuse(503, 'the webhook secret is not configured on Cockpit (GITHUB_WEBHOOK_SECRET): every delivery is refused');
    }
    const body = await readBody(req, BODY_LIMIT);
    const contentType = mediaType(req.headers['content-type']);
    if (contentType !== JSON_TYPE && contentType !== FORM_TYPE) {
      return refuse(415, `content type "${printable(contentType)}" is not one GitHub sends: set the webhook to application/json (or form)`);
    }
    const signature = req.headers['x-hub-signature-256'];
    if (!(await verifyGitHubSignature(deps.secret, body, signature))) {
      return refuse(401, 'signature does not match', { signed: signature !== undefined });
    }
    if (eventName === 'ping') {
      sendJson(res, 200, { pong: true });
      return;
    }
    const payload = decodePayload(contentType, body);
    if (!payload.ok) return refuse(400, payload.reason);

    const parsed = parseGitHubEvent(eventName, payload.value);
    if (!parsed.event) {
      if (parsed.malformed) return refuse(400, parsed.reason);
      log.info({ reason: parsed.reason }, 'GitHub delivery ignored');
      sendJson(res, 202, { ignored: parsed.reason });
      return;
    }
    const { event, key } = parsed;
    if (!(await deps.deliveries.firstSeen(key, IN_FLIGHT_TTL_MS))) {
      log.info({ key }, 'GitHub event already handled or running: nothing to do');
      sendJson(res, 200, { duplicate: true });
      return;
    }
    sendJson(res, 202, { accepted: event.kind });
    const work = deps
      .handle(event, deliveryId ?? 'unknown')
      .then(
        () => deps.deliveries.keep(key, DELIVERY_TTL_MS),
        async (err: unknown) => {
          log.error({ err, kind: event.kind }, 'GitHub event handling failed; a redelivery will run it again');
          await deps.deliveries.forget(key);
        },
      )
      .catch((err: unknown) => log.error({ err, key }, 'could not record how a GitHub delivery ended'));
    deps.track?.(work);
  };
}

/** GitHub's two encodings: the JSON itself, or a form whose one `payload` field is the JSON. */
function decodePayload(contentType: string, body: Buffer): { ok: true; value: unknown } | { ok: false; reason: string } {
  let json = body.toString('utf8');
  if (contentType === FORM_TYPE) {
    const fields = new URLSearchParams(json).getAll('payload');
    if (fields.length !== 1) return { ok: false, reason: 'form body must carry exactly one payload field' };
    json = fields[0]!;
  }
  try {
    return { ok: true, value: JSON.parse(json) };
  } catch {
    return { ok: false, reason: contentType === FORM_TYPE ? 'payload field is not JSON' : 'body is not JSON' };
  }
}

/** `Application/JSON; charset=utf-8` → `application/json`; empty when absent. */
function mediaType(value: string | undefined): string {
  return (value ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v.length <= 200 ? v : undefined;
}
