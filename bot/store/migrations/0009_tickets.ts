import { type Kysely, type Migration, sql } from 'kysely';
import { type StoreDialect } from '../db';

/**
 * Support tickets: one row per customer topic of the forum's support category, keyed by the topic's number. Its
 * forum writes go to the forum outbox of 0007 (stream `topic:<id>`). The columns replicas race on (the Slack
 * message, the last post relayed, the page) are compare-and-set on their own, outside the row's version, so a
 * person's change and the relay of a customer's reply never conflict.
 */
export function ticketsSchema(dialect: StoreDialect): Migration {
  // Defined here rather than shared: a released migration must never change because a helper did.
  const time = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tickets')
        .addColumn('topic_id', 'integer', (col) => col.primaryKey())
        .addColumn('title', 'text', (col) => col.notNull())
        .addColumn('customer_username', 'text', (col) => col.notNull())
        .addColumn('customer_name', 'text')
        .addColumn('excerpt', 'text', (col) => col.notNull())
        .addColumn('priority', 'text', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('new', 'in-progress', 'waiting', 'resolved')`))
        .addColumn('level', 'text', (col) => col.notNull().check(sql`level in ('L1', 'L2', 'L3')`))
        .addColumn('assignee', 'text')
        // JSON arrays: component names, and incident numbers the customer named.
        .addColumn('components', 'text', (col) => col.notNull().defaultTo('[]'))
        .addColumn('mentions', 'text', (col) => col.notNull().defaultTo('[]'))
        .addColumn('opened_at', time, (col) => col.notNull())
        .addColumn('due_at', time, (col) => col.notNull())
        .addColumn('taken_at', time)
        .addColumn('resolved_at', time)
        .addColumn('status_changed_at', time, (col) => col.notNull())
        .addColumn('last_post_number', 'integer', (col) => col.notNull())
        .addColumn('message_channel', 'text')
        .addColumn('message_ts', 'text')
        .addColumn('post_claimed_by', 'text')
        .addColumn('post_claimed_at', time)
        .addColumn('incident_id', 'integer')
        .addColumn('paged_at', time)
        .addColumn('version', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('created_at', time, (col) => col.notNull())
        .addColumn('updated_at', time, (col) => col.notNull())
        .execute();
      // The queue and `ticket list`: open tickets by status, oldest first; the late job reads new ones by due time.
      await db.schema.createIndex('tickets_status_opened').on('tickets').columns(['status', 'opened_at']).execute();
      await db.schema.createIndex('tickets_status_due').on('tickets').columns(['status', 'due_at']).execute();
      // An incident's resolution reaches the tickets linked to it.
      await db.schema.createIndex('tickets_incident').on('tickets').column('incident_id').execute();
    },
    // Forward only, like 0001.
  };
}
