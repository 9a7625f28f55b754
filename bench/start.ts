import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Start-up time and idle memory, each app in a fresh process, in the same run:
 * - Cockpit's console (no Slack tokens, embedded store): from spawn to the `cockpit> ` prompt;
 * - Cockpit with Slack over HTTP (embedded store, a sink for Slack's Web API): from spawn to `/readyz` 200;
 * - a bare Bolt app: from spawn to its first HTTP answer.
 * Each figure is the median of the rounds; RSS is read from /proc after the app sat idle a few seconds.
 *
 *   npm run bench                         (the start-up section runs first)
 *   BENCH_START_ROUNDS=9 npm run bench
 */

const ROUNDS = Number(process.env.BENCH_START_ROUNDS ?? 5);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 3000);
const READY_TIMEOUT_MS = 60_000;
export const START_GOAL = { ms: 1000, rssMb: 150 };

export type StartFigures = { readyMs: number; rssMb: number };

/** Stands in for Slack's Web API: accepts everything, answers ok. */
async function startSink(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** A port free right now (Cockpit refuses PORT=0: a random port nobody can find is a configuration mistake). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb ? Number(kb) / 1024 : Number.NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Resolves when `ready` says so, rejects when the process exits first or the timeout passes. */
function waitReady(child: ChildProcess, ready: (resolve: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('not ready in time')), READY_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)));
    ready(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function pollHttp(url: string, ok: (status: number) => boolean, done: () => void, child: ChildProcess): Promise<void> {
  while (child.exitCode === null) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (ok(res.status)) return done();
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
}

/** One start: spawn, wait for readiness, idle, read RSS, stop. */
async function startOnce(cwd: string, command: string[], env: NodeJS.ProcessEnv, readiness: (child: ChildProcess, done: () => void) => void): Promise<StartFigures> {
  const started = performance.now();
  const child = spawn(command[0]!, command.slice(1), { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    await waitReady(child, (done) => readiness(child, done));
    const readyMs = performance.now() - started;
    await sleep(IDLE_MS);
    return { readyMs, rssMb: rssMb(child.pid!) };
  } catch (err) {
    throw new Error(`${command.join(' ')}: ${(err as Error).message}\n${stderr.slice(-2000)}`);
  } finally {
    await stop(child);
  }
}

export type StartTarget = { name: string; once(): Promise<StartFigures> };

/** The commands measured: what `npm start` runs, and a bare Bolt app, all with the same Node. */
export function startTargets(root: string, commands = { start: ['bin/start.js'], bareBolt: ['bench/bareBolt.js'] }): StartTarget[] {
  const node = process.execPath;
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info' };
  const slackEnv = (sinkUrl: string, port: number, dataDir: string) => ({
    ...base,
    SLACK_BOT_TOKEN: 'xoxb-bench-0000',
    SLACK_SIGNING_SECRET: 'bench-signing-secret',
    SLACK_API_URL: sinkUrl,
    SLACK_BOT_ID: 'B0BENCH',
    SLACK_BOT_USER_ID: 'U0BENCH',
    PORT: String(port),
    COCKPIT_DATA_DIR: dataDir,
  });
  const withDataDir = async (body: (dir: string) => Promise<StartFigures>) => {
    const dir = mkdtempSync(join(tmpdir(), 'cockpit-bench-'));
    try {
      return await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const withSink = async (body: (sinkUrl: string) => Promise<StartFigures>) => {
    const sink = await startSink();
    try {
      return await body(sink.url);
    } finally {
      sink.server.closeAllConnections();
      await new Promise((r) => sink.server.close(r));
    }
  };
  const at = (args: string[]) => [node, ...args];
  return [
    {
      name: 'Cockpit console (npm start, no Slack): to the prompt',
      once: () =>
        withDataDir((dir) =>
          startOnce(root, at(commands.start), { ...base, COCKPIT_DATA_DIR: dir }, (child, done) => {
            let out = '';
            child.stdout!.on('data', (c: Buffer) => {
              out += c.toString();
              if (out.includes('cockpit> ')) done();
            });
          }),
        ),
    },
    {
      name: 'Cockpit on Slack over HTTP (embedded store): to /readyz 200',
      once: () =>
        withDataDir((dir) =>
          withSink(async (sinkUrl) => {
            const port = await freePort();
            const env = { ...slackEnv(sinkUrl, port, dir) };
            return startOnce(root, at(commands.start), env, (child, done) => {
              child.stdout!.resume();
              void pollHttp(`http://127.0.0.1:${port}/readyz`, (s) => s === 200, done, child);
            });
          }),
        ),
    },
    {
      name: 'bare Bolt app over HTTP: to its first answer',
      once: () =>
        withSink(async (sinkUrl) => {
          const port = await freePort();
          return startOnce(root, at(commands.bareBolt), slackEnv(sinkUrl, port, tmpdir()), (child, done) => {
            child.stdout!.resume();
            void pollHttp(`http://127.0.0.1:${port}/`, () => true, done, child);
          });
        }),
    },
  ];
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

/** Runs every target `ROUNDS` times, interleaved so the machine's drift is shared; prints and returns the medians. */
export async function benchStart(root: string, targets = startTargets(root)): Promise<Array<{ name: string } & StartFigures>> {
  console.log(`start-up: ${ROUNDS} rounds, RSS after ${IDLE_MS / 1000} s idle (medians)`);
  const figures = targets.map(() => ({ readyMs: [] as number[], rssMb: [] as number[] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, target] of targets.entries()) {
      const f = await target.once();
      figures[i]!.readyMs.push(f.readyMs);
      figures[i]!.rssMb.push(f.rssMb);
    }
  }
  const results = targets.map((t, i) => ({ name: t.name, readyMs: median(figures[i]!.readyMs), rssMb: median(figures[i]!.rssMb) }));
  const width = Math.max(...results.map((r) => r.name.length));
  console.log(`${'app'.padEnd(width)}   ready (ms)   idle RSS (MB)`);
  for (const r of results) console.log(`${r.name.padEnd(width)}   ${r.readyMs.toFixed(0).padStart(10)}   ${r.rssMb.toFixed(0).padStart(13)}`);
  const ours = results.slice(0, 2);
  const met = ours.every((r) => r.readyMs < START_GOAL.ms && r.rssMb < START_GOAL.rssMb);
  console.log(`goal: Cockpit ready in < ${START_GOAL.ms} ms and idle under ${START_GOAL.rssMb} MB -> ${met ? 'met' : 'MISSED'}`);
  return results;
}
