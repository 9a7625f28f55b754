import { type Kysely } from 'kysely';
import type { Clock } from '../../handlers/ports';
import type { Leases } from '../scheduler/leases';
import { type Database, toStoredTime } from './db';

/**
 * Named expiring leases. Expiry is judged by the caller's clock, so replicas must keep their clocks in sync
 * (NTP) to well within the TTL; a TTL of several times the renewal interval absorbs the rest.
 */
export class SqlLeases implements Leases {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`lease ttl must be a positive number of ms, got ${ttlMs}`);
    const now = this.clock.now();
    const nowText = toStoredTime(now);
    // One statement: insert when free, take over when expired, extend when ours. A row comes back only when
    // the insert or the update happened; when the conditional update is skipped, RETURNING yields nothing.
    const row = await this.db
      .insertInto('leases')
      .values({ name, owner, expires_at: toStoredTime(new Date(now.getTime() + ttlMs)) })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({ owner: eb.ref('excluded.owner'), expires_at: eb.ref('excluded.expires_at') }))
          .where((eb) => eb.or([eb('leases.owner', '=', owner), eb('leases.expires_at', '<=', nowText)])),
      )
      .returning('owner')
      .executeTakeFirst();
    return row !== undefined;
  }

  async release(name: string, owner: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('owner', '=', owner).execute();
  }
}
