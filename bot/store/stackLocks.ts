import { type Kysely, type Selectable } from 'kysely';
import type { Clock, StackLocks } from '../../handlers/ports';
import type { LockAttempt, StackLock } from '../../handlers/model/stacks';
import { type Database, type StackLocksTable, fromStoredTime, toStoredTime } from './db';

/**
 * How often acquire re-reads after losing the insert to a holder that was gone by the time it looked. Each
 * round means another request took and released the lock in between, so a few rounds are plenty.
 */
const ACQUIRE_ROUNDS = 5;

/**
 * Stack locks as rows keyed by stack. Taking a lock is one `INSERT … ON CONFLICT DO NOTHING RETURNING`: the
 * database's unique key decides the winner, so two replicas racing for a stack cannot both get it, which a
 * read-then-write would allow.
 */
export class SqlStackLocks implements StackLocks {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async acquire(request: Omit<StackLock, 'acquiredAt' | 'heartbeatAt'>): Promise<LockAttempt> {
    for (let round = 0; round < ACQUIRE_ROUNDS; round++) {
      const now = toStoredTime(this.clock.now());
      const inserted = await this.db
        .insertInto('stack_locks')
        .values({
          stack: request.stack,
          holder: request.holder,
          purpose: request.purpose,
          request_id: request.requestId,
          owner: request.owner,
          acquired_at: now,
          heartbeat_at: now,
        })
        .onConflict((oc) => oc.column('stack').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { acquired: true, lock: toLock(inserted) };

      const held = await this.get(request.stack);
      // A retried request (a Slack retry, a double click) already holds the lock: it keeps it.
      if (held?.requestId === request.requestId) return { acquired: true, lock: held };
      if (held) return { acquired: false, heldBy: held };
    }
    throw new Error(`stack lock on ${request.stack} changed hands ${ACQUIRE_ROUNDS} times while acquiring; try again`);
  }

  async heartbeat(stack: string, requestId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('stack_locks')
      .set({ heartbeat_at: toStoredTime(this.clock.now()) })
      .where('stack', '=', stack)
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async release(stack: string, requestId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('stack_locks')
      .where('stack', '=', stack)
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async get(stack: string): Promise<StackLock | undefined> {
    const row = await this.db.selectFrom('stack_locks').selectAll().where('stack', '=', stack).executeTakeFirst();
    return row && toLock(row);
  }

  async list(): Promise<StackLock[]> {
    const rows = await this.db.selectFrom('stack_locks').selectAll().orderBy('stack').execute();
    return rows.map(toLock);
  }

  async forceRelease(stack: string): Promise<StackLock | undefined> {
    // DELETE … RETURNING reports exactly the row it removed, even if the lock changed hands a moment before.
    const row = await this.db.deleteFrom('stack_locks').where('stack', '=', stack).returningAll().executeTakeFirst();
    return row && toLock(row);
  }
}

function toLock(row: Selectable<StackLocksTable>): StackLock {
  return {
    stack: row.stack,
    holder: row.holder,
    purpose: row.purpose,
    requestId: row.request_id,
    owner: row.owner,
    acquiredAt: fromStoredTime(row.acquired_at),
    heartbeatAt: fromStoredTime(row.heartbeat_at),
  };
}
