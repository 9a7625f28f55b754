import { randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, type Transaction, sql } from 'kysely';
import type { Clock, PageStore } from '../../handlers/ports';
import type { NewNotification, NotificationReceipt, Page, PageNotification, PageSource } from '../../handlers/model/oncall';
import { type Database, type PageNotificationsTable, type PagesTable, fromStoredTime, toStoredTime } from './db';

/**
 * Pages and their outbox. A page's state and the notifications that state calls for are written in one
 * transaction, and every change is a compare-and-set on the page's version: of two replicas taking the same due
 * step, one writes and the other finds the page moved. Notifications are claimed before they are sent; one a
 * replica claimed and never reported on is claimed again after a while, so a crash loses nothing.
 */
export class SqlPageStore implements PageStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(page: Page, notifications: NewNotification[]): Promise<{ page: Page; created: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('pages')
        .values(pageRow(page))
        .onConflict((oc) => oc.columns(['source_kind', 'source_ref']).where('status', '<>', sql.lit('resolved')).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) {
        const open = await this.openIn(trx, page.source);
        if (!open) throw new Error(`page for ${page.source.kind}:${page.source.ref} neither created nor found`);
        return { page: open, created: false };
      }
      await this.queue(trx, page.id, page.createdAt, notifications);
      return { page, created: true };
    });
  }

  async get(id: string): Promise<Page | undefined> {
    const row = await this.db.selectFrom('pages').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toPage(row);
  }

  async openBySource(source: PageSource): Promise<Page | undefined> {
    return this.openIn(this.db, source);
  }

  private async openIn(db: Kysely<Database> | Transaction<Database>, source: PageSource): Promise<Page | undefined> {
    const row = await db
      .selectFrom('pages')
      .selectAll()
      .where('source_kind', '=', source.kind)
      .where('source_ref', '=', source.ref)
      .where('status', '<>', 'resolved')
      .executeTakeFirst();
    return row && toPage(row);
  }

  async open(limit = 100): Promise<Page[]> {
    const rows = await this.db.selectFrom('pages').selectAll().where('status', '<>', 'resolved').orderBy('created_at').limit(limit).execute();
    return rows.map(toPage);
  }

  async transition(id: string, version: number, next: Omit<Page, 'version'>, notifications: NewNotification[]): Promise<Page | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const { id: _id, ...values } = pageRow({ ...next, version: version + 1 });
      const row = await trx.updateTable('pages').set(values).where('id', '=', id).where('version', '=', version).returningAll().executeTakeFirst();
      if (!row) return undefined;
      await this.queue(trx, id, this.clock.now(), notifications);
      return toPage(row);
    });
  }

  async due(now: Date, limit = 50): Promise<Page[]> {
    const rows = await this.db
      .selectFrom('pages')
      .selectAll()
      .where('next_at', 'is not', null)
      .where('next_at', '<=', toStoredTime(now))
      .where('status', '<>', 'resolved')
      .orderBy('next_at')
      .limit(limit)
      .execute();
    return rows.map(toPage);
  }

  async claim(owner: string, now: Date, staleBefore: Date, limit = 50): Promise<PageNotification[]> {
    const nowText = toStoredTime(now);
    const candidates = await this.db
      .selectFrom('page_notifications')
      .select(['id', 'claimed_at'])
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('not_before', 'is', null), eb('not_before', '<=', nowText)]))
      .where((eb) => eb.or([eb('claimed_at', 'is', null), eb('claimed_at', '<', toStoredTime(staleBefore))]))
      .orderBy('created_at')
      .limit(limit)
      .execute();
    const claimed: PageNotification[] = [];
    for (const c of candidates) {
      // Conditional on the claim we saw: of two replicas, one takes each notification.
      let update = this.db.updateTable('page_notifications').set({ claimed_by: owner, claimed_at: nowText }).where('id', '=', c.id).where('status', '=', 'pending');
      update = c.claimed_at === null ? update.where('claimed_at', 'is', null) : update.where('claimed_at', '=', c.claimed_at);
      const row = await update.returningAll().executeTakeFirst();
      if (row) claimed.push(toNotification(row));
    }
    return claimed;
  }

  async markSent(id: string, receipt: NotificationReceipt | undefined, at: Date): Promise<void> {
    await this.db
      .updateTable('page_notifications')
      .set((eb) => ({ status: 'sent', sent_at: toStoredTime(at), receipt: receipt ? JSON.stringify(receipt) : null, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .execute();
  }

  async markFailed(id: string, error: string, at: Date, retryAt?: Date): Promise<void> {
    await this.db
      .updateTable('page_notifications')
      .set((eb) => ({
        status: retryAt ? 'pending' : 'failed',
        not_before: retryAt ? toStoredTime(retryAt) : null,
        claimed_by: null,
        claimed_at: null,
        error: error.slice(0, 500),
        attempts: eb('attempts', '+', 1),
        sent_at: retryAt ? null : toStoredTime(at),
      }))
      .where('id', '=', id)
      .execute();
  }

  async receipts(pageId: string): Promise<NotificationReceipt[]> {
    const rows = await this.db
      .selectFrom('page_notifications')
      .select('receipt')
      .where('page_id', '=', pageId)
      .where('status', '=', 'sent')
      .where('receipt', 'is not', null)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => JSON.parse(r.receipt!) as NotificationReceipt);
  }

  private async queue(trx: Transaction<Database>, pageId: string, at: Date, notifications: NewNotification[]): Promise<void> {
    if (notifications.length === 0) return;
    const base = at.getTime();
    await trx
      .insertInto('page_notifications')
      .values(
        notifications.map((n, i) => ({
          id: randomUUID(),
          page_id: pageId,
          kind: n.kind,
          to_address: n.to ? JSON.stringify(n.to) : null,
          reason: n.reason,
          status: 'pending',
          attempts: 0,
          // A millisecond apart, so they are sent in the order the step listed them.
          created_at: toStoredTime(new Date(base + i)),
          not_before: null,
          claimed_by: null,
          claimed_at: null,
          sent_at: null,
          receipt: null,
          error: null,
        })),
      )
      .execute();
  }
}

function pageRow(p: Page): PagesTable {
  return {
    id: p.id,
    source_kind: p.source.kind,
    source_ref: p.source.ref,
    target: JSON.stringify(p.target),
    summary: p.summary,
    raised_by: p.raisedBy,
    request_id: p.requestId,
    channel: p.channel,
    policy: p.policy,
    status: p.status,
    step: p.step,
    repeats: p.repeats,
    responders: JSON.stringify(p.responders),
    everyone: p.everyone ? 1 : 0,
    created_at: toStoredTime(p.createdAt),
    acknowledged_at: p.acknowledgedAt ? toStoredTime(p.acknowledgedAt) : null,
    acknowledged_by: p.acknowledgedBy ?? null,
    resolved_at: p.resolvedAt ? toStoredTime(p.resolvedAt) : null,
    resolved_by: p.resolvedBy ?? null,
    next_at: p.nextAt ? toStoredTime(p.nextAt) : null,
    version: p.version,
  };
}

function toPage(row: Selectable<PagesTable>): Page {
  return {
    id: row.id,
    source: { kind: row.source_kind as PageSource['kind'], ref: row.source_ref },
    target: JSON.parse(row.target) as Page['target'],
    summary: row.summary,
    raisedBy: row.raised_by,
    requestId: row.request_id,
    channel: row.channel,
    policy: row.policy,
    status: row.status as Page['status'],
    step: Number(row.step),
    repeats: Number(row.repeats),
    responders: JSON.parse(row.responders) as string[],
    everyone: Number(row.everyone) === 1,
    createdAt: fromStoredTime(row.created_at),
    ...(row.acknowledged_at ? { acknowledgedAt: fromStoredTime(row.acknowledged_at) } : {}),
    ...(row.acknowledged_by ? { acknowledgedBy: row.acknowledged_by } : {}),
    ...(row.resolved_at ? { resolvedAt: fromStoredTime(row.resolved_at) } : {}),
    ...(row.resolved_by ? { resolvedBy: row.resolved_by } : {}),
    ...(row.next_at ? { nextAt: fromStoredTime(row.next_at) } : {}),
    version: Number(row.version),
  };
}

function toNotification(row: Selectable<PageNotificationsTable>): PageNotification {
  return {
    id: row.id,
    pageId: row.page_id,
    kind: row.kind as PageNotification['kind'],
    ...(row.to_address ? { to: JSON.parse(row.to_address) as PageNotification['to'] } : {}),
    reason: row.reason as PageNotification['reason'],
    status: row.status as PageNotification['status'],
    attempts: Number(row.attempts),
    createdAt: fromStoredTime(row.created_at),
    ...(row.not_before ? { notBefore: fromStoredTime(row.not_before) } : {}),
    ...(row.receipt ? { receipt: JSON.parse(row.receipt) as NotificationReceipt } : {}),
  };
}
