import { type Kysely, type Migration, sql } from 'kysely';
import { type StoreDialect } from '../db';

/**
 * On-call and alerts: overrides and swaps of the rotations, what each level was last announced as, pages with
 * their outbox of notifications, Alertmanager's alert groups and alerts, and each cluster's heartbeat.
 */
export function oncallSchema(dialect: StoreDialect): Migration {
  // Defined here rather than shared: a released migration must never change because a helper did.
  const time = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('oncall_overrides')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('level', 'text', (col) => col.notNull())
        .addColumn('user_id', 'text', (col) => col.notNull())
        .addColumn('replaces', 'text')
        .addColumn('from_at', time, (col) => col.notNull())
        .addColumn('to_at', time, (col) => col.notNull())
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addColumn('created_at', time, (col) => col.notNull())
        .addColumn('request_id', 'text', (col) => col.notNull())
        .addColumn('swap_id', 'text')
        .execute();
      // "Which overrides overlap this window": ends after its start, so the ones long over are never read.
      await db.schema.createIndex('oncall_overrides_to_at').on('oncall_overrides').columns(['to_at', 'from_at']).execute();

      await db.schema
        .createTable('oncall_swaps')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('level', 'text', (col) => col.notNull())
        .addColumn('proposed_by', 'text', (col) => col.notNull())
        .addColumn('counterpart', 'text', (col) => col.notNull())
        .addColumn('give_from', time, (col) => col.notNull())
        .addColumn('give_to', time, (col) => col.notNull())
        .addColumn('take_from', time, (col) => col.notNull())
        .addColumn('take_to', time, (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('proposed', 'accepted', 'declined', 'expired')`))
        .addColumn('created_at', time, (col) => col.notNull())
        .addColumn('decided_at', time)
        .addColumn('request_id', 'text', (col) => col.notNull())
        .execute();

      await db.schema
        .createTable('oncall_announcements')
        .addColumn('level', 'text', (col) => col.primaryKey())
        .addColumn('users', 'text', (col) => col.notNull())
        .addColumn('at', time, (col) => col.notNull())
        .execute();

      await db.schema
        .createTable('pages')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('source_kind', 'text', (col) => col.notNull())
        .addColumn('source_ref', 'text', (col) => col.notNull())
        .addColumn('target', 'text', (col) => col.notNull())
        .addColumn('summary', 'text', (col) => col.notNull())
        .addColumn('raised_by', 'text', (col) => col.notNull())
        .addColumn('request_id', 'text', (col) => col.notNull())
        .addColumn('channel', 'text', (col) => col.notNull())
        .addColumn('policy', 'text', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('triggered', 'acknowledged', 'resolved')`))
        .addColumn('step', 'integer', (col) => col.notNull())
        .addColumn('repeats', 'integer', (col) => col.notNull())
        .addColumn('responders', 'text', (col) => col.notNull())
        .addColumn('everyone', 'integer', (col) => col.notNull())
        .addColumn('created_at', time, (col) => col.notNull())
        .addColumn('acknowledged_at', time)
        .addColumn('acknowledged_by', 'text')
        .addColumn('resolved_at', time)
        .addColumn('resolved_by', 'text')
        .addColumn('next_at', time)
        .addColumn('version', 'integer', (col) => col.notNull())
        .execute();
      // One open page per source: raising it again while open adds nothing, even from two replicas at once.
      await db.schema
        .createIndex('pages_open_source')
        .on('pages')
        .columns(['source_kind', 'source_ref'])
        .unique()
        .where(sql.ref('status'), '<>', 'resolved')
        .execute();
      // The timer loop asks for due pages every half second.
      await db.schema.createIndex('pages_next_at').on('pages').column('next_at').execute();

      await db.schema
        .createTable('page_notifications')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('page_id', 'text', (col) => col.notNull().references('pages.id'))
        .addColumn('kind', 'text', (col) => col.notNull())
        .addColumn('to_address', 'text')
        .addColumn('reason', 'text', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('pending', 'sent', 'failed')`))
        .addColumn('attempts', 'integer', (col) => col.notNull())
        .addColumn('created_at', time, (col) => col.notNull())
        .addColumn('not_before', time)
        .addColumn('claimed_by', 'text')
        .addColumn('claimed_at', time)
        .addColumn('sent_at', time)
        .addColumn('receipt', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('page_notifications_status').on('page_notifications').columns(['status', 'created_at']).execute();
      await db.schema.createIndex('page_notifications_page').on('page_notifications').columns(['page_id', 'created_at']).execute();

      await db.schema
        .createTable('alert_groups')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('stack', 'text', (col) => col.notNull())
        .addColumn('cluster', 'text', (col) => col.notNull())
        .addColumn('group_key', 'text', (col) => col.notNull())
        .addColumn('receiver', 'text', (col) => col.notNull())
        .addColumn('alertname', 'text', (col) => col.notNull())
        .addColumn('severity', 'text', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('group_labels', 'text', (col) => col.notNull())
        .addColumn('common_labels', 'text', (col) => col.notNull())
        .addColumn('common_annotations', 'text', (col) => col.notNull())
        .addColumn('external_url', 'text', (col) => col.notNull())
        .addColumn('truncated_alerts', 'integer', (col) => col.notNull())
        .addColumn('channel', 'text', (col) => col.notNull())
        .addColumn('message', 'text')
        .addColumn('in_digest', 'integer', (col) => col.notNull())
        .addColumn('post_claimed_by', 'text')
        .addColumn('post_claimed_at', time)
        .addColumn('first_seen_at', time, (col) => col.notNull())
        .addColumn('updated_at', time, (col) => col.notNull())
        .addColumn('status_changed_at', time, (col) => col.notNull())
        .addColumn('acknowledged_by', 'text')
        .addColumn('acknowledged_at', time)
        .addColumn('silence', 'text')
        .addColumn('page_id', 'text')
        .addColumn('firing', 'integer', (col) => col.notNull())
        .addColumn('resolved', 'integer', (col) => col.notNull())
        .execute();
      // Storm detection: how many groups a channel got in the last minute.
      await db.schema.createIndex('alert_groups_channel_first_seen').on('alert_groups').columns(['channel', 'first_seen_at']).execute();

      await db.schema
        .createTable('alerts')
        .addColumn('group_id', 'text', (col) => col.notNull().references('alert_groups.id'))
        .addColumn('fingerprint', 'text', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('labels', 'text', (col) => col.notNull())
        .addColumn('annotations', 'text', (col) => col.notNull())
        .addColumn('starts_at', time, (col) => col.notNull())
        .addColumn('ends_at', time)
        .addColumn('generator_url', 'text')
        .addColumn('updated_at', time, (col) => col.notNull())
        // One row per alert of a group: a resend finds its row, and moves it only forward.
        .addPrimaryKeyConstraint('alerts_pk', ['group_id', 'fingerprint'])
        .execute();

      await db.schema
        .createTable('alert_heartbeats')
        .addColumn('stack', 'text', (col) => col.primaryKey())
        .addColumn('cluster', 'text', (col) => col.notNull())
        .addColumn('last_beat_at', time, (col) => col.notNull())
        .addColumn('silent_since', time)
        .execute();
    },
    // Forward only, like 0001.
  };
}
