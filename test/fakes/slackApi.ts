import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import path from 'node:path';
import { waitForProbe } from './waitFor';
import { ViolationLog, type ContractViolation as Violation } from './violations';

/**
 * A fake Slack Web API on loopback, reached by the real `@slack/web-api` WebClient through `slackApiUrl`.
 *
 * Every request is checked against Slack's own OpenAPI file in `test/contracts/`: a method Slack does not
 * have, a verb it does not take, or a missing required argument is answered the way Slack answers it
 * (`unknown_method`, `invalid_arguments`, `not_authed`) AND recorded as a violation, so that
 * `assertNoViolations()` fails the test even when the product swallowed the error.
 */

export const SLACK_WEB_API_SPEC_PATH = path.resolve(__dirname, '../contracts/slack-web-api.openapi.json');

/** The workspace both fakes pretend to be; the signer sends the same ids the Web API fake answers with. */
export const FAKE_WORKSPACE = {
  teamId: 'T0FAKETEAM',
  teamDomain: 'cockpit-test',
  teamName: 'Cockpit Test',
  apiAppId: 'A0FAKEAPP1',
  botId: 'B0FAKEBOT1',
  botUserId: 'U0FAKEBOT1',
  botName: 'cockpit',
  botToken: 'xoxb-fake-cockpit-token',
  /** The deprecated verification token Slack still puts in every payload. */
  verificationToken: 'fake-verification-token',
} as const;

export type SlackApiResponse = { ok: boolean; error?: string } & Record<string, unknown>;

export interface SlackApiCall {
  method: string;
  httpMethod: 'GET' | 'POST';
  /** Query string and body merged, with JSON-encoded arguments (blocks, attachments, view, ...) decoded. */
  args: Record<string, unknown>;
  /** The bearer token, or the `token` argument when sent that way. */
  token: string | undefined;
  /** 200, 429 when the call was rate limited, 0 when the fake left it unanswered (`hang`). */
  status: number;
  response: SlackApiResponse;
  at: Date;
}

export type ViolationKind =
  | 'unknown_route'
  | 'unknown_method'
  | 'method_not_allowed'
  | 'unsupported_content_type'
  | 'not_authed'
  | 'invalid_auth'
  | 'invalid_arguments'
  | 'response_url'
  | 'malformed_request';

export type ContractViolation = Violation<ViolationKind>;

export interface ResponseUrlPost {
  id: string;
  body: Record<string, unknown>;
  at: Date;
}

/** A posted message as it stands now, after any `chat.update`. */
export interface PostedMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown;
  threadTs: string | undefined;
}

export type ScriptedResponse = SlackApiResponse | ((call: { method: string; args: Record<string, unknown> }) => SlackApiResponse);

export interface FakeSlackApiOptions {
  /** When set, any other token is answered `invalid_auth` and recorded as a violation. */
  token?: string;
  /** Likewise for app-level tokens, which only methods like apps.connections.open take. */
  appToken?: string;
  teamId?: string;
  botUserId?: string;
  botId?: string;
  specPath?: string;
  now?: () => Date;
}

interface MethodContract {
  verbs: ReadonlySet<'GET' | 'POST'>;
  required: readonly string[];
  tokenRequired: boolean;
  acceptsJson: boolean;
  /** `app`: only an app-level token (`xapp-…`) may call it; every other method refuses one. */
  tokenKind?: 'app';
}

interface OpenApiOperation {
  parameters?: { name: string; in: string; required?: boolean }[];
  consumes?: string[];
  security?: Record<string, string[]>[];
}

interface OpenApiDocument {
  swagger: string;
  paths: Record<string, Partial<Record<string, OpenApiOperation>>>;
}

/**
 * Arguments Slack's method reference marks required but its published OpenAPI file (1.7.0) leaves optional.
 * Without them Slack refuses the call, so the fake must too.
 */
const REQUIRED_BY_METHOD_REFERENCE: Readonly<Record<string, readonly string[]>> = {
  'conversations.create': ['name'],
  'conversations.invite': ['channel', 'users'],
  'conversations.info': ['channel'],
  'users.info': ['user'],
};

/**
 * Methods Slack added after its published OpenAPI file (1.7.0), with the contract their method reference gives
 * (docs.slack.dev/reference/methods/<name>): checked exactly as the spec's own methods are.
 */
const METHODS_AFTER_SPEC: Readonly<Record<string, MethodContract>> = {
  // Hands a Socket Mode client its WebSocket URL: an app-level token with connections:write, no arguments, and
  // `not_allowed_token_type` for any other token.
  'apps.connections.open': { verbs: new Set(['POST']), required: [], tokenRequired: true, acceptsJson: false, tokenKind: 'app' },
  // Bot scope bookmarks:write; `link` is required for the only type Slack takes, `link`.
  'bookmarks.add': { verbs: new Set(['POST']), required: ['channel_id', 'title', 'type', 'link'], tokenRequired: true, acceptsJson: true },
};

/** A message needs something to show: Slack answers `no_text` when all of these are absent. */
const MESSAGE_CONTENT_ARGUMENTS = ['text', 'blocks', 'attachments'] as const;
const METHODS_NEEDING_MESSAGE_CONTENT = new Set(['chat.postMessage', 'chat.postEphemeral']);

/** Arguments the WebClient JSON-encodes inside a form body. */
const JSON_ENCODED_ARGUMENTS = new Set(['blocks', 'attachments', 'view', 'metadata', 'unfurls', 'user_auth_blocks']);

/** Block Kit's documented ceilings: 50 blocks in a message, 100 in a modal or Home tab. */
const MAX_MESSAGE_BLOCKS = 50;
const MAX_VIEW_BLOCKS = 100;

/** Slack lets a response_url be used five times (within 30 minutes). */
const RESPONSE_URL_MAX_USES = 5;

// Channel names are lower case, so an upper-case C…/G…/D… (U…/W…) token is an id, however short a test makes it.
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const CHANNEL_NAME = /^[\p{Ll}\p{Lo}\p{N}_-]+$/u;
const MAX_CHANNEL_NAME_LENGTH = 80;

/** Reads Slack's OpenAPI 2.0 file into one contract per method. */
export function loadSlackContract(specPath: string = SLACK_WEB_API_SPEC_PATH): ReadonlyMap<string, MethodContract> {
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as OpenApiDocument;
  if (spec.swagger !== '2.0' || typeof spec.paths !== 'object') {
    throw new Error(`${specPath} is not Slack's OpenAPI 2.0 Web API spec`);
  }
  const contracts = new Map<string, MethodContract>();
  for (const [routePath, operations] of Object.entries(spec.paths)) {
    const method = routePath.replace(/^\//, '');
    const verbs = new Set<'GET' | 'POST'>();
    const required = new Set<string>(REQUIRED_BY_METHOD_REFERENCE[method] ?? []);
    let tokenRequired = false;
    let acceptsJson = false;
    for (const [verb, operation] of Object.entries(operations)) {
      if (!operation || (verb !== 'get' && verb !== 'post')) continue;
      verbs.add(verb === 'get' ? 'GET' : 'POST');
      for (const parameter of operation.parameters ?? []) {
        if (parameter.name === 'token') tokenRequired ||= parameter.required === true;
        else if (parameter.required === true) required.add(parameter.name);
      }
      // The file marks `token` optional on some methods that still carry OAuth scopes; a scoped method needs a token.
      const scopes = (operation.security ?? []).flatMap((requirement) => Object.values(requirement).flat());
      if (scopes.some((scope) => scope !== 'none')) tokenRequired = true;
      acceptsJson ||= (operation.consumes ?? []).includes('application/json');
    }
    contracts.set(method, { verbs, required: [...required], tokenRequired, acceptsJson });
  }
  for (const [method, contract] of Object.entries(METHODS_AFTER_SPEC)) if (!contracts.has(method)) contracts.set(method, contract);
  return contracts;
}

class RequestRejected extends Error {
  constructor(
    readonly violation: Omit<ContractViolation, 'request'>,
    readonly httpStatus: number,
    readonly body: SlackApiResponse,
  ) {
    super(violation.detail);
  }
}

interface Conversation {
  id: string;
  name: string;
  is_private: boolean;
  created: number;
  creator: string;
}

export class FakeSlackApi {
  /** Base URL for the WebClient's `slackApiUrl` (ends with `/`, as the WebClient appends the method name). */
  readonly url: string;
  /** Every Web API call that passed the contract check, rate-limited ones included (status 429). */
  readonly calls: SlackApiCall[] = [];
  /** Every accepted post to a response_url. */
  readonly responses: ResponseUrlPost[] = [];

  private readonly origin: string;
  private readonly violationLog = new ViolationLog<ContractViolation['kind']>('Slack');
  private readonly scripted = new Map<string, { response: ScriptedResponse; remaining: number }>();
  private readonly rateLimits = new Map<string, { retryAfterSeconds: number; remaining: number }>();
  private readonly hangs = new Map<string, { remaining: number }>();
  private readonly responseUrlUses = new Map<string, number>();
  private readonly conversations = new Map<string, Conversation>();
  private readonly users = new Map<string, Record<string, unknown>>();
  private readonly messages = new Map<string, PostedMessage>();
  private readonly members = new Map<string, Set<string>>();
  private readonly pins = new Map<string, string[]>();
  private readonly bookmarks = new Map<string, Array<{ title: string; link: string }>>();
  private readonly changes = new EventEmitter();
  private sequence = 0;
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly contract: ReadonlyMap<string, MethodContract>,
    private readonly options: Required<Omit<FakeSlackApiOptions, 'token' | 'appToken' | 'specPath'>> & { token?: string; appToken?: string },
  ) {
    const { port } = server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    this.url = `${this.origin}/api/`;
    this.changes.setMaxListeners(0);
  }

  static async start(options: FakeSlackApiOptions = {}): Promise<FakeSlackApi> {
    const contract = loadSlackContract(options.specPath);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const fake = new FakeSlackApi(server, contract, {
      token: options.token,
      appToken: options.appToken,
      teamId: options.teamId ?? FAKE_WORKSPACE.teamId,
      botUserId: options.botUserId ?? FAKE_WORKSPACE.botUserId,
      botId: options.botId ?? FAKE_WORKSPACE.botId,
      now: options.now ?? (() => new Date()),
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      fake.handle(req, res).catch((error: unknown) => {
        fake.recordViolation({ kind: 'malformed_request', request: `${req.method} ${req.url}`, detail: String(error) });
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    return fake;
  }

  /** Contract violations seen so far, oldest first. */
  get violations(): readonly ContractViolation[] {
    return this.violationLog.all;
  }

  /** Throws when any request broke Slack's contract; call it in `afterEach` or at the end of a test. */
  assertNoViolations(): void {
    this.violationLog.assertNone();
  }

  /** Returns the violations and forgets them, for tests that provoke one on purpose. */
  takeViolations(): ContractViolation[] {
    return this.violationLog.take();
  }

  callsTo(method: string): SlackApiCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /**
   * Answers the next `times` valid calls of `method` with `response` instead of the default (until `reset()` when `times` is omitted).
   * The contract is still checked first: a script never hides a malformed request.
   */
  respondWith(method: string, response: ScriptedResponse, { times = Number.POSITIVE_INFINITY }: { times?: number } = {}): void {
    this.assertKnownMethod(method);
    this.scripted.set(method, { response, remaining: times });
  }

  /** Answers the next `times` calls of `method` with HTTP 429 and `Retry-After`, as Slack does when over its limit. */
  rateLimit(method: string, { retryAfterSeconds = 1, times = 1 }: { retryAfterSeconds?: number; times?: number } = {}): void {
    this.assertKnownMethod(method);
    this.rateLimits.set(method, { retryAfterSeconds, remaining: times });
  }

  /**
   * Leaves the next `times` valid calls of `method` unanswered, as a hung Slack would (until `reset()` when `times`
   * is omitted); the connection stays open until the caller gives up or the fake closes. They are recorded, with
   * status 0.
   */
  hang(method: string, { times = Number.POSITIVE_INFINITY }: { times?: number } = {}): void {
    this.assertKnownMethod(method);
    this.hangs.set(method, { remaining: times });
  }

  /** A response_url on this server, as Slack puts in slash command and interaction payloads. */
  responseUrl(id: string = `R${++this.sequence}`): string {
    if (!/^[\w-]+$/.test(id)) throw new Error(`response_url id must be URL-safe: ${id}`);
    if (!this.responseUrlUses.has(id)) this.responseUrlUses.set(id, 0);
    return `${this.origin}/response_url/${id}`;
  }

  responsesTo(id: string): ResponseUrlPost[] {
    return this.responses.filter((post) => post.id === id);
  }

  /** The first answer posted to response URL `id` (see `responseUrl`), once it comes. */
  async firstResponseTo(id: string, timeoutMs?: number): Promise<ResponseUrlPost> {
    const [first] = await this.waitFor(() => this.responsesTo(id).length > 0 && this.responsesTo(id), timeoutMs);
    return first!;
  }

  /** Seeds a user for `users.info`; unknown ids get a plausible generated profile. */
  addUser(user: { id: string } & Record<string, unknown>): void {
    this.users.set(user.id, user);
  }

  /** Seeds a channel for `conversations.info` and name lookups. */
  addChannel(channel: { id: string; name: string; is_private?: boolean }): void {
    this.conversations.set(channel.id, {
      is_private: false,
      created: this.epochSeconds(),
      creator: 'U0CREATOR1',
      ...channel,
    });
  }

  /** Who is in a channel: the bot that created it and everyone invited since. */
  membersOf(channel: string): string[] {
    return [...(this.members.get(channel) ?? [])];
  }

  /** Timestamps of the messages pinned in a channel, in pin order. */
  pinsIn(channel: string): string[] {
    return [...(this.pins.get(channel) ?? [])];
  }

  bookmarksIn(channel: string): Array<{ title: string; link: string }> {
    return [...(this.bookmarks.get(channel) ?? [])];
  }

  /** Messages posted (and updated) in a channel, oldest first. */
  messagesIn(channel: string): PostedMessage[] {
    return [...this.messages.values()].filter((message) => message.channel === channel);
  }

  /**
   * Resolves with the first truthy value `probe` returns, re-checking after every recorded request, so a test awaits
   * an asynchronous post without sleeping. Rejects after `timeoutMs` with what was recorded.
   */
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 2000): Promise<T> {
    const describe = () => `recorded: ${this.calls.map((call) => call.method).join(', ') || 'no Web API calls'}; ${this.responses.length} response_url post(s)`;
    return waitForProbe(this.changes, { event: 'recorded', closedEvent: 'closed', timeoutMs, describe }, probe);
  }

  /** Forgets calls, responses, scripts, rate limits, seeded data and violations, keeping the server up. */
  reset(): void {
    this.calls.length = 0;
    this.responses.length = 0;
    this.violationLog.take();
    this.scripted.clear();
    this.rateLimits.clear();
    this.hangs.clear();
    this.responseUrlUses.clear();
    this.conversations.clear();
    this.users.clear();
    this.messages.clear();
    this.members.clear();
    this.pins.clear();
    this.bookmarks.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.changes.emit('closed');
    // The WebClient and Bolt keep connections alive; without this, close() waits for their idle timeout.
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private assertKnownMethod(method: string): void {
    if (!this.contract.has(method)) throw new Error(`${method} is not a Slack Web API method in the spec`);
  }

  private recordViolation(violation: ContractViolation): void {
    this.violationLog.record(violation);
    this.changes.emit('recorded');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestUrl = new URL(req.url ?? '/', this.origin);
    const rawBody = await readBody(req);
    const request = `${req.method} ${requestUrl.pathname}`;
    try {
      if (requestUrl.pathname.startsWith('/api/')) {
        const answer = this.handleApiCall(req, requestUrl, rawBody);
        if (answer === 'hang') return;
        return send(res, answer.status, answer.body, answer.headers);
      }
      if (requestUrl.pathname.startsWith('/response_url/')) {
        return send(res, 200, this.handleResponseUrl(req, requestUrl, rawBody));
      }
      throw new RequestRejected({ kind: 'unknown_route', detail: 'not a Web API method or response_url path' }, 404, {
        ok: false,
        error: 'not_found',
      });
    } catch (error) {
      if (!(error instanceof RequestRejected)) throw error;
      this.recordViolation({ ...error.violation, request });
      return send(res, error.httpStatus, error.body);
    }
  }

  private handleApiCall(
    req: IncomingMessage,
    requestUrl: URL,
    rawBody: string,
  ): { status: number; body: SlackApiResponse; headers?: Record<string, string> } | 'hang' {
    const method = decodeURIComponent(requestUrl.pathname.slice('/api/'.length));
    const contract = this.contract.get(method);
    if (!contract) {
      throw new RequestRejected({ kind: 'unknown_method', detail: `${method} is not in Slack's Web API spec` }, 200, {
        ok: false,
        error: 'unknown_method',
        req_method: method,
      });
    }
    const httpMethod = req.method === 'GET' || req.method === 'POST' ? req.method : undefined;
    // Slack takes every method as a POST (form or JSON) — the WebClient always POSTs — and GET where the spec says so.
    if (!httpMethod || (httpMethod === 'GET' && !contract.verbs.has('GET'))) {
      throw new RequestRejected(
        { kind: 'method_not_allowed', detail: `${method} takes ${[...contract.verbs].join('/')} per the spec, not ${req.method}` },
        405,
        { ok: false, error: 'method_not_allowed' },
      );
    }

    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const args: Record<string, unknown> = Object.fromEntries(requestUrl.searchParams);
    let bodyToken: unknown;
    if (httpMethod === 'POST' && rawBody.length > 0) {
      const body = parseBody(method, contentType, contract, rawBody);
      bodyToken = body.token;
      Object.assign(args, body);
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    // Slack reads JSON bodies only with the token in the Authorization header.
    const token = bearer ?? (contentType === 'application/json' ? undefined : stringOrUndefined(args.token));
    delete args.token;
    if (bodyToken !== undefined && contentType === 'application/json' && !bearer) {
      throw new RequestRejected({ kind: 'not_authed', detail: `${method}: a JSON body needs the token in the Authorization header` }, 200, {
        ok: false,
        error: 'not_authed',
      });
    }
    if (contract.tokenRequired && !token) {
      throw new RequestRejected({ kind: 'not_authed', detail: `${method} needs a token (Authorization: Bearer or token=)` }, 200, {
        ok: false,
        error: 'not_authed',
      });
    }
    const appToken = token?.startsWith('xapp-') === true;
    if (token !== undefined && appToken !== (contract.tokenKind === 'app')) {
      throw new RequestRejected({ kind: 'invalid_auth', detail: `${method} does not take ${appToken ? 'an app-level' : 'a bot or user'} token` }, 200, {
        ok: false,
        error: 'not_allowed_token_type',
      });
    }
    const known = contract.tokenKind === 'app' ? this.options.appToken : this.options.token;
    if (known !== undefined && token !== undefined && token !== known) {
      throw new RequestRejected({ kind: 'invalid_auth', detail: `${method} was called with a token the workspace does not know` }, 200, {
        ok: false,
        error: 'invalid_auth',
      });
    }

    const missing = contract.required.filter((name) => isBlank(args[name]));
    if (missing.length > 0) {
      throw new RequestRejected({ kind: 'invalid_arguments', detail: `${method} is missing required ${missing.join(', ')}` }, 200, {
        ok: false,
        error: 'invalid_arguments',
        response_metadata: { messages: missing.map((name) => `[ERROR] missing required field: ${name}`) },
      });
    }
    if (METHODS_NEEDING_MESSAGE_CONTENT.has(method) && MESSAGE_CONTENT_ARGUMENTS.every((name) => isBlank(args[name]))) {
      throw new RequestRejected({ kind: 'invalid_arguments', detail: `${method} has none of ${MESSAGE_CONTENT_ARGUMENTS.join(', ')}` }, 200, {
        ok: false,
        error: 'no_text',
      });
    }
    checkBlocks(method, args);

    const hang = this.hangs.get(method);
    if (hang && hang.remaining > 0) {
      hang.remaining -= 1;
      this.record({ method, httpMethod, args, token, status: 0, response: { ok: false, error: 'no answer (hung)' }, at: this.options.now() });
      return 'hang';
    }

    const limit = this.rateLimits.get(method);
    if (limit && limit.remaining > 0) {
      limit.remaining -= 1;
      const response: SlackApiResponse = { ok: false, error: 'ratelimited' };
      this.record({ method, httpMethod, args, token, status: 429, response, at: this.options.now() });
      return { status: 429, body: response, headers: { 'Retry-After': String(limit.retryAfterSeconds) } };
    }

    const script = this.scripted.get(method);
    let response: SlackApiResponse;
    if (script && script.remaining > 0) {
      script.remaining -= 1;
      response = typeof script.response === 'function' ? script.response({ method, args }) : structuredClone(script.response);
    } else {
      response = this.defaultResponse(method, args);
    }
    this.record({ method, httpMethod, args, token, status: 200, response, at: this.options.now() });
    return { status: 200, body: response };
  }

  private handleResponseUrl(req: IncomingMessage, requestUrl: URL, rawBody: string): SlackApiResponse {
    const id = requestUrl.pathname.slice('/response_url/'.length);
    const uses = this.responseUrlUses.get(id);
    const reject = (detail: string, status: number, error: string): never => {
      throw new RequestRejected({ kind: 'response_url', detail }, status, { ok: false, error });
    };
    if (uses === undefined) return reject(`${id} is not a response_url this fake handed out`, 404, 'not_found');
    if (req.method !== 'POST') return reject(`response_url takes POST, not ${req.method}`, 405, 'method_not_allowed');
    if (uses >= RESPONSE_URL_MAX_USES) {
      return reject(`${id} used more than ${RESPONSE_URL_MAX_USES} times; Slack drops the extra posts`, 404, 'used_url');
    }
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      return reject('response_url body is not JSON', 400, 'invalid_payload');
    }
    if (!isRecord(body)) return reject('response_url body is not a JSON object', 400, 'invalid_payload');
    const hasContent = ['text', 'blocks', 'attachments'].some((key) => !isBlank(body[key])) || body.delete_original === true;
    if (!hasContent) return reject('response_url body has no text, blocks, attachments or delete_original', 400, 'no_text');
    this.responseUrlUses.set(id, uses + 1);
    this.responses.push({ id, body, at: this.options.now() });
    this.changes.emit('recorded');
    return { ok: true };
  }

  private record(call: SlackApiCall): void {
    this.calls.push(call);
    this.changes.emit('recorded');
  }

  private epochSeconds(): number {
    return Math.floor(this.options.now().getTime() / 1000);
  }

  /** Slack's message timestamp: epoch seconds and a six-digit suffix, unique within this fake. */
  private nextTs(): string {
    return `${this.epochSeconds()}.${String(++this.sequence).padStart(6, '0')}`;
  }

  private nextId(prefix: string): string {
    return `${prefix}${String(++this.sequence).padStart(10, '0')}`;
  }

  private defaultResponse(method: string, args: Record<string, unknown>): SlackApiResponse {
    const { teamId, botUserId, botId } = this.options;
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: `https://${FAKE_WORKSPACE.teamDomain}.slack.com/`,
          team: FAKE_WORKSPACE.teamName,
          user: FAKE_WORKSPACE.botName,
          team_id: teamId,
          user_id: botUserId,
          bot_id: botId,
          is_enterprise_install: false,
        };
      case 'chat.postMessage': {
        const channel = this.resolveChannel(String(args.channel));
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const ts = this.nextTs();
        const message: PostedMessage = {
          channel,
          ts,
          text: stringOrUndefined(args.text),
          blocks: args.blocks,
          threadTs: stringOrUndefined(args.thread_ts),
        };
        this.messages.set(`${channel}/${ts}`, message);
        return { ok: true, channel, ts, message: this.messageObject(message) };
      }
      case 'chat.update': {
        const channel = String(args.channel);
        const ts = String(args.ts);
        const existing = this.messages.get(`${channel}/${ts}`);
        const message: PostedMessage = {
          channel,
          ts,
          text: stringOrUndefined(args.text) ?? existing?.text,
          blocks: args.blocks ?? existing?.blocks,
          threadTs: existing?.threadTs,
        };
        this.messages.set(`${channel}/${ts}`, message);
        return { ok: true, channel, ts, text: message.text ?? '', message: this.messageObject(message) };
      }
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'chat.getPermalink': {
        const channel = String(args.channel);
        const ts = String(args.message_ts);
        if (!this.messages.has(`${channel}/${ts}`)) return { ok: false, error: 'message_not_found' };
        return { ok: true, channel, permalink: `https://${FAKE_WORKSPACE.teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}` };
      }
      case 'conversations.create': {
        const name = String(args.name);
        if (name.length > MAX_CHANNEL_NAME_LENGTH) return { ok: false, error: 'invalid_name_maxlength' };
        if (!CHANNEL_NAME.test(name)) return { ok: false, error: 'invalid_name_specials' };
        if ([...this.conversations.values()].some((c) => c.name === name)) return { ok: false, error: 'name_taken' };
        const isPrivate = args.is_private === true || args.is_private === 'true';
        const conversation: Conversation = {
          id: this.nextId(isPrivate ? 'G' : 'C'),
          name,
          is_private: isPrivate,
          created: this.epochSeconds(),
          creator: botUserId,
        };
        this.conversations.set(conversation.id, conversation);
        this.members.set(conversation.id, new Set([botUserId]));
        return { ok: true, channel: this.conversationObject(conversation) };
      }
      case 'conversations.invite': {
        const channel = String(args.channel);
        const users = String(args.users)
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean);
        if (users.includes(botUserId)) return { ok: false, error: 'cant_invite_self' };
        if (users.some((u) => !USER_ID.test(u))) return { ok: false, error: 'user_not_found' };
        const members = this.members.get(channel) ?? new Set<string>();
        if (users.every((u) => members.has(u))) return { ok: false, error: 'already_in_channel' };
        for (const user of users) members.add(user);
        this.members.set(channel, members);
        return { ok: true, channel: this.conversationObject(this.conversationFor(channel)) };
      }
      case 'conversations.info':
        return { ok: true, channel: this.conversationObject(this.conversationFor(String(args.channel))) };
      case 'pins.add': {
        const channel = String(args.channel);
        const ts = stringOrUndefined(args.timestamp);
        if (!ts || !this.messages.has(`${channel}/${ts}`)) return { ok: false, error: 'message_not_found' };
        const pinned = this.pins.get(channel) ?? [];
        if (pinned.includes(ts)) return { ok: false, error: 'already_pinned' };
        this.pins.set(channel, [...pinned, ts]);
        return { ok: true };
      }
      case 'bookmarks.add': {
        const channel = String(args.channel_id);
        if (args.type !== 'link') return { ok: false, error: 'invalid_bookmark_type' };
        const link = String(args.link);
        if (!/^https?:\/\//.test(link)) return { ok: false, error: 'invalid_link' };
        const list = this.bookmarks.get(channel) ?? [];
        list.push({ title: String(args.title), link });
        this.bookmarks.set(channel, list);
        return { ok: true, bookmark: { id: this.nextId('Bk'), channel_id: channel, title: String(args.title), link, type: 'link', date_created: this.epochSeconds() } };
      }
      case 'users.info':
        return { ok: true, user: this.userObject(String(args.user)) };
      case 'views.open':
      case 'views.publish':
      case 'views.update':
      case 'views.push': {
        const view = args.view as Record<string, unknown>;
        const id = stringOrUndefined(args.view_id) ?? this.nextId('V');
        return {
          ok: true,
          view: {
            id,
            team_id: teamId,
            state: { values: {} },
            hash: `${this.epochSeconds()}.${this.nextId('h')}`,
            private_metadata: '',
            callback_id: '',
            root_view_id: id,
            previous_view_id: null,
            app_id: FAKE_WORKSPACE.apiAppId,
            bot_id: botId,
            ...view,
          },
        };
      }
      case 'usergroups.users.update': {
        const users = String(args.users)
          .split(',')
          .map((user) => user.trim())
          .filter(Boolean);
        return {
          ok: true,
          usergroup: {
            id: String(args.usergroup),
            team_id: teamId,
            is_usergroup: true,
            name: String(args.usergroup),
            handle: String(args.usergroup).toLowerCase(),
            date_update: this.epochSeconds(),
            users,
            user_count: users.length,
          },
        };
      }
      default:
        return { ok: true };
    }
  }

  /** Slack accepts a channel id, a user id (posting to the DM) or a channel name; it answers with the id. */
  private resolveChannel(channel: string): string | undefined {
    if (CHANNEL_ID.test(channel)) return channel;
    if (USER_ID.test(channel)) return `D${channel.slice(1)}`;
    const name = channel.replace(/^#/, '');
    return [...this.conversations.values()].find((c) => c.name === name)?.id;
  }

  private conversationFor(id: string): Conversation {
    return (
      this.conversations.get(id) ?? {
        id,
        name: `channel-${id.toLowerCase()}`,
        is_private: id.startsWith('G'),
        created: this.epochSeconds(),
        creator: 'U0CREATOR1',
      }
    );
  }

  private conversationObject(c: Conversation): Record<string, unknown> {
    return {
      id: c.id,
      name: c.name,
      name_normalized: c.name,
      is_channel: !c.is_private,
      is_group: c.is_private,
      is_im: false,
      is_mpim: false,
      is_private: c.is_private,
      is_archived: false,
      is_general: false,
      is_member: true,
      is_shared: false,
      is_ext_shared: false,
      is_org_shared: false,
      created: c.created,
      creator: c.creator,
      context_team_id: this.options.teamId,
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
    };
  }

  private userObject(id: string): Record<string, unknown> {
    const seeded = this.users.get(id) ?? {};
    const name = stringOrUndefined(seeded.name) ?? id.toLowerCase();
    const realName = stringOrUndefined(seeded.real_name) ?? `User ${id}`;
    return {
      id,
      team_id: this.options.teamId,
      name,
      real_name: realName,
      deleted: false,
      is_bot: false,
      is_app_user: false,
      is_admin: false,
      tz: 'Europe/London',
      tz_label: 'Greenwich Mean Time',
      tz_offset: 0,
      updated: this.epochSeconds(),
      ...seeded,
      profile: {
        real_name: realName,
        display_name: name,
        email: `${name}@example.com`,
        ...(isRecord(seeded.profile) ? seeded.profile : {}),
      },
    };
  }

  private messageObject(message: PostedMessage): Record<string, unknown> {
    return {
      type: 'message',
      user: this.options.botUserId,
      bot_id: this.options.botId,
      app_id: FAKE_WORKSPACE.apiAppId,
      team: this.options.teamId,
      ts: message.ts,
      text: message.text ?? '',
      ...(message.blocks !== undefined ? { blocks: message.blocks } : {}),
      ...(message.threadTs !== undefined ? { thread_ts: message.threadTs } : {}),
    };
  }
}

export function startFakeSlackApi(options?: FakeSlackApiOptions): Promise<FakeSlackApi> {
  return FakeSlackApi.start(options);
}

function parseBody(method: string, contentType: string, contract: MethodContract, rawBody: string): Record<string, unknown> {
  if (contentType === 'application/x-www-form-urlencoded') {
    const args: Record<string, unknown> = {};
    for (const [name, value] of new URLSearchParams(rawBody)) {
      args[name] = JSON_ENCODED_ARGUMENTS.has(name) ? decodeJsonArgument(method, name, value) : value;
    }
    return args;
  }
  if (contentType === 'application/json') {
    if (!contract.acceptsJson) {
      throw new RequestRejected({ kind: 'unsupported_content_type', detail: `${method} does not accept JSON bodies per the spec` }, 200, {
        ok: false,
        error: 'invalid_post_type',
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody);
    } catch {
      throw new RequestRejected({ kind: 'invalid_arguments', detail: `${method}: body is not JSON` }, 200, { ok: false, error: 'invalid_json' });
    }
    if (!isRecord(parsed)) {
      throw new RequestRejected({ kind: 'invalid_arguments', detail: `${method}: JSON body is not an object` }, 200, {
        ok: false,
        error: 'json_not_object',
      });
    }
    return parsed;
  }
  // Multipart (files.upload) is the only other encoding Slack takes; nothing in Cockpit should send it.
  const detail = `${method}: the fake does not take ${contentType || 'a body without a content type'}`;
  throw new RequestRejected({ kind: 'unsupported_content_type', detail }, 200, { ok: false, error: 'invalid_post_type' });
}

function decodeJsonArgument(method: string, name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new RequestRejected({ kind: 'invalid_arguments', detail: `${method}: ${name} is not valid JSON` }, 200, {
      ok: false,
      error: name === 'blocks' ? 'invalid_blocks' : 'invalid_arguments',
    });
  }
}

function checkBlocks(method: string, args: Record<string, unknown>): void {
  const fail = (detail: string, error: string): never => {
    throw new RequestRejected({ kind: 'invalid_arguments', detail: `${method}: ${detail}` }, 200, { ok: false, error });
  };
  const checkList = (blocks: unknown, where: string, max: number): void => {
    if (blocks === undefined) return;
    if (!Array.isArray(blocks)) return fail(`${where} is not an array`, 'invalid_blocks');
    if (blocks.length > max) return fail(`${where} has ${blocks.length} blocks; Slack allows ${max}`, 'invalid_blocks');
    const untyped = blocks.findIndex((block) => !isRecord(block) || typeof block.type !== 'string');
    if (untyped >= 0) fail(`${where}[${untyped}] has no type`, 'invalid_blocks');
  };
  checkList(args.blocks, 'blocks', MAX_MESSAGE_BLOCKS);
  if (!method.startsWith('views.') || args.view === undefined) return;
  const view = args.view;
  if (!isRecord(view)) return fail('view is not a JSON object', 'invalid_arguments');
  const expectedType = method === 'views.publish' ? 'home' : 'modal';
  if (view.type !== expectedType) fail(`view.type is ${String(view.type)}, expected ${expectedType}`, 'invalid_arguments');
  checkList(view.blocks, 'view.blocks', MAX_VIEW_BLOCKS);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
