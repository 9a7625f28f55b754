import type { Server } from 'node:http';
import { Deployer } from '../handlers/deploy';
import { UnavailableError } from '../handlers/errors';
import type { DrillTiming } from '../handlers/drill';
import type { IncidentDesk } from '../handlers/incident';
import type { AlertGroupDirectory, Clock, CodeHost, DrillClusters, InfraEngine, OnCallDirectory, Pager, Silencer } from '../handlers/ports';
import type { DeliveryLog } from './deliveries';
import type { StackTarget } from '../handlers/model/stacks';
import type { PulumiEngine } from './integrations/pulumi';
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
import { wireOnCall, type OnCallWiring } from './flows/oncall';
import { wireIncidents } from './flows/incidents';
import { wireTickets, type TicketsFlow } from './flows/tickets';
import { SlackOutbound } from './integrations/slack/outbound';
import type { DiscourseApi, ForumOutboxWorker, OutboxTiming } from './integrations/discourse';
import type { SupportReads } from './integrations/discourse/supportForum';
import { FileRunbookLibrary } from './integrations/runbooks';
import { fixedHealth } from './health';
import type { Logger } from './log';
import { createMetrics, type Metrics } from './metrics';
import type { listen as listenOn } from './http/server';
import type { SlackFront } from './slack/app';
import { promotionReply } from './slack/blocks/promote';
import { runbookLookupReply } from './slack/blocks/runbook';
import { SlackConversation } from './slack/conversation';
import type { Scheduler } from './scheduler';
import { openStore, type Store } from './store/connect';
import { cockpitVersion } from './version';

/**
 * Wires Cockpit from its configuration: store, core, and — when Slack is configured — the Slack front and the
 * HTTP server. main.ts, the CLI, the tests and the benchmark all build it here, so they run the same thing.
 *
 * Fronts and adapters a configuration does not use are never loaded: Bolt and the HTTP server only with Slack,
 * Octokit only with GitHub, the Pulumi adapter only when no engine is given. Loading them all cost the console
 * and every CLI call most of their start-up time and memory.
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
  /** Default: Alertmanager's API v2 at each alert's externalURL. */
  silencer?: Silencer;
  /** How often the pager looks for due steps (default 500 ms). */
  pagerTickMs?: number;
  /** Spacing of Slack posts per channel and of edits (Slack's limits by default). */
  slackPacing?: { postIntervalMs?: number; updateIntervalMs?: number };
  /** Who is on call, the pager and the alert groups (the on-call capability); absent, incidents page nobody. */
  onCall?: OnCallDirectory;
  pager?: Pager;
  alertGroups?: AlertGroupDirectory;
  /** The customers' forum; default: Discourse per `config.discourse` (the demo passes its forum in memory). */
  forum?: { url: string; api: DiscourseApi & SupportReads };
  /** How the forum outbox retries and polls (tests shorten it). */
  outboxTiming?: Partial<OutboxTiming>;
  /** Reads a stack's Pulumi output (a drill's kubeconfig); default: the Pulumi engine's, when it is the real one. */
  stackOutput?(target: StackTarget, name: string): Promise<unknown>;
  /** How a drill waits between polls; tests move their clock. */
  sleep?(ms: number): Promise<void>;
  drillTiming?: Partial<DrillTiming>;
}

export interface Cockpit {
  core: CommandCore;
  store: Store;
  deployer: Deployer;
  incidents: IncidentDesk;
  /** Support tickets; absent without a tickets section in cockpit.yml or without the forum. */
  tickets?: TicketsFlow;
  /** Delivers the status forum's writes; absent without Discourse. Started by `listen`. */
  forumOutbox?: ForumOutboxWorker;
  /** Ephemeral-stack expiry and staging's schedule; started by `listen`, one replica at a time runs each job. */
  scheduler: Scheduler;
  metrics: Metrics;
  team: Team;
  /** Who is on call (OnCallDirectory), the pager (Pager), alert groups (AlertGroupDirectory). */
  oncall: OnCallWiring;
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
  const store = await openStore(config.store, { clock, log: deps.log });
  try {
    return await wire(config, team, deps, clock, store);
  } catch (err) {
    // Nobody gets a Cockpit to close: close the store here, or a failed start leaves its pool (and a test run) hanging.
    await store.close().catch((closeErr: unknown) => deps.log.error({ err: closeErr }, 'closing the store after a failed start failed'));
    throw err;
  }
}

async function wire(config: Config, team: Team, deps: CockpitDeps, clock: Clock, store: Store): Promise<Cockpit> {
  const metrics = deps.metrics ?? createMetrics();
  const engine = deps.engine ?? (await import('./integrations/pulumi/index.js')).fromConfig(config.pulumi, { log: deps.log, clock });
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
    deploysChannel: () => (slack ? new SlackConversation(slack.client, team.channels.deploys) : undefined),
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
    onDeployed: async (stack, meta) => {
      await environments.keeper.adoptDeployed(stack, meta);
      // The incidents open on the stack say so in their channels: a deploy is the usual cause, or the fix.
      track(incidents.onStackDeployed(stack, meta).catch((err: unknown) => deps.log.warn({ err, stack }, 'cannot tell the incident channels of a deploy')));
    },
    onReleased,
  });
  for (const stack of Object.keys(config.alertmanager.tokens.perStack)) {
    if (!team.stacks[stack]) throw new Error(`ALERTMANAGER_WEBHOOK_TOKENS names stack "${stack}", which cockpit.yml does not (known: ${Object.keys(team.stacks).join(', ')})`);
  }
  // Cockpit's own messages to Slack (pages, alerts, handovers) go through one queue that keeps Slack's limits.
  const outbound = config.slack ? new SlackOutbound(SlackOutbound.client(config.slack.botToken, config.slack.apiUrl), deps.log.child({ component: 'slack-outbound' }), deps.slackPacing) : undefined;
  const incidentDesk: { current?: IncidentDesk } = {};
  const oncall = wireOnCall({
    team,
    policy,
    store,
    clock,
    log: deps.log,
    owner: config.replicaId,
    outbound: () => outbound,
    userGroups: () =>
      config.slack
        ? { update: async (usergroup, users) => void (await SlackOutbound.client(config.slack!.botToken, config.slack!.apiUrl).usergroups.users.update({ usergroup, users: users.join(',') })) }
        : undefined,
    metrics,
    silencer: deps.silencer,
    tokens: config.alertmanager.tokens,
    calendar: { secret: config.oncall.calendarSecret, publicUrl: config.oncall.publicUrl },
    tickMs: deps.pagerTickMs,
    // Incidents are wired below; a page about one (source `INC-12`) puts its acknowledgement on the timeline.
    onPageAcknowledged: async (page, userId, at) => {
      if (page.source.kind === 'incident') await incidentDesk.current?.acknowledged(page.source.ref, userId, at);
    },
  });
  const deploys = deployFlow({ deployer, clock, progressIntervalMs: deps.progressIntervalMs });
  const runbooks = new FileRunbookLibrary(config.runbooks);

  // Incidents, and the status forum they are told to customers on.
  // One client for the forum, so one rate limit for its key, whoever writes or reads: incidents, tickets.
  const forum = deps.forum ?? (config.discourse ? { url: config.discourse.url, api: (await import('./integrations/discourse/index.js')).fromConfig(config.discourse, { clock }) } : undefined);
  // What incidents and tickets both need: the rules, the store, who is on call, the pager, the forum.
  const customerFacing = {
    team,
    policy,
    store,
    clock,
    log: deps.log,
    metrics: metrics.registry,
    runbooksDir: config.runbooks.dir,
    owner: config.replicaId,
    onCall: deps.onCall ?? oncall.oncall,
    pager: deps.pager ?? oncall.pager,
    ...(forum ? { forum } : {}),
  };
  const ticketFlow: { current?: TicketsFlow } = {};
  const incidents = wireIncidents({
    ...customerFacing,
    runbooks,
    slack: () => (slack ? { client: slack.client, botUserId: config.slack?.botUserId } : undefined),
    alertGroups: deps.alertGroups ?? oncall.intake,
    outboxTiming: deps.outboxTiming,
    onResolved: async (incident, message, meta) => ticketFlow.current?.incidentResolved(incident, message, meta),
    onPublic: async (incident) => ticketFlow.current?.incidentPublic(incident),
  });
  incidentDesk.current = incidents.desk;
  // Support tickets on the same forum, through the same client and outbox.
  const tickets = wireTickets({
    ...customerFacing,
    slack: () => (slack ? { client: slack.client } : undefined),
    kick: () => incidents.worker?.kick(),
  });
  ticketFlow.current = tickets.flow;
  const githubAdapter = config.github ? await import('./integrations/github/index.js') : undefined;
  const codeHost = deps.codeHost ?? (config.github && githubAdapter ? githubAdapter.fromConfig(config.github, { log: deps.log }) : undefined);
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
  const deploysChannel = () => (slack ? new SlackConversation(slack.client, team.channels.deploys) : undefined);
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
  for (const job of oncall.jobs) scheduler.add(job);
  for (const job of incidents.jobs) scheduler.add(job);
  for (const job of tickets.flow?.jobs ?? []) scheduler.add(job);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  // The real engine reads stack outputs (a drill's kubeconfig); a fake passed in by a test may not.
  const engineOutputs = engine as Partial<Pick<PulumiEngine, 'stackOutput'>>;
  const stackOutput = deps.stackOutput ?? (typeof engineOutputs.stackOutput === 'function' ? (target: StackTarget, name: string) => engineOutputs.stackOutput!(target, name) : undefined);
  // The Kubernetes client is heavy: it loads with the first drill, not with Cockpit.
  let kubernetes: Promise<DrillClusters> | undefined;
  const clusters: DrillClusters = {
    forStack: async (stack) => {
      kubernetes ??= import('./integrations/kubernetes/index.js').then((k) => k.fromConfig(team, { ...(stackOutput ? { stackOutput } : {}), sleep }));
      return (await kubernetes).forStack(stack);
    },
  };
  // The gate and the drills tell each other: a gate drill runs through the flow, a finished drill updates the gate.
  let gate: DrillGate | undefined;
  const drills = wireDrills({
    engine: {
      team,
      policy,
      clusters,
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
    permalink: async (message) => (slack ? (await slack.client.chat.getPermalink({ channel: message.channel, message_ts: message.ts })).permalink : undefined),
    pager: deps.pager ?? oncall.pager,
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

  const notConfigured = (what: string) => fixedHealth({ up: false, detail: `not configured (${what})` });
  const services = {
    // The Slack front is built after the core: asked for when a status is shown.
    Slack: { check: () => (slack ? slack.health.check() : notConfigured('local console').check()) },
    GitHub: config.github && githubAdapter ? githubAdapter.githubHealth(config.github, { log: deps.log }) : notConfigured('GITHUB_REPO'),
  };
  const githubNeeded = (what: string) =>
    new UnavailableError(`${what} needs GitHub, which is not configured.`, 'Set GITHUB_REPO and GITHUB_TOKEN (or a GitHub App: GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID).');
  const core = new CommandCore(
    { team, audit: store.audit, locks: store.locks, store: store.probe, engine, environments: store.environments, drills: store.drills, clock, version: cockpitVersion(), metrics, services },
    {
      verbs: {
        ...deploys.verbs,
        ...environments.verbs,
        ...oncall.verbs,
        ...incidents.verbs,
        ...drills.verbs,
        ticket: tickets.verb,
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
      actions: { ...deploys.actions, ...environments.actions, ...oncall.actions, ...incidents.actions, ...drills.actions, ...tickets.flow?.actions },
      home: [(userId) => oncall.home(userId), ...(tickets.flow ? [(userId: string) => tickets.flow!.home(userId)] : [])],
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
        if (!team.stacks[l.stack]) return undefined;
        return engine.cancel(policy.target(l.stack)).catch((err: unknown) => deps.log.error({ err, stack: l.stack }, 'cancel failed'));
      }),
    );
    const deadline = Date.now() + (deps.shutdownGraceMs ?? 25_000);
    while ((await own()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const left = await own();
    if (left.length > 0) deps.log.error({ stacks: left.map((l) => l.stack) }, 'operations still running at shutdown: their locks will go stale');
  }

  let server: Server | undefined;
  let listen: typeof listenOn | undefined;
  if (config.slack) {
    const [{ createSlackFront }, http, { githubHook }, { discourseHook }] = await Promise.all([
      import('./slack/app.js'),
      import('./http/server.js'),
      import('./http/githubHook.js'),
      import('./http/discourseHook.js'),
    ]);
    listen = http.listen;
    slack = createSlackFront(config.slack, {
      core,
      log: deps.log,
      metrics,
      // In the store, so a retry that lands on another replica is still recognised.
      deliveries: deps.deliveries ?? store.deliveries,
    });
    server = http.createHttpServer({
      log: deps.log,
      metrics,
      store: store.probe,
      slack: slack.requestListener,
      readiness: { slack: slack.health.ready },
      hooks: {
        // Always mounted: without GitHub configured it refuses every delivery, which is what a forger should see.
        '/hooks/github': githubHook({
          secret: config.github?.webhookSecret,
          deliveries: store.deliveries,
          log: deps.log,
          handle: async (event, deliveryId) => github?.handle(event, deliveryId),
          track,
        }),
        // Always mounted too: without DISCOURSE_WEBHOOK_SECRET it refuses every delivery.
        '/hooks/discourse': discourseHook({
          secret: config.discourseWebhook.secret,
          deliveries: store.deliveries,
          log: deps.log,
          handle: async (event) => {
            if (tickets.flow) await tickets.flow.handle(event);
          },
          track,
        }),
        ...oncall.hooks,
      },
      routes: oncall.routes,
    });
  }

  return {
    core,
    store,
    deployer,
    incidents: incidents.desk,
    ...(tickets.flow ? { tickets: tickets.flow } : {}),
    forumOutbox: incidents.worker,
    scheduler,
    metrics,
    team,
    oncall,
    slack,
    server,
    async idle() {
      while (background.size > 0) await Promise.all([...background]);
      await oncall.idle();
    },
    async listen(host) {
      if (!server || !listen) throw new Error('no HTTP server: Slack is not configured');
      const port = await listen(server, config.port, host);
      await slack?.start();
      scheduler.start();
      oncall.start();
      incidents.worker?.start();
      deps.log.info({ port, mode: config.slack?.appToken ? 'socket' : 'http' }, 'cockpit listening');
      return port;
    },
    async close() {
      // Every step runs even when one before it failed: a Slack front that will not stop must not keep the
      // port and the store open.
      await everyStep([
        () => scheduler.stop(),
        () => oncall.stop(),
        () => incidents.worker?.stop(),
        stopOwnOperations,
        () => Promise.all([...background]),
        () => slack?.stop(),
        () => outbound?.stop(),
        async () => {
          if (!server?.listening) return;
          server.closeAllConnections();
          await new Promise<void>((resolve) => server!.close(() => resolve()));
        },
        () => store.close(),
      ]);
    },
  };
}

/** Runs the steps in order, each one whatever happened to those before; then throws the first failure. */
async function everyStep(steps: Array<() => unknown>): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw failures[0];
}
