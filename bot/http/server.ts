import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { StoreProbe } from '../../handlers/ports';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';

/**
 * Cockpit's one HTTP server: Slack's events (handed to Bolt), the vendors' webhooks, and the endpoints a
 * platform expects of a service (/healthz, /readyz, /metrics). Plain node:http: the routes are few and fixed.
 */

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpDeps {
  log: Logger;
  metrics: Metrics;
  store: StoreProbe;
  /** Bolt's HTTP receiver, in HTTP mode. */
  slack?: RequestListener;
  /** Webhook receivers by path, e.g. `/hooks/alertmanager`. */
  hooks?: Record<string, RouteHandler>;
  /** Other routes by `METHOD /path`, e.g. `GET /oncall/L1.ics`. */
  routes?: Record<string, RouteHandler>;
}

export function createHttpServer(deps: HttpDeps): Server {
  const routes = new Map<string, RouteHandler>([
    ['GET /healthz', (_req, res) => sendJson(res, 200, { status: 'ok' })],
    [
      'GET /readyz',
      async (_req, res) => {
        const h = await deps.store.health();
        const ready = h.reachable && h.migrationsPending === 0;
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', store: h });
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
    routes.set('POST /slack/events', (req, res) => slack(req, res));
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
        if (!res.headersSent) sendJson(res, 413, { error: err.message });
        req.resume(); // drain what is left so the connection closes cleanly
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

/** Reads a request body up to `limit` bytes; webhook receivers need the raw bytes to check signatures. */
export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body over ${limit} bytes`);
  }
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
