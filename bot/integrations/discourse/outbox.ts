import type { ForumTopicRef, ForumWrite } from '../../../handlers/forum';
import type { Clock, Logger } from '../../../handlers/ports';
import type { Leases } from '../../scheduler/leases';
import type { DeliveryResult, OutboxEntry, SqlForumOutbox } from '../../store/forumOutbox';
import { DiscourseError, type DiscourseApi } from './client';

/**
 * Delivers the forum outbox: the oldest pending write of each stream, one at a time, through the Discourse
 * client (which keeps to the key's rate). A write is never posted twice and never lost:
 *
 * - it is claimed before it is sent and stays "in doubt" until an answer proves it did not land (a 429, a 4xx);
 *   a crash, a timeout or a 5xx leaves it in doubt;
 * - a write in doubt is looked for on the forum before it is sent again: a topic by the external id it was
 *   created with, a reply by the hidden marker every reply carries (`<!-- cockpit:<uuid> -->`);
 * - tag changes and closing are idempotent, and are read back before being repeated;
 * - a failure keeps the write at the head of its stream, so later writes of that topic wait behind it, and it is
 *   retried with exponential backoff (or after the wait a 429 asked for), forever: a write that keeps failing
 *   shows in `incident show` and in /metrics rather than disappearing.
 *
 * One replica delivers at a time (a lease); the claim makes even an overlap at lease handover harmless.
 */

export interface OutboxTiming {
  /** How long a claim holds: longer than a request's timeout plus the checks before it. */
  claimMs: number;
  /** First retry after an error; doubled per attempt, with ±20 % jitter. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** How often an idle worker looks for writes queued by other replicas. */
  idleMs: number;
  leaseMs: number;
}

export const DEFAULT_OUTBOX_TIMING: OutboxTiming = { claimMs: 2 * 60_000, baseBackoffMs: 2_000, maxBackoffMs: 15 * 60_000, idleMs: 5_000, leaseMs: 60_000 };

export const OUTBOX_LEASE = 'forum.outbox';

export type DeliveryOutcome = 'delivered' | 'found' | 'failed' | 'rate_limited';

export interface OutboxWorkerDeps {
  outbox: Pick<SqlForumOutbox, 'dueHeads' | 'nextDueAt' | 'claim' | 'delivered' | 'failed' | 'knownTopic' | 'rememberTopic' | 'lastDeliveredPost'>;
  forum: DiscourseApi;
  clock: Clock;
  log: Logger;
  /** This replica's id: on claims and the lease. */
  owner: string;
  /** With leases, only the replica holding the outbox's lease delivers. */
  leases?: Leases;
  random?: () => number;
  timing?: Partial<OutboxTiming>;
  /** Told of every attempt's outcome (metrics). */
  onOutcome?(write: ForumWrite, outcome: DeliveryOutcome): void;
  /** Told of every delivered write, with what the forum answered (a topic's URL for the channel, say). */
  onDelivered?(entry: OutboxEntry, result: DeliveryResult): void | Promise<void>;
}

/** The comment a reply carries; Discourse keeps it in the raw text and shows nothing of it. */
export const markerOf = (entry: Pick<OutboxEntry, 'marker'>) => `<!-- cockpit:${entry.marker} -->`;

/** How many of a topic's newest posts a retry reads to find a reply whose answer was lost. */
const MARKER_SEARCH_DEPTH = 20;

/** An error during the look before sending: the earlier attempt's doubt stands. */
class CheckFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export class ForumOutboxWorker {
  private readonly timing: OutboxTiming;
  private readonly random: () => number;
  private stopped = true;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(private readonly deps: OutboxWorkerDeps) {
    this.timing = { ...DEFAULT_OUTBOX_TIMING, ...deps.timing };
    this.random = deps.random ?? Math.random;
  }

  /** Delivers every write that is due now, stream by stream, until none is; returns how many were delivered. */
  async deliverDue(): Promise<{ delivered: number; failed: number }> {
    let delivered = 0;
    let failed = 0;
    const failedThisRun = new Set<string>();
    while (!this.stopRequested()) {
      const heads = (await this.deps.outbox.dueHeads()).filter((h) => !failedThisRun.has(h.stream));
      if (heads.length === 0) break;
      for (const head of heads) {
        if (this.stopRequested()) break;
        if (this.deps.leases && !(await this.deps.leases.tryAcquire(OUTBOX_LEASE, this.deps.owner, this.timing.leaseMs))) return { delivered, failed };
        const outcome = await this.deliverOne(head);
        if (outcome === 'delivered') delivered += 1;
        if (outcome === 'failed') {
          failed += 1;
          failedThisRun.add(head.stream);
        }
      }
    }
    return { delivered, failed };
  }

  /** Runs the worker until `stop`: delivers what is due, then waits for the next due write or a `kick`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** A write was just queued on this replica: deliver it without waiting for the next poll. */
  kick(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    if (this.deps.leases) await this.deps.leases.release(OUTBOX_LEASE, this.deps.owner).catch(() => undefined);
  }

  private stopRequested(): boolean {
    return this.loop !== undefined && this.stopped;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let wait = this.timing.idleMs;
      try {
        await this.deliverDue();
        const next = await this.deps.outbox.nextDueAt();
        if (next) wait = Math.min(wait, Math.max(0, next.getTime() - this.deps.clock.now().getTime()));
      } catch (err) {
        this.deps.log.error({ err }, 'forum outbox: delivery pass failed');
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
  }

  private async deliverOne(head: OutboxEntry): Promise<'delivered' | 'failed' | 'skipped'> {
    const { outbox, clock, owner, log } = this.deps;
    const entry = await outbox.claim(head, owner, new Date(clock.now().getTime() + this.timing.claimMs));
    if (!entry) return 'skipped';
    const context = { outboxId: entry.id, stream: entry.stream, kind: entry.write.kind, attempt: entry.attempts };
    try {
      const result = await this.perform(entry);
      if (!(await outbox.delivered(entry, owner, result))) {
        log.warn(context, 'forum outbox: delivered, but the claim was taken over meanwhile');
        return 'skipped';
      }
      this.deps.onOutcome?.(entry.write, result.found ? 'found' : 'delivered');
      if (result.found) log.info(context, 'forum outbox: a retried write had landed already; not sent again');
      await Promise.resolve(this.deps.onDelivered?.(entry, result)).catch((err: unknown) => log.warn({ ...context, err }, 'forum outbox: after-delivery hook failed'));
      return 'delivered';
    } catch (caught) {
      const checking = caught instanceof CheckFailed;
      const err = checking ? caught.cause : caught;
      const error = err instanceof DiscourseError ? err : undefined;
      // Doubt clears only when this attempt sent the write and the answer proved it was refused.
      const inDoubt = checking ? entry.inDoubt : error ? error.mayHaveLanded : true;
      const now = clock.now().getTime();
      const rateLimited = error?.kind === 'rate_limited';
      const delay = rateLimited ? (error.retryAfterMs ?? this.timing.baseBackoffMs) : this.backoff(entry.attempts);
      const message = err instanceof Error ? err.message : String(err);
      await outbox.failed(entry, owner, { nextAttemptAt: new Date(now + delay), error: message, inDoubt });
      this.deps.onOutcome?.(entry.write, rateLimited ? 'rate_limited' : 'failed');
      log[rateLimited ? 'info' : 'warn']({ ...context, error: message, inDoubt, retryInMs: delay }, 'forum outbox: attempt failed, will retry');
      return 'failed';
    }
  }

  private backoff(attempts: number): number {
    const exponential = Math.min(this.timing.maxBackoffMs, this.timing.baseBackoffMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(exponential * (0.8 + 0.4 * this.random()));
  }

  private async perform(entry: OutboxEntry): Promise<DeliveryResult> {
    const { forum } = this.deps;
    const write = entry.write;
    switch (write.kind) {
      case 'topic.create': {
        if (entry.inDoubt) {
          const found = await check(() => forum.topicIdByExternalId(write.externalId));
          if (found !== undefined) {
            const topic = await check(() => forum.topic(found));
            return { topicId: found, ...(topic.postIds[0] !== undefined ? { postId: topic.postIds[0] } : {}), found: true };
          }
        }
        const created = await forum.createTopic({ title: write.title, raw: `${write.raw}\n\n${markerOf(entry)}`, categoryId: write.categoryId, externalId: write.externalId });
        return { topicId: created.topicId, postId: created.postId };
      }
      case 'post.reply': {
        const topicId = await check(() => this.topicOf(write.topic));
        if (entry.inDoubt) {
          const found = await check(() => this.findReply(topicId, entry));
          if (found !== undefined) return { topicId, postId: found, found: true };
        }
        const created = await forum.reply(topicId, `${write.raw}\n\n${markerOf(entry)}`);
        return { topicId, postId: created.postId };
      }
      case 'topic.tags': {
        const topicId = await check(() => this.topicOf(write.topic));
        const topic = await check(() => forum.topic(topicId));
        const tags = [...new Set([...topic.tags.filter((t) => !write.remove.includes(t)), ...write.add])];
        if (sameSet(tags, topic.tags)) return { topicId };
        await forum.setTags(topicId, tags);
        return { topicId };
      }
      case 'topic.closed': {
        const topicId = await check(() => this.topicOf(write.topic));
        // Closing twice adds a second "closed this topic" line to what customers read: look first.
        const topic = await check(() => forum.topic(topicId));
        if (topic.closed !== write.closed) await forum.setClosed(topicId, write.closed);
        return { topicId };
      }
      case 'topic.assign': {
        const topicId = await check(() => this.topicOf(write.topic));
        await forum.assign(topicId, write.username);
        return { topicId };
      }
    }
  }

  /** The topic's number: given, or the one Cockpit created with that external id (asked of the forum once). */
  private async topicOf(ref: ForumTopicRef): Promise<number> {
    if ('topicId' in ref) return ref.topicId;
    const known = await this.deps.outbox.knownTopic(ref.externalId);
    if (known !== undefined) return known;
    const found = await this.deps.forum.topicIdByExternalId(ref.externalId);
    // The creation comes first in its stream, so this only happens when someone deleted the topic on the forum.
    if (found === undefined) throw new DiscourseError('rejected', `no topic with external id ${ref.externalId} on the forum`, 404);
    await this.deps.outbox.rememberTopic(ref.externalId, found);
    return found;
  }

  /** The reply carrying this write's marker, among the topic's posts newer than the stream's last delivered one. */
  private async findReply(topicId: number, entry: OutboxEntry): Promise<number | undefined> {
    const { forum, outbox } = this.deps;
    const topic = await forum.topic(topicId);
    const after = await outbox.lastDeliveredPost(entry.stream, entry.id);
    const candidates = topic.postIds.filter((id) => after === undefined || id > after).slice(-MARKER_SEARCH_DEPTH).reverse();
    const marker = markerOf(entry);
    for (const id of candidates) {
      const post = await forum.post(id);
      if (post.username === forum.username && post.raw.includes(marker)) return id;
    }
    return undefined;
  }
}

async function check<T>(look: () => Promise<T>): Promise<T> {
  try {
    return await look();
  } catch (err) {
    throw new CheckFailed(err);
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
