import type { RequestListener } from 'node:http';
import { App, HTTPReceiver, SocketModeReceiver, type Receiver } from '@slack/bolt';
import type { DeliveryLog } from '../../handlers/ports';
import type { CommandCore } from '../commands';
import type { SlackConfig } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { boltLogger } from './boltLogger';
import { isFirstDelivery } from './dedupe';
import { registerActions } from './listeners/actions';
import { registerCommands } from './listeners/commands';
import { registerEvents } from './listeners/events';
import { registerViews } from './listeners/views';

export interface SlackFront {
  app: App;
  /** HTTP mode: the handler for POST /slack/events, mounted on Cockpit's own server. Absent in Socket Mode. */
  requestListener?: RequestListener;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SlackFrontDeps {
  core: CommandCore;
  log: Logger;
  metrics: Metrics;
  deliveries: DeliveryLog;
}

export function createSlackFront(config: SlackConfig, deps: SlackFrontDeps): SlackFront {
  const logger = boltLogger(deps.log);
  // Stamped when the request arrives, before parsing, so the ack histogram measures what Slack waits for.
  const customPropertiesExtractor = () => ({ receivedAt: process.hrtime.bigint() });
  let receiver: Receiver;
  let requestListener: RequestListener | undefined;
  if (config.appToken) {
    receiver = new SocketModeReceiver({ appToken: config.appToken, logger, customPropertiesExtractor });
  } else {
    // Bolt verifies each request's signature and age (401 for forged, unsigned or stale ones).
    const http = new HTTPReceiver({
      signingSecret: config.signingSecret ?? '',
      endpoints: '/slack/events',
      logger,
      customPropertiesExtractor,
    });
    receiver = http;
    requestListener = http.requestListener;
  }

  const app = new App({
    receiver,
    logger,
    // With the bot's ids known (SLACK_BOT_ID, SLACK_BOT_USER_ID) Bolt skips its start-up `auth.test` call;
    // without them Bolt asks Slack once, which is right for a real workspace.
    token: config.botToken,
    ...(config.botId && config.botUserId ? { botId: config.botId, botUserId: config.botUserId } : {}),
    clientOptions: { slackApiUrl: config.apiUrl },
  });

  // Events are acked by Bolt before any middleware, so they are de-duplicated here. Commands and buttons are
  // de-duplicated by their listener right after its ack: a store write before the ack would be on the path
  // Slack times (it cost Cockpit 1.4x bare Bolt's p99 ack latency in the benchmark).
  app.use(async (args) => {
    const ackable = typeof (args as { ack?: unknown }).ack === 'function';
    if (ackable || (await isFirstDelivery(deps.deliveries, deps.log, args.body, args.context))) await args.next();
  });

  app.error(async (err) => {
    deps.log.error({ err }, 'unhandled error in a Slack listener');
  });

  const listenerDeps = { app, core: deps.core, log: deps.log, metrics: deps.metrics, deliveries: deps.deliveries };
  registerCommands(listenerDeps);
  registerActions(listenerDeps);
  registerEvents(listenerDeps);
  registerViews(listenerDeps);

  return {
    app,
    requestListener,
    // HTTP mode is served by Cockpit's own server; only Socket Mode has a connection to open.
    start: async () => {
      if (config.appToken) await app.start();
    },
    stop: async () => {
      if (config.appToken) await app.stop();
    },
  };
}
