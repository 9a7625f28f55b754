import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { request } from 'node:http';

/**
 * Webhook deliveries as a Discourse forum makes them, for the fake Discourse.
 *
 * From discourse/discourse: the headers are built in `app/jobs/regular/emit_web_hook_event.rb`
 * (`build_webhook_headers`), the body is `{ <event_type>: <serialized object> }` (`build_webhook_body`, or
 * `{ "ping": "OK" }`), dumped once, signed over those exact bytes and stored with the event; "Redeliver"
 * (`app/jobs/regular/redeliver_web_hook_event.rb`) posts the stored headers and payload again, so the event id and
 * the signature repeat. Each delivery is one WebHookEvent row, whose id is `X-Discourse-Event-Id`.
 */

/** The version a forum names in its User-Agent (`Discourse/#{Discourse::VERSION::STRING}`). */
export const DISCOURSE_VERSION = '3.5.0';

/** Bounds each delivery; Discourse's WebHookEmitter allows 20 s, a test should learn much sooner. */
const DELIVERY_TIMEOUT_MS = 5000;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface WebhookTarget {
  url: string;
  secret: string;
  /** Event names the webhook is subscribed to (`topic_created`, `post_created`, …); all when absent. */
  events?: string[];
}

export interface WebhookDelivery {
  /** Order of sending, from 1; a redelivery gets its own. */
  seq: number;
  /** `X-Discourse-Event-Id`: the same for a redelivery. */
  eventId: number;
  /** `X-Discourse-Event`, e.g. `post_created` (`ping` for a ping, which sends no such header). */
  event: string;
  /** `X-Discourse-Event-Type`: `topic`, `post` or `ping`. */
  type: string;
  headers: Record<string, string>;
  /** The exact bytes sent (what the signature covers). */
  body: string;
  /** What Cockpit answered; 0 until then; -1 when the delivery failed or timed out (as Discourse records it). */
  status: number;
  responseBody: string;
  /** Lost on the way (`dropWebhooks`): never sent, though the forum gave it an event id. */
  dropped: boolean;
  /** Sent by hand (`sendWebhook`) or again (`redeliver`), not by a change on the forum. */
  manual: boolean;
  redeliveryOf?: number;
}

export interface SendOptions {
  /** Signs with this secret instead of the configured one. */
  secret?: string;
  /** Sends this signature header as it is; `null` sends none. */
  signature?: string | null;
  eventId?: number;
  /** Extra or replacing headers (a value of `null` removes that header). */
  headers?: Record<string, string | null>;
  /** Sends these bytes instead of the JSON of the payload (signed all the same). */
  rawBody?: string;
}

/** `topic_created` → `topic`; a ping is its own type. */
export function eventTypeOf(event: string): string {
  if (event === 'ping') return 'ping';
  const type = /^(topic|post)_/.exec(event)?.[1];
  if (!type) throw new Error(`the fake Discourse sends topic_* and post_* webhooks, not ${event}`);
  return type;
}

/** Discourse's `sha256=` + hex HMAC-SHA256 of the body with the webhook's secret. */
export function discourseSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * One configured webhook: queues deliveries and sends them one after another, each once whatever it caused was
 * answered, and records every delivery with Cockpit's answer.
 */
export class DiscourseWebhookEmitter {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly target: URL;
  private readonly changes = new EventEmitter();
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private nextSeq = 1;
  private drops: Array<{ remaining: number; event?: string }> = [];

  constructor(
    private readonly options: WebhookTarget,
    /** `X-Discourse-Instance`: the forum's base URL. */
    private readonly instance: string,
    private readonly nextEventId: () => number,
  ) {
    this.target = new URL(options.url);
    if (!LOOPBACK.has(this.target.hostname) || this.target.protocol !== 'http:') throw new Error(`the fake Discourse sends webhooks to http on loopback only, not ${options.url}`);
    if (options.secret.length > 0 && options.secret.length < 12) throw new Error('Discourse refuses a webhook secret shorter than 12 characters');
    this.changes.setMaxListeners(0);
  }

  subscribed(event: string): boolean {
    return !this.options.events || this.options.events.includes(event);
  }

  /** The next `n` deliveries (of `event`, when given) are lost. */
  drop(n: number, filter: { event?: string } = {}): void {
    this.drops.push({ remaining: n, ...filter });
  }

  /**
   * Queues the event the forum emits, its body serialized now (as Discourse does when it enqueues the job); it is
   * sent once `after` settles (the answer to the request that caused it) and every earlier delivery was answered.
   */
  emit(event: string, payload: unknown, after: Promise<unknown> = Promise.resolve()): void {
    if (!this.subscribed(event)) return;
    const type = eventTypeOf(event);
    const body = JSON.stringify(type === 'ping' ? { ping: 'OK' } : { [type]: payload });
    const delivery = this.record(event, type, this.headersFor(event, type, body, this.nextEventId()), body, false);
    const drop = this.drops.find((d) => d.remaining > 0 && (!d.event || d.event === event));
    if (drop) {
      drop.remaining -= 1;
      delivery.dropped = true;
      delivery.status = -1;
      return;
    }
    this.enqueue(async () => {
      await after.catch(() => undefined);
      await this.post(delivery);
    });
  }

  /** One delivery by hand, now; the body is `payload` as given (the whole body, e.g. `{ post: {...} }`). */
  async send(event: string, payload: unknown, options: SendOptions = {}): Promise<{ status: number; body: string }> {
    const type = eventTypeOf(event);
    const body = options.rawBody ?? JSON.stringify(payload);
    const headers = this.headersFor(event, type, body, options.eventId ?? this.nextEventId(), options.secret);
    if (options.signature !== undefined) {
      delete headers['X-Discourse-Event-Signature'];
      if (options.signature !== null) headers['X-Discourse-Event-Signature'] = options.signature;
    }
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      delete headers[name];
      if (value !== null) headers[name] = value;
    }
    return this.sendNow(this.record(event, type, headers, body, true));
  }

  /** Posts a delivery's stored headers and bytes again, as Discourse's "Redeliver" does. */
  async redeliver(seq: number): Promise<{ status: number; body: string }> {
    const original = this.deliveries.find((d) => d.seq === seq);
    if (!original) throw new Error(`no webhook delivery ${seq} to redeliver`);
    const again = this.record(original.event, original.type, { ...original.headers }, original.body, true);
    again.redeliveryOf = original.seq;
    return this.sendNow(again);
  }

  /** Resolves once every queued delivery was answered (or failed). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.pending > 0) return;
        this.changes.off('settled', check);
        resolve();
      };
      this.changes.on('settled', check);
    });
  }

  private sendNow(delivery: WebhookDelivery): Promise<{ status: number; body: string }> {
    return new Promise((resolve) => {
      this.enqueue(async () => {
        await this.post(delivery);
        resolve({ status: delivery.status, body: delivery.responseBody });
      });
    });
  }

  private enqueue(work: () => Promise<void>): void {
    this.pending += 1;
    this.queue = this.queue.then(work).finally(() => {
      this.pending -= 1;
      this.changes.emit('settled');
    });
  }

  private record(event: string, type: string, headers: Record<string, string>, body: string, manual: boolean): WebhookDelivery {
    const delivery: WebhookDelivery = { seq: this.nextSeq++, eventId: Number(headers['X-Discourse-Event-Id']), event, type, headers, body, status: 0, responseBody: '', dropped: false, manual };
    this.deliveries.push(delivery);
    return delivery;
  }

  /** `build_webhook_headers`: a ping carries no `X-Discourse-Event`; no secret, no signature. */
  private headersFor(event: string, type: string, body: string, eventId: number, secret = this.options.secret): Record<string, string> {
    return {
      Accept: '*/*',
      Connection: 'close',
      'Content-Length': String(Buffer.byteLength(body)),
      'Content-Type': 'application/json',
      Host: this.target.hostname,
      'User-Agent': `Discourse/${DISCOURSE_VERSION}`,
      'X-Discourse-Instance': this.instance,
      'X-Discourse-Event-Id': String(eventId),
      'X-Discourse-Event-Type': type,
      ...(type === 'ping' ? {} : { 'X-Discourse-Event': event }),
      ...(secret ? { 'X-Discourse-Event-Signature': discourseSignature(secret, body) } : {}),
    };
  }

  private post(delivery: WebhookDelivery): Promise<void> {
    return new Promise((resolve) => {
      const done = (status: number, responseBody: string) => {
        delivery.status = status;
        delivery.responseBody = responseBody;
        resolve();
      };
      const req = request(this.target, { method: 'POST', headers: delivery.headers, agent: false, signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(res.statusCode ?? -1, Buffer.concat(chunks).toString('utf8')));
        res.on('error', () => done(-1, ''));
      });
      req.on('error', (error) => done(-1, String(error)));
      req.end(delivery.body);
    });
  }
}
