import { type Kysely, type Migration, sql } from 'kysely';
import { type StoreDialect } from '../db';

/** Deploy plans, restore drill results, incidents as other capabilities see them, and Slack delivery keys. */
export function deploysSchema(dialect: StoreDialect): Migration {
  // Defined here rather than shared with 0001: a released migration must never change because a helper did.
  const time = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  // PostgreSQL's `real` is single precision and would round an RTO; SQLite's REAL is already a double.
  const seconds = dialect === 'postgres' ? 'double precision' : 'real';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('deploy_plans')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('stack', 'text', (col) => col.notNull())
        .addColumn('requested_by', 'text', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('created_at', time, (col) => col.notNull())
        .addColumn('updated_at', time, (col) => col.notNull())
        .addColumn('preview', 'text', (col) => col.notNull())
        .addColumn('risk', 'text', (col) => col.notNull())
        .addColumn('confirmed_by', 'text')
        .addColumn('approved_by', 'text')
        .addColumn('freeze_override', 'text')
        .addColumn('message', 'text')
        .addColumn('result', 'text')
        .execute();
      // byStack asks for a few statuses of one stack ("is a plan already waiting?"); with the status in the
      // key, the many finished plans of a long-lived stack are never read for it.
      await db.schema.createIndex('deploy_plans_stack_status_created_at').on('deploy_plans').columns(['stack', 'status', 'created_at']).execute();

      await db.schema
        .createTable('drill_runs')
        .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (col) =>
          dialect === 'postgres' ? col.primaryKey().generatedAlwaysAsIdentity() : col.primaryKey().autoIncrement(),
        )
        .addColumn('stack', 'text', (col) => col.notNull())
        .addColumn('request_id', 'text', (col) => col.notNull())
        .addColumn('started_at', time, (col) => col.notNull())
        .addColumn('finished_at', time, (col) => col.notNull())
        .addColumn('outcome', 'text', (col) => col.notNull())
        .addColumn('rto_seconds', seconds)
        .addColumn('rpo_seconds', seconds)
        .execute();
      await db.schema.createIndex('drill_runs_stack_finished_at').on('drill_runs').columns(['stack', 'finished_at', 'id']).execute();

      await db.schema
        .createTable('incidents')
        // int4 on PostgreSQL, because node-pg hands a bigint back as a string and this number is read and shown.
        // Neither an identity nor SQLite's AUTOINCREMENT reuses a number, so "INC-12" always means one incident.
        .addColumn('id', 'integer', (col) =>
          dialect === 'postgres' ? col.primaryKey().generatedAlwaysAsIdentity() : col.primaryKey().autoIncrement(),
        )
        .addColumn('severity', 'text', (col) => col.notNull())
        .addColumn('title', 'text', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('stacks', 'text', (col) => col.notNull().defaultTo('[]'))
        .addColumn('opened_at', time, (col) => col.notNull())
        .addColumn('opened_by', 'text', (col) => col.notNull())
        .addColumn('resolved_at', time)
        .addColumn('closed_at', time)
        .execute();
      // No index beyond the key: "open incidents" is a NOT IN over the status, which no plain index serves, and
      // the table holds a team's incidents (hundreds over years), which a scan reads in well under a millisecond.

      await db.schema
        .createTable('deliveries')
        .addColumn('key', 'text', (col) => col.primaryKey())
        .addColumn('expires_at', time, (col) => col.notNull())
        .execute();
      // Serves the periodic purge of expired keys (see SqlDeliveryLog).
      await db.schema.createIndex('deliveries_expires_at').on('deliveries').column('expires_at').execute();
    },
    // Forward only, like 0001.
  };
}
