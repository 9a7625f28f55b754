import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
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

export interface FakePost {
  id: number;
  topicId: number;
  postNumber: number;
  raw: string;
  username: string;
  /** 1 regular, 3 small action (Discourse's "closed this topic"). */
  postType: number;
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
  /** Category ids that exist. */
  categories?: number[];
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
  /** Requests the fake answered 429 because they exceeded `enforceRatePerMinute`. */
  rateExceeded = 0;

  private readonly violationLog = new ViolationLog<ContractViolation['kind']>('Discourse');
  private readonly faults: Fault[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private readonly changes = new EventEmitter();
  private readonly requestLog: number[] = [];
  private nextTopicId = 100;
  private nextPostId = 1000;
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly operations: Operation[],
    private readonly options: Required<Omit<FakeDiscourseOptions, 'specPath' | 'enforceRatePerMinute'>> & { enforceRatePerMinute?: number },
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.changes.setMaxListeners(0);
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
      categories: options.categories ?? [5],
      now: options.now ?? (() => new Date()),
      ...(options.enforceRatePerMinute ? { enforceRatePerMinute: options.enforceRatePerMinute } : {}),
    });
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

  /** Every post, oldest first; small actions (closing) excluded unless asked. */
  posts({ smallActions = false }: { smallActions?: boolean } = {}): FakePost[] {
    return [...this.postsById.values()].filter((p) => smallActions || p.postType === 1).sort((a, b) => a.id - b.id);
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
      const { status, answer, headers } = this.perform(method, route, url, body);
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
      case 'GET /t/{id}.json': {
        const topic = this.topics.get(idParam());
        return topic ? { status: 200, answer: this.topicJson(topic) } : { status: 404, answer: notFound() };
      }
      case 'GET /posts/{id}.json': {
        const post = this.postsById.get(idParam());
        return post ? { status: 200, answer: this.postJson(post) } : { status: 404, answer: notFound() };
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
            this.addPost(topic, '', 3);
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
    if (raw.trim().length < MIN_POST_LENGTH) return { status: 422, answer: errors(`Body is too short (minimum is ${MIN_POST_LENGTH} characters)`) };
    if (b.topic_id !== undefined) {
      const topic = this.topics.get(Number(b.topic_id));
      if (!topic) return { status: 404, answer: notFound() };
      return { status: 200, answer: this.postJson(this.addPost(topic, raw, 1)) };
    }
    const title = typeof b.title === 'string' ? b.title.trim() : '';
    if (title.length < MIN_TITLE_LENGTH) return { status: 422, answer: errors(`Title is too short (minimum is ${MIN_TITLE_LENGTH} characters)`) };
    const categoryId = b.category === undefined ? undefined : Number(b.category);
    if (categoryId !== undefined && !this.options.categories.includes(categoryId)) return { status: 422, answer: errors('Category can’t be blank') };
    const externalId = typeof b.external_id === 'string' ? b.external_id : undefined;
    if (externalId !== undefined) {
      if (externalId.length > MAX_EXTERNAL_ID_LENGTH || !/^[\w-]+$/.test(externalId)) return { status: 422, answer: errors('External ID is invalid') };
      if (this.topicByExternalId(externalId)) return { status: 422, answer: errors('External ID has already been taken') };
    }
    const topic: FakeTopic = {
      id: this.nextTopicId++,
      title,
      slug: title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''),
      ...(categoryId !== undefined ? { categoryId } : {}),
      ...(externalId !== undefined ? { externalId } : {}),
      tags: [],
      closed: false,
      postIds: [],
    };
    this.topics.set(topic.id, topic);
    return { status: 200, answer: this.postJson(this.addPost(topic, raw, 1)) };
  }

  private addPost(topic: FakeTopic, raw: string, postType: number): FakePost {
    const post: FakePost = { id: this.nextPostId++, topicId: topic.id, postNumber: topic.postIds.length + 1, raw, username: this.options.apiUsername, postType, createdAt: this.options.now() };
    this.postsById.set(post.id, post);
    topic.postIds.push(post.id);
    return post;
  }

  private postJson(post: FakePost): Record<string, unknown> {
    const topic = this.topics.get(post.topicId)!;
    return {
      id: post.id,
      username: post.username,
      created_at: post.createdAt.toISOString(),
      raw: post.raw,
      cooked: `<p>${post.raw.replace(/<!--[\s\S]*?-->/g, '')}</p>`,
      post_number: post.postNumber,
      post_type: post.postType,
      topic_id: post.topicId,
      topic_slug: topic.slug,
    };
  }

  private topicJson(topic: FakeTopic): Record<string, unknown> {
    return {
      id: topic.id,
      title: topic.title,
      fancy_title: topic.title,
      slug: topic.slug,
      closed: topic.closed,
      archived: false,
      visible: true,
      category_id: topic.categoryId ?? null,
      posts_count: topic.postIds.length,
      // Since Discourse 3.2 tags come as objects.
      tags: topic.tags.map((name, i) => ({ id: i + 1, name, slug: name })),
      post_stream: { posts: topic.postIds.slice(0, 20).map((id) => this.postJson(this.postsById.get(id)!)), stream: [...topic.postIds] },
    };
  }
}

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
