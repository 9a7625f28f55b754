import { type ColumnDefinitionBuilder, type Kysely, type Migration, sql } from 'kysely';
import { type StoreDialect } from '../db';

/**
 * The incident capability's own record (roles, channel, public or not, what customers were last told), its
 * timeline, and the forum outbox: every write to the status forum, queued in the same transaction as the change
 * that makes it and delivered in order per stream. The outbox is not the incidents' alone: tickets write there too.
 */
export function incidentsSchema(dialect: StoreDialect): Migration {
  // Defined here rather than shared: a released migration must never change because a helper did.
  const time = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  // Neither an identity nor SQLite's AUTOINCREMENT reuses a number, so id order stays insertion order.
  const identity = (col: ColumnDefinitionBuilder) => (dialect === 'postgres' ? col.primaryKey().generatedAlwaysAsIdentity() : col.primaryKey().autoIncrement());
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const columns: Array<[string, 'text' | typeof time]> = [
        ['started_at', time],
        ['acknowledged_at', time],
        ['commander', 'text'],
        ['communications', 'text'],
        ['pending_commander', 'text'],
        ['customer_impact', 'text'],
        ['public_summary', 'text'],
        ['alert_group_id', 'text'],
        ['channel_id', 'text'],
        ['summary_ts', 'text'],
        ['last_public_update_at', time],
        ['reminded_at', time],
        ['forum_status', 'text'],
        ['updated_at', time],
      ];
      for (const [name, type] of columns) await db.schema.alterTable('incidents').addColumn(name, type).execute();
      await db.schema.alterTable('incidents').addColumn('components', 'text', (col) => col.notNull().defaultTo('[]')).execute();
      // 0/1 on both dialects: one mapping in the repository, and `where is_public = 1` reads the same everywhere.
      await db.schema.alterTable('incidents').addColumn('is_public', 'integer', (col) => col.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('incidents').addColumn('version', 'integer', (col) => col.notNull().defaultTo(0)).execute();
      // Incidents opened before this migration: their declarer commands them and declaring acknowledged them.
      await sql`update incidents set started_at = opened_at, acknowledged_at = opened_at, commander = opened_by, updated_at = coalesce(resolved_at, opened_at) where started_at is null`.execute(db);
      await db.schema.createIndex('incidents_channel_id').on('incidents').column('channel_id').execute();
      // `incident list` and the MTTA/MTTR figures read the incidents declared since a date.
      await db.schema.createIndex('incidents_opened_at').on('incidents').columns(['opened_at', 'id']).execute();

      await db.schema
        .createTable('incident_timeline')
        .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', identity)
        .addColumn('incident_id', 'integer', (col) => col.notNull().references('incidents.id').onDelete('cascade'))
        .addColumn('at', time, (col) => col.notNull())
        .addColumn('kind', 'text', (col) => col.notNull())
        .addColumn('actor', 'text', (col) => col.notNull())
        .addColumn('text', 'text', (col) => col.notNull())
        .addColumn('visibility', 'text', (col) => col.notNull())
        .addColumn('detail', 'text', (col) => col.notNull().defaultTo('{}'))
        .execute();
      await db.schema.createIndex('incident_timeline_incident').on('incident_timeline').columns(['incident_id', 'at', 'id']).execute();

      await db.schema
        .createTable('forum_outbox')
        // The id is the delivery order within a stream: never reused, so a write queued later never jumps ahead.
        .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', identity)
        .addColumn('stream', 'text', (col) => col.notNull())
        .addColumn('kind', 'text', (col) => col.notNull())
        .addColumn('payload', 'text', (col) => col.notNull())
        // Put in every reply so a retry can find it on the forum: unique, so two writes never share one.
        .addColumn('marker', 'text', (col) => col.notNull().unique())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('created_at', time, (col) => col.notNull())
        .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
        // 1 from the moment a request is sent until its answer says it did not land: a retry checks first.
        .addColumn('in_doubt', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('first_attempt_at', time)
        .addColumn('next_attempt_at', time, (col) => col.notNull())
        .addColumn('claimed_by', 'text')
        .addColumn('claimed_until', time)
        .addColumn('last_error', 'text')
        .addColumn('delivered_at', time)
        .addColumn('result', 'text')
        .execute();
      // The worker reads the head of each stream with writes pending.
      await db.schema.createIndex('forum_outbox_pending').on('forum_outbox').columns(['status', 'stream', 'id']).execute();

      await db.schema
        .createTable('forum_topics')
        .addColumn('external_id', 'text', (col) => col.primaryKey())
        .addColumn('topic_id', 'integer', (col) => col.notNull())
        .addColumn('created_at', time, (col) => col.notNull())
        .execute();
    },
    // Forward only, like 0001.
  };
}
