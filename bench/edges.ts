import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { BENCH_SIGNING_SECRET } from './server';

/**
 * The HTTP edges under hostile or odd input, on Cockpit in its own process (bench/server.ts):
 *   - the resident memory of the process while a 300 MB unsigned body is sent to /slack/events (chunked, and with a
 *     Content-Length), and how long it takes to be refused;
 *   - how long a signed Slack payload that no listener handles waits for its answer (Slack gives up after 3 s);
 *   - how long an oversized GitHub delivery waits for its 413.
 *
 *   npm run bench:edges
 */

const HUGE_BYTES = 300 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/** Hard bound on any request, so a wedged server ends the run instead of hanging it. */
const REQUEST_TIMEOUT_MS = 15_000;

async function startCockpit(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/server.ts', 'cockpit'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_WEBHOOK_SECRET: 'bench-webhook-secret' },
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`cockpit exited with ${code} before it was ready`)));
  });
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

/** Resident set now and its peak so far, in MB, from the kernel's own accounting. */
function memory(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
}

interface Outcome {
  status: number | string;
  ms: number;
  sentMb: number;
}

/** Streams `bytes` of junk to `path` (chunked unless `declareLength`), stopping as soon as the server answers or hangs up. */
function sendHuge(port: number, path: string, bytes: number, options: { declareLength: boolean; headers?: Record<string, string> }): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let sent = 0;
    let done = false;
    let status: number | undefined;
    const finish = (outcome: number | string) => {
      if (done) return;
      done = true;
      resolve({ status: outcome, ms: Math.round(performance.now() - started), sentMb: Math.round(sent / 1024 / 1024) });
      req.destroy();
    };
    const headers = { 'content-type': 'application/json', ...options.headers, ...(options.declareLength ? { 'content-length': String(bytes) } : {}) };
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      res.resume();
      status = res.statusCode ?? 0;
      finish(status);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => finish('timeout'));
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    const pump = () => {
      while (!done && sent < bytes) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) return void req.once('drain', pump);
      }
      if (!done) req.end();
    };
    pump();
  });
}

/**
 * A client that sends its whole request before it reads a byte of the answer, as many HTTP libraries do (Node's
 * own client reads as it sends, so this one is a raw socket): a server that hangs up on it mid-body leaves it with
 * an error and no answer.
 */
function sendWholeThenRead(port: number, path: string, bytes: number, headers: Record<string, string>): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let sent = 0;
    let answer = '';
    let done = false;
    const finish = (status: number | string) => {
      if (done) return;
      done = true;
      resolve({ status, ms: Math.round(performance.now() - started), sentMb: Math.round(sent / 1024 / 1024) });
      socket.destroy();
    };
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => finish('timeout'));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    socket.on('close', () => finish(answer ? Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? 0) : 'closed with no answer'));
    const head = Object.entries({ host: '127.0.0.1', 'content-length': String(bytes), ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
    const pump = () => {
      while (sent < bytes && !done) {
        sent += CHUNK.length;
        if (!socket.write(CHUNK)) return void socket.once('drain', pump);
      }
      // Only now does it read.
      socket.on('data', (d: Buffer) => {
        answer += d.toString('latin1');
        if (/\r\n\r\n/.test(answer)) finish(Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? 0));
      });
      socket.resume();
    };
    socket.pause();
    pump();
  });
}

function signedPost(port: number, body: string, contentType: string): Promise<Outcome> {
  const ts = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', BENCH_SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/slack/events',
        method: 'POST',
        headers: { 'content-type': contentType, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Math.round(performance.now() - started), sentMb: 0 }));
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? err.message, ms: Math.round(performance.now() - started), sentMb: 0 }));
    req.end(body);
  });
}

const interaction = (payload: Record<string, unknown>) =>
  new URLSearchParams({
    payload: JSON.stringify({ team: { id: 'T0BENCH', domain: 'bench' }, api_app_id: 'A0BENCH', token: 'x', trigger_id: `${Date.now()}.1.bench`, ...payload }),
  }).toString();

const UNHANDLED: Array<[string, string]> = [
  ['view_submission', interaction({ type: 'view_submission', user: { id: 'U0ALICE001', team_id: 'T0BENCH' }, view: { id: 'V1', type: 'modal', callback_id: 'nobody', state: { values: {} } } })],
  ['block_actions, empty actions', interaction({ type: 'block_actions', user: { id: 'U0ALICE001', team_id: 'T0BENCH' }, actions: [], container: { type: 'message' } })],
  ['block_actions, no user', interaction({ type: 'block_actions', actions: [{ type: 'button', action_id: 'deploy.confirm', block_id: 'b', action_ts: '1' }], container: { type: 'message' } })],
  [
    'unknown command',
    new URLSearchParams({ command: '/other', text: 'x', team_id: 'T0BENCH', user_id: 'U0ALICE001', channel_id: 'C0BENCH', api_app_id: 'A0BENCH', response_url: 'http://127.0.0.1:9/x', trigger_id: `${Date.now()}.2.bench` }).toString(),
  ],
];

async function main(): Promise<void> {
  const { child, port } = await startCockpit();
  try {
    const idle = memory(child.pid!);
    console.log(`cockpit idle: RSS ${idle.rssMb} MB (peak ${idle.peakMb} MB)`);

    for (const declareLength of [false, true]) {
      const before = memory(child.pid!);
      const outcome = await sendHuge(port, '/slack/events', HUGE_BYTES, { declareLength });
      await new Promise((r) => setTimeout(r, 500));
      const after = memory(child.pid!);
      console.log(
        `/slack/events, 300 MB unsigned (${declareLength ? 'Content-Length' : 'chunked'}): ${outcome.status} after ${outcome.ms} ms, ${outcome.sentMb} MB sent; ` +
          `RSS ${before.rssMb} -> ${after.rssMb} MB, peak ${after.peakMb} MB`,
      );
    }

    for (const mb of [6, 30]) {
      const outcome = await sendHuge(port, '/hooks/github', mb * 1024 * 1024, { declareLength: true, headers: { 'x-github-event': 'pull_request' } });
      console.log(`/hooks/github, ${mb} MB: ${outcome.status} after ${outcome.ms} ms, ${outcome.sentMb} MB sent`);
      const naive = await sendWholeThenRead(port, '/hooks/github', mb * 1024 * 1024, { 'content-type': 'application/json', 'x-github-event': 'pull_request' });
      console.log(`/hooks/github, ${mb} MB, client that reads only once it has sent all: ${naive.status} after ${naive.ms} ms, ${naive.sentMb} MB sent`);
    }

    for (const [name, body] of UNHANDLED) {
      const outcome = await signedPost(port, body, 'application/x-www-form-urlencoded');
      console.log(`signed ${name}: ${outcome.status} after ${outcome.ms} ms`);
    }
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
