import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import type { BlockAction, BlockElementAction, EnvelopedEvent, SlashCommand } from '@slack/bolt';
import { FAKE_WORKSPACE } from './slackApi';

/**
 * Sends requests to a running Cockpit app exactly as Slack does: same encodings, same fields, signed with the
 * signing secret (`v0=` HMAC-SHA256 of `v0:<timestamp>:<raw body>`). Options forge the ways a request goes wrong:
 * unsigned, stale, tampered after signing, or redelivered by Slack.
 */

/** Slack, and Bolt after it, refuse a request timestamp more than five minutes old. */
export const REPLAY_WINDOW_SECONDS = 5 * 60;

/** The user id a tampered request claims to come from. */
export const FORGED_USER_ID = 'U0ATTACKER';

const SLACK_USER_AGENT = 'Slackbot 1.0 (+https://api.slack.com/robots)';

export interface DeliveryOptions {
  /** The app's request URL, e.g. `slackEventsUrl(server)`. */
  url: string;
  signingSecret: string;
  /** Unix seconds the request says it was sent at; now by default. */
  timestamp?: number;
  /** Send with no X-Slack-Signature and no X-Slack-Request-Timestamp. */
  unsigned?: boolean;
  /** Sign with a timestamp just outside the five-minute replay window. */
  stale?: boolean;
  /** Sign the body, then alter it before sending: by default the acting user becomes FORGED_USER_ID. */
  tamper?: boolean | ((signedBody: string) => string);
  /** Slack's redelivery headers: which attempt this is (1–3) and why the earlier one failed. */
  retryNum?: number;
  retryReason?: 'http_timeout' | 'too_many_connections' | 'ssl_error' | 'connection_failed' | 'http_error' | 'unknown_error';
}

export interface SlackDelivery {
  status: number;
  headers: Headers;
  text: string;
  /** The response body parsed as JSON; undefined when the app answered with an empty body. */
  json(): unknown;
}

interface WorkspaceFields {
  teamId?: string;
  teamDomain?: string;
  apiAppId?: string;
  /** The deprecated verification token Slack still sends in every payload. */
  verificationToken?: string;
}

export interface SlashCommandOptions extends DeliveryOptions, WorkspaceFields {
  /** Defaults to `/cockpit`. */
  command?: string;
  text: string;
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  /** Where `respond()` posts; use `fakeSlackApi.responseUrl()` so nothing leaves loopback. */
  responseUrl: string;
  triggerId?: string;
}

export interface BlockActionOptions extends DeliveryOptions, WorkspaceFields {
  actionId: string;
  value?: string;
  blockId?: string;
  /** The button's label; the action id by default. */
  actionText?: string;
  /** Fields merged into the action, e.g. `{ type: 'static_select', selected_option: {...} }`. */
  action?: Record<string, unknown>;
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  /** The message holding the button; a fresh ts by default. */
  messageTs?: string;
  /** Omit for surfaces Slack sends none for (Home tab). */
  responseUrl?: string;
  triggerId?: string;
  /** Shallow overrides of the payload, e.g. `{ container: { type: 'view', ... }, view: {...} }` for modal actions. */
  overrides?: Partial<BlockAction>;
}

export interface ViewSubmissionOptions extends DeliveryOptions, WorkspaceFields {
  userId: string;
  userName?: string;
  /** The modal as Cockpit opened it (from views.open), whose state Slack sends back filled in. */
  view: { callback_id?: string; private_metadata?: string; blocks?: unknown[]; title?: unknown };
  /** What the person entered, as Slack's `view.state.values`: block_id → action_id → value. */
  values: Record<string, Record<string, Record<string, unknown>>>;
  triggerId?: string;
}

export type SlackEventFields = { type: string } & Record<string, unknown>;

export interface EventOptions extends DeliveryOptions, WorkspaceFields {
  /** The inner event, e.g. `{ type: 'app_mention', user, text, channel, ts }`. */
  event: SlackEventFields;
  eventId?: string;
  eventTime?: number;
  /** The installation the event is for; the fake bot user by default. */
  botUserId?: string;
}

/** `v0=` HMAC-SHA256 over `v0:<timestamp>:<body>`, keyed with the signing secret. */
export function signSlackRequest(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** The URL Bolt's HTTPReceiver listens on, for the server `app.start(0)` returned. */
export function slackEventsUrl(server: { address(): AddressInfo | string | null }): string {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the app is not listening on a TCP port');
  return `http://127.0.0.1:${address.port}/slack/events`;
}

/** The form fields Slack posts for a slash command, in Slack's order. */
export function slashCommandPayload(options: Omit<SlashCommandOptions, keyof DeliveryOptions>): SlashCommand {
  return {
    token: options.verificationToken ?? FAKE_WORKSPACE.verificationToken,
    team_id: options.teamId ?? FAKE_WORKSPACE.teamId,
    team_domain: options.teamDomain ?? FAKE_WORKSPACE.teamDomain,
    channel_id: options.channelId,
    channel_name: options.channelName ?? 'cockpit',
    user_id: options.userId,
    user_name: options.userName ?? options.userId.toLowerCase(),
    command: options.command ?? '/cockpit',
    text: options.text,
    api_app_id: options.apiAppId ?? FAKE_WORKSPACE.apiAppId,
    is_enterprise_install: 'false',
    response_url: options.responseUrl,
    trigger_id: options.triggerId ?? newTriggerId(),
  };
}

/** The `block_actions` payload Slack sends when someone clicks a button in a message. */
export function blockActionsPayload(options: Omit<BlockActionOptions, keyof DeliveryOptions>): BlockAction {
  const teamId = options.teamId ?? FAKE_WORKSPACE.teamId;
  const messageTs = options.messageTs ?? newTs();
  const userName = options.userName ?? options.userId.toLowerCase();
  const action = {
    type: 'button',
    action_id: options.actionId,
    block_id: options.blockId ?? 'actions',
    text: { type: 'plain_text', text: options.actionText ?? options.actionId, emoji: true },
    ...(options.value !== undefined ? { value: options.value } : {}),
    action_ts: newTs(),
    ...options.action,
  } as BlockElementAction;
  return {
    type: 'block_actions',
    user: { id: options.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: options.apiAppId ?? FAKE_WORKSPACE.apiAppId,
    token: options.verificationToken ?? FAKE_WORKSPACE.verificationToken,
    container: { type: 'message', message_ts: messageTs, channel_id: options.channelId, is_ephemeral: false },
    trigger_id: options.triggerId ?? newTriggerId(),
    team: { id: teamId, domain: options.teamDomain ?? FAKE_WORKSPACE.teamDomain },
    is_enterprise_install: false,
    channel: { id: options.channelId, name: options.channelName ?? 'cockpit' },
    message: {
      type: 'message',
      user: FAKE_WORKSPACE.botUserId,
      bot_id: FAKE_WORKSPACE.botId,
      app_id: options.apiAppId ?? FAKE_WORKSPACE.apiAppId,
      team: teamId,
      ts: messageTs,
      text: '',
      blocks: [],
    },
    state: { values: {} },
    ...(options.responseUrl !== undefined ? { response_url: options.responseUrl } : {}),
    actions: [action],
    ...options.overrides,
  } as BlockAction;
}

/** The `view_submission` payload Slack sends when someone submits a modal. */
export function viewSubmissionPayload(options: Omit<ViewSubmissionOptions, keyof DeliveryOptions>): Record<string, unknown> {
  const teamId = options.teamId ?? FAKE_WORKSPACE.teamId;
  const userName = options.userName ?? options.userId.toLowerCase();
  return {
    type: 'view_submission',
    team: { id: teamId, domain: options.teamDomain ?? FAKE_WORKSPACE.teamDomain },
    user: { id: options.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: options.apiAppId ?? FAKE_WORKSPACE.apiAppId,
    token: options.verificationToken ?? FAKE_WORKSPACE.verificationToken,
    trigger_id: options.triggerId ?? newTriggerId(),
    view: {
      id: `V${randomBytes(5).toString('hex').toUpperCase()}`,
      team_id: teamId,
      type: 'modal',
      blocks: options.view.blocks ?? [],
      private_metadata: options.view.private_metadata ?? '',
      callback_id: options.view.callback_id ?? '',
      state: { values: options.values },
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      title: options.view.title ?? { type: 'plain_text', text: 'Form' },
      clear_on_close: false,
      notify_on_close: false,
      root_view_id: null,
      previous_view_id: null,
      app_id: options.apiAppId ?? FAKE_WORKSPACE.apiAppId,
      external_id: '',
      bot_id: FAKE_WORKSPACE.botId,
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** The Events API envelope (`event_callback`) Slack wraps every event in. */
export function eventCallbackPayload(options: Omit<EventOptions, keyof DeliveryOptions>): EnvelopedEvent<SlackEventFields> {
  const teamId = options.teamId ?? FAKE_WORKSPACE.teamId;
  const eventTime = options.eventTime ?? Math.floor(Date.now() / 1000);
  return {
    token: options.verificationToken ?? FAKE_WORKSPACE.verificationToken,
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: options.apiAppId ?? FAKE_WORKSPACE.apiAppId,
    event: { event_ts: `${eventTime}.000100`, ...options.event },
    type: 'event_callback',
    event_id: options.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: eventTime,
    authorizations: [
      { enterprise_id: null, team_id: teamId, user_id: options.botUserId ?? FAKE_WORKSPACE.botUserId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${randomBytes(12).toString('base64url')}`,
  };
}

/** Form-encodes fields the way Slack does (`/` as `%2F`, space as `+`), keeping their order. */
export function formEncode(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export function sendSlashCommand(options: SlashCommandOptions): Promise<SlackDelivery> {
  const payload = slashCommandPayload(options);
  return deliver(options, 'application/x-www-form-urlencoded', formEncode(payload), () => formEncode({ ...payload, user_id: FORGED_USER_ID }));
}

export function sendAction(options: BlockActionOptions): Promise<SlackDelivery> {
  const payload = blockActionsPayload(options);
  const encode = (body: BlockAction): string => formEncode({ payload: JSON.stringify(body) });
  return deliver(options, 'application/x-www-form-urlencoded', encode(payload), () =>
    encode({ ...payload, user: { ...payload.user, id: FORGED_USER_ID } }),
  );
}

export function sendViewSubmission(options: ViewSubmissionOptions): Promise<SlackDelivery> {
  const payload = viewSubmissionPayload(options);
  const encode = (body: Record<string, unknown>): string => formEncode({ payload: JSON.stringify(body) });
  return deliver(options, 'application/x-www-form-urlencoded', encode(payload), () =>
    encode({ ...payload, user: { ...(payload.user as Record<string, unknown>), id: FORGED_USER_ID } }),
  );
}

export function sendEvent(options: EventOptions): Promise<SlackDelivery> {
  const payload = eventCallbackPayload(options);
  const forged =
    'user' in payload.event ? { ...payload, event: { ...payload.event, user: FORGED_USER_ID } } : { ...payload, team_id: 'T0ATTACKER' };
  return deliver(options, 'application/json', JSON.stringify(payload), () => JSON.stringify(forged));
}

/**
 * Any interaction payload (view_submission, shortcut, block_suggestion, a block_actions built by hand) as Slack
 * posts it: form-encoded in one `payload` field. Tampering changes the payload's `type`.
 */
export function sendInteraction(options: DeliveryOptions, payload: Record<string, unknown>): Promise<SlackDelivery> {
  const encode = (body: Record<string, unknown>): string => formEncode({ payload: JSON.stringify(body) });
  return deliver(options, 'application/x-www-form-urlencoded', encode(payload), () => encode({ ...payload, type: `${String(payload.type)}-forged` }));
}

/** A body exactly as given, signed like Slack's: for shapes Slack never sends (fields missing, unknown types). */
export function sendSigned(options: DeliveryOptions, contentType: string, body: string): Promise<SlackDelivery> {
  return deliver(options, contentType, body, () => `${body}&forged=1`);
}

/** The handshake Slack sends when a Request URL is saved; the app must echo the challenge. */
export function sendUrlVerification(options: DeliveryOptions & { challenge: string; verificationToken?: string }): Promise<SlackDelivery> {
  const payload = { token: options.verificationToken ?? FAKE_WORKSPACE.verificationToken, challenge: options.challenge, type: 'url_verification' };
  const forged = { ...payload, challenge: `${options.challenge}-forged` };
  return deliver(options, 'application/json', JSON.stringify(payload), () => JSON.stringify(forged));
}

async function deliver(options: DeliveryOptions, contentType: string, signedBody: string, forge: () => string): Promise<SlackDelivery> {
  const now = Math.floor(Date.now() / 1000);
  const timestamp = options.stale ? (options.timestamp ?? now) - REPLAY_WINDOW_SECONDS - 60 : (options.timestamp ?? now);
  const headers: Record<string, string> = { 'Content-Type': contentType, 'User-Agent': SLACK_USER_AGENT };
  if (!options.unsigned) {
    headers['X-Slack-Request-Timestamp'] = String(timestamp);
    headers['X-Slack-Signature'] = signSlackRequest(options.signingSecret, timestamp, signedBody);
  }
  if (options.retryNum !== undefined) {
    headers['X-Slack-Retry-Num'] = String(options.retryNum);
    headers['X-Slack-Retry-Reason'] = options.retryReason ?? 'http_timeout';
  }
  let body = signedBody;
  if (options.tamper) {
    body = typeof options.tamper === 'function' ? options.tamper(signedBody) : forge();
    // A "tampered" body equal to the signed one would pass verification and make a rejection test pass vacuously.
    if (body === signedBody) throw new Error('tamper left the body unchanged');
  }
  const response = await fetch(options.url, { method: 'POST', headers, body });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: () => (text === '' ? undefined : JSON.parse(text)),
  };
}

/** Slack's trigger ids look like `398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c`. */
function newTriggerId(): string {
  return `${randomInt(1e11, 1e12)}.${randomInt(1e10, 1e11)}.${randomBytes(16).toString('hex')}`;
}

function newTs(): string {
  return `${Math.floor(Date.now() / 1000)}.${String(randomInt(0, 1e6)).padStart(6, '0')}`;
}
