import { type Kysely, type Migration, sql } from 'kysely';
import { type StoreDialect } from '../db';

/** The audit log, stack locks and scheduler leases. */
export function initialSchema(dialect: StoreDialect): Migration {
  // Stored times are compared and sorted as text; on PostgreSQL that must be byte order, not the locale's.
  const time = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('audit_log')
        .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (col) =>
          // SQLite's AUTOINCREMENT never reuses an id, so id order stays insertion order.
          dialect === 'postgres' ? col.primaryKey().generatedAlwaysAsIdentity() : col.primaryKey().autoIncrement(),
        )
        .addColumn('at', time, (col) => col.notNull())
        .addColumn('request_id', 'text', (col) => col.notNull())
        .addColumn('actor', 'text', (col) => col.notNull())
        .addColumn('action', 'text', (col) => col.notNull())
        .addColumn('target', 'text', (col) => col.notNull())
        .addColumn('outcome', 'text', (col) => col.notNull())
        .addColumn('detail', 'text', (col) => col.notNull().defaultTo('{}'))
        .execute();
      // Each index matches one query shape of AuditLog.query, newest first: by target, by request, unfiltered.
      await db.schema.createIndex('audit_log_target_at').on('audit_log').columns(['target', 'at', 'id']).execute();
      await db.schema.createIndex('audit_log_request_id').on('audit_log').columns(['request_id', 'at', 'id']).execute();
      await db.schema.createIndex('audit_log_at').on('audit_log').columns(['at', 'id']).execute();

      await db.schema
        .createTable('stack_locks')
        .addColumn('stack', 'text', (col) => col.primaryKey())
        .addColumn('holder', 'text', (col) => col.notNull())
        .addColumn('purpose', 'text', (col) => col.notNull())
        .addColumn('request_id', 'text', (col) => col.notNull())
        .addColumn('owner', 'text', (col) => col.notNull())
        .addColumn('acquired_at', time, (col) => col.notNull())
        .addColumn('heartbeat_at', time, (col) => col.notNull())
        .execute();

      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (col) => col.primaryKey())
        .addColumn('owner', 'text', (col) => col.notNull())
        .addColumn('expires_at', time, (col) => col.notNull())
        .execute();
    },
    // No `down`: rolling back a release must never drop the audit log. Schema changes go forward only.
  };
}
