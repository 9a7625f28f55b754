import { type Kysely } from 'kysely';
import type { Clock, Logger } from '../../handlers/ports';
import type { DeliveryLog } from '../deliveries';
import { type Database, toStoredTime } from './db';
import { errorMessage, redactCredentials } from './probe';

export interface DeliveryLogOptions {
  /** Expired keys are deleted on the first call and then on every this-many calls of this instance. */
  purgeEvery?: number;
  log?: Logger;
  /** Kept out of a logged purge error (the connection URL and password). */
  secrets?: readonly string[];
}

export const DELIVERY_PURGE_EVERY = 100;

/**
 * Delivery keys shared by every replica, so a Slack retry that lands on another replica than the original is
 * still recognised. Expiry is judged by the caller's clock, as for leases: keep replicas' clocks in sync.
 *
 * The table cannot grow without bound: each instance deletes every expired key on its first call and on every
 * `purgeEvery`-th call after that, through the index on expires_at. So the table holds the keys seen within one
 * TTL plus at most the keys that expired since the last purge, with no scheduler job to forget.
 */
export class SqlDeliveryLog implements DeliveryLog {
  private calls = 0;
  private readonly purgeEvery: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly options: DeliveryLogOptions = {},
  ) {
    this.purgeEvery = options.purgeEvery ?? DELIVERY_PURGE_EVERY;
    if (!Number.isInteger(this.purgeEvery) || this.purgeEvery < 1) throw new RangeError(`purgeEvery must be a positive integer, got ${this.purgeEvery}`);
  }

  async firstSeen(key: string, ttlMs: number): Promise<boolean> {
    positiveTtl(ttlMs);
    const now = this.clock.now();
    const nowText = toStoredTime(now);
    const purgeDue = this.calls++ % this.purgeEvery === 0;
    // One statement: insert a new key, or take over an expired one. When the key is live the conditional update
    // is skipped and RETURNING yields nothing, so of two replicas handed the same retry exactly one gets a row.
    const row = await this.db
      .insertInto('deliveries')
      .values({ key, expires_at: toStoredTime(new Date(now.getTime() + ttlMs)) })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet((eb) => ({ expires_at: eb.ref('excluded.expires_at') }))
          .where('deliveries.expires_at', '<=', nowText),
      )
      .returning('key')
      .executeTakeFirst();
    if (purgeDue) await this.purge(nowText);
    return row !== undefined;
  }

  async keep(key: string, ttlMs: number): Promise<void> {
    const expiresAt = toStoredTime(new Date(this.clock.now().getTime() + positiveTtl(ttlMs)));
    await this.db
      .insertInto('deliveries')
      .values({ key, expires_at: expiresAt })
      .onConflict((oc) => oc.column('key').doUpdateSet({ expires_at: expiresAt }))
      .execute();
  }

  async forget(key: string): Promise<void> {
    await this.db.deleteFrom('deliveries').where('key', '=', key).execute();
  }

  /**
   * Never fails the call that triggered it: the key is already recorded, and an error here would make the
   * caller drop this delivery while Slack's retry of it is refused as a repeat.
   */
  private async purge(nowText: string): Promise<void> {
    try {
      await this.db.deleteFrom('deliveries').where('expires_at', '<=', nowText).execute();
    } catch (err) {
      this.options.log?.warn({ err: redactCredentials(errorMessage(err), this.options.secrets ?? []) }, 'could not purge expired delivery keys; will try again later');
    }
  }
}

function positiveTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`delivery ttl must be a positive number of ms, got ${ttlMs}`);
  return ttlMs;
}
