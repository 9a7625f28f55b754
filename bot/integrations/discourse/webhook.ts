import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { postKindOf } from '../../../handlers/ticketModel';
import type { SupportPost } from '../../../handlers/model/tickets';
import { describeIssues } from '../../zodIssues';

/**
 * Discourse's webhooks (app/jobs/regular/emit_web_hook_event.rb): a POST whose body is `{"<type>": {...}}` (the
 * topic as WebHookTopicViewSerializer writes it, the post as WebHookPostSerializer does, or `{"ping": "OK"}`),
 * with `X-Discourse-Event` (topic_created, post_created, …), `X-Discourse-Event-Type` (topic, post, ping),
 * `X-Discourse-Event-Id`, `X-Discourse-Instance`, and, when the webhook has a secret,
 * `X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256 of the body>`. Only the body is signed: the headers say
 * nothing a forger could not write, so every decision here reads the body.
 */

const SIGNATURE = /^sha256=([0-9a-f]{64})$/;

/** True only when `header` is the HMAC-SHA256 of exactly these bytes under `secret`, compared in constant time. */
export function verifyDiscourseSignature(secret: string, body: Uint8Array, header: string | string[] | undefined): boolean {
  if (!secret) throw new TypeError('verifyDiscourseSignature: the webhook secret is empty; refuse to start without one');
  const match = typeof header === 'string' ? SIGNATURE.exec(header) : null;
  if (!match || body.length === 0) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'));
}

/** What the signature covers, as a key: the same body delivered twice is the same delivery, whatever its headers say. */
export function deliveryKey(body: Uint8Array): string {
  return `discourse:${createHash('sha256').update(body).digest('hex')}`;
}

export type DiscourseEvent =
  | { kind: 'ping' }
  /** A topic appeared (created, or recovered after a deletion). */
  | { kind: 'topic'; name: string; topicId: number; categoryId?: number }
  /** A post was created; `post` is what the body says, which the signature vouches for. */
  | { kind: 'post'; name: string; post: SupportPost; categoryId?: number };

export type DiscourseEventParse = { event: DiscourseEvent; reason?: undefined } | { event: undefined; reason: string; malformed: boolean };

/** The events that bring a ticket or a post; the rest (edits, deletions, likes, users) change nothing here. */
const TOPIC_EVENTS = ['topic_created', 'topic_recovered'];
const POST_EVENTS = ['post_created'];

// Bounds well above Discourse's own (titles 255, max_post_length 32000 by default) keep a hostile body's
// megabyte strings out of the store, the logs and Slack.
const id = z.number().int().positive().max(2 ** 31);
const topicBody = z.object({
  topic: z.object({
    id,
    title: z.string().max(1000).optional(),
    category_id: id.nullable().optional(),
    archetype: z.string().max(40).optional(),
  }),
});
const postBody = z.object({
  post: z.object({
    id,
    topic_id: id,
    post_number: z.number().int().positive().max(2 ** 31),
    post_type: z.number().int().optional(),
    username: z.string().min(1).max(100),
    name: z.string().max(200).nullable().optional(),
    raw: z.string().max(200_000),
    created_at: z.string().max(64),
    category_id: id.nullable().optional(),
    topic_archetype: z.string().max(40).optional(),
  }),
});

/** Reads a verified body: which event it is, from the event name header and the body's own root key. */
export function parseDiscourseEvent(eventName: string | undefined, payload: unknown): DiscourseEventParse {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return malformed('the body is not a JSON object');
  const keys = Object.keys(payload);
  if (keys.length !== 1) return malformed(`the body has ${keys.length} root keys; Discourse sends exactly one (topic, post, ping, …)`);
  const type = keys[0]!;
  if (type === 'ping') return { event: { kind: 'ping' } };
  if (!eventName) return malformed('X-Discourse-Event is missing');
  if (!eventName.startsWith(`${type}_`)) return malformed(`X-Discourse-Event "${printable(eventName)}" is not a ${printable(type)} event`);
  if (type === 'topic') {
    if (!TOPIC_EVENTS.includes(eventName)) return skip(`${eventName} is not handled`);
    const parsed = topicBody.safeParse(payload);
    if (!parsed.success) return malformed(`${eventName}: ${describeIssues(parsed.error)}`);
    const topic = parsed.data.topic;
    if (topic.archetype && topic.archetype !== 'regular') return skip(`a ${topic.archetype} is never a ticket`);
    return { event: { kind: 'topic', name: eventName, topicId: topic.id, ...(topic.category_id ? { categoryId: topic.category_id } : {}) } };
  }
  if (type === 'post') {
    if (!POST_EVENTS.includes(eventName)) return skip(`${eventName} is not handled`);
    const parsed = postBody.safeParse(payload);
    if (!parsed.success) return malformed(`${eventName}: ${describeIssues(parsed.error)}`);
    const p = parsed.data.post;
    if (p.topic_archetype && p.topic_archetype !== 'regular') return skip(`a post in a ${p.topic_archetype} is never a ticket's`);
    const createdAt = new Date(p.created_at);
    if (Number.isNaN(createdAt.getTime())) return malformed(`${eventName}: post.created_at is not a time`);
    const post: SupportPost = {
      id: p.id,
      topicId: p.topic_id,
      postNumber: p.post_number,
      kind: postKindOf(p.post_type),
      username: p.username,
      ...(p.name ? { name: p.name } : {}),
      raw: p.raw,
      createdAt,
    };
    return { event: { kind: 'post', name: eventName, post, ...(p.category_id ? { categoryId: p.category_id } : {}) } };
  }
  return skip(`${printable(type)} events are not handled`);
}

function malformed(reason: string): DiscourseEventParse {
  return { event: undefined, reason, malformed: true };
}

function skip(reason: string): DiscourseEventParse {
  return { event: undefined, reason, malformed: false };
}

/** A header or key as it may go in a log line or an answer: printable, and short. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 60);
}
