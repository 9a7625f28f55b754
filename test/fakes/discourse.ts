import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { DiscourseWebhookEmitter, type SendOptions, type WebhookDelivery, type WebhookTarget } from './discourseWebhooks';
import { waitForProbe } from './waitFor';
import { ViolationLog, type ContractViolation as Violation } from './violations';

/**
 * A fake Discourse on loopback, reached by Cockpit's real client through its base URL.
 *
 * Every request is checked against Discourse's own OpenAPI file in `test/contracts/`: a route or verb the spec
 * does not have, a missing required header, or a JSON body its schema refuses (a missing required field, a
 * field the schema does not allow) is answered the way Discourse answers it AND recorded as a violation, so
 * `assertNoViolations()` fails the test even when the product swallowed the error. It keeps topics, posts, tags
 * and closed flags as Discourse does, refuses what Discourse's default settings refuse (short titles and posts,
 * a reused external_id), and can be told to fail (5xx), rate-limit (429 with Retry-After and
 * `extras.wait_seconds`, as Discourse's RateLimiter answers) or hang, before or after doing what was asked.
 *
 * Forum users other than the API user (customers, staff whispering) act through methods, not HTTP, and once
 * `webhooks()` is called the fake sends the webhooks a forum sends for every topic and post, the API user's too.
 */

export const DISCOURSE_SPEC_PATH = path.resolve(__dirname, '../contracts/discourse.openapi.json');

/**
 * Routes of plugins the core spec does not describe, with the body their controllers read: discourse-assign's
 * `PUT /assign/assign.json` (plugins/discourse-assign/app/controllers/discourse_assign/assign_controller.rb).
 */
const PLUGIN_ROUTES: Record<string, { schema: object }> = {
  'PUT /assign/assign.json': {
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['target_id', 'target_type'],
      properties: { target_id: { type: 'integer' }, target_type: { type: 'string', enum: ['Topic', 'Post'] }, username: { type: 'string' }, group_name: { type: 'string' }, note: { type: 'string' } },
    },
  },
};

/** Discourse's defaults (site settings) that a post must meet. */
const MIN_TITLE_LENGTH = 15;
const MIN_POST_LENGTH = 20;
const MAX_EXTERNAL_ID_LENGTH = 50;
/** `SiteSetting.topics_per_page`: a topic list's page. */
const TOPICS_PER_PAGE = 30;
/** Where Discourse files a topic created without a category (`SiteSetting.uncategorized_category_id`). */
const UNCATEGORIZED_CATEGORY_ID = 1;

/** Discourse's `Post.types`. */
export const POST_TYPES = { regular: 1, moderatorAction: 2, smallAction: 3, whisper: 4 } as const;

export interface DiscourseCall {
  method: string;
  path: string;
  /** The spec's path template, e.g. `/t/{id}/status.json`. */
  route: string;
  body: unknown;
  status: number;
  at: Date;
}

export type ContractViolation = Violation<'unknown_route' | 'method_not_allowed' | 'not_authed' | 'invalid_body' | 'unmodelled'>;

export interface FakeUser {
  id: number;
  username: string;
  /** Empty when the user gave none. */
  name: string;
  admin: boolean;
  moderator: boolean;
  trustLevel: number;
}

export interface FakePost {
  id: number;
  topicId: number;
  postNumber: number;
  raw: string;
  username: string;
  userId: number;
  /** One of POST_TYPES: 1 regular, 3 small action (Discourse's "closed this topic"), 4 whisper. */
  postType: number;
  /** What a small action did, e.g. `closed.enabled`. */
  actionCode?: string;
  createdAt: Date;
}

export interface FakeTopic {
  id: number;
  title: string;
  slug: string;
  categoryId?: number;
  externalId?: string;
  tags: string[];
  closed: boolean;
  postIds: number[];
  assignedTo?: string;
  /** The author (the first post's user). */
  userId: number;
  createdAt: Date;
  /** Moved by every regular post; what orders a category's topic list. */
  bumpedAt: Date;
  lastPostedAt: Date;
}

/** Someone on the forum who is not the API user. */
export interface ForumUserInput {
  username: string;
  name?: string;
}

/** Which requests a scripted failure applies to; every request when empty. */
export interface CallFilter {
  method?: string;
  route?: string;
}

type Fault =
  | { kind: 'status'; status: number; apply: boolean; remaining: number; filter: CallFilter }
  | { kind: 'rate_limit'; retryAfterSeconds: number; waitSeconds: number; remaining: number; filter: CallFilter }
  | { kind: 'hang'; apply: boolean; remaining: number; skip: number; filter: CallFilter };

export interface FakeDiscourseOptions {
  apiKey?: string;
  apiUsername?: string;
  /** Categories that exist: an id (slug `category-<id>`) or an id with its slug. */
  categories?: Array<number | { id: number; slug: string }>;
  specPath?: string;
  now?: () => Date;
  /** When set, the fake enforces this many requests a minute per key itself, by `now`, answering 429 beyond. */
  enforceRatePerMinute?: number;
}

interface Operation {
  method: string;
  route: string;
  pattern: RegExp;
  headers: string[];
  /** Compiled on first use: most routes of the spec are never called. */
  validate(body: unknown): { ok: true } | { ok: false; detail: string };
}

interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content?: Record<string, { schema?: object }> };
}

class Rejected extends Error {
  constructor(
    readonly violation: Omit<ContractViolation, 'request'> | undefined,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(violation?.detail ?? JSON.stringify(body));
  }
}

export class FakeDiscourse {
  readonly url: string;
  readonly calls: DiscourseCall[] = [];
  readonly topics = new Map<number, FakeTopic>();
  readonly postsById = new Map<number, FakePost>();
  /** Forum users by username, the API user included. */
  readonly users = new Map<string, FakeUser>();
  /** Requests the fake answered 429 because they exceeded `enforceRatePerMinute`. */
  rateExceeded = 0;

  private readonly violationLog = new ViolationLog<ContractViolation['kind']>('Discourse');
  private readonly faults: Fault[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private readonly changes = new EventEmitter();
  private readonly requestLog: number[] = [];
  private readonly categorySlugs: Map<number, string>;
  private nextTopicId = 100;
  private nextPostId = 1000;
  private nextUserId = 20;
  private nextEventId = 1;
  private emitter: DiscourseWebhookEmitter | undefined;
  /** Settles once the request being performed was answered: webhooks it causes wait for it. */
  private answered: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly operations: Operation[],
    private readonly options: Required<Omit<FakeDiscourseOptions, 'specPath' | 'enforceRatePerMinute' | 'categories'>> & { enforceRatePerMinute?: number },
    categories: Array<number | { id: number; slug: string }>,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.changes.setMaxListeners(0);
    this.categorySlugs = new Map(categories.map((c) => (typeof c === 'number' ? [c, `category-${c}`] : [c.id, c.slug])));
    this.users.set(options.apiUsername, { id: 2, username: options.apiUsername, name: 'Cockpit', admin: true, moderator: false, trustLevel: 4 });
  }

  static async start(options: FakeDiscourseOptions = {}): Promise<FakeDiscourse> {
    const operations = loadOperations(options.specPath ?? DISCOURSE_SPEC_PATH);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const fake = new FakeDiscourse(server, operations, {
      apiKey: options.apiKey ?? 'fake-discourse-key',
      apiUsername: options.apiUsername ?? 'cockpit',
      now: options.now ?? (() => new Date()),
      ...(options.enforceRatePerMinute ? { enforceRatePerMinute: options.enforceRatePerMinute } : {}),
    }, options.categories ?? [5]);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      fake.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
    return fake;
  }

  /** Contract violations seen so far, oldest first. */
  get violations(): readonly ContractViolation[] {
    return this.violationLog.all;
  }

  assertNoViolations(): void {
    this.violationLog.assertNone();
  }

  takeViolations(): ContractViolation[] {
    return this.violationLog.take();
  }

  /** Answers the next `times` matching requests with `status` (500 by default); `apply` does the work first. */
  fail(times: number, { status = 500, apply = false, ...filter }: CallFilter & { status?: number; apply?: boolean } = {}): void {
    this.faults.push({ kind: 'status', status, apply, remaining: times, filter });
  }

  /** Answers the next `times` matching requests with 429, as Discourse's rate limiter does. */
  rateLimit(times: number, { retryAfterSeconds = 1, waitSeconds = retryAfterSeconds, ...filter }: CallFilter & { retryAfterSeconds?: number; waitSeconds?: number } = {}): void {
    this.faults.push({ kind: 'rate_limit', retryAfterSeconds, waitSeconds, remaining: times, filter });
  }

  /**
   * Never answers `times` matching requests, after letting `skip` of them through; `apply` does the work first
   * (the answer is what is lost).
   */
  hang(times: number, { apply = false, skip = 0, ...filter }: CallFilter & { apply?: boolean; skip?: number } = {}): void {
    this.faults.push({ kind: 'hang', apply, remaining: times, skip, filter });
  }

  /** Every post, oldest first; small actions (closing) and whispers excluded unless asked. */
  posts({ smallActions = false, whispers = false }: { smallActions?: boolean; whispers?: boolean } = {}): FakePost[] {
    const wanted = (p: FakePost) => p.postType === POST_TYPES.regular || (smallActions && p.postType === POST_TYPES.smallAction) || (whispers && p.postType === POST_TYPES.whisper);
    return [...this.postsById.values()].filter(wanted).sort((a, b) => a.id - b.id);
  }

  postsIn(topicId: number): FakePost[] {
    return this.posts().filter((p) => p.topicId === topicId);
  }

  topicByExternalId(externalId: string): FakeTopic | undefined {
    return [...this.topics.values()].find((t) => t.externalId === externalId);
  }

  /** Calls that changed something (POST/PUT), in order. */
  writes(): DiscourseCall[] {
    return this.calls.filter((c) => c.method !== 'GET');
  }

  /** Resolves once `probe` returns something, re-checking after every request the fake answers or holds. */
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
    const describe = () => `calls: ${this.calls.map((c) => `${c.method} ${c.path} ${c.status}`).join(', ') || 'none'}`;
    return waitForProbe(this.changes, { event: 'changed', timeoutMs, describe }, probe);
  }

  /**
   * A customer opens a topic, as the forum user `username` (created on first use), with Discourse's checks on
   * title, body and category; a forum sends topic_created then post_created.
   */
  customerTopic(input: ForumUserInput & { title: string; raw: string; categoryId: number; tags?: string[]; createdAt?: Date }): FakeTopic {
    const refused = this.refusesNewTopic(input.title.trim(), input.raw, input.categoryId);
    if (refused) throw new Error(`Discourse refuses this topic: ${refused}`);
    const user = this.forumUser(input);
    const topic = this.openTopic(user, { title: input.title.trim(), categoryId: input.categoryId, tags: input.tags ?? [], createdAt: input.createdAt ?? this.options.now() });
    this.addPost(topic, user, input.raw, POST_TYPES.regular, { createdAt: topic.createdAt });
    return topic;
  }

  /** A customer replies on a topic: Discourse's minimum length holds, and a closed topic takes no reply. */
  customerReply(topicId: number, raw: string, author: ForumUserInput): FakePost {
    const topic = this.existingTopic(topicId);
    const refused = this.refusesPost(raw) ?? (topic.closed ? 'This topic is closed; it no longer accepts new replies.' : undefined);
    if (refused) throw new Error(`Discourse refuses this reply: ${refused}`);
    return this.addPost(topic, this.forumUser(author), raw, POST_TYPES.regular);
  }

  /** A staff member's whisper (post_type 4): only staff see it, and it does not bump the topic. */
  whisper(topicId: number, raw: string, author: ForumUserInput): FakePost {
    const refused = this.refusesPost(raw);
    if (refused) throw new Error(`Discourse refuses this whisper: ${refused}`);
    return this.addPost(this.existingTopic(topicId), this.forumUser(author, { moderator: true }), raw, POST_TYPES.whisper);
  }

  /** A small action (post_type 3, empty raw) by a staff member, e.g. `closed.enabled`, `pinned.enabled`. */
  smallAction(topicId: number, actionCode: string, author: ForumUserInput): FakePost {
    return this.addPost(this.existingTopic(topicId), this.forumUser(author, { moderator: true }), '', POST_TYPES.smallAction, { actionCode });
  }

  /** From now on the fake sends a forum's webhooks to `url` (loopback), signed with `secret`. */
  webhooks(target: WebhookTarget): void {
    this.emitter = new DiscourseWebhookEmitter(target, this.url, () => this.nextEventId++);
  }

  /** The next `n` deliveries (of `event`, when given) are lost: they take an event id but are never sent. */
  dropWebhooks(n: number, filter: { event?: string } = {}): void {
    this.webhookEmitter().drop(n, filter);
  }

  /** One delivery by hand to the configured URL; `payload` is the whole body, e.g. `fake.postWebhookBody(id)`. */
  sendWebhook(event: string, payload: unknown, options: SendOptions = {}): Promise<{ status: number; body: string }> {
    return this.webhookEmitter().send(event, payload, options);
  }

  /** Posts delivery `seq` again with the same headers and bytes (same event id), as Discourse's "Redeliver". */
  redeliver(seq: number): Promise<{ status: number; body: string }> {
    return this.webhookEmitter().redeliver(seq);
  }

  /** Discourse's "Ping": body `{"ping":"OK"}`, event type `ping`. */
  pingWebhook(): Promise<{ status: number; body: string }> {
    return this.webhookEmitter().send('ping', { ping: 'OK' });
  }

  /** Every delivery in the order made, dropped ones included (marked `dropped`). */
  get webhookDeliveries(): readonly WebhookDelivery[] {
    return this.emitter?.deliveries ?? [];
  }

  /** Resolves once every queued delivery was answered. */
  waitForWebhooks(): Promise<void> {
    return this.emitter?.idle() ?? Promise.resolve();
  }

  /** The body a forum sends for a topic event: `{ topic: WebHookTopicViewSerializer }`. */
  topicWebhookBody(topicId: number): { topic: Record<string, unknown> } {
    return { topic: this.topicWebhookJson(this.existingTopic(topicId)) };
  }

  /** The body a forum sends for a post event: `{ post: WebHookPostSerializer }`. */
  postWebhookBody(postId: number): { post: Record<string, unknown> } {
    const post = this.postsById.get(postId);
    if (!post) throw new Error(`the fake Discourse has no post ${postId}`);
    return { post: this.postWebhookJson(post) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const rawBody = await readBody(req);
    const request = `${method} ${url.pathname}`;
    let route = url.pathname;
    let body: unknown;
    try {
      const operation = this.match(method, url.pathname);
      route = operation.route;
      for (const header of operation.headers) {
        if (!req.headers[header.toLowerCase()]) throw new Rejected({ kind: 'not_authed', detail: `missing required header ${header}` }, 403, notLoggedIn());
      }
      // Discourse refuses every write, and Cockpit sends every request, with the key: check it wherever it comes.
      if (req.headers['api-key'] !== this.options.apiKey || req.headers['api-username'] !== this.options.apiUsername) {
        throw new Rejected({ kind: 'not_authed', detail: 'Api-Key / Api-Username missing or not the configured ones' }, 403, notLoggedIn());
      }
      if (rawBody.length > 0) {
        if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new Rejected({ kind: 'invalid_body', detail: 'body is not application/json' }, 400, errors('Bad request'));
        try {
          body = JSON.parse(rawBody);
        } catch {
          throw new Rejected({ kind: 'invalid_body', detail: 'body is not JSON' }, 400, errors('Bad request'));
        }
      }
      const valid = operation.validate(body ?? {});
      if (!valid.ok) throw new Rejected({ kind: 'invalid_body', detail: valid.detail }, 400, errors(`param is missing or the value is invalid: ${valid.detail}`));
      if (this.exceedsRate()) {
        this.rateExceeded += 1;
        return this.answer(res, { method, path: url.pathname, route, body }, 429, rateLimited(60), { 'Retry-After': '60' });
      }
      const fault = this.takeFault(method, route);
      if (fault?.kind === 'rate_limit') {
        return this.answer(res, { method, path: url.pathname, route, body }, 429, rateLimited(fault.waitSeconds), { 'Retry-After': String(fault.retryAfterSeconds) });
      }
      if (fault?.kind === 'status' && !fault.apply) return this.answer(res, { method, path: url.pathname, route, body }, fault.status, errors('Internal Server Error'));
      if (fault?.kind === 'hang' && !fault.apply) return this.hold(res, { method, path: url.pathname, route, body });
      // Webhooks the work causes go out once its answer is written, or at once when the answer is to be lost.
      let release!: () => void;
      this.answered = new Promise((resolve) => (release = resolve));
      const { status, answer, headers } = this.perform(method, route, url, body);
      this.answered = Promise.resolve();
      if (fault?.kind === 'hang') release();
      else res.once('finish', release).once('close', release);
      if (fault?.kind === 'status') return this.answer(res, { method, path: url.pathname, route, body }, fault.status, errors('Internal Server Error'));
      if (fault?.kind === 'hang') return this.hold(res, { method, path: url.pathname, route, body });
      return this.answer(res, { method, path: url.pathname, route, body }, status, answer, headers);
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      if (error.violation) this.violationLog.record({ ...error.violation, request });
      return this.answer(res, { method, path: url.pathname, route, body }, error.status, error.body);
    }
  }

  private match(method: string, pathname: string): Operation {
    const candidates = this.operations.filter((op) => op.pattern.test(pathname));
    if (candidates.length === 0) throw new Rejected({ kind: 'unknown_route', detail: `${pathname} is not a route of Discourse's spec` }, 404, notFound());
    const operation = candidates.find((op) => op.method === method);
    if (!operation) throw new Rejected({ kind: 'method_not_allowed', detail: `${pathname} takes ${candidates.map((c) => c.method).join('/')}, not ${method}` }, 404, notFound());
    return operation;
  }

  private exceedsRate(): boolean {
    const limit = this.options.enforceRatePerMinute;
    if (!limit) return false;
    const now = this.options.now().getTime();
    while (this.requestLog.length > 0 && this.requestLog[0]! <= now - 60_000) this.requestLog.shift();
    if (this.requestLog.length >= limit) return true;
    this.requestLog.push(now);
    return false;
  }

  private takeFault(method: string, route: string): Fault | undefined {
    const fault = this.faults.find((f) => f.remaining > 0 && (!f.filter.method || f.filter.method === method) && (!f.filter.route || f.filter.route === route));
    if (fault?.kind === 'hang' && fault.skip > 0) {
      fault.skip -= 1;
      return undefined;
    }
    if (fault) fault.remaining -= 1;
    return fault;
  }

  private hold(res: ServerResponse, call: Omit<DiscourseCall, 'status' | 'at'>): void {
    this.calls.push({ ...call, status: 0, at: this.options.now() });
    this.hanging.add(res);
    res.on('close', () => this.hanging.delete(res));
    this.changes.emit('changed');
  }

  private answer(res: ServerResponse, call: Omit<DiscourseCall, 'status' | 'at'>, status: number, answer: unknown, headers: Record<string, string> = {}): void {
    this.calls.push({ ...call, status, at: this.options.now() });
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    res.end(answer === undefined ? '' : JSON.stringify(answer));
    this.changes.emit('changed');
  }

  /** What Discourse does for a valid request. */
  private perform(method: string, route: string, url: URL, body: unknown): { status: number; answer: unknown; headers?: Record<string, string> } {
    const b = (body ?? {}) as Record<string, unknown>;
    const idParam = () => Number(/\/t\/(?:-\/)?(\d+)/.exec(url.pathname)?.[1] ?? /\/posts\/(\d+)/.exec(url.pathname)?.[1]);
    switch (`${method} ${route}`) {
      case 'POST /posts.json':
        return this.createPost(b);
      case 'GET /t/external_id/{external_id}.json': {
        const externalId = decodeURIComponent(/\/t\/external_id\/(.+)\.json$/.exec(url.pathname)![1]!);
        const topic = this.topicByExternalId(externalId);
        if (!topic) return { status: 404, answer: notFound() };
        return { status: 301, answer: undefined, headers: { Location: `${this.url}/t/${topic.id}.json` } };
      }
      case 'GET /c/{slug}/{id}.json':
        return this.categoryList(url);
      case 'GET /t/{id}.json': {
        const topic = this.topics.get(idParam());
        return topic ? { status: 200, answer: this.topicJson(topic) } : { status: 404, answer: notFound() };
      }
      case 'GET /posts/{id}.json': {
        const post = this.postsById.get(idParam());
        return post ? { status: 200, answer: this.postJson(post, 'single') } : { status: 404, answer: notFound() };
      }
      case 'PUT /t/-/{id}.json': {
        const topic = this.topics.get(idParam());
        if (!topic) return { status: 404, answer: notFound() };
        if (b.tags !== undefined) {
          if (!Array.isArray(b.tags) || !b.tags.every((t) => typeof t === 'string')) return { status: 422, answer: errors('tags must be a list of names') };
          topic.tags = [...new Set(b.tags as string[])];
        }
        return { status: 200, answer: { basic_topic: { id: topic.id, title: topic.title, fancy_title: topic.title, slug: topic.slug, posts_count: topic.postIds.length } } };
      }
      case 'PUT /t/{id}/status.json': {
        const topic = this.topics.get(idParam());
        if (!topic) return { status: 404, answer: notFound() };
        if (b.status === 'closed') {
          const closed = b.enabled === 'true';
          if (topic.closed !== closed) {
            topic.closed = closed;
            this.addPost(topic, this.apiUser(), '', POST_TYPES.smallAction, { actionCode: `closed.${closed ? 'enabled' : 'disabled'}` });
            this.emitWebhook('topic_closed_status_updated', () => this.topicWebhookJson(topic));
          }
        }
        return { status: 200, answer: { success: 'OK', topic_status_update: null } };
      }
      case 'PUT /assign/assign.json': {
        const topic = this.topics.get(Number(b.target_id));
        if (!topic) return { status: 404, answer: notFound() };
        if (topic.assignedTo === b.username) return { status: 400, answer: { error: `Topic is already assigned to @${String(b.username)}` } };
        topic.assignedTo = String(b.username);
        return { status: 200, answer: { success: 'OK' } };
      }
      default:
        throw new Rejected({ kind: 'unmodelled', detail: `${method} ${route} is in the spec but the fake does not model it` }, 501, errors('not modelled'));
    }
  }

  private createPost(b: Record<string, unknown>): { status: number; answer: unknown } {
    const raw = typeof b.raw === 'string' ? b.raw : '';
    if (b.topic_id !== undefined) {
      const shortPost = this.refusesPost(raw);
      if (shortPost) return { status: 422, answer: errors(shortPost) };
      const topic = this.topics.get(Number(b.topic_id));
      if (!topic) return { status: 404, answer: notFound() };
      return { status: 200, answer: this.postJson(this.addPost(topic, this.apiUser(), raw, POST_TYPES.regular), 'created') };
    }
    const title = typeof b.title === 'string' ? b.title.trim() : '';
    const categoryId = b.category === undefined ? undefined : Number(b.category);
    const refused = this.refusesNewTopic(title, raw, categoryId);
    if (refused) return { status: 422, answer: errors(refused) };
    const externalId = typeof b.external_id === 'string' ? b.external_id : undefined;
    if (externalId !== undefined) {
      if (externalId.length > MAX_EXTERNAL_ID_LENGTH || !/^[\w-]+$/.test(externalId)) return { status: 422, answer: errors('External ID is invalid') };
      if (this.topicByExternalId(externalId)) return { status: 422, answer: errors('External ID has already been taken') };
    }
    const topic = this.openTopic(this.apiUser(), { title, categoryId, externalId, tags: [], createdAt: this.options.now() });
    return { status: 200, answer: this.postJson(this.addPost(topic, this.apiUser(), raw, POST_TYPES.regular), 'created') };
  }

  /** Discourse's defaults a new topic must meet, as the message it answers; undefined when it passes. */
  private refusesNewTopic(title: string, raw: string, categoryId: number | undefined): string | undefined {
    const shortPost = this.refusesPost(raw);
    if (shortPost) return shortPost;
    if (title.length < MIN_TITLE_LENGTH) return `Title is too short (minimum is ${MIN_TITLE_LENGTH} characters)`;
    if (categoryId !== undefined && !this.categorySlugs.has(categoryId)) return 'Category can’t be blank';
    return undefined;
  }

  private refusesPost(raw: string): string | undefined {
    return raw.trim().length < MIN_POST_LENGTH ? `Body is too short (minimum is ${MIN_POST_LENGTH} characters)` : undefined;
  }

  private existingTopic(topicId: number): FakeTopic {
    const topic = this.topics.get(topicId);
    if (!topic) throw new Error(`the fake Discourse has no topic ${topicId}`);
    return topic;
  }

  private apiUser(): FakeUser {
    return this.users.get(this.options.apiUsername)!;
  }

  private userById(id: number): FakeUser {
    return [...this.users.values()].find((u) => u.id === id)!;
  }

  /** The forum user `username`, created on first use; whoever whispers or acts on topics is staff. */
  private forumUser({ username, name }: ForumUserInput, { moderator = false } = {}): FakeUser {
    if (username === this.options.apiUsername) throw new Error(`${username} is the API user: make its posts through the API`);
    const known = this.users.get(username);
    if (known) {
      if (name !== undefined) known.name = name;
      known.moderator ||= moderator;
      return known;
    }
    const user: FakeUser = { id: this.nextUserId++, username, name: name ?? '', admin: false, moderator, trustLevel: moderator ? 4 : 1 };
    this.users.set(username, user);
    return user;
  }

  private openTopic(user: FakeUser, t: { title: string; categoryId: number | undefined; externalId?: string | undefined; tags: string[]; createdAt: Date }): FakeTopic {
    const topic: FakeTopic = {
      id: this.nextTopicId++,
      title: t.title,
      slug: t.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'topic',
      ...(t.categoryId !== undefined ? { categoryId: t.categoryId } : {}),
      ...(t.externalId !== undefined ? { externalId: t.externalId } : {}),
      tags: [...new Set(t.tags)],
      closed: false,
      postIds: [],
      userId: user.id,
      createdAt: t.createdAt,
      bumpedAt: t.createdAt,
      lastPostedAt: t.createdAt,
    };
    this.topics.set(topic.id, topic);
    return topic;
  }

  /** Adds a post as Discourse's PostCreator does, and queues the webhooks a forum sends for it. */
  private addPost(topic: FakeTopic, user: FakeUser, raw: string, postType: number, extra: { actionCode?: string; createdAt?: Date } = {}): FakePost {
    const createdAt = extra.createdAt ?? this.options.now();
    const post: FakePost = {
      id: this.nextPostId++,
      topicId: topic.id,
      postNumber: topic.postIds.length + 1,
      raw,
      username: user.username,
      userId: user.id,
      postType,
      ...(extra.actionCode ? { actionCode: extra.actionCode } : {}),
      createdAt,
    };
    this.postsById.set(post.id, post);
    topic.postIds.push(post.id);
    // Whispers and small actions neither bump the topic nor count as its last post.
    if (postType === POST_TYPES.regular) {
      topic.bumpedAt = createdAt;
      topic.lastPostedAt = createdAt;
    }
    if (post.postNumber === 1) this.emitWebhook('topic_created', () => this.topicWebhookJson(topic));
    this.emitWebhook('post_created', () => this.postWebhookJson(post));
    return post;
  }

  /** Serializes now (a forum builds the payload when it enqueues the job); sends once the current answer is out. */
  private emitWebhook(event: string, payload: () => Record<string, unknown>): void {
    if (!this.emitter?.subscribed(event)) return;
    this.emitter.emit(event, payload(), this.answered);
  }

  private webhookEmitter(): DiscourseWebhookEmitter {
    if (!this.emitter) throw new Error('call webhooks({ url, secret }) first');
    return this.emitter;
  }

  private allPosts(topic: FakeTopic): FakePost[] {
    return topic.postIds.map((id) => this.postsById.get(id)!);
  }

  private lastPoster(topic: FakeTopic): FakeUser {
    const last = this.allPosts(topic).filter((p) => p.postType === POST_TYPES.regular).at(-1);
    return this.userById(last?.userId ?? topic.userId);
  }

  /**
   * A post as the spec's answers carry it (PostSerializer): `stream` inside a topic's post_stream, `single` for
   * GET /posts/{id}.json, `created` for POST /posts.json.
   */
  private postJson(post: FakePost, view: 'stream' | 'single' | 'created'): Record<string, unknown> {
    const topic = this.topics.get(post.topicId)!;
    const user = this.userById(post.userId);
    const common = {
      id: post.id,
      name: user.name,
      username: user.username,
      avatar_template: avatarTemplate(user),
      created_at: post.createdAt.toISOString(),
      cooked: post.raw === '' ? '' : `<p>${post.raw.replace(/<!--[\s\S]*?-->/g, '')}</p>`,
      post_number: post.postNumber,
      post_type: post.postType,
      updated_at: post.createdAt.toISOString(),
      reply_count: 0,
      reply_to_post_number: null,
      quote_count: 0,
      incoming_link_count: 0,
      reads: 1,
      readers_count: 0,
      score: 0,
      yours: user.username === this.options.apiUsername,
      topic_id: post.topicId,
      topic_slug: topic.slug,
      display_username: user.name,
      primary_group_name: null,
      flair_name: null,
      flair_url: null,
      flair_bg_color: null,
      flair_color: null,
      version: 1,
      can_edit: true,
      can_delete: post.postNumber > 1,
      can_recover: false,
      can_wiki: true,
      user_title: null,
      bookmarked: false,
      actions_summary: [{ id: 2, can_act: true }],
      moderator: user.moderator,
      admin: user.admin,
      staff: user.admin || user.moderator,
      user_id: user.id,
      hidden: false,
      trust_level: user.trustLevel,
      deleted_at: null,
      user_deleted: false,
      edit_reason: null,
      can_view_edit_history: true,
      wiki: false,
      // The spec's post_stream wants an integer here.
      reviewable_id: 0,
      reviewable_score_count: 0,
      reviewable_score_pending_count: 0,
    };
    if (view === 'stream') return { ...common, link_counts: [], read: true };
    const single = { ...common, posts_count: this.posts().filter((p) => p.userId === user.id).length, raw: post.raw, post_url: `/t/${topic.slug}/${topic.id}/${post.postNumber}` };
    return view === 'created' ? { ...single, draft_sequence: 0 } : single;
  }

  /** What a topic's answers and lists share (TopicViewSerializer / TopicListItemSerializer). */
  private topicCommon(topic: FakeTopic): Record<string, unknown> {
    const posts = this.allPosts(topic);
    // Whispers are counted apart from posts_count, small actions are not (Topic#posts_count vs highest_post_number).
    const postsCount = posts.filter((p) => p.postType !== POST_TYPES.whisper).length;
    return {
      id: topic.id,
      title: topic.title,
      fancy_title: topic.title,
      slug: topic.slug,
      posts_count: postsCount,
      reply_count: Math.max(0, posts.filter((p) => p.postType === POST_TYPES.regular).length - 1),
      highest_post_number: posts.length,
      created_at: topic.createdAt.toISOString(),
      last_posted_at: topic.lastPostedAt.toISOString(),
      archetype: 'regular',
      visible: true,
      closed: topic.closed,
      archived: false,
      pinned: false,
      pinned_globally: false,
      unpinned: null,
      views: 1,
      like_count: 0,
      has_summary: false,
      category_id: topic.categoryId ?? UNCATEGORIZED_CATEGORY_ID,
      featured_link: null,
    };
  }

  /** GET /t/{id}.json as the API user (an admin) sees it: whispers included. */
  private topicJson(topic: FakeTopic): Record<string, unknown> {
    const posts = this.allPosts(topic);
    const author = this.userById(topic.userId);
    return {
      ...this.topicCommon(topic),
      // Since Discourse 3.2 tags come as objects (the spec's topic list items carry none).
      tags: topic.tags.map((name, i) => ({ id: i + 1, name, slug: name })),
      tags_descriptions: {},
      word_count: posts.reduce((n, p) => n + p.raw.split(/\s+/).filter(Boolean).length, 0),
      deleted_at: null,
      user_id: topic.userId,
      pinned_at: null,
      pinned_until: null,
      image_url: null,
      slow_mode_seconds: 0,
      draft: null,
      draft_key: `topic_${topic.id}`,
      draft_sequence: 0,
      current_post_number: 1,
      deleted_by: null,
      has_deleted: false,
      actions_summary: [{ id: 4, count: 0, hidden: false, can_act: true }],
      chunk_size: 20,
      bookmarked: false,
      bookmarks: [],
      topic_timer: null,
      message_bus_last_id: 0,
      participant_count: new Set(posts.filter((p) => p.postType === POST_TYPES.regular).map((p) => p.userId)).size,
      show_read_indicator: false,
      thumbnails: null,
      slow_mode_enabled_until: null,
      timeline_lookup: [],
      suggested_topics: [],
      post_stream: { posts: posts.slice(0, 20).map((p) => this.postJson(p, 'stream')), stream: [...topic.postIds] },
      details: {
        can_edit: true,
        notification_level: 3,
        can_move_posts: true,
        can_delete: true,
        can_remove_allowed_users: true,
        can_create_post: true,
        can_reply_as_new_topic: true,
        can_convert_topic: true,
        can_review_topic: true,
        can_close_topic: true,
        can_archive_topic: true,
        can_split_merge_topic: true,
        can_edit_staff_notes: true,
        can_toggle_topic_visibility: true,
        can_pin_unpin_topic: true,
        can_moderate_category: true,
        can_remove_self_id: this.apiUser().id,
        created_by: basicUser(author),
        last_poster: basicUser(this.lastPoster(topic)),
      },
    };
  }

  /**
   * WebHookTopicViewSerializer: TopicViewSerializer without post_stream, timeline_lookup, details, suggested
   * topics, drafts and the other per-viewer fields, plus created_by and last_poster (BasicUserSerializer).
   */
  private topicWebhookJson(topic: FakeTopic): Record<string, unknown> {
    const view = this.topicJson(topic);
    for (const key of WEBHOOK_TOPIC_LEAVES_OUT) delete view[key];
    return { ...view, created_by: basicUser(this.userById(topic.userId)), last_poster: basicUser(this.lastPoster(topic)) };
  }

  /**
   * WebHookPostSerializer: PostSerializer with raw, topic_title and category_id, without the per-viewer fields,
   * plus topic_posts_count, topic_filtered_posts_count, topic_archetype and (in a category) category_slug.
   */
  private postWebhookJson(post: FakePost): Record<string, unknown> {
    const topic = this.topics.get(post.topicId)!;
    const json = this.postJson(post, 'single');
    for (const key of WEBHOOK_POST_LEAVES_OUT) delete json[key];
    const posts = this.allPosts(topic);
    const categoryId = topic.categoryId ?? UNCATEGORIZED_CATEGORY_ID;
    return {
      ...json,
      ...(post.actionCode ? { action_code: post.actionCode } : {}),
      topic_title: topic.title,
      category_id: categoryId,
      topic_posts_count: posts.length,
      topic_filtered_posts_count: posts.filter((p) => p.postType === POST_TYPES.regular).length,
      topic_archetype: 'regular',
      ...(this.categorySlugs.has(categoryId) ? { category_slug: this.categorySlugs.get(categoryId) } : {}),
    };
  }

  /** GET /c/{slug}/{id}.json: the category's topics, last bumped first, a page of 30 (`?page=` from 0). */
  private categoryList(url: URL): { status: number; answer: unknown; headers?: Record<string, string> } {
    const [, slug, idText] = /^\/c\/([^/]+)\/([^/]+)\.json$/.exec(url.pathname)!;
    const id = Number(idText);
    const realSlug = this.categorySlugs.get(id);
    if (!Number.isInteger(id) || realSlug === undefined) return { status: 404, answer: notFound() };
    // ListController#set_category: a wrong slug for a known id answers 301 to the path with the right one.
    if (decodeURIComponent(slug!) !== realSlug) return { status: 301, answer: undefined, headers: { Location: `${this.url}/c/${realSlug}/${id}.json${url.search}` } };
    const page = Math.max(0, Number(url.searchParams.get('page') ?? 0) || 0);
    const inCategory = [...this.topics.values()]
      .filter((t) => (t.categoryId ?? UNCATEGORIZED_CATEGORY_ID) === id)
      .sort((a, b) => b.bumpedAt.getTime() - a.bumpedAt.getTime() || b.id - a.id);
    const shown = inCategory.slice(page * TOPICS_PER_PAGE, (page + 1) * TOPICS_PER_PAGE);
    const users = new Map<number, FakeUser>();
    const topics = shown.map((topic) => {
      const author = this.userById(topic.userId);
      const last = this.lastPoster(topic);
      users.set(author.id, author).set(last.id, last);
      const posters =
        author.id === last.id
          ? [{ extras: 'latest single', description: 'Original Poster, Most Recent Poster', user_id: author.id, primary_group_id: null }]
          : [
              { extras: '', description: 'Original Poster', user_id: author.id, primary_group_id: null },
              { extras: 'latest', description: 'Most Recent Poster', user_id: last.id, primary_group_id: null },
            ];
      return {
        ...this.topicCommon(topic),
        image_url: null,
        bumped: topic.bumpedAt.getTime() !== topic.createdAt.getTime(),
        bumped_at: topic.bumpedAt.toISOString(),
        unseen: false,
        excerpt: excerpt(this.postsById.get(topic.postIds[0]!)!.raw),
        bookmarked: null,
        liked: null,
        last_poster_username: last.username,
        posters,
      };
    });
    const more = inCategory.length > (page + 1) * TOPICS_PER_PAGE;
    return {
      status: 200,
      answer: {
        users: [...users.values()].map(basicUser),
        primary_groups: [],
        topic_list: {
          can_create_topic: true,
          per_page: TOPICS_PER_PAGE,
          // Discourse names the next page only when there is one; the spec's schema leaves it out.
          ...(more ? { more_topics_url: `/c/${realSlug}/${id}?page=${page + 1}` } : {}),
          topics,
        },
      },
    };
  }
}

/** TopicViewSerializer fields WebHookTopicViewSerializer turns off (`include_<attr>? false`). */
const WEBHOOK_TOPIC_LEAVES_OUT = [
  'post_stream', 'timeline_lookup', 'pm_with_non_human_user', 'draft', 'draft_key', 'draft_sequence', 'message_bus_last_id', 'suggested_topics',
  'has_summary', 'actions_summary', 'current_post_number', 'chunk_size', 'topic_timer', 'details', 'image_url', 'slow_mode_seconds',
  'slow_mode_enabled_until', 'bookmarks', 'summarizable', 'show_read_indicator',
];

/** PostSerializer fields WebHookPostSerializer turns off. */
const WEBHOOK_POST_LEAVES_OUT = [
  'can_view', 'can_edit', 'can_delete', 'can_recover', 'can_see_hidden_post', 'can_wiki', 'actions_summary', 'can_view_edit_history', 'yours',
  'flair_url', 'flair_bg_color', 'flair_color', 'notice', 'mentioned_users', 'badges_granted', 'readers_count',
];

/** BasicUserSerializer. */
const basicUser = (user: FakeUser) => ({ id: user.id, username: user.username, name: user.name, avatar_template: avatarTemplate(user) });

/** A letter avatar, as Discourse gives a user without an uploaded one. */
const avatarTemplate = (user: FakeUser) => `/letter_avatar_proxy/v4/letter/${user.username[0]!.toLowerCase()}/8797e8/{size}.png`;

/** A list's excerpt: the first post as text, cut where Discourse cuts it (300 characters). */
const excerpt = (raw: string) => {
  const text = raw.replace(/<!--[\s\S]*?-->/g, '').replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 300)}&hellip;` : text;
};

export function startFakeDiscourse(options?: FakeDiscourseOptions): Promise<FakeDiscourse> {
  return FakeDiscourse.start(options);
}

const specs = new Map<string, Operation[]>();

/** The spec's operations, with their required headers and a validator for their JSON body; read once per file. */
function loadOperations(specPath: string): Operation[] {
  const cached = specs.get(specPath);
  if (cached) return cached;
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as { openapi: string; paths: Record<string, Record<string, OpenApiOperation>> };
  if (!spec.openapi?.startsWith('3.')) throw new Error(`${specPath} is not Discourse's OpenAPI 3 spec`);
  // Formats (email, uri) are not checked: Discourse checks them itself and answers 422, not a contract error.
  const ajv = new Ajv({ strict: false, allErrors: true, allowUnionTypes: true, validateFormats: false });
  const operations: Operation[] = [];
  const add = (method: string, route: string, schema: object | undefined, headers: string[]) => {
    const pattern = new RegExp(`^${route.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '([^/]+)')}$`);
    let compiled: ValidateFunction | undefined;
    const validate = (body: unknown): { ok: true } | { ok: false; detail: string } => {
      if (!schema) return { ok: true };
      compiled ??= ajv.compile(schema);
      if (compiled(body)) return { ok: true };
      const detail = (compiled.errors ?? [])
        .map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`)
        .join('; ');
      return { ok: false, detail };
    };
    operations.push({ method, route, pattern, headers, validate });
  };
  for (const [route, methods] of Object.entries(spec.paths)) {
    for (const [verb, operation] of Object.entries(methods)) {
      const headers = (operation.parameters ?? []).filter((p) => p.in === 'header' && p.required).map((p) => p.name);
      add(verb.toUpperCase(), route, operation.requestBody?.content?.['application/json']?.schema, headers);
    }
  }
  for (const [key, { schema }] of Object.entries(PLUGIN_ROUTES)) {
    const [method, route] = key.split(' ') as [string, string];
    add(method, route, schema, ['Api-Key', 'Api-Username']);
  }
  // A literal segment beats a parameter (`/t/external_id/{x}.json` before `/t/{id}/...`): most literal first.
  operations.sort((a, b) => b.route.replace(/\{[^}]+\}/g, '').length - a.route.replace(/\{[^}]+\}/g, '').length);
  specs.set(specPath, operations);
  return operations;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const errors = (...messages: string[]) => ({ errors: messages });
const notFound = () => ({ errors: ['The requested URL or resource could not be found.'], error_type: 'not_found' });
const notLoggedIn = () => ({ errors: ['You are not permitted to view the requested resource. The API username or key is invalid.'], error_type: 'invalid_access' });
/** Discourse's RateLimiter::LimitExceeded answer. */
const rateLimited = (waitSeconds: number) => ({
  errors: [`You’ve performed this action too many times. Please wait ${waitSeconds} seconds before trying again.`],
  error_type: 'rate_limit',
  extras: { wait_seconds: waitSeconds, time_left: `${waitSeconds} seconds` },
});
