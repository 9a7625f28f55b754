import type { Server } from 'node:http';
import { createHttpServer, listen, readBody, sendJson } from '../../bot/http/server';
import { createMetrics } from '../../bot/metrics';
import type { StoreHealth, StoreProbe } from '../../handlers/ports';
import { memoryLogger } from '../helpers';

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
    expect((await fetch(`${base}/hooks/echo`, { method: 'POST', body: 'x'.repeat(100) })).status).toBe(413);
    const broken = await fetch(`${base}/hooks/broken`, { method: 'POST', body: '' });
    expect(broken.status).toBe(500);
    expect(await broken.json()).toEqual({ error: 'internal error' });
    expect(logText()).toContain('handler bug');
  });
});
