import type { SocketModeReceiver } from '@slack/bolt';
import type { AuthTestResponse, WebClient } from '@slack/web-api';
import type { HealthProbe } from '../../handlers/ports';
import type { ServiceHealth } from '../../handlers/model/health';
import type { SlackTiming } from '../config';
import { healthProbe, reuseAnswer } from '../health';

/**
 * Cockpit's link to Slack: the bot's own ids, which every request needs (Bolt's authorize), and whether Slack can
 * be reached, for /readyz and /cockpit status.
 *
 * Bolt, left to itself, asks `auth.test` for the ids once at start-up and keeps that promise forever: one failed
 * call and every request afterwards is dropped until a restart, while /readyz said ready. Here the ids come from
 * the configuration, or from an `auth.test` whose success is kept and whose failure is retried after a short
 * while, and readiness reads that same answer.
 */

export interface BotIdentity {
  botId: string;
  botUserId: string;
}

export interface SlackLinkDeps {
  /** Web API client for probes: the bot token, a short timeout and no retries. */
  probeClient: WebClient;
  /** The ids from SLACK_BOT_ID / SLACK_BOT_USER_ID, when both are set. */
  known?: BotIdentity;
  /** Socket Mode's connection, when that is the mode. */
  socket?: SocketModeReceiver['client'];
  timing: Pick<SlackTiming, 'probeTimeoutMs' | 'probeCacheMs'>;
  now: () => number;
}

export class SlackLink {
  /** The bot's ids, configured or asked of Slack; rejects while Slack cannot tell (asked again after a while). */
  readonly identity: () => Promise<BotIdentity>;
  private readonly probe: HealthProbe;
  private connected = false;

  constructor(private readonly deps: SlackLinkDeps) {
    const known = deps.known;
    this.identity = known
      ? async () => known
      : reuseAnswer(async () => idsFrom(await this.authTest()), { okMs: Number.POSITIVE_INFINITY, failedMs: deps.timing.probeCacheMs }, deps.now);
    this.probe = healthProbe(async () => describeAuth(await this.authTest()), { timeoutMs: deps.timing.probeTimeoutMs, cacheMs: deps.timing.probeCacheMs, now: deps.now });
    if (deps.socket) {
      deps.socket.on('connected', () => (this.connected = true));
      for (const state of ['connecting', 'reconnecting', 'disconnecting', 'disconnected', 'close']) deps.socket.on(state, () => (this.connected = false));
    }
  }

  /**
   * Whether Cockpit can act on Slack's requests now, for /readyz. Socket Mode: the connection is open. HTTP:
   * the bot's ids are known (configured, or auth.test answered); nothing is asked of Slack when they are configured.
   */
  async ready(): Promise<ServiceHealth> {
    if (this.deps.socket) return this.connected ? { up: true, detail: 'Socket Mode connected' } : { up: false, detail: 'Socket Mode not connected' };
    if (this.deps.known) return { up: true, detail: 'bot ids configured' };
    try {
      const ids = await this.identity();
      return { up: true, detail: `bot ${ids.botUserId}` };
    } catch (err) {
      return { up: false, detail: `auth.test failed: ${slackErrorReason(err)}` };
    }
  }

  /** Whether Slack answers the bot's token now, for /cockpit status (auth.test, its answer reused briefly). */
  async check(): Promise<ServiceHealth> {
    const ready = await this.ready();
    if (!ready.up) return ready;
    const answer = await this.probe.check();
    return this.deps.socket && answer.up ? { up: true, detail: `${answer.detail}, ${ready.detail}` } : answer;
  }

  private async authTest(): Promise<AuthTestResponse> {
    try {
      return await this.deps.probeClient.auth.test();
    } catch (err) {
      throw new Error(slackErrorReason(err));
    }
  }
}

function idsFrom(auth: AuthTestResponse): BotIdentity {
  if (!auth.bot_id || !auth.user_id) throw new Error('auth.test named no bot: is SLACK_BOT_TOKEN a bot token?');
  return { botId: auth.bot_id, botUserId: auth.user_id };
}

function describeAuth(auth: AuthTestResponse): string {
  return `bot ${auth.user_id ?? '?'} in ${auth.team ?? 'the workspace'}`;
}

/** The WebClient's errors in a few words; never the token, which no message of theirs carries. */
export function slackErrorReason(err: unknown): string {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number; original?: { code?: string; message?: string }; message?: string };
  if (e?.code === 'slack_webapi_platform_error') return `Slack refused the call (${e.data?.error ?? 'error'})`;
  if (e?.code === 'slack_webapi_http_error') return `Slack answered HTTP ${e.statusCode ?? '?'}`;
  if (e?.code === 'slack_webapi_rate_limited_error') return 'Slack rate limited the call';
  if (e?.code === 'slack_webapi_request_error') return `Slack is unreachable (${e.original?.code ?? e.original?.message ?? 'no answer'})`;
  return e?.message ?? String(err);
}
