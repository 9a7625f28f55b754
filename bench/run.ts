import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { BENCH_SIGNING_SECRET } from './server';
import { benchStart } from './start';

/**
 * Ack latency of a signed `/cockpit help`, Cockpit beside a bare Bolt app, at a fixed request rate, in the same
 * run (these machines are noisy, so only a same-run comparison means anything). Open-loop: requests go out on
 * schedule whether or not earlier ones were answered, so a slow server cannot slow the load and hide its tail.
 *
 * Before that, start-up time and idle memory (bench/start.ts): the console's prompt and /readyz, beside a bare Bolt
 * app's, in the same run.
 *
 *   npm run bench                       start-up, then 200 req/s, 20 s per app per round, four alternating rounds
 *   BENCH_RATE=100 BENCH_SECONDS=5 npm run bench
 *   BENCH_PART=start npm run bench      one part only (start or ack)
 */

const PART = process.env.BENCH_PART ?? 'all';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
/** A round's p99 can be wrecked by a neighbour on a shared machine; the median of the rounds' p99s resists that. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const WARMUP_SECONDS = 2;
const GOAL_RATIO = 1.2;
/** Hard bound on any request, so a wedged server ends the run instead of hanging it. */
const REQUEST_TIMEOUT_MS = 5000;

type Kind = 'bare' | 'cockpit';

async function startApp(kind: Kind): Promise<{ child: ChildProcess; port: number; sinkUrl: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/server.ts', kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${kind} app exited with ${code} before it was ready`)));
  });
  const { port, sinkUrl } = JSON.parse(line) as { port: number; sinkUrl: string };
  return { child, port, sinkUrl };
}

let sequence = 0;

function slashCommandBody(responseUrl: string): string {
  sequence += 1;
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T0BENCH',
    team_domain: 'bench',
    channel_id: 'C0BENCH',
    channel_name: 'bench',
    user_id: 'U0ALICE001',
    user_name: 'alice',
    command: '/cockpit',
    text: 'help',
    api_app_id: 'A0BENCH',
    response_url: `${responseUrl}commands/T0BENCH/${sequence}/x`,
    // A fresh trigger per request, as Slack sends: Cockpit drops repeated deliveries, and that is not what we measure.
    trigger_id: `${sequence}.${Date.now()}.bench`,
  }).toString();
}

function send(agent: Agent, port: number, body: string): Promise<number> {
  const ts = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', BENCH_SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/slack/events',
        method: 'POST',
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends `rate` requests a second for `seconds`; returns the latencies (ms) of the 200s and the error count. */
async function load(port: number, sinkUrl: string, rate: number, seconds: number): Promise<{ latencies: number[]; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      send(agent, port, slashCommandBody(sinkUrl)).then(
        (ms) => void latencies.push(ms),
        () => void (errors += 1),
      ),
    );
  }
  await Promise.all(inflight);
  agent.destroy();
  return { latencies, errors };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure(kind: Kind): Promise<{ latencies: number[]; errors: number }> {
  const app = await startApp(kind);
  try {
    await load(app.port, app.sinkUrl, RATE, WARMUP_SECONDS);
    return await load(app.port, app.sinkUrl, RATE, SECONDS);
  } finally {
    app.child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  if (PART === 'all' || PART === 'start') {
    const root = join(__dirname, '..');
    // Measure starts, not the one compile a fresh checkout does.
    if (spawnSync(process.execPath, [join(root, 'bin', 'build.js')], { stdio: 'inherit' }).status !== 0) throw new Error('the build failed');
    await benchStart(root);
    console.log('');
  }
  if (PART === 'all' || PART === 'ack') await benchAck();
}

async function benchAck(): Promise<void> {
  console.log(`ack latency of a signed /cockpit help: ${RATE} req/s, ${SECONDS} s per app per round, ${ROUNDS} rounds (after ${WARMUP_SECONDS} s warm-up)`);
  const results: Record<Kind, { latencies: number[]; errors: number; roundP99: number[] }> = {
    bare: { latencies: [], errors: 0, roundP99: [] },
    cockpit: { latencies: [], errors: 0, roundP99: [] },
  };
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate the order so drift in the machine's load is shared by both apps.
    const order: Kind[] = round % 2 === 1 ? ['bare', 'cockpit'] : ['cockpit', 'bare'];
    for (const kind of order) {
      const r = await measure(kind);
      results[kind].latencies.push(...r.latencies);
      results[kind].errors += r.errors;
      const s = [...r.latencies].sort((a, b) => a - b);
      results[kind].roundP99.push(percentile(s, 99));
      console.log(`  round ${round} ${kind.padEnd(7)} n=${s.length} p50=${percentile(s, 50).toFixed(2)} ms p99=${percentile(s, 99).toFixed(2)} ms errors=${r.errors}`);
    }
  }
  const summary = (kind: Kind) => {
    const s = [...results[kind].latencies].sort((a, b) => a - b);
    const medianP99 = percentile([...results[kind].roundP99].sort((a, b) => a - b), 50);
    return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), medianP99, max: s[s.length - 1] ?? Number.NaN, errors: results[kind].errors };
  };
  const bare = summary('bare');
  const ours = summary('cockpit');
  console.log('');
  console.log('app       requests   p50 (ms)   p99 (ms)   median round p99 (ms)   max (ms)   errors');
  for (const [name, s] of [['bare Bolt', bare], ['Cockpit', ours]] as const) {
    console.log(
      `${name.padEnd(9)} ${String(s.n).padStart(8)} ${s.p50.toFixed(2).padStart(10)} ${s.p99.toFixed(2).padStart(10)} ${s.medianP99.toFixed(2).padStart(23)} ${s.max.toFixed(2).padStart(10)} ${String(s.errors).padStart(8)}`,
    );
  }
  const ratio50 = ours.p50 / bare.p50;
  const ratio99 = ours.p99 / bare.p99;
  const ratioMedian99 = ours.medianP99 / bare.medianP99;
  console.log(`ratio Cockpit / bare Bolt: p50 ${ratio50.toFixed(2)}x, p99 ${ratio99.toFixed(2)}x, median round p99 ${ratioMedian99.toFixed(2)}x`);
  console.log(`goal: p99 within ${GOAL_RATIO}x of bare Bolt (judged on the median round p99) -> ${ratioMedian99 <= GOAL_RATIO ? 'met' : 'MISSED'}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
