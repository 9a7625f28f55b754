import { type Kysely, type Migration, sql } from 'kysely';
import { type StoreDialect } from '../db';

/**
 * What the one policy needs kept: when a plan was confirmed (the approval window runs from there), where a plan
 * came from (a merged pull request), and the merges queued behind a busy stack.
 */
export function policySchema(dialect: StoreDialect): Migration {
  // Defined here rather than shared: a released migration must never change because a helper did.
  const time = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('deploy_plans').addColumn('confirmed_at', time).execute();
      await db.schema.alterTable('deploy_plans').addColumn('source', 'text').execute();
      // finishedSince and lastRun read one stack's plans by when they last changed, and purge all by it.
      await db.schema.createIndex('deploy_plans_stack_updated_at').on('deploy_plans').columns(['stack', 'updated_at']).execute();

      await db.schema
        .createTable('merge_queue')
        .addColumn('stack', 'text', (col) => col.notNull())
        .addColumn('pull_request', 'integer', (col) => col.notNull())
        .addColumn('merge_sha', 'text', (col) => col.notNull())
        .addColumn('head_sha', 'text', (col) => col.notNull())
        .addColumn('merged_by', 'text', (col) => col.notNull())
        .addColumn('author', 'text')
        .addColumn('asked_by', 'text')
        .addColumn('html_url', 'text', (col) => col.notNull())
        .addColumn('approved_by', 'text')
        .addColumn('needs_approval', 'text')
        .addColumn('queued_at', time, (col) => col.notNull())
        .addColumn('request_id', 'text', (col) => col.notNull())
        // One row per merge of a PR: a replayed delivery finds its row and adds nothing.
        .addPrimaryKeyConstraint('merge_queue_pk', ['stack', 'pull_request', 'merge_sha'])
        .execute();
    },
    // Forward only, like 0001.
  };
}
