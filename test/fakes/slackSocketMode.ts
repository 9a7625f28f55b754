import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { FAKE_WORKSPACE, type FakeSlackApi } from './slackApi';

/**
 * Slack's side of Socket Mode on loopback, behind the Web API fake:
 *
 *   1. the client calls apps.connections.open (app-level token) on the Web API fake, which answers with a
 *      ws:// URL on this server carrying a one-time ticket;
 *   2. the client connects with that URL and is sent `hello`;
 *   3. Slack sends envelopes (`slash_commands`, `interactive`, `events_api`) that the client must acknowledge
 *      with their `envelope_id` (and a `payload` only where `accepts_response_payload` says so);
 *   4. Slack sends `disconnect` (refresh_requested, warning, link_disabled) and the client opens a new
 *      connection the same way.
 *
 * What breaks that protocol is recorded as a violation: a connection without a ticket this fake issued or with
 * one used before, an ack of an envelope never sent or acknowledged twice, a response payload where none is
 * accepted, a message that is not JSON.
 */

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface Ack {
  envelopeId: string;
  /** What the client answered with, e.g. `{ text }` for a command's ack(text); empty when it sent none. */
  payload: Record<string, unknown>;
}

interface Pending {
  acceptsResponsePayload: boolean;
  resolve(ack: Ack): void;
}

export class FakeSocketMode {
  readonly violations: string[] = [];
  /** Every connection that opened with a valid ticket, oldest first. */
  readonly connections: WebSocket[] = [];
  private readonly tickets = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  private readonly acked = new Set<string>();
  private readonly changes = new EventEmitter();

  private constructor(
    private readonly server: WebSocketServer,
    private readonly api: FakeSlackApi,
    private readonly appId: string,
  ) {
    this.changes.setMaxListeners(0);
  }

  /** Starts the WebSocket side and makes the Web API fake answer apps.connections.open with its URLs. */
  static async start(api: FakeSlackApi, options: { appId?: string } = {}): Promise<FakeSocketMode> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const fake = new FakeSocketMode(server, api, options.appId ?? FAKE_WORKSPACE.apiAppId);
    fake.answerConnectionsOpen();
    server.on('connection', (ws, req) => fake.accept(ws, new URL(req.url ?? '/', 'ws://127.0.0.1')));
    return fake;
  }

  /** (Again) answers apps.connections.open with a fresh URL: call it after the Web API fake's `reset()`. */
  answerConnectionsOpen(): void {
    this.api.respondWith('apps.connections.open', () => ({ ok: true, url: this.issueUrl() }));
  }

  /** The connection Slack would send on now: the newest one still open. */
  get current(): WebSocket | undefined {
    return [...this.connections].reverse().find((ws) => ws.readyState === ws.OPEN);
  }

  /** Resolves once `count` connections have opened (and been sent hello). */
  async waitForConnections(count: number, timeoutMs = 5000): Promise<void> {
    await this.until(() => this.connections.length >= count, timeoutMs, `${count} Socket Mode connection(s)`);
  }

  /** Sends an envelope on the current connection; resolves with the client's ack. */
  async send(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    options: { acceptsResponsePayload?: boolean; retryAttempt?: number; retryReason?: string; timeoutMs?: number } = {},
  ): Promise<Ack> {
    const ws = this.current;
    if (!ws) throw new Error('no open Socket Mode connection to send on');
    const envelopeId = randomUUID();
    const acceptsResponsePayload = options.acceptsResponsePayload ?? type !== 'events_api';
    const acked = new Promise<Ack>((resolve) => this.pending.set(envelopeId, { acceptsResponsePayload, resolve }));
    ws.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: acceptsResponsePayload,
        ...(type === 'events_api' ? { retry_attempt: options.retryAttempt ?? 0, retry_reason: options.retryReason ?? '' } : {}),
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`envelope ${type} was not acknowledged within ${options.timeoutMs ?? 3000} ms`)), options.timeoutMs ?? 3000);
    });
    try {
      return await Promise.race([acked, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks the current connection to go away, as Slack does before recycling the host that serves it. */
  disconnect(reason: 'refresh_requested' | 'warning' | 'link_disabled' = 'refresh_requested'): void {
    const ws = this.current;
    if (!ws) throw new Error('no open Socket Mode connection to disconnect');
    ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake-1' } }));
  }

  assertNoViolations(): void {
    if (this.violations.length > 0) throw new Error(`fake Socket Mode saw ${this.violations.length} violation(s):\n${this.violations.map((v) => `  - ${v}`).join('\n')}`);
  }

  async close(): Promise<void> {
    for (const ws of this.server.clients) ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private issueUrl(): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    const { port } = this.server.address() as AddressInfo;
    return `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=${this.appId}`;
  }

  private accept(ws: WebSocket, url: URL): void {
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/link/' || !this.tickets.delete(ticket)) {
      this.violate(`connection to ${url.pathname} without a ticket issued by apps.connections.open (or with one used before)`);
      ws.close(1008, 'invalid ticket');
      return;
    }
    ws.on('message', (data, isBinary) => this.receive(isBinary ? undefined : data.toString()));
    this.connections.push(ws);
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.server.clients.size,
        debug_info: { host: 'applink-fake-1', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }),
    );
    this.changes.emit('changed');
  }

  private receive(text: string | undefined): void {
    let message: unknown;
    try {
      message = text === undefined ? undefined : JSON.parse(text);
    } catch {
      message = undefined;
    }
    const record = typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : undefined;
    const envelopeId = record?.envelope_id;
    if (typeof envelopeId !== 'string') return this.violate(`message that is not an ack: ${String(text).slice(0, 200)}`);
    const pending = this.pending.get(envelopeId);
    if (!pending) return this.violate(this.acked.has(envelopeId) ? `envelope ${envelopeId} acknowledged twice` : `ack of envelope ${envelopeId}, never sent`);
    const payload = record?.payload === undefined ? {} : record.payload;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return this.violate(`ack of ${envelopeId} with a payload that is not an object`);
    if (!pending.acceptsResponsePayload && Object.keys(payload).length > 0) this.violate(`ack of ${envelopeId} carries a payload the envelope does not accept`);
    this.pending.delete(envelopeId);
    this.acked.add(envelopeId);
    pending.resolve({ envelopeId, payload: payload as Record<string, unknown> });
  }

  private violate(violation: string): void {
    this.violations.push(violation);
  }

  private until(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!probe()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`waited ${timeoutMs} ms for ${what}; ${this.connections.length} opened`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.changes.off('changed', check);
      };
      this.changes.on('changed', check);
      check();
    });
  }
}
