import { type Kysely, type Migration, sql } from 'kysely';
import { type StoreDialect } from '../db';

/**
 * What a restore drill keeps beyond its outcome: what started it, on which cluster, why it failed, its steps and
 * logs (one JSON column: read whole, never queried into), and every marker it planted in a live datastore. A
 * marker is kept the moment it is planted, whatever the drill does next: the datastore holds it from then on,
 * so any later backup must restore it.
 */
export function drillsSchema(dialect: StoreDialect): Migration {
  // Defined here rather than shared: a released migration must never change because a helper did.
  const time = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('drill_runs').addColumn('trigger', 'text').execute();
      await db.schema.alterTable('drill_runs').addColumn('cluster', 'text').execute();
      await db.schema.alterTable('drill_runs').addColumn('reason', 'text').execute();
      await db.schema.alterTable('drill_runs').addColumn('detail', 'text').execute();
      // "Show logs" and the PR gate find a drill by the request id its messages carry.
      await db.schema.createIndex('drill_runs_request_id').on('drill_runs').column('request_id').execute();

      await db.schema
        .createTable('drill_markers')
        .addColumn('request_id', 'text', (col) => col.primaryKey())
        .addColumn('stack', 'text', (col) => col.notNull())
        .addColumn('value', 'text', (col) => col.notNull())
        .addColumn('planted_at', time, (col) => col.notNull())
        .execute();
      // markerBefore: the newest marker of one stack planted before a backup's time.
      await db.schema.createIndex('drill_markers_stack_planted_at').on('drill_markers').columns(['stack', 'planted_at']).execute();
    },
    // Forward only, like 0001.
  };
}
