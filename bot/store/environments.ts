import { type Kysely, type Selectable } from 'kysely';
import type { Clock, Environments } from '../../handlers/ports';
import type { Environment, EnvironmentState } from '../../handlers/model/environments';
import { type Database, type EnvironmentsTable, fromStoredTime, toStoredTime } from './db';

const STATES: readonly EnvironmentState[] = ['up', 'down'];

/**
 * Environments as rows keyed by stack. Writes that several replicas may race on (a warning, a Keep press) are
 * one conditional `UPDATE … WHERE` on the value the caller saw, so the database lets exactly one through;
 * whole-record writes come from operations that hold the stack's lock.
 */
export class SqlEnvironments implements Environments {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async get(stack: string): Promise<Environment | undefined> {
    const row = await this.db.selectFrom('environments').selectAll().where('stack', '=', stack).executeTakeFirst();
    return row && toEnvironment(row);
  }

  async list(): Promise<Environment[]> {
    const rows = await this.db.selectFrom('environments').selectAll().orderBy('stack').execute();
    return rows.map(toEnvironment);
  }

  async put(environment: Omit<Environment, 'updatedAt'>): Promise<Environment> {
    const values = toRow(environment, this.clock.now());
    const row = await this.db
      .insertInto('environments')
      .values(values)
      .onConflict((oc) =>
        oc.column('stack').doUpdateSet({
          state: values.state,
          expires_at: values.expires_at,
          warned_at: values.warned_at,
          up_by: values.up_by,
          updated_at: values.updated_at,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEnvironment(row);
  }

  async create(environment: Omit<Environment, 'updatedAt'>): Promise<boolean> {
    const row = await this.db
      .insertInto('environments')
      .values(toRow(environment, this.clock.now()))
      .onConflict((oc) => oc.column('stack').doNothing())
      .returning('stack')
      .executeTakeFirst();
    return row !== undefined;
  }

  async markWarned(stack: string, expiresAt: Date, at: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('environments')
      .set({ warned_at: toStoredTime(at) })
      .where('stack', '=', stack)
      .where('state', '=', 'up')
      .where('expires_at', '=', toStoredTime(expiresAt))
      .where('warned_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async moveExpiry(stack: string, from: Date, to: Date): Promise<Environment | undefined> {
    const row = await this.db
      .updateTable('environments')
      .set({ expires_at: toStoredTime(to), warned_at: null, updated_at: toStoredTime(this.clock.now()) })
      .where('stack', '=', stack)
      .where('state', '=', 'up')
      .where('expires_at', '=', toStoredTime(from))
      .returningAll()
      .executeTakeFirst();
    return row && toEnvironment(row);
  }
}

/** Refuses what the rest of Cockpit could not read back sensibly: an unknown state, a down stack with an expiry. */
function toRow(environment: Omit<Environment, 'updatedAt'>, now: Date): EnvironmentsTable {
  if (!STATES.includes(environment.state)) throw new RangeError(`unknown environment state "${String(environment.state)}"`);
  if (environment.state === 'down' && (environment.expiresAt || environment.warnedAt)) {
    throw new RangeError(`${environment.stack} is down: it has no tear-down to expire or warn of`);
  }
  return {
    stack: environment.stack,
    state: environment.state,
    expires_at: environment.expiresAt ? toStoredTime(environment.expiresAt) : null,
    warned_at: environment.warnedAt ? toStoredTime(environment.warnedAt) : null,
    up_by: environment.upBy,
    updated_at: toStoredTime(now),
  };
}

function toEnvironment(row: Selectable<EnvironmentsTable>): Environment {
  const environment: Environment = {
    stack: row.stack,
    state: row.state as EnvironmentState,
    upBy: row.up_by,
    updatedAt: fromStoredTime(row.updated_at),
  };
  if (row.expires_at !== null) environment.expiresAt = fromStoredTime(row.expires_at);
  if (row.warned_at !== null) environment.warnedAt = fromStoredTime(row.warned_at);
  return environment;
}
