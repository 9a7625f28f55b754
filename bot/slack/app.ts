import type { RequestListener } from 'node:http';
import {
  App,
  defaultProcessEventErrorHandler as defaultSocketModeErrorHandler,
  HTTPModuleFunctions,
  HTTPReceiver,
  SocketModeReceiver,
  type AppOptions,
  type Receiver,
  type ReceiverEvent,
} from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { DeliveryLog } from '../deliveries';
import type { ServiceHealth } from '../../handlers/model/health';
import type { CommandCore } from '../commands';
import type { SlackConfig, SlackTiming } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { boltLogger } from './boltLogger';
import { isFirstDelivery } from './dedupe';
import { screenSlackPayload, type GateRules } from './gate';
import { SlackLink, slackErrorReason } from './health';
import { EVENTS, SLASH_COMMAND, VIEWS } from './ids';
import { registerActions } from './listeners/actions';
import { registerCommands } from './listeners/commands';
import { registerEvents } from './listeners/events';
import { registerViews } from './listeners/views';

export interface SlackFront {
  app: App;
  /** The bot's Web API client (its token, a timeout, bounded retries), for posts made outside a request. */
  client: WebClient;
  /** HTTP mode: the handler for POST /slack/events, mounted on Cockpit's own server. Absent in Socket Mode. */
  requestListener?: RequestListener;
  /** Slack's part of /readyz (can Cockpit act on Slack's requests) and of /cockpit status (does Slack answer). */
  health: { ready(): Promise<ServiceHealth>; check(): Promise<ServiceHealth> };
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SlackFrontDeps {
  core: CommandCore;
  log: Logger;
  metrics: Metrics;
  deliveries: DeliveryLog;
  /** Milliseconds now; tests move it by hand. */
  now?: () => number;
}

export const DEFAULT_SLACK_TIMING: SlackTiming = {
  // Slack answers in well under a second; a call hung for 5 s is retried, twice at most, so one call gives up
  // within about 17 s and a hung Slack never holds a merge deploy or a shutdown for long.
  requestTimeoutMs: 5_000,
  retries: 2,
  // auth.test is awaited before a request is acked while the bot's ids are unknown: well within Slack's 3 s.
  probeTimeoutMs: 2_000,
  probeCacheMs: 15_000,
  socketPingTimeoutMs: 5_000,
};

/** A payload that is not what Slack sends: refused with 400 in HTTP mode, acked and dropped in Socket Mode. */
export class MalformedSlackRequest extends Error {}

/** Bolt's App, with every payload screened (gate.ts) before Bolt reads it. */
class GatedApp extends App {
  constructor(
    options: AppOptions,
    private readonly admit: (event: ReceiverEvent) => Promise<boolean>,
  ) {
    super(options);
  }

  override async processEvent(event: ReceiverEvent): Promise<void> {
    if (await this.admit(event)) await super.processEvent(event);
  }
}

export function createSlackFront(config: SlackConfig, deps: SlackFrontDeps): SlackFront {
  const timing = { ...DEFAULT_SLACK_TIMING, ...config.timing };
  const logger = boltLogger(deps.log);
  const log = deps.log.child({ component: 'slack' });
  // Stamped when the request arrives, before parsing, so the ack histogram measures what Slack waits for.
  const customPropertiesExtractor = () => ({ receivedAt: process.hrtime.bigint() });
  let receiver: Receiver;
  let requestListener: RequestListener | undefined;
  let socket: SocketModeReceiver['client'] | undefined;
  if (config.appToken) {
    const socketMode = new SocketModeReceiver({
      appToken: config.appToken,
      logger,
      customPropertiesExtractor,
      clientPingTimeout: timing.socketPingTimeoutMs,
      // The Socket Mode client opens its connection with apps.connections.open: on the configured Web API, not
      // slack.com. Its own retry policy (keep reconnecting) is kept; a fresh object, as the client writes into it.
      installerOptions: { clientOptions: { slackApiUrl: config.apiUrl, timeout: timing.requestTimeoutMs } },
      processEventErrorHandler: async (args) => {
        if (args.error instanceof MalformedSlackRequest) return true; // acked, so Slack does not send it again
        return defaultSocketModeErrorHandler(args);
      },
    });
    socket = socketMode.client;
    receiver = socketMode;
  } else {
    // Bolt verifies each request's signature and age (401 for forged, unsigned or stale ones).
    const http = new HTTPReceiver({
      signingSecret: config.signingSecret ?? '',
      endpoints: '/slack/events',
      logger,
      customPropertiesExtractor,
      processEventErrorHandler: async (args) => {
        if (!(args.error instanceof MalformedSlackRequest)) return HTTPModuleFunctions.defaultProcessEventErrorHandler(args);
        if (!args.response.headersSent) args.response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(args.error.message);
        return true; // answered: stops Bolt's 3-second "not acknowledged" timer
      },
    });
    receiver = http;
    requestListener = http.requestListener;
  }

  const clientOptions = (): WebClientOptions => ({
    slackApiUrl: config.apiUrl,
    timeout: timing.requestTimeoutMs,
    retryConfig: { retries: timing.retries, factor: 2, minTimeout: 500, maxTimeout: 2_000 },
    logger,
  });
  const client = new WebClient(config.botToken, clientOptions());
  const link = new SlackLink({
    probeClient: new WebClient(config.botToken, { ...clientOptions(), timeout: timing.probeTimeoutMs, retryConfig: { retries: 0 } }),
    known: config.botId && config.botUserId ? { botId: config.botId, botUserId: config.botUserId } : undefined,
    socket,
    timing,
    now: deps.now ?? Date.now,
  });

  const rules: GateRules = { teamId: config.teamId, appId: config.appId, commands: [SLASH_COMMAND], events: Object.values(EVENTS), views: Object.values(VIEWS) };
  const admit = async (event: ReceiverEvent): Promise<boolean> => {
    const verdict = screenSlackPayload(event.body, rules);
    if (verdict.pass) {
      // Without the bot's ids Bolt runs no listener and answers nothing; a person who typed a command is told why.
      if (verdict.kind !== 'command') return true;
      const known = await link.identity().then(
        () => true,
        (err: unknown) => void log.warn({ reason: slackErrorReason(err) }, 'a command came in while the bot ids are unknown'),
      );
      if (known) return true;
      await event.ack('Cockpit cannot reach Slack right now (auth.test fails); try again in a minute.');
      return false;
    }
    const fields = { kind: verdict.kind, reason: verdict.reason, retryNum: event.retryNum };
    if (verdict.refusal === 'malformed') {
      log.warn(fields, 'refused a malformed Slack request');
      throw new MalformedSlackRequest(verdict.reason);
    }
    if (verdict.refusal === 'foreign') log.warn(fields, 'refused a Slack request from another workspace or app');
    else log.info(fields, 'answered a Slack request no listener handles');
    await event.ack(verdict.reply);
    return false;
  };

  const app = new GatedApp(
    {
      receiver,
      logger,
      // The bot's ids, configured or asked of Slack through the link, which retries a failed auth.test instead
      // of keeping the failure (see health.ts).
      authorize: async () => ({ botToken: config.botToken, ...(await link.identity()) }),
      clientOptions: clientOptions(),
    },
    admit,
  );

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
    client,
    requestListener,
    health: { ready: () => link.ready(), check: () => link.check() },
    // HTTP mode is served by Cockpit's own server; only Socket Mode has a connection to open.
    start: async () => {
      if (config.appToken) await app.start();
    },
    stop: async () => {
      if (config.appToken) await app.stop();
    },
  };
}
