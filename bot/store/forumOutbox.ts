import { randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, type Transaction } from 'kysely';
import type { ForumBacklog, ForumWrite, ForumWrites } from '../../handlers/forum';
import type { Clock } from '../../handlers/ports';
import { type Database, type ForumOutboxTable, fromStoredTime, toStoredTime } from './db';

/**
 * The store half of the forum outbox. A capability queues its writes with `enqueueForumWrites` inside the
 * transaction of its own change (so a change is never kept without its posts, nor the posts without the
 * change); the worker (bot/integrations/discourse/outbox.ts) takes the head of each stream, claims it, sends
 * it, and records what the forum answered.
 *
 * Exactly once rests on three facts kept here: a write is claimed by one worker at a time (the claim names the
 * attempt it expects, so a worker reading an old row never claims it); from the claim until an answer proves
 * otherwise the write is `in_doubt`, so whoever tries it next first looks on the forum; and a write is marked
 * delivered, with the topic it created, in one statement.
 */

export interface OutboxEntry {
  id: number;
  stream: string;
  write: ForumWrite;
  /** Put in the post as a hidden marker; unique to this write. */
  marker: string;
  createdAt: Date;
  /** Attempts so far (claims); the next claim expects exactly this number. */
  attempts: number;
  /** An earlier attempt may have landed: look before sending again. */
  inDoubt: boolean;
  firstAttemptAt?: Date;
  lastError?: string;
  nextAttemptAt: Date;
}

/** What the forum answered to a delivered write. */
export interface DeliveryResult {
  topicId?: number;
  postId?: number;
  /** True when the write was found already on the forum (a retry after a lost answer), not sent again. */
  found?: boolean;
}

/** Queues writes at the end of their stream, in the caller's transaction. */
export async function enqueueForumWrites(db: Kysely<Database> | Transaction<Database>, writes: ForumWrites, now: Date): Promise<void> {
  if (writes.writes.length === 0) return;
  const at = toStoredTime(now);
  await db
    .insertInto('forum_outbox')
    .values(
      writes.writes.map((write) => ({
        stream: writes.stream,
        kind: write.kind,
        payload: JSON.stringify(write),
        marker: randomUUID(),
        status: 'pending',
        created_at: at,
        next_attempt_at: at,
      })),
    )
    .execute();
}

export class SqlForumOutbox {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** Queues writes outside any other change (tests, and capabilities whose change is the write itself). */
  async enqueue(writes: ForumWrites): Promise<void> {
    await enqueueForumWrites(this.db, writes, this.clock.now());
  }

  /** The oldest pending write of each stream whose attempt is due and that nobody holds, soonest due first. */
  async dueHeads(limit = 20): Promise<OutboxEntry[]> {
    const now = toStoredTime(this.clock.now());
    const rows = await this.heads()
      .where('o.next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('o.claimed_until', 'is', null), eb('o.claimed_until', '<', now)]))
      .orderBy('o.next_attempt_at')
      .orderBy('o.id')
      .limit(limit)
      .execute();
    return rows.map(toEntry);
  }

  /** When the soonest head becomes due (now, when one already is); undefined when nothing is pending. */
  async nextDueAt(): Promise<Date | undefined> {
    const row = await this.heads().orderBy('o.next_attempt_at').limit(1).executeTakeFirst();
    if (!row) return undefined;
    const claimedUntil = row.claimed_until ? fromStoredTime(row.claimed_until) : undefined;
    const due = fromStoredTime(row.next_attempt_at);
    return claimedUntil && claimedUntil > due ? claimedUntil : due;
  }

  /**
   * Takes the write for one attempt until `until`: counts the attempt and marks it in doubt. Undefined when it is
   * no longer the entry read (delivered, attempted or claimed by someone else meanwhile).
   */
  async claim(entry: OutboxEntry, owner: string, until: Date): Promise<OutboxEntry | undefined> {
    const now = toStoredTime(this.clock.now());
    const row = await this.db
      .updateTable('forum_outbox')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        in_doubt: 1,
        first_attempt_at: eb.fn.coalesce('first_attempt_at', eb.val(now)),
        claimed_by: owner,
        claimed_until: toStoredTime(until),
      }))
      .where('id', '=', entry.id)
      .where('status', '=', 'pending')
      .where('attempts', '=', entry.attempts)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
      .returningAll()
      .executeTakeFirst();
    // What the caller needs is whether an earlier attempt may have landed: the row as it was before this claim.
    return row && { ...toEntry(row), inDoubt: entry.inDoubt };
  }

  /** Records the forum's answer, and the topic a creation made, in one transaction. False when the claim was lost. */
  async delivered(entry: OutboxEntry, owner: string, result: DeliveryResult): Promise<boolean> {
    const now = toStoredTime(this.clock.now());
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('forum_outbox')
        .set({ status: 'delivered', delivered_at: now, result: JSON.stringify(result), in_doubt: 0, claimed_by: null, claimed_until: null, last_error: null })
        .where('id', '=', entry.id)
        .where('claimed_by', '=', owner)
        .where('status', '=', 'pending')
        .returning('id')
        .executeTakeFirst();
      if (!updated) return false;
      if (entry.write.kind === 'topic.create' && result.topicId !== undefined) {
        await trx
          .insertInto('forum_topics')
          .values({ external_id: entry.write.externalId, topic_id: result.topicId, created_at: now })
          .onConflict((oc) => oc.column('external_id').doUpdateSet({ topic_id: result.topicId! }))
          .execute();
      }
      return true;
    });
  }

  /** Gives the write back for a later attempt; `inDoubt` false only when the answer proved nothing landed. */
  async failed(entry: OutboxEntry, owner: string, outcome: { nextAttemptAt: Date; error: string; inDoubt: boolean }): Promise<void> {
    await this.db
      .updateTable('forum_outbox')
      .set({ in_doubt: outcome.inDoubt ? 1 : 0, next_attempt_at: toStoredTime(outcome.nextAttemptAt), last_error: outcome.error.slice(0, 500), claimed_by: null, claimed_until: null })
      .where('id', '=', entry.id)
      .where('claimed_by', '=', owner)
      .where('status', '=', 'pending')
      .execute();
  }

  /** The topic Cockpit created with this external id, when it knows it. */
  async knownTopic(externalId: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('forum_topics').select('topic_id').where('external_id', '=', externalId).executeTakeFirst();
    return row?.topic_id;
  }

  /** Remembers a topic found on the forum (a creation whose answer was lost). */
  async rememberTopic(externalId: string, topicId: number): Promise<void> {
    await this.db
      .insertInto('forum_topics')
      .values({ external_id: externalId, topic_id: topicId, created_at: toStoredTime(this.clock.now()) })
      .onConflict((oc) => oc.column('external_id').doUpdateSet({ topic_id: topicId }))
      .execute();
  }

  /** The latest delivered post of a stream before this write: the retry's search for a lost reply starts after it. */
  async lastDeliveredPost(stream: string, before: number): Promise<number | undefined> {
    const rows = await this.db
      .selectFrom('forum_outbox')
      .select('result')
      .where('stream', '=', stream)
      .where('status', '=', 'delivered')
      .where('id', '<', before)
      .where('kind', 'in', ['post.reply', 'topic.create'])
      .orderBy('id', 'desc')
      .limit(1)
      .execute();
    const result = rows[0]?.result ? (JSON.parse(rows[0].result) as DeliveryResult) : undefined;
    return result?.postId;
  }

  async backlog(stream: string): Promise<ForumBacklog> {
    const rows = await this.db.selectFrom('forum_outbox').selectAll().where('stream', '=', stream).where('status', '=', 'pending').orderBy('id').execute();
    const head = rows[0];
    if (!head) return { pending: 0 };
    return {
      pending: rows.length,
      oldestAt: fromStoredTime(head.created_at),
      nextAttemptAt: fromStoredTime(head.next_attempt_at),
      ...(head.last_error ? { lastError: head.last_error } : {}),
    };
  }

  /** Writes pending over every stream and the age of the oldest, for /metrics. */
  async totals(): Promise<{ pending: number; oldestAt?: Date }> {
    const row = await this.db
      .selectFrom('forum_outbox')
      .select((eb) => [eb.fn.countAll<number | string>().as('pending'), eb.fn.min('created_at').as('oldest')])
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    const oldest = row.oldest as string | null;
    return { pending: Number(row.pending), ...(oldest ? { oldestAt: fromStoredTime(oldest) } : {}) };
  }

  /** Every write of a stream, oldest first (tests, and `incident show`'s backlog). */
  async stream(stream: string): Promise<Array<OutboxEntry & { status: string; deliveredAt?: Date; result?: DeliveryResult }>> {
    const rows = await this.db.selectFrom('forum_outbox').selectAll().where('stream', '=', stream).orderBy('id').execute();
    return rows.map((row) => ({
      ...toEntry(row),
      status: row.status,
      ...(row.delivered_at ? { deliveredAt: fromStoredTime(row.delivered_at) } : {}),
      ...(row.result ? { result: JSON.parse(row.result) as DeliveryResult } : {}),
    }));
  }

  private heads() {
    return this.db
      .selectFrom('forum_outbox as o')
      .selectAll('o')
      .where('o.status', '=', 'pending')
      .where('o.id', '=', (eb) =>
        eb
          .selectFrom('forum_outbox as p')
          .select((p) => p.fn.min('p.id').as('head'))
          .whereRef('p.stream', '=', 'o.stream')
          .where('p.status', '=', 'pending'),
      );
  }
}

function toEntry(row: Selectable<ForumOutboxTable>): OutboxEntry {
  return {
    id: Number(row.id),
    stream: row.stream,
    write: JSON.parse(row.payload) as ForumWrite,
    marker: row.marker,
    createdAt: fromStoredTime(row.created_at),
    attempts: row.attempts,
    inDoubt: row.in_doubt === 1,
    ...(row.first_attempt_at ? { firstAttemptAt: fromStoredTime(row.first_attempt_at) } : {}),
    ...(row.last_error ? { lastError: row.last_error } : {}),
    nextAttemptAt: fromStoredTime(row.next_attempt_at),
  };
}
