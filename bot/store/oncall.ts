import { type Kysely, type Selectable } from 'kysely';
import type { OnCallAnnouncements, OnCallOverrides } from '../../handlers/ports';
import type { OnCallLevel, OnCallOverride, ShiftSwap } from '../../handlers/model/oncall';
import { type Database, type OnCallOverridesTable, type OnCallSwapsTable, fromStoredTime, toStoredTime } from './db';

/** Overrides and swaps. Accepting a swap is one transaction: the swap's status and its two overrides, or nothing. */
export class SqlOnCallOverrides implements OnCallOverrides {
  constructor(private readonly db: Kysely<Database>) {}

  async add(override: OnCallOverride): Promise<void> {
    await this.db.insertInto('oncall_overrides').values(overrideRow(override)).execute();
  }

  async overlapping(from: Date, to: Date): Promise<OnCallOverride[]> {
    const rows = await this.db
      .selectFrom('oncall_overrides')
      .selectAll()
      .where('to_at', '>', toStoredTime(from))
      .where('from_at', '<', toStoredTime(to))
      .orderBy('created_at')
      .execute();
    return rows.map(toOverride);
  }

  async proposeSwap(swap: ShiftSwap): Promise<void> {
    await this.db.insertInto('oncall_swaps').values(swapRow(swap)).execute();
  }

  async swap(id: string): Promise<ShiftSwap | undefined> {
    const row = await this.db.selectFrom('oncall_swaps').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSwap(row);
  }

  async acceptSwap(id: string, at: Date, overrides: [OnCallOverride, OnCallOverride]): Promise<ShiftSwap | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('oncall_swaps')
        .set({ status: 'accepted', decided_at: toStoredTime(at) })
        .where('id', '=', id)
        .where('status', '=', 'proposed')
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await trx.insertInto('oncall_overrides').values(overrides.map(overrideRow)).execute();
      return toSwap(row);
    });
  }

  async decideSwap(id: string, status: 'declined' | 'expired', at: Date): Promise<ShiftSwap | undefined> {
    const row = await this.db
      .updateTable('oncall_swaps')
      .set({ status, decided_at: toStoredTime(at) })
      .where('id', '=', id)
      .where('status', '=', 'proposed')
      .returningAll()
      .executeTakeFirst();
    return row && toSwap(row);
  }
}

/** What each level was last announced as; the handover job's compare-and-set keeps one post per change. */
export class SqlOnCallAnnouncements implements OnCallAnnouncements {
  constructor(private readonly db: Kysely<Database>) {}

  async last(level: OnCallLevel): Promise<string[] | undefined> {
    const row = await this.db.selectFrom('oncall_announcements').select('users').where('level', '=', level).executeTakeFirst();
    return row ? (JSON.parse(row.users) as string[]) : undefined;
  }

  async announce(level: OnCallLevel, previous: string[] | undefined, now: string[], at: Date): Promise<boolean> {
    const users = JSON.stringify(now);
    if (previous === undefined) {
      const row = await this.db
        .insertInto('oncall_announcements')
        .values({ level, users, at: toStoredTime(at) })
        .onConflict((oc) => oc.column('level').doNothing())
        .returning('level')
        .executeTakeFirst();
      return row !== undefined;
    }
    const result = await this.db
      .updateTable('oncall_announcements')
      .set({ users, at: toStoredTime(at) })
      .where('level', '=', level)
      .where('users', '=', JSON.stringify(previous))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

function overrideRow(o: OnCallOverride): OnCallOverridesTable {
  return {
    id: o.id,
    level: o.level,
    user_id: o.userId,
    replaces: o.replaces ?? null,
    from_at: toStoredTime(o.from),
    to_at: toStoredTime(o.to),
    created_by: o.createdBy,
    created_at: toStoredTime(o.createdAt),
    request_id: o.requestId,
    swap_id: o.swapId ?? null,
  };
}

function toOverride(row: Selectable<OnCallOverridesTable>): OnCallOverride {
  return {
    id: row.id,
    level: row.level as OnCallLevel,
    userId: row.user_id,
    ...(row.replaces ? { replaces: row.replaces } : {}),
    from: fromStoredTime(row.from_at),
    to: fromStoredTime(row.to_at),
    createdBy: row.created_by,
    createdAt: fromStoredTime(row.created_at),
    requestId: row.request_id,
    ...(row.swap_id ? { swapId: row.swap_id } : {}),
  };
}

function swapRow(s: ShiftSwap): OnCallSwapsTable {
  return {
    id: s.id,
    level: s.level,
    proposed_by: s.proposedBy,
    counterpart: s.counterpart,
    give_from: toStoredTime(s.give.from),
    give_to: toStoredTime(s.give.to),
    take_from: toStoredTime(s.take.from),
    take_to: toStoredTime(s.take.to),
    status: s.status,
    created_at: toStoredTime(s.createdAt),
    decided_at: s.decidedAt ? toStoredTime(s.decidedAt) : null,
    request_id: s.requestId,
  };
}

function toSwap(row: Selectable<OnCallSwapsTable>): ShiftSwap {
  return {
    id: row.id,
    level: row.level as OnCallLevel,
    proposedBy: row.proposed_by,
    counterpart: row.counterpart,
    give: { from: fromStoredTime(row.give_from), to: fromStoredTime(row.give_to) },
    take: { from: fromStoredTime(row.take_from), to: fromStoredTime(row.take_to) },
    status: row.status as ShiftSwap['status'],
    createdAt: fromStoredTime(row.created_at),
    ...(row.decided_at ? { decidedAt: fromStoredTime(row.decided_at) } : {}),
    requestId: row.request_id,
  };
}
