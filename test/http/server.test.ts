import type { IncomingMessage, Server } from 'node:http';
import { connect } from 'node:net';
import { createHttpServer, listen, readBody, sendJson, SLACK_BODY_LIMIT } from '../../bot/http/server';
import { createMetrics } from '../../bot/metrics';
import type { StoreProbe } from '../../handlers/ports';
import type { ServiceHealth, StoreHealth } from '../../handlers/model/health';
import { memoryLogger } from '../helpers';

/**
 * A client on a raw socket, so a test controls exactly what is sent and when: it sends `head`, then `chunk` until
 * the server answers (or `maxBytes` are sent), and resolves with what the server answered and how much was sent.
 * With `readFirst: false` it sends everything before it looks at the answer, as naive clients do.
 */
function rawPost(port: number, head: string, options: { chunk?: Buffer; maxBytes?: number; readFirst?: boolean } = {}): Promise<{ answer: string; sent: number; error?: string }> {
  const { chunk, maxBytes = 0, readFirst = true } = options;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let answered = false;
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      answered = true;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ answer, sent, error: err.code }));
    socket.on('close', () => resolve({ answer, sent }));
    socket.write(head);
    const pump = () => {
      while (chunk && sent < maxBytes && !(readFirst && answered) && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      if (!socket.destroyed) socket.end();
    };
    pump();
  });
}

class ProbeFake implements StoreProbe {
  constructor(public state: StoreHealth) {}
  async health() {
    return this.state;
  }
}

describe('HTTP endpoints beside Slack', () => {
  let server: Server;
  let base: string;
  const probe = new ProbeFake({ dialect: 'sqlite', reachable: true, migrationsApplied: 1, migrationsPending: 0 });
  const metrics = createMetrics();
  const { log, text: logText } = memoryLogger();

  beforeAll(async () => {
    server = createHttpServer({
      log,
      metrics,
      store: probe,
      hooks: {
        '/hooks/echo': async (req, res) => sendJson(res, 200, { bytes: (await readBody(req, 16)).length }),
        '/hooks/broken': async () => {
          throw new Error('handler bug');
        },
      },
    });
    base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  test('/healthz says the process is up', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  test('/readyz follows the store: reachable and migrated, or 503 with the reason', async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    probe.state = { dialect: 'postgres', reachable: false, migrationsApplied: 0, migrationsPending: 0, error: 'connect ECONNREFUSED' };
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'not ready', store: { error: 'connect ECONNREFUSED' } });
    probe.state = { dialect: 'postgres', reachable: true, migrationsApplied: 1, migrationsPending: 1 };
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    probe.state = { dialect: 'sqlite', reachable: true, migrationsApplied: 1, migrationsPending: 0 };
  });

  test('/metrics exposes Prometheus text with our counters and process metrics', async () => {
    metrics.commands.inc({ command: 'status', outcome: 'ok', front: 'slack' });
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const body = await res.text();
    expect(body).toContain('cockpit_commands_total{command="status",outcome="ok",front="slack"} 1');
    expect(body).toContain('# TYPE cockpit_slack_ack_seconds histogram');
    expect(body).toContain('cockpit_process_cpu_seconds_total');
    expect(body).toMatch(/cockpit_http_requests_total\{route="GET \/healthz",status="200"\} \d/);
  });

  test('unknown paths get 404, wrong methods 405, and Slack events are absent without Slack', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  test('webhook bodies are bounded; a handler bug is a logged 500', async () => {
    expect(await (await fetch(`${base}/hooks/echo`, { method: 'POST', body: 'small' })).json()).toEqual({ bytes: 5 });
    expect(await (await fetch(`${base}/hooks/echo`, { method: 'POST', body: 'x'.repeat(16) })).json()).toEqual({ bytes: 16 });
    expect((await fetch(`${base}/hooks/echo`, { method: 'POST', body: 'x'.repeat(100) })).status).toBe(413);
    const broken = await fetch(`${base}/hooks/broken`, { method: 'POST', body: '' });
    expect(broken.status).toBe(500);
    expect(await broken.json()).toEqual({ error: 'internal error' });
    expect(logText()).toContain('handler bug');
  });

  describe('a body over the limit', () => {
    const port = () => Number(new URL(base).port);
    const post = (headers: string) => `POST /hooks/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`;

    test('is answered 413 on its declared length alone, before a byte of it is sent', async () => {
      const { answer, error } = await rawPost(port(), post('Content-Length: 300000000\r\n'));
      expect(error).toBeUndefined();
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(answer).toContain('{"error":"request body over 16 bytes"}');
      expect(logText()).toMatch(/"declared":300000000.*"msg":"refused a request body over the limit"/);
    });

    test('sent chunked is answered 413 as soon as it passes the limit, while the client is still sending', async () => {
      const chunk = Buffer.from(`400\r\n${'x'.repeat(0x400)}\r\n`);
      const { answer, sent, error } = await rawPost(port(), post('Transfer-Encoding: chunked\r\n'), { chunk, maxBytes: 64 * 1024 * 1024 });
      expect(error).toBeUndefined();
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      // The client stopped when the answer came: far short of the 64 MB it would have sent.
      expect(sent).toBeLessThan(32 * 1024 * 1024);
    });

    test('reaches a client that sends its whole body before it reads, instead of a reset', async () => {
      const body = Buffer.alloc(4 * 1024 * 1024, 0x78);
      const { answer, sent, error } = await rawPost(port(), post(`Content-Length: ${body.length}\r\n`), { chunk: body, maxBytes: body.length, readFirst: false });
      expect(sent).toBe(body.length);
      expect(error).toBeUndefined();
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    });

    test('a client that hangs up mid-body is no error', async () => {
      const before = logText();
      await new Promise<void>((resolve) => {
        const socket = connect(port(), '127.0.0.1', () => socket.end(post('Content-Length: 10\r\n') + 'abc'));
        socket.on('close', () => resolve());
        socket.resume();
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(logText().slice(before.length)).not.toContain('HTTP handler failed');
    });
  });
});

describe('POST /slack/events', () => {
  test('Bolt is handed the body already read, and never sees one over the limit', async () => {
    const seen: Array<Buffer | undefined> = [];
    const server = createHttpServer({
      log: memoryLogger().log,
      metrics: createMetrics(),
      store: new ProbeFake({ dialect: 'sqlite', reachable: true, migrationsApplied: 1, migrationsPending: 0 }),
      slack: (req, res) => {
        seen.push((req as IncomingMessage & { rawBody?: Buffer }).rawBody);
        res.writeHead(200).end();
      },
    });
    const port = await listen(server, 0, '127.0.0.1');
    try {
      expect((await fetch(`http://127.0.0.1:${port}/slack/events`, { method: 'POST', body: 'token=x&command=%2Fcockpit' })).status).toBe(200);
      expect(seen.map((b) => b?.toString())).toEqual(['token=x&command=%2Fcockpit']);
      const huge = await rawPost(port, `POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: ${300 * 1024 * 1024}\r\n\r\n`);
      expect(huge.answer).toMatch(/^HTTP\/1\.1 413 /);
      const chunk = Buffer.from(`10000\r\n${'x'.repeat(0x10000)}\r\n`);
      const chunked = await rawPost(port, 'POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', { chunk, maxBytes: 64 * SLACK_BODY_LIMIT });
      expect(chunked.answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(seen).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('/readyz with services beside the store', () => {
  test('is not ready while one is down, and says which and why', async () => {
    let slack: ServiceHealth = { up: false, detail: 'auth.test failed: Slack is unreachable (ECONNREFUSED)' };
    let asked = 0;
    const server = createHttpServer({
      log: memoryLogger().log,
      metrics: createMetrics(),
      store: new ProbeFake({ dialect: 'sqlite', reachable: true, migrationsApplied: 1, migrationsPending: 0 }),
      readiness: {
        slack: async () => {
          asked++;
          return slack;
        },
      },
    });
    const base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
    try {
      const down = await fetch(`${base}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'not ready', store: { reachable: true }, slack });
      slack = { up: true, detail: 'bot U0COCKPIT1' };
      const up = await fetch(`${base}/readyz`);
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ status: 'ready', slack });
      expect(asked).toBe(2);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('a check that throws counts as down', async () => {
    const server = createHttpServer({
      log: memoryLogger().log,
      metrics: createMetrics(),
      store: new ProbeFake({ dialect: 'sqlite', reachable: true, migrationsApplied: 1, migrationsPending: 0 }),
      readiness: { slack: () => Promise.reject(new Error('probe bug')) },
    });
    const base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
    try {
      const res = await fetch(`${base}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ slack: { up: false, detail: 'probe bug' } });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
