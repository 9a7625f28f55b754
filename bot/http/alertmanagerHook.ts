import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AlertIntake, TokenScope } from '../../handlers/alerts';
import { isCockpitError } from '../../handlers/errors';
import type { Logger } from '../../handlers/ports';
import { parseWebhook } from '../integrations/alertmanager/webhook';
import { newRequestId } from '../requestId';
import { readBody, sendJson, type RouteHandler } from './server';

/**
 * POST /hooks/alertmanager: Alertmanager's webhook (format 4). The bearer token comes first: each stack's
 * Alertmanager has its own, and a body whose alerts name another stack's cluster is refused (403). Then the
 * body: size-limited (413), JSON (400), validated (400 with the reason, logged). An accepted body is stored
 * before the answer, so a failure answers 500 and Alertmanager sends it again; Slack is told afterwards.
 */

/** Alertmanager sends every alert of a group; thousands of alerts with long annotations stay under this. */
export const ALERTMANAGER_BODY_LIMIT = 8 * 1024 * 1024;

export interface WebhookTokens {
  /** `ALERTMANAGER_WEBHOOK_TOKENS`: stack → its Alertmanager's token. */
  perStack: Record<string, string>;
  /**
   * `ALERTMANAGER_WEBHOOK_TOKEN`, the single token of old: good for every stack `perStack` does not name (all of
   * them when it names none). The infra program gives Cockpit its own stack's token this way.
   */
  any?: string;
}

export interface AlertmanagerHookDeps {
  tokens: WebhookTokens;
  /** Every stack of the team file. */
  stacks: readonly string[];
  intake: AlertIntake;
  log: Logger;
}

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Which stacks a presented token speaks for; undefined when it is nobody's. Compared in constant time. */
export function scopeOf(tokens: WebhookTokens, presented: string | undefined, allStacks: readonly string[]): TokenScope | undefined {
  if (!presented) return undefined;
  const given = digest(presented);
  // Every token is compared, so the time taken says nothing about which one (or how much of one) matched.
  const stacks = Object.entries(tokens.perStack).filter(([, token]) => timingSafeEqual(given, digest(token))).map(([stack]) => stack);
  const any = tokens.any !== undefined && timingSafeEqual(given, digest(tokens.any));
  if (any) stacks.push(...allStacks.filter((s) => !(s in tokens.perStack) && !stacks.includes(s)));
  return stacks.length > 0 ? { stacks } : undefined;
}

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
  return m?.[1];
}

export function alertmanagerHook(deps: AlertmanagerHookDeps): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = newRequestId();
    const log = deps.log.child({ hook: 'alertmanager', requestId });
    const scope = scopeOf(deps.tokens, bearer(req), deps.stacks);
    if (!scope) {
      log.warn({ presented: req.headers.authorization !== undefined }, 'refused an Alertmanager delivery without a known token');
      req.resume();
      sendJson(res, 401, { error: 'unknown or missing bearer token' });
      return;
    }
    const body = await readBody(req, ALERTMANAGER_BODY_LIMIT);
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      log.warn({ bytes: body.length }, 'Alertmanager body is not JSON');
      sendJson(res, 400, { error: 'body is not JSON' });
      return;
    }
    const parsed = parseWebhook(payload);
    if (!parsed.ok) {
      log.warn({ reason: parsed.reason }, 'malformed Alertmanager body');
      sendJson(res, 400, { error: parsed.reason });
      return;
    }
    try {
      const outcome = await deps.intake.receive(parsed.notification, scope, requestId);
      sendJson(res, 200, { accepted: parsed.notification.alerts.length, ...outcome });
    } catch (err) {
      if (isCockpitError(err)) {
        const status = err.code === 'NOT_ALLOWED' ? 403 : 400;
        log.warn({ reason: err.message, status }, 'refused an Alertmanager body');
        sendJson(res, status, { error: err.message });
        return;
      }
      throw err;
    }
  };
}
