import { type Kysely, type Selectable, type Updateable } from 'kysely';
import type { ForumBacklog, ForumWrite } from '../../handlers/forum';
import type { OnCallLevel } from '../../handlers/model/oncall';
import type { Clock, TicketRecords } from '../../handlers/ports';
import { isTicketStatus, ticketStream, type TicketStatus } from '../../handlers/ticketModel';
import type { NewTicketRecord, TicketPatch, TicketRecord } from '../../handlers/model/tickets';
import { type Database, type TicketsTable, fromStoredTime, toStoredTime } from './db';
import { enqueueForumWrites, SqlForumOutbox } from './forumOutbox';

/**
 * Support tickets as their capability keeps them. A ticket is created once (the webhook and the sweep may race
 * on a new topic: one insert wins, and only it queues the topic's first tag); a person's change applies to the
 * version they read, with its forum writes, in one transaction. What replicas race on besides (posting the Slack
 * message, relaying a customer's posts, paging) is a compare-and-set of its own column.
 */
export class SqlTicketRecords implements TicketRecords {
  private readonly outbox: SqlForumOutbox;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {
    this.outbox = new SqlForumOutbox(db, clock);
  }

  async create(ticket: NewTicketRecord, writes: ForumWrite[]): Promise<{ ticket: TicketRecord; created: boolean }> {
    const now = this.clock.now();
    const at = toStoredTime(now);
    const inserted = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('tickets')
        .values({ ...columnsOf(ticket), topic_id: ticket.topicId, created_at: at, updated_at: at } as never)
        .onConflict((oc) => oc.column('topic_id').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (row) await enqueueForumWrites(trx, { stream: ticketStream(ticket.topicId), writes }, now);
      return row;
    });
    if (inserted) return { ticket: toRecord(inserted), created: true };
    const existing = await this.get(ticket.topicId);
    if (!existing) throw new Error(`ticket ${ticket.topicId} was neither inserted nor found`);
    return { ticket: existing, created: false };
  }

  async get(topicId: number): Promise<TicketRecord | undefined> {
    const row = await this.db.selectFrom('tickets').selectAll().where('topic_id', '=', topicId).executeTakeFirst();
    return row && toRecord(row);
  }

  async change(topicId: number, version: number, patch: TicketPatch, writes: ForumWrite[]): Promise<TicketRecord | undefined> {
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('tickets')
        .set((eb) => ({ ...columnsOf(patch), version: eb('version', '+', 1), updated_at: toStoredTime(now) }))
        .where('topic_id', '=', topicId)
        .where('version', '=', version)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await enqueueForumWrites(trx, { stream: ticketStream(topicId), writes }, now);
      return toRecord(row);
    });
  }

  async list(query: { statuses?: readonly TicketStatus[]; incidentId?: number; limit?: number } = {}): Promise<TicketRecord[]> {
    let select = this.db.selectFrom('tickets').selectAll();
    if (query.statuses) select = select.where('status', 'in', query.statuses.length > 0 ? [...query.statuses] : ['-']);
    if (query.incidentId !== undefined) select = select.where('incident_id', '=', query.incidentId);
    const rows = await select
      .orderBy('opened_at')
      .orderBy('topic_id')
      .limit(Math.min(1000, Math.max(1, query.limit ?? 200)))
      .execute();
    return rows.map(toRecord);
  }

  async claimPage(topicId: number, at: Date): Promise<boolean> {
    const row = await this.db
      .updateTable('tickets')
      .set({ paged_at: toStoredTime(at) })
      .where('topic_id', '=', topicId)
      .where('status', '=', 'new')
      .where('paged_at', 'is', null)
      .returning('topic_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async claimPost(topicId: number, owner: string, at: Date, staleBefore: Date): Promise<boolean> {
    const row = await this.db
      .updateTable('tickets')
      .set({ post_claimed_by: owner, post_claimed_at: toStoredTime(at) })
      .where('topic_id', '=', topicId)
      .where('message_ts', 'is', null)
      .where((eb) => eb.or([eb('post_claimed_at', 'is', null), eb('post_claimed_at', '<', toStoredTime(staleBefore))]))
      .returning('topic_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async setMessage(topicId: number, message: { channel: string; ts: string }): Promise<void> {
    await this.db.updateTable('tickets').set({ message_channel: message.channel, message_ts: message.ts }).where('topic_id', '=', topicId).execute();
  }

  async releasePost(topicId: number): Promise<void> {
    await this.db.updateTable('tickets').set({ post_claimed_by: null, post_claimed_at: null }).where('topic_id', '=', topicId).where('message_ts', 'is', null).execute();
  }

  async claimPosts(topicId: number, from: number, to: number): Promise<boolean> {
    if (to <= from) return false;
    const row = await this.db
      .updateTable('tickets')
      .set({ last_post_number: to })
      .where('topic_id', '=', topicId)
      .where('last_post_number', '=', from)
      .returning('topic_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async releasePosts(topicId: number, to: number, from: number): Promise<void> {
    await this.db.updateTable('tickets').set({ last_post_number: from }).where('topic_id', '=', topicId).where('last_post_number', '=', to).execute();
  }

  async forumBacklog(topicId: number): Promise<ForumBacklog> {
    return this.outbox.backlog(ticketStream(topicId));
  }
}

const time = (date: Date | null | undefined) => (date ? toStoredTime(date) : null);

/** The columns a new ticket or a patch sets; keys absent from the input are left out. */
function columnsOf(values: Partial<NewTicketRecord> | TicketPatch): Updateable<TicketsTable> {
  const v = values as Partial<NewTicketRecord> & { assignee?: string | null; resolvedAt?: Date | null; incidentId?: number | null };
  const columns: Updateable<TicketsTable> = {};
  if (v.title !== undefined) columns.title = v.title;
  if (v.customer !== undefined) {
    columns.customer_username = v.customer.username;
    columns.customer_name = v.customer.name ?? null;
  }
  if (v.excerpt !== undefined) columns.excerpt = v.excerpt;
  if (v.priority !== undefined) columns.priority = v.priority;
  if (v.status !== undefined) columns.status = v.status;
  if (v.level !== undefined) columns.level = v.level;
  if ('assignee' in v) columns.assignee = v.assignee ?? null;
  if (v.components !== undefined) columns.components = JSON.stringify(v.components);
  if (v.mentions !== undefined) columns.mentions = JSON.stringify(v.mentions);
  if (v.openedAt !== undefined) columns.opened_at = toStoredTime(v.openedAt);
  if (v.dueAt !== undefined) columns.due_at = toStoredTime(v.dueAt);
  if (v.takenAt !== undefined) columns.taken_at = time(v.takenAt);
  if ('resolvedAt' in v) columns.resolved_at = time(v.resolvedAt);
  if (v.statusChangedAt !== undefined) columns.status_changed_at = toStoredTime(v.statusChangedAt);
  if (v.lastPostNumber !== undefined) columns.last_post_number = v.lastPostNumber;
  if ('incidentId' in v) columns.incident_id = v.incidentId ?? null;
  if (v.pagedAt !== undefined) columns.paged_at = time(v.pagedAt);
  if (v.message !== undefined) {
    columns.message_channel = v.message.channel;
    columns.message_ts = v.message.ts;
  }
  return columns;
}

function toRecord(row: Selectable<TicketsTable>): TicketRecord {
  if (!isTicketStatus(row.status)) throw new Error(`ticket ${row.topic_id} has an unknown status "${row.status}"`);
  return {
    topicId: row.topic_id,
    title: row.title,
    customer: { username: row.customer_username, ...(row.customer_name ? { name: row.customer_name } : {}) },
    excerpt: row.excerpt,
    priority: row.priority,
    status: row.status,
    level: row.level as OnCallLevel,
    ...(row.assignee ? { assignee: row.assignee } : {}),
    components: JSON.parse(row.components) as string[],
    mentions: JSON.parse(row.mentions) as number[],
    openedAt: fromStoredTime(row.opened_at),
    dueAt: fromStoredTime(row.due_at),
    ...(row.taken_at ? { takenAt: fromStoredTime(row.taken_at) } : {}),
    ...(row.resolved_at ? { resolvedAt: fromStoredTime(row.resolved_at) } : {}),
    statusChangedAt: fromStoredTime(row.status_changed_at),
    lastPostNumber: row.last_post_number,
    ...(row.message_channel && row.message_ts ? { message: { channel: row.message_channel, ts: row.message_ts } } : {}),
    ...(row.incident_id !== null ? { incidentId: row.incident_id } : {}),
    ...(row.paged_at ? { pagedAt: fromStoredTime(row.paged_at) } : {}),
    version: row.version,
    updatedAt: fromStoredTime(row.updated_at),
  };
}
