import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createCockpit } from '../bot/cockpit';
import { loadConfig } from '../bot/config';
import { createLogger } from '../bot/log';
import { loadTeamConfig } from '../bot/teamConfig';
import { startFakeSlackApi, type SlackApiCall } from '../test/fakes/slackApi';

/**
 * An alert storm against the fake Slack: 10,000 alerts in 100 groups, each body sent twice (Alertmanager's
 * resends), through POST /hooks/alertmanager of a real Cockpit on an embedded store, with Slack's real pacing.
 * Prints the ingest rate, webhook p50/p99, the most Slack calls any channel saw in one second, the most edits in
 * any minute, and whether every alert was stored.
 *
 *   npm run bench                   (after the ack-latency rounds)
 *   npx tsx bench/alerts.ts         alone; BENCH_ALERT_GROUPS=100 BENCH_ALERTS_PER_GROUP=100 BENCH_CONCURRENCY=4
 */

const GROUPS = Number(process.env.BENCH_ALERT_GROUPS ?? 100);
const PER_GROUP = Number(process.env.BENCH_ALERTS_PER_GROUP ?? 100);
/** One body in flight per Alertmanager of the four clusters; closed loop, so more only queues the same work longer. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const GOAL = { alertsPerSecond: 2000, p99Ms: 100, postsPerChannelPerSecond: 1, updatesPerMinute: 50 };
const TOKENS = { prod: 'bench-prod-token-0123456789', staging: 'bench-staging-token-0123456789', integration: 'bench-integration-token-0123456789' };
const WARM_UP_CHANNEL = 'C0WARMUP01';
const DRAIN_TIMEOUT_MS = 120_000;

function body(group: number, warmUp = false): { stack: 'prod' | 'staging' | 'integration'; text: string } {
  // One group in ten is a critical prod alert (it pages); the rest are warnings, on both stacks. The warm-up's
  // groups are integration's, posted in a channel of their own, so they leave the measured channels alone.
  const critical = group % 10 === 0 && !warmUp;
  const stack = warmUp ? 'integration' : critical || group % 2 === 0 ? 'prod' : 'staging';
  const cluster = `cockpit-${stack}`;
  const severity = critical ? 'critical' : 'warning';
  const alertname = warmUp ? `WarmUp${group}` : `StormAlert${group % 7}`;
  const namespace = `ns-${group}`;
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  const alerts = Array.from({ length: PER_GROUP }, (_, i) => ({
    status: 'firing',
    labels: { alertname, namespace, cluster, severity, pod: `pod-${group}-${i}`, container: 'app' },
    annotations: { summary: `Pod ${namespace}/pod-${group}-${i} is failing.`, runbook_url: 'https://github.com/example/cockpit/blob/master/runbooks/alerts/ProductPodCrashLooping.md' },
    startsAt,
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.monitoring:9090/graph?g0.expr=up',
    fingerprint: `${group.toString(16).padStart(4, '0')}${i.toString(16).padStart(12, '0')}`,
  }));
  return {
    stack,
    text: JSON.stringify({
      version: '4',
      groupKey: `{}:{alertname="${alertname}", cluster="${cluster}", namespace="${namespace}"}`,
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'cockpit',
      groupLabels: { alertname, namespace, cluster },
      commonLabels: { alertname, namespace, cluster, severity, container: 'app' },
      commonAnnotations: {},
      externalURL: 'http://alertmanager.monitoring:9093',
      alerts,
    }),
  };
}

function send(agent: Agent, port: number, token: string, text: string): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/hooks/alertmanager', method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

/** The most calls in any window of `windowMs`, per key. */
function peak(calls: SlackApiCall[], key: (c: SlackApiCall) => string, windowMs: number): { key: string; count: number } {
  const byKey = new Map<string, number[]>();
  for (const c of calls) byKey.set(key(c), [...(byKey.get(key(c)) ?? []), c.at.getTime()]);
  let best = { key: '-', count: 0 };
  for (const [k, times] of byKey) {
    times.sort((a, b) => a - b);
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while (times[end]! - times[start]! >= windowMs) start++;
      if (end - start + 1 > best.count) best = { key: k, count: end - start + 1 };
    }
  }
  return best;
}

export async function runAlertStormBench(): Promise<boolean> {
  const fake = await startFakeSlackApi();
  const dir = mkdtempSync(join(tmpdir(), 'cockpit-bench-alerts-'));
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-bench-alerts',
    SLACK_SIGNING_SECRET: 'bench-alerts-secret',
    SLACK_API_URL: fake.url,
    SLACK_BOT_ID: 'B0BENCH',
    SLACK_BOT_USER_ID: 'U0BENCH',
    ALERTMANAGER_WEBHOOK_TOKENS: `prod=${TOKENS.prod},staging=${TOKENS.staging},integration=${TOKENS.integration}`,
  });
  const log = createLogger({ level: 'info', destination: pino.destination('/dev/null') });
  const team = loadTeamConfig('cockpit.yml');
  team.alerts!.channels.integration = WARM_UP_CHANNEL;
  // A port the OS picks (the environment may not ask for one: Cockpit refuses PORT=0 as a configuration mistake).
  const cockpit = await createCockpit({ ...config, port: 0, store: { kind: 'sqlite', file: join(dir, 'cockpit.db') } }, team, { log });
  const port = await cockpit.listen('127.0.0.1');
  try {
    // Warm-up, not measured: the code paths and the database get hot, as in a process that has been running.
    const warmAgent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const warm = Array.from({ length: 20 }, (_, g) => body(g, true));
    for (const b of [...warm, ...warm]) await send(warmAgent, port, TOKENS[b.stack], b.text);
    warmAgent.destroy();
    const bodies = Array.from({ length: GROUPS }, (_, g) => body(g));
    // Each body twice, the resend a little later, as Alertmanager's group_interval does.
    const queue = [...bodies, ...bodies];
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const latencies: number[] = [];
    let errors = 0;
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < queue.length) {
          const b = queue[next++]!;
          const index = next - 1;
          await send(agent, port, TOKENS[b.stack], b.text).then(
            (ms) => {
              latencies.push(ms);
              if (process.env.BENCH_DEBUG && ms > 150) console.log(`slow #${index} ${ms.toFixed(0)} ms at ${(performance.now() - started).toFixed(0)}`);
            },
            () => void (errors += 1),
          );
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    const received = queue.length * PER_GROUP;
    const drainStarted = performance.now();
    await Promise.race([cockpit.idle(), new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS))]);
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    const stored = (await cockpit.store.alerts.countAlerts()) - 20 * PER_GROUP;

    const sorted = [...latencies].sort((a, b) => a - b);
    const measured = (c: SlackApiCall) => c.args.channel !== WARM_UP_CHANNEL;
    const posts = fake.callsTo('chat.postMessage').filter(measured);
    const updates = fake.callsTo('chat.update');
    const postPeak = peak(posts, (c) => String(c.args.channel), 1000);
    const updatePeak = peak(updates, () => 'workspace', 60_000);
    if (process.env.BENCH_DEBUG) for (const c of posts) console.log(c.at.toISOString(), c.args.channel, String(c.args.text).slice(0, 50));
    const limited = fake.calls.filter((c) => c.status === 429).length;
    const rate = received / seconds;
    console.log(`alert storm: ${GROUPS} groups × ${PER_GROUP} alerts, each body sent twice, ${CONCURRENCY} at a time`);
    console.log(`  ingested ${received} alerts (${GROUPS * PER_GROUP} distinct) in ${seconds.toFixed(2)} s: ${Math.round(rate)} alerts/s, ${errors} errors`);
    console.log(`  webhook latency p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted[sorted.length - 1] ?? Number.NaN).toFixed(1)} ms`);
    console.log(`  Slack: ${posts.length} posts, ${updates.length} edits, ${limited} answered 429, drained in ${drainSeconds.toFixed(1)} s`);
    console.log(`  most posts in one second in one channel: ${postPeak.count} (${postPeak.key}); most edits in one minute: ${updatePeak.count}`);
    console.log(`  alerts stored: ${stored} of ${GROUPS * PER_GROUP}`);
    const met =
      rate >= GOAL.alertsPerSecond &&
      percentile(sorted, 99) < GOAL.p99Ms &&
      postPeak.count <= GOAL.postsPerChannelPerSecond &&
      updatePeak.count <= GOAL.updatesPerMinute &&
      stored === GROUPS * PER_GROUP &&
      errors === 0;
    console.log(`goal: ≥ ${GOAL.alertsPerSecond} alerts/s, p99 < ${GOAL.p99Ms} ms, ≤ ${GOAL.postsPerChannelPerSecond} post/s per channel, ≤ ${GOAL.updatesPerMinute} edits/min, every alert stored -> ${met ? 'met' : 'MISSED'}`);
    return met;
  } finally {
    await cockpit.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runAlertStormBench().then(
    (met) => process.exit(met ? 0 : 1),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
