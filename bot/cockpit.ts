import type { Server } from 'node:http';
import { Deployer } from '../handlers/deploy';
import type { Clock, DeliveryLog, InfraEngine } from '../handlers/ports';
import type { Team } from '../handlers/team';
import { CommandCore } from './commands';
import type { Config } from './config';
import { createHttpServer, listen } from './http/server';
import type { Logger } from './log';
import { createMetrics, type Metrics } from './metrics';
import { deployFlow } from './flows/deploy';
import { fromConfig as pulumiFromConfig } from './integrations/pulumi';
import { FileRunbookLibrary } from './integrations/runbooks';
import { lookUpRunbook } from '../handlers/runbook';
import { runbookLookupReply } from './slack/blocks/runbook';
import { createSlackFront, type SlackFront } from './slack/app';
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
}

export interface Cockpit {
  core: CommandCore;
  store: Store;
  deployer: Deployer;
  metrics: Metrics;
  team: Team;
  slack?: SlackFront;
  server?: Server;
  /** Starts the HTTP server (and Socket Mode when configured); returns the bound port. */
  listen(host?: string): Promise<number>;
  close(): Promise<void>;
}

export const systemClock: Clock = { now: () => new Date() };

export async function createCockpit(config: Config, team: Team, deps: CockpitDeps): Promise<Cockpit> {
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetrics();
  const store = await openStore(config.store, { clock, log: deps.log });
  const engine = deps.engine ?? pulumiFromConfig(config.pulumi, { log: deps.log, clock });
  const deployer = new Deployer({
    team,
    engine,
    locks: store.locks,
    plans: store.plans,
    drills: store.drills,
    incidents: store.incidents,
    audit: store.audit,
    clock,
    owner: config.replicaId,
  });
  const deploys = deployFlow({ deployer, clock, progressIntervalMs: deps.progressIntervalMs });
  const runbooks = new FileRunbookLibrary(config.runbooks);
  const core = new CommandCore(
    { team, audit: store.audit, locks: store.locks, store: store.probe, engine, clock, version: cockpitVersion(), metrics },
    {
      verbs: { ...deploys.verbs, runbook: async (req) => runbookLookupReply(await lookUpRunbook(runbooks, req.name)) },
      actions: { ...deploys.actions },
    },
  );

  let slack: SlackFront | undefined;
  let server: Server | undefined;
  if (config.slack) {
    slack = createSlackFront(config.slack, {
      core,
      log: deps.log,
      metrics,
      // In the store, so a retry that lands on another replica is still recognised.
      deliveries: deps.deliveries ?? store.deliveries,
    });
    server = createHttpServer({ log: deps.log, metrics, store: store.probe, slack: slack.requestListener });
  }

  return {
    core,
    store,
    deployer,
    metrics,
    team,
    slack,
    server,
    async listen(host) {
      if (!server) throw new Error('no HTTP server: Slack is not configured');
      const port = await listen(server, config.port, host);
      await slack?.start();
      deps.log.info({ port, mode: config.slack?.appToken ? 'socket' : 'http' }, 'cockpit listening');
      return port;
    },
    async close() {
      await slack?.stop();
      if (server?.listening) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await store.close();
    },
  };
}
