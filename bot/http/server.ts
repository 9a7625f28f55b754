import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { StoreProbe } from '../../handlers/ports';
import type { ServiceHealth } from '../../handlers/model/health';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';

/**
 * Cockpit's one HTTP server: Slack's events (handed to Bolt), the vendors' webhooks, and the endpoints a
 * platform expects of a service (/healthz, /readyz, /metrics). Plain node:http: the routes are few and fixed.
 */

/** Slack's requests are a few kB (a slash command, a button press, an event); nothing it sends comes near this. */
export const SLACK_BODY_LIMIT = 1024 * 1024;

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpDeps {
  log: Logger;
  metrics: Metrics;
  store: StoreProbe;
  /** Bolt's HTTP receiver, in HTTP mode: handed the request with its body already read (within SLACK_BODY_LIMIT). */
  slack?: RequestListener;
  /** Webhook receivers by path, e.g. `/hooks/alertmanager`. */
  hooks?: Record<string, RouteHandler>;
  /** What else /readyz requires beyond the store, by name, e.g. `slack`: Cockpit is not ready while one is down. */
  readiness?: Record<string, () => Promise<ServiceHealth>>;
  /** Other routes by `METHOD /path`, e.g. `GET /oncall/L1.ics`. */
  routes?: Record<string, RouteHandler>;
}

export function createHttpServer(deps: HttpDeps): Server {
  const routes = new Map<string, RouteHandler>([
    ['GET /healthz', (_req, res) => sendJson(res, 200, { status: 'ok' })],
    [
      'GET /readyz',
      async (_req, res) => {
        const checks = Object.entries(deps.readiness ?? {});
        const [store, ...answers] = await Promise.all([
          deps.store.health(),
          ...checks.map(([, check]) => check().catch((err: unknown): ServiceHealth => ({ up: false, detail: err instanceof Error ? err.message : String(err) }))),
        ]);
        const ready = store.reachable && store.migrationsPending === 0 && answers.every((a) => a.up);
        const services = Object.fromEntries(checks.map(([name], i) => [name, answers[i]]));
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', store, ...services });
      },
    ],
    [
      'GET /metrics',
      async (_req, res) => {
        const body = await deps.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': deps.metrics.registry.contentType }).end(body);
      },
    ],
  ]);
  if (deps.slack) {
    const slack = deps.slack;
    routes.set('POST /slack/events', async (req, res) => {
      // Bolt takes a body already read (`rawBody`) as it is, so the cap holds before Bolt buffers anything.
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = await readBody(req, SLACK_BODY_LIMIT);
      slack(req, res);
    });
  }
  for (const [path, handler] of Object.entries(deps.hooks ?? {})) routes.set(`POST ${path}`, handler);
  for (const [key, handler] of Object.entries(deps.routes ?? {})) routes.set(key, handler);

  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const key = `${req.method} ${path}`;
    const route = routes.get(key);
    res.on('finish', () => deps.metrics.httpRequests.inc({ route: route ? key : 'unmatched', status: String(res.statusCode) }));
    if (!route) {
      const knownPath = [...routes.keys()].some((k) => k.endsWith(` ${path}`));
      sendJson(res, knownPath ? 405 : 404, { error: knownPath ? 'method not allowed' : 'not found' });
      return;
    }
    Promise.resolve(route(req, res)).catch((err: unknown) => {
      if (err instanceof BodyTooLargeError) {
        deps.log.warn({ route: key, limit: err.limit, declared: err.declared }, 'refused a request body over the limit');
        refuseTooLarge(req, res, err);
        return;
      }
      if (err instanceof ClientGoneError) {
        deps.log.debug({ route: key }, 'the client went away before its request body was read');
        return;
      }
      deps.log.error({ err, route: key }, 'HTTP handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * Reads a request body of at most `limit` bytes; webhook receivers need the raw bytes to check signatures. A
 * declared Content-Length over the limit is refused before a byte is read; a chunked body is refused as soon as it
 * passes the limit, and nothing more of it is kept. Rejects with BodyTooLargeError (the server answers 413) or
 * ClientGoneError (nobody left to answer).
 */
export function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit, declared));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onGone);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.pause();
      settle(() => reject(new BodyTooLargeError(limit)));
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks, size)));
    const onGone = () => settle(() => reject(new ClientGoneError()));
    req.on('data', onData).once('end', onEnd).once('error', onGone).once('close', onGone);
  });
}

export class BodyTooLargeError extends Error {
  constructor(
    readonly limit: number,
    /** The Content-Length the client declared, when that alone was over the limit. */
    readonly declared?: number,
  ) {
    super(`request body over ${limit} bytes`);
  }
}

/** The client closed the connection before its body was read: there is nobody to answer. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client went away before its request body was read');
  }
}

/** How long a refused upload is still read (and discarded) so its sender can see the 413. */
const LINGER_MS = 2000;

/**
 * Answers 413 at once and closes the connection, without reading the rest of the body into memory. Node closes a
 * `Connection: close` socket as soon as the response ends, and a client still sending its body then sees a reset
 * instead of the answer (the data it sent after our close makes the kernel reset the connection). So the answer
 * is sent whole at once, what the client still sends is discarded, and the response is ended, which closes the
 * connection, when the client stops or after LINGER_MS.
 */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse, err: BodyTooLargeError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: err.message });
  res.writeHead(413, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.write(body);
  const end = () => {
    clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  const timer = setTimeout(end, LINGER_MS);
  timer.unref();
  req.on('data', () => undefined).once('end', end).once('close', end);
  req.resume();
}

export function listen(server: Server, port: number, host = '0.0.0.0'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
