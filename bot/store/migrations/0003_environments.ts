import { type Kysely, type Migration, sql } from 'kysely';
import { type StoreDialect } from '../db';

/** Ephemeral and scheduled stacks: whether each is up, and when Cockpit tears it down. */
export function environmentsSchema(dialect: StoreDialect): Migration {
  // Defined here rather than shared: a released migration must never change because a helper did.
  const time = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('environments')
        .addColumn('stack', 'text', (col) => col.primaryKey())
        .addColumn('state', 'text', (col) => col.notNull().check(sql`state in ('up', 'down')`))
        .addColumn('expires_at', time)
        .addColumn('warned_at', time)
        .addColumn('up_by', 'text', (col) => col.notNull())
        .addColumn('updated_at', time, (col) => col.notNull())
        .execute();
      // No index beyond the key: one row per stack Cockpit brings up, read whole every minute by the sweep.
    },
    // Forward only, like 0001.
  };
}
