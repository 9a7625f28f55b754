import { type Kysely, type Selectable, sql } from 'kysely';
import type { AlertStore, Heartbeats } from '../../handlers/ports';
import type { AlertApplyResult, AlertGroup, Heartbeat, IncomingAlert, StoredAlert } from '../../handlers/model/alerts';
import { type AlertGroupsTable, type AlertsTable, type Database, fromStoredTime, toStoredTime } from './db';

/** SQLite allows 32766 bound values a statement; 500 alerts of 9 columns stay far below, on both dialects. */
const ALERT_BATCH = 500;

/**
 * Alert groups and their alerts. Each alert moves only forward: a row is replaced when the incoming alert
 * started later (it fired again) or resolves what was firing, so a resend, or an older notification arriving
 * after a newer one, changes nothing. The counts and the group's status are recomputed from the rows.
 */
export class SqlAlertStore implements AlertStore {
  constructor(private readonly db: Kysely<Database>) {}

  async apply(
    group: Parameters<AlertStore['apply']>[0],
    alerts: IncomingAlert[],
    at: Date,
  ): Promise<AlertApplyResult> {
    const now = toStoredTime(at);
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('alert_groups')
        .values({
          id: group.id,
          stack: group.stack,
          cluster: group.cluster,
          group_key: group.groupKey,
          receiver: group.receiver,
          alertname: group.alertname,
          severity: group.severity,
          status: 'firing',
          group_labels: JSON.stringify(group.groupLabels),
          common_labels: JSON.stringify(group.commonLabels),
          common_annotations: JSON.stringify(group.commonAnnotations),
          external_url: group.externalUrl,
          truncated_alerts: group.truncatedAlerts,
          channel: group.channel,
          message: null,
          in_digest: 0,
          post_claimed_by: null,
          post_claimed_at: null,
          first_seen_at: now,
          updated_at: now,
          status_changed_at: now,
          acknowledged_by: null,
          acknowledged_at: null,
          silence: null,
          page_id: null,
          firing: 0,
          resolved: 0,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      const created = inserted !== undefined;

      let changed = 0;
      for (let i = 0; i < alerts.length; i += ALERT_BATCH) {
        const rows = alerts.slice(i, i + ALERT_BATCH).map((a) => alertRow(group.id, a, now));
        const moved = await trx
          .insertInto('alerts')
          .values(rows)
          .onConflict((oc) =>
            oc
              .columns(['group_id', 'fingerprint'])
              .doUpdateSet((eb) => ({
                status: eb.ref('excluded.status'),
                labels: eb.ref('excluded.labels'),
                annotations: eb.ref('excluded.annotations'),
                starts_at: eb.ref('excluded.starts_at'),
                ends_at: eb.ref('excluded.ends_at'),
                generator_url: eb.ref('excluded.generator_url'),
                updated_at: eb.ref('excluded.updated_at'),
              }))
              .where((eb) =>
                eb.or([
                  eb('excluded.starts_at', '>', eb.ref('alerts.starts_at')),
                  eb.and([eb('excluded.starts_at', '=', eb.ref('alerts.starts_at')), eb('alerts.status', '=', 'firing'), eb('excluded.status', '=', 'resolved')]),
                ]),
              ),
          )
          .returning('fingerprint')
          .execute();
        changed += moved.length;
      }

      const counts = await trx
        .selectFrom('alerts')
        .select(['status', sql<number>`count(*)`.as('n')])
        .where('group_id', '=', group.id)
        .groupBy('status')
        .execute();
      const firing = Number(counts.find((c) => c.status === 'firing')?.n ?? 0);
      const resolved = Number(counts.find((c) => c.status === 'resolved')?.n ?? 0);
      const status = firing > 0 ? 'firing' : 'resolved';
      const before = await trx.selectFrom('alert_groups').select(['status', 'truncated_alerts']).where('id', '=', group.id).executeTakeFirstOrThrow();
      const statusChanged = !created && before.status !== status;
      const truncatedChanged = Number(before.truncated_alerts) !== group.truncatedAlerts;
      const row = await trx
        .updateTable('alert_groups')
        .set({
          status,
          firing,
          resolved,
          ...(changed > 0 || created || truncatedChanged ? { updated_at: now, truncated_alerts: group.truncatedAlerts } : {}),
          ...(statusChanged ? { status_changed_at: now } : {}),
          // The labels common to the group shift as alerts come and go; the latest notification says what they are.
          ...(changed > 0 ? { common_labels: JSON.stringify(group.commonLabels), common_annotations: JSON.stringify(group.commonAnnotations), external_url: group.externalUrl } : {}),
        })
        .where('id', '=', group.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { group: toGroup(row), created, changed: changed + (truncatedChanged && !created ? 1 : 0), statusChanged };
    });
  }

  async get(id: string): Promise<AlertGroup | undefined> {
    const row = await this.db.selectFrom('alert_groups').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toGroup(row);
  }

  async alerts(groupId: string, limit: number): Promise<StoredAlert[]> {
    const rows = await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('group_id', '=', groupId)
      // 'firing' sorts before 'resolved'.
      .orderBy('status')
      .orderBy('starts_at', 'desc')
      .orderBy('fingerprint')
      .limit(limit)
      .execute();
    return rows.map(toAlert);
  }

  async createdSince(channel: string, since: Date): Promise<AlertGroup[]> {
    const rows = await this.db.selectFrom('alert_groups').selectAll().where('channel', '=', channel).where('first_seen_at', '>=', toStoredTime(since)).orderBy('first_seen_at').execute();
    return rows.map(toGroup);
  }

  async countShownSince(channel: string, since: Date): Promise<number> {
    const row = await this.db
      .selectFrom('alert_groups')
      .select(sql<number>`count(*)`.as('n'))
      .where('channel', '=', channel)
      .where('first_seen_at', '>=', toStoredTime(since))
      .where('post_claimed_by', 'is not', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async claimPost(id: string, owner: string, at: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('alert_groups')
      .set({ post_claimed_by: owner, post_claimed_at: toStoredTime(at) })
      .where('id', '=', id)
      .where('post_claimed_by', 'is', null)
      .where('message', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setMessage(id: string, message: { channel: string; ts: string }): Promise<void> {
    await this.db.updateTable('alert_groups').set({ message: JSON.stringify(message) }).where('id', '=', id).execute();
  }

  async releasePost(id: string): Promise<void> {
    await this.db.updateTable('alert_groups').set({ post_claimed_by: null, post_claimed_at: null }).where('id', '=', id).where('message', 'is', null).execute();
  }

  async markInDigest(id: string): Promise<void> {
    await this.db.updateTable('alert_groups').set({ in_digest: 1 }).where('id', '=', id).execute();
  }

  async acknowledge(id: string, by: string, at: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('alert_groups')
      .set({ acknowledged_by: by, acknowledged_at: toStoredTime(at) })
      .where('id', '=', id)
      .where('acknowledged_by', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setSilence(id: string, silence: { id: string; by: string; until: Date }): Promise<void> {
    await this.db
      .updateTable('alert_groups')
      .set({ silence: JSON.stringify({ id: silence.id, by: silence.by, until: toStoredTime(silence.until) }) })
      .where('id', '=', id)
      .execute();
  }

  async setPage(id: string, pageId: string | undefined): Promise<void> {
    await this.db.updateTable('alert_groups').set({ page_id: pageId ?? null }).where('id', '=', id).execute();
  }

  async countAlerts(): Promise<number> {
    const row = await this.db.selectFrom('alerts').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

export class SqlHeartbeats implements Heartbeats {
  constructor(private readonly db: Kysely<Database>) {}

  async beat(stack: string, cluster: string, at: Date): Promise<void> {
    const text = toStoredTime(at);
    await this.db
      .insertInto('alert_heartbeats')
      .values({ stack, cluster, last_beat_at: text, silent_since: null })
      .onConflict((oc) => oc.column('stack').doUpdateSet({ cluster, last_beat_at: text }).where('alert_heartbeats.last_beat_at', '<', text))
      .execute();
  }

  async list(): Promise<Heartbeat[]> {
    const rows = await this.db.selectFrom('alert_heartbeats').selectAll().orderBy('stack').execute();
    return rows.map((r) => ({ stack: r.stack, cluster: r.cluster, lastBeatAt: fromStoredTime(r.last_beat_at), ...(r.silent_since ? { silentSince: fromStoredTime(r.silent_since) } : {}) }));
  }

  async markSilent(stack: string, since: Date): Promise<boolean> {
    const result = await this.db.updateTable('alert_heartbeats').set({ silent_since: toStoredTime(since) }).where('stack', '=', stack).where('silent_since', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async clearSilent(stack: string): Promise<boolean> {
    const result = await this.db.updateTable('alert_heartbeats').set({ silent_since: null }).where('stack', '=', stack).where('silent_since', 'is not', null).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

function alertRow(groupId: string, a: IncomingAlert, now: string): AlertsTable {
  return {
    group_id: groupId,
    fingerprint: a.fingerprint,
    status: a.status,
    labels: JSON.stringify(a.labels),
    annotations: JSON.stringify(a.annotations),
    starts_at: toStoredTime(a.startsAt),
    ends_at: a.endsAt ? toStoredTime(a.endsAt) : null,
    generator_url: a.generatorUrl ?? null,
    updated_at: now,
  };
}

function toGroup(row: Selectable<AlertGroupsTable>): AlertGroup {
  const silence = row.silence ? (JSON.parse(row.silence) as { id: string; by: string; until: string }) : undefined;
  return {
    id: row.id,
    stack: row.stack,
    cluster: row.cluster,
    groupKey: row.group_key,
    receiver: row.receiver,
    alertname: row.alertname,
    severity: row.severity,
    status: row.status as AlertGroup['status'],
    groupLabels: JSON.parse(row.group_labels) as Record<string, string>,
    commonLabels: JSON.parse(row.common_labels) as Record<string, string>,
    commonAnnotations: JSON.parse(row.common_annotations) as Record<string, string>,
    externalUrl: row.external_url,
    truncatedAlerts: Number(row.truncated_alerts),
    channel: row.channel,
    ...(row.message ? { message: JSON.parse(row.message) as { channel: string; ts: string } } : {}),
    inDigest: Number(row.in_digest) === 1,
    firstSeenAt: fromStoredTime(row.first_seen_at),
    updatedAt: fromStoredTime(row.updated_at),
    statusChangedAt: fromStoredTime(row.status_changed_at),
    ...(row.acknowledged_by ? { acknowledgedBy: row.acknowledged_by } : {}),
    ...(row.acknowledged_at ? { acknowledgedAt: fromStoredTime(row.acknowledged_at) } : {}),
    ...(silence ? { silence: { id: silence.id, by: silence.by, until: fromStoredTime(silence.until) } } : {}),
    ...(row.page_id ? { pageId: row.page_id } : {}),
    firing: Number(row.firing),
    resolved: Number(row.resolved),
  };
}

function toAlert(row: Selectable<AlertsTable>): StoredAlert {
  return {
    groupId: row.group_id,
    fingerprint: row.fingerprint,
    status: row.status as StoredAlert['status'],
    labels: JSON.parse(row.labels) as Record<string, string>,
    annotations: JSON.parse(row.annotations) as Record<string, string>,
    startsAt: fromStoredTime(row.starts_at),
    ...(row.ends_at ? { endsAt: fromStoredTime(row.ends_at) } : {}),
    ...(row.generator_url ? { generatorUrl: row.generator_url } : {}),
  };
}
