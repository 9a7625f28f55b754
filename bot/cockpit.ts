import type { Server } from 'node:http';
import { Deployer } from '../handlers/deploy';
import { UnavailableError } from '../handlers/errors';
import type { DrillTiming } from '../handlers/drill';
import type { Clock, CodeHost, DeliveryLog, InfraEngine, Pager, StackTarget } from '../handlers/ports';
import { MergeDeployer } from '../handlers/merges';
import { Policy } from '../handlers/policy';
import { Promoter } from '../handlers/promote';
import { lookUpRunbook } from '../handlers/runbook';
import type { Team } from '../handlers/team';
import { CommandCore } from './commands';
import type { Config } from './config';
import { deployFlow } from './flows/deploy';
import { wireDrills } from './flows/drill';
import { drillGate, type DrillGate } from './flows/drillGate';
import { wireEnvironments } from './flows/environments';
import { githubFlow } from './flows/github';
import { githubHook } from './http/githubHook';
import { createHttpServer, listen } from './http/server';
import { fromConfig as githubFromConfig } from './integrations/github';
import { fromConfig as kubernetesFromConfig } from './integrations/kubernetes';
import { fromConfig as pulumiFromConfig, PulumiEngine } from './integrations/pulumi';
import { FileRunbookLibrary } from './integrations/runbooks';
import type { Logger } from './log';
import { createMetrics, type Metrics } from './metrics';
import { createSlackFront, type SlackFront } from './slack/app';
import { promotionReply } from './slack/blocks/promote';
import { runbookLookupReply } from './slack/blocks/runbook';
import { SlackConversation } from './slack/conversation';
import type { Scheduler } from './scheduler';
import { openStore, type Store } from './store/connect';
import { cockpitVersion } from './version';

/**
 * Wires Cockpit from its configuration: store, core, and — when Slack is configured — the Slack front and the
 * HTTP server. main.ts, the CLI, the tests and the benchmark all build it here, so they run the same thing.
 */

export interface CockpitDeps {
  log: Logger;
  clock?: Clock;
  deliveries?: DeliveryLog;
  /** Tests pass their own to read the figures; the process collects Node's default metrics too. */
  metrics?: Metrics;
  /** Default: Pulumi through the Automation API, per `config.pulumi`. Tests pass a fake engine. */
  engine?: InfraEngine;
  /** How often deploy progress is edited into its message. */
  progressIntervalMs?: number;
  /** How long `close` waits for this replica's running operations to stop after cancelling them. */
  shutdownGraceMs?: number;
  /** Default: GitHub through Octokit, per `config.github`; absent config disables promote. */
  codeHost?: CodeHost;
  /** Reads a stack's Pulumi output (a drill's kubeconfig); default: the Pulumi engine's, when it is the real one. */
  stackOutput?(target: StackTarget, name: string): Promise<unknown>;
  /** Pages people (the on-call capability's); the weekly drill pages L3 through it. Absent: logged only. */
  pager?: Pager;
  /** How a drill waits between polls; tests move their clock. */
  sleep?(ms: number): Promise<void>;
  drillTiming?: Partial<DrillTiming>;
}

export interface Cockpit {
  core: CommandCore;
  store: Store;
  deployer: Deployer;
  /** Ephemeral-stack expiry and staging's schedule; started by `listen`, one replica at a time runs each job. */
  scheduler: Scheduler;
  metrics: Metrics;
  team: Team;
  slack?: SlackFront;
  server?: Server;
  /** Resolves when the work started by webhooks after their answer is done (tests, shutdown). */
  idle(): Promise<void>;
  /** Starts the HTTP server (and Socket Mode when configured); returns the bound port. */
  listen(host?: string): Promise<number>;
  close(): Promise<void>;
}

export const systemClock: Clock = { now: () => new Date() };

/** How long finished deploy plans are kept; the audit log is kept forever. */
export const PLAN_RETENTION_DAYS = 90;

export async function createCockpit(config: Config, team: Team, deps: CockpitDeps): Promise<Cockpit> {
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetrics();
  const store = await openStore(config.store, { clock, log: deps.log });
  const engine = deps.engine ?? pulumiFromConfig(config.pulumi, { log: deps.log, clock });
  let slack: SlackFront | undefined;
  const background = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    background.add(work);
    void work.finally(() => background.delete(work));
  };
  // One policy for every path that changes a stack: Slack, console, CLI, the merge webhook and the scheduler.
  const policy = new Policy({ team, plans: store.plans, incidents: store.incidents, audit: store.audit, clock });
  // Merges queued behind a stack's lock go when this replica releases it (and every minute, for other replicas').
  const queuedMerges: { drain?(stack: string): Promise<void> } = {};
  const onReleased = (stack: string) => {
    if (queuedMerges.drain) track(queuedMerges.drain(stack).catch((err: unknown) => deps.log.error({ err, stack }, 'draining queued merges failed')));
  };
  const environments = wireEnvironments({
    team,
    policy,
    engine,
    store,
    clock,
    owner: config.replicaId,
    log: deps.log,
    // Asked for when a job posts: the Slack front is built after the core.
    deploysChannel: () => (slack ? new SlackConversation(slack.app.client, team.channels.deploys) : undefined),
    onReleased,
    progressIntervalMs: deps.progressIntervalMs,
  });
  const deployer = new Deployer({
    team,
    policy,
    engine,
    locks: store.locks,
    plans: store.plans,
    drills: store.drills,
    incidents: store.incidents,
    audit: store.audit,
    clock,
    owner: config.replicaId,
    onDeployed: (stack, meta) => environments.keeper.adoptDeployed(stack, meta),
    onReleased,
  });
  const deploys = deployFlow({ deployer, clock, progressIntervalMs: deps.progressIntervalMs });
  const runbooks = new FileRunbookLibrary(config.runbooks);
  const codeHost = deps.codeHost ?? (config.github ? githubFromConfig(config.github, { log: deps.log }) : undefined);
  const promoter =
    codeHost &&
    new Promoter({
      team,
      policy,
      codeHost,
      measure: (stack, code) => deployer.measure(stack, code),
      drills: store.drills,
      audit: store.audit,
      clock,
      programDir: config.pulumi.programDir,
    });
  const deploysChannel = () => (slack ? new SlackConversation(slack.app.client, team.channels.deploys) : undefined);
  const github =
    codeHost && config.github
      ? githubFlow({
          team,
          repository: `${config.github.owner}/${config.github.repo}`,
          codeHost,
          policy,
          deployer,
          merges: new MergeDeployer({ team, policy, deployer, codeHost, queue: store.merges, locks: store.locks, audit: store.audit, clock }),
          audit: store.audit,
          clock,
          log: deps.log,
          deploysChannel,
          progressIntervalMs: deps.progressIntervalMs,
          drillGate: { pullRequestChanged: (event, requestId, log) => gate?.pullRequestChanged(event, requestId, log) },
        })
      : undefined;
  if (github) queuedMerges.drain = github.drain;
  const scheduler = environments.scheduler;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const stackOutput = deps.stackOutput ?? (engine instanceof PulumiEngine ? (target: StackTarget, name: string) => engine.stackOutput(target, name) : undefined);
  // The gate and the drills tell each other: a gate drill runs through the flow, a finished drill updates the gate.
  let gate: DrillGate | undefined;
  const drills = wireDrills({
    engine: {
      team,
      policy,
      clusters: kubernetesFromConfig(team, { ...(stackOutput ? { stackOutput } : {}), sleep }),
      history: store.drills,
      locks: store.locks,
      audit: store.audit,
      owner: config.replicaId,
      onReleased,
      sleep,
      ...(deps.drillTiming ? { timing: deps.drillTiming } : {}),
    },
    clock,
    log: deps.log,
    deploysChannel,
    permalink: async (message) => (slack ? (await slack.app.client.chat.getPermalink({ channel: message.channel, message_ts: message.ts })).permalink : undefined),
    ...(deps.pager ? { pager: deps.pager } : {}),
    onFinished: (shown, meta) => gate?.drillFinished(shown, meta) ?? Promise.resolve(),
    progressIntervalMs: deps.progressIntervalMs,
  });
  for (const job of drills.jobs) scheduler.add(job);
  if (codeHost) gate = drillGate({ team, codeHost, run: (request, meta, log) => drills.runShown(request, meta, undefined, log), track, log: deps.log });
  if (github) {
    scheduler.add({
      name: 'merges.drain',
      schedule: '* * * * *',
      run: async (run) => {
        for (const stack of await store.merges.stacks()) await github.drain(stack).catch((err: unknown) => run.log.error({ err, stack }, 'draining queued merges failed'));
      },
    });
  }
  // Plans are working records; the audit log keeps their story forever.
  scheduler.add({ name: 'plans.purge', schedule: '17 3 * * *', run: async (run) => run.log.info({ purged: await deployer.purge(PLAN_RETENTION_DAYS) }, 'old deploy plans purged') });
  const reconciled = await deployer.reconcile().catch((err: unknown) => {
    deps.log.error({ err }, 'reconciling interrupted deploys failed');
    return [];
  });
  if (reconciled.length > 0) deps.log.warn({ plans: reconciled.map((p) => p.id) }, 'deploys left running by a replica that stopped are marked failed');

  const githubNeeded = (what: string) =>
    new UnavailableError(`${what} needs GitHub, which is not configured.`, 'Set GITHUB_REPO and GITHUB_TOKEN (or a GitHub App: GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID).');
  const core = new CommandCore(
    { team, audit: store.audit, locks: store.locks, store: store.probe, engine, environments: store.environments, drills: store.drills, clock, version: cockpitVersion(), metrics },
    {
      verbs: {
        ...deploys.verbs,
        ...environments.verbs,
        ...drills.verbs,
        runbook: async (req) => runbookLookupReply(await lookUpRunbook(runbooks, req.name)),
        promote: async (req, ctx) => {
          if (!promoter) throw githubNeeded('Promotion');
          return promotionReply(await promoter.promote(req.stack, { actor: ctx.actor, requestId: ctx.requestId }), ctx.requestId);
        },
        preview: async (req, ctx) => {
          if (!github) throw githubNeeded('Previewing a pull request');
          return github.previewVerb(req, ctx);
        },
      },
      actions: { ...deploys.actions, ...environments.actions, ...drills.actions },
    },
  );

  /**
   * On shutdown, the updates this replica runs are cancelled gracefully (Pulumi finishes the steps in flight,
   * so state stays consistent) and their locks released by their own runs, instead of being cut off mid-step
   * and leaving a lock that only goes stale minutes later. Kubernetes allows 30 s by default; we wait 25.
   */
  async function stopOwnOperations(): Promise<void> {
    const own = async () => (await store.locks.list().catch(() => [])).filter((l) => l.owner === config.replicaId);
    const running = await own();
    if (running.length === 0) return;
    deps.log.warn({ stacks: running.map((l) => l.stack) }, 'shutting down: cancelling the operations this replica runs');
    await Promise.all(
      running.map((l) => {
        const s = team.stacks[l.stack];
        return s ? engine.cancel({ stack: l.stack, pulumiStack: s.pulumiStack, branch: s.branch }).catch((err: unknown) => deps.log.error({ err, stack: l.stack }, 'cancel failed')) : undefined;
      }),
    );
    const deadline = Date.now() + (deps.shutdownGraceMs ?? 25_000);
    while ((await own()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const left = await own();
    if (left.length > 0) deps.log.error({ stacks: left.map((l) => l.stack) }, 'operations still running at shutdown: their locks will go stale');
  }

  let server: Server | undefined;
  if (config.slack) {
    slack = createSlackFront(config.slack, {
      core,
      log: deps.log,
      metrics,
      // In the store, so a retry that lands on another replica is still recognised.
      deliveries: deps.deliveries ?? store.deliveries,
    });
    server = createHttpServer({
      log: deps.log,
      metrics,
      store: store.probe,
      slack: slack.requestListener,
      hooks: {
        // Always mounted: without GitHub configured it refuses every delivery, which is what a forger should see.
        '/hooks/github': githubHook({
          secret: config.github?.webhookSecret,
          deliveries: store.deliveries,
          log: deps.log,
          handle: async (event, deliveryId) => github?.handle(event, deliveryId),
          track,
        }),
      },
    });
  }

  return {
    core,
    store,
    deployer,
    scheduler,
    metrics,
    team,
    slack,
    server,
    async idle() {
      while (background.size > 0) await Promise.all([...background]);
    },
    async listen(host) {
      if (!server) throw new Error('no HTTP server: Slack is not configured');
      const port = await listen(server, config.port, host);
      await slack?.start();
      scheduler.start();
      deps.log.info({ port, mode: config.slack?.appToken ? 'socket' : 'http' }, 'cockpit listening');
      return port;
    },
    async close() {
      await scheduler.stop();
      await stopOwnOperations();
      await Promise.all([...background]);
      await slack?.stop();
      if (server?.listening) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await store.close();
    },
  };
}
