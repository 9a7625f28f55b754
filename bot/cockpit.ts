import type { Server } from 'node:http';
import type { Clock, DeliveryLog } from '../handlers/ports';
import type { Team } from '../handlers/team';
import { CommandCore } from './commands';
import type { Config } from './config';
import { createHttpServer, listen } from './http/server';
import type { Logger } from './log';
import { createMetrics, type Metrics } from './metrics';
import { createSlackFront, type SlackFront } from './slack/app';
import { MemoryDeliveryLog } from './slack/dedupe';
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
}

export interface Cockpit {
  core: CommandCore;
  store: Store;
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
  const core = new CommandCore({
    team,
    audit: store.audit,
    locks: store.locks,
    store: store.probe,
    clock,
    version: cockpitVersion(),
    metrics,
  });

  let slack: SlackFront | undefined;
  let server: Server | undefined;
  if (config.slack) {
    slack = createSlackFront(config.slack, {
      core,
      log: deps.log,
      metrics,
      deliveries: deps.deliveries ?? new MemoryDeliveryLog(),
    });
    server = createHttpServer({ log: deps.log, metrics, store: store.probe, slack: slack.requestListener });
  }

  return {
    core,
    store,
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
