import { randomUUID } from 'node:crypto';
import { ConflictError, InputError, NotFoundError } from './errors';
import { describeActor, type Policy, type RequestMeta } from './policy';
import type { AuditLog, Clock, OnCallDirectory, OnCallOverrides } from './ports';
import type { OnCallLevel, OnCallOverride, ShiftSwap } from './model/oncall';
import { clashes, mergeByPerson, ONCALL_LEVELS, resolveAt, shiftsBetween, localInstant, type Rotation, type Shift } from './rotation';
import { displayName, personById, type Team } from './team';

/**
 * Who is on call: the rotations of the team file resolved with the overrides and swaps kept in the store. This is
 * the one OnCallDirectory every capability asks (incidents, drills, tickets, the pager). Overrides and swaps are
 * checked by the policy and audited; a swap is two overrides written together once the other person accepts.
 */

export interface OnCallSettings {
  /** Zone schedules are shown in. */
  timezone: string;
  rotations: Rotation[];
  /** Where handovers are posted (the runbook's incidents channel by default). */
  channel: string;
  /** Roles that may override anyone's shift. */
  managers: string[];
  /** Longest override one command may set. */
  maxOverrideMinutes: number;
}

export const DEFAULT_MAX_OVERRIDE_MINUTES = 31 * 24 * 60;
const DAY_MS = 86_400_000;
/** How far ahead a swap looks for the other person's shift. */
const SWAP_HORIZON_DAYS = 60;

export function oncallSettings(team: Team): OnCallSettings {
  return team.oncall ?? { timezone: 'UTC', rotations: [], channel: team.channels.incidents, managers: ['approver'], maxOverrideMinutes: DEFAULT_MAX_OVERRIDE_MINUTES };
}

export interface LevelNow {
  level: OnCallLevel;
  current: Shift;
  /** The next changes of who is on call, soonest first. */
  next: Shift[];
}

export interface OverrideResult {
  override: OnCallOverride;
  /** What the level looks like around the override, for the confirmation. */
  shifts: Shift[];
}

export interface SwapProposal {
  swap: ShiftSwap;
}

export interface OnCallDeps {
  team: Team;
  overrides: OnCallOverrides;
  policy: Policy;
  audit: AuditLog;
  clock: Clock;
  newId?: () => string;
}

export class OnCallService implements OnCallDirectory {
  readonly settings: OnCallSettings;
  private readonly newId: () => string;

  constructor(private readonly deps: OnCallDeps) {
    this.settings = oncallSettings(deps.team);
    this.newId = deps.newId ?? (() => randomUUID());
  }

  rotation(level: OnCallLevel): Rotation {
    return this.settings.rotations.find((r) => r.level === level) ?? { level, layers: [] };
  }

  /** The levels the team file has a rotation for. */
  levels(): OnCallLevel[] {
    return ONCALL_LEVELS.filter((l) => this.rotation(l).layers.length > 0);
  }

  async onCall(level: OnCallLevel, at: Date = this.deps.clock.now()): Promise<string[]> {
    const overrides = await this.deps.overrides.overlapping(at, new Date(at.getTime() + 1));
    const who = resolveAt(this.rotation(level), overrides, at).userId;
    return who ? [who] : [];
  }

  /** The levels a person is on call at, at `at`. */
  async levelsOf(userId: string, at: Date = this.deps.clock.now()): Promise<OnCallLevel[]> {
    const overrides = await this.deps.overrides.overlapping(at, new Date(at.getTime() + 1));
    return ONCALL_LEVELS.filter((l) => resolveAt(this.rotation(l), overrides, at).userId === userId);
  }

  async shifts(level: OnCallLevel, from: Date, to: Date): Promise<Shift[]> {
    return mergeByPerson(shiftsBetween(this.rotation(level), await this.deps.overrides.overlapping(from, to), from, to));
  }

  /** `/cockpit oncall`: who is on call at each level and until when, and the next handovers. */
  async now(nextCount = 2): Promise<LevelNow[]> {
    const now = this.deps.clock.now();
    const to = new Date(now.getTime() + 35 * DAY_MS);
    return Promise.all(
      ONCALL_LEVELS.map(async (level) => {
        const shifts = await this.shifts(level, now, to);
        return { level, current: shifts[0] ?? { level, from: now, to, source: 'none' }, next: shifts.slice(1, 1 + nextCount) };
      }),
    );
  }

  /** `/cockpit oncall schedule [days]`. */
  async schedule(days: number): Promise<Record<OnCallLevel, Shift[]>> {
    const now = this.deps.clock.now();
    const to = new Date(now.getTime() + days * DAY_MS);
    const [l1, l2, l3] = await Promise.all(ONCALL_LEVELS.map((l) => this.shifts(l, now, to)));
    return { L1: l1!, L2: l2!, L3: l3! };
  }

  /** A person's stretches on call in [from, to), every level, soonest first (App Home, their calendar). */
  async shiftsOf(userId: string, from: Date, to: Date): Promise<Shift[]> {
    const all = await Promise.all(ONCALL_LEVELS.map((l) => this.shifts(l, from, to)));
    return all.flat().filter((s) => s.userId === userId).sort((a, b) => a.from.getTime() - b.from.getTime());
  }

  /**
   * `/cockpit oncall override @taker <duration> [level]`: from now, the taker holds the level. Without a level,
   * the one the asker is on call at. The runbook's rule that nobody holds two levels at once is kept.
   */
  async override(request: { takerId: string; minutes: number; level?: OnCallLevel }, meta: RequestMeta): Promise<OverrideResult> {
    const { team } = this.deps;
    const now = this.deps.clock.now();
    if (request.minutes > this.settings.maxOverrideMinutes) {
      throw new InputError(`An override lasts at most ${Math.round(this.settings.maxOverrideMinutes / 1440)} days.`, 'Run another one when it ends.');
    }
    const level = request.level ?? (await this.levelsOf(meta.actor.id, now))[0];
    if (!level) throw new InputError('You are not on call now: say which level the override is for.', `/cockpit oncall override <@person> ${request.minutes}m L1`);
    if (!this.levels().includes(level)) throw new InputError(`${level} has no rotation in cockpit.yml.`);
    if (!personById(team, request.takerId)) throw new InputError(`${request.takerId} is not in cockpit.yml, so cannot be on call.`, 'People are listed under `people:` in cockpit.yml.');
    const to = new Date(now.getTime() + request.minutes * 60_000);
    const during = await this.shifts(level, now, to);
    if (during.every((s) => s.userId === request.takerId)) throw new InputError(`${displayName(team, request.takerId)} is already on call at ${level} for all of that time.`);
    const holdsShift = during.every((s) => s.userId === meta.actor.id);
    await this.deps.policy.mayOnCall('override', { holdsShift, takerId: request.takerId }, meta, level);
    await this.assertNoClash(request.takerId, level, now, to);
    const replaced = during.find((s) => s.userId && s.userId !== request.takerId)?.userId;
    const override: OnCallOverride = {
      id: this.newId(),
      level,
      userId: request.takerId,
      ...(replaced ? { replaces: replaced } : {}),
      from: now,
      to,
      createdBy: meta.actor.id,
      createdAt: now,
      requestId: meta.requestId,
    };
    await this.deps.overrides.add(override);
    await this.record(meta, 'oncall.override', level, { overrideId: override.id, taker: override.userId, replaces: replaced, from: now.toISOString(), to: to.toISOString() });
    return { override, shifts: await this.shifts(level, now, new Date(to.getTime() + DAY_MS)) };
  }

  /**
   * `/cockpit oncall swap @person <shift>`: the asker's shift (`now`, `next`, or the date it covers) goes to the
   * other person, and the other person's next shift at that level comes back. Nothing changes until they accept.
   */
  async proposeSwap(request: { counterpart: string; shift: string }, meta: RequestMeta): Promise<ShiftSwap> {
    const { team } = this.deps;
    const now = this.deps.clock.now();
    if (request.counterpart === meta.actor.id) throw new InputError('A swap is with someone else.');
    if (!personById(team, request.counterpart)) throw new InputError(`${request.counterpart} is not in cockpit.yml.`);
    const horizon = new Date(now.getTime() + SWAP_HORIZON_DAYS * DAY_MS);
    const mine = (await this.shiftsOf(meta.actor.id, now, horizon)).filter((s) => s.userId === meta.actor.id);
    const give = this.pickShift(mine, request.shift, now);
    if (!give) {
      throw new InputError(
        mine.length === 0 ? `You have no shift in the next ${SWAP_HORIZON_DAYS} days.` : `You have no shift ${request.shift === 'next' ? 'coming' : `on ${request.shift}`}.`,
        mine.length > 0 ? `Your shifts: ${mine.slice(0, 3).map((s) => `${s.level} ${s.from.toISOString().slice(0, 10)}`).join(', ')}` : undefined,
      );
    }
    const theirs = (await this.shifts(give.level, now, horizon)).filter((s) => s.userId === request.counterpart && s.from.getTime() >= now.getTime());
    const take = theirs.find((s) => s.from.getTime() >= give.to.getTime()) ?? theirs[0];
    if (!take) {
      throw new InputError(`${displayName(team, request.counterpart)} has no ${give.level} shift in the next ${SWAP_HORIZON_DAYS} days to give back.`, `To hand yours over without a swap: /cockpit oncall override <@${request.counterpart}> <duration> ${give.level}`);
    }
    await this.deps.policy.mayOnCall('swap', { holdsShift: true, takerId: request.counterpart }, meta, give.level);
    const giveFrom = new Date(Math.max(give.from.getTime(), now.getTime()));
    await this.assertNoClash(request.counterpart, give.level, giveFrom, give.to);
    await this.assertNoClash(meta.actor.id, give.level, take.from, take.to);
    const swap: ShiftSwap = {
      id: this.newId(),
      level: give.level,
      proposedBy: meta.actor.id,
      counterpart: request.counterpart,
      give: { from: giveFrom, to: give.to },
      take: { from: take.from, to: take.to },
      status: 'proposed',
      createdAt: now,
      requestId: meta.requestId,
    };
    await this.deps.overrides.proposeSwap(swap);
    await this.record(meta, 'oncall.swap', swap.level, { swapId: swap.id, counterpart: swap.counterpart, give: iso(swap.give), take: iso(swap.take), outcome: 'proposed' });
    return swap;
  }

  /** Accept pressed by the other person: both overrides are written at once, or none. */
  async acceptSwap(id: string, meta: RequestMeta): Promise<{ swap: ShiftSwap; shifts: Shift[] }> {
    const swap = await this.openSwap(id);
    await this.deps.policy.mayOnCall('accept_swap', { counterpart: swap.counterpart }, meta, swap.level);
    const now = this.deps.clock.now();
    if (swap.give.to.getTime() <= now.getTime()) {
      await this.deps.overrides.decideSwap(id, 'expired', now);
      throw new ConflictError('That shift is over: the swap has expired.');
    }
    // The shifts may have moved since the proposal (an override in between): check the clashes again.
    await this.assertNoClash(swap.counterpart, swap.level, swap.give.from, swap.give.to);
    await this.assertNoClash(swap.proposedBy, swap.level, swap.take.from, swap.take.to);
    const base = { level: swap.level, createdBy: meta.actor.id, createdAt: now, requestId: meta.requestId, swapId: swap.id };
    const accepted = await this.deps.overrides.acceptSwap(id, now, [
      { ...base, id: this.newId(), userId: swap.counterpart, replaces: swap.proposedBy, from: new Date(Math.max(swap.give.from.getTime(), now.getTime())), to: swap.give.to },
      { ...base, id: this.newId(), userId: swap.proposedBy, replaces: swap.counterpart, from: swap.take.from, to: swap.take.to },
    ]);
    if (!accepted) throw new ConflictError('Someone answered this swap already.');
    await this.record(meta, 'oncall.swap', swap.level, { swapId: id, counterpart: swap.counterpart, give: iso(swap.give), take: iso(swap.take), outcome: 'accepted' });
    const from = new Date(Math.min(swap.give.from.getTime(), swap.take.from.getTime()));
    const to = new Date(Math.max(swap.give.to.getTime(), swap.take.to.getTime()));
    return { swap: accepted, shifts: await this.shifts(swap.level, from, to) };
  }

  async declineSwap(id: string, meta: RequestMeta): Promise<ShiftSwap> {
    const swap = await this.openSwap(id);
    await this.deps.policy.mayOnCall('accept_swap', { counterpart: swap.counterpart, proposedBy: swap.proposedBy }, meta, swap.level);
    const declined = await this.deps.overrides.decideSwap(id, 'declined', this.deps.clock.now());
    if (!declined) throw new ConflictError('Someone answered this swap already.');
    await this.record(meta, 'oncall.swap', swap.level, { swapId: id, outcome: 'declined' });
    return declined;
  }

  async swap(id: string): Promise<ShiftSwap | undefined> {
    return this.deps.overrides.swap(id);
  }

  private async openSwap(id: string): Promise<ShiftSwap> {
    const swap = await this.deps.overrides.swap(id);
    if (!swap) throw new NotFoundError('No such swap.');
    if (swap.status !== 'proposed') throw new ConflictError(`This swap was ${swap.status} already.`);
    return swap;
  }

  private pickShift(shifts: Shift[], ref: string, now: Date): Shift | undefined {
    const word = ref.toLowerCase();
    if (word === 'now') return shifts.find((s) => s.from.getTime() <= now.getTime());
    if (word === 'next') return shifts.find((s) => s.from.getTime() > now.getTime()) ?? shifts[0];
    const day = localInstant(ref, this.settings.timezone);
    if (!day || !/^\d{4}-\d{2}-\d{2}$/.test(ref)) return undefined;
    const dayEnd = day.getTime() + DAY_MS;
    // The shift that starts on that day, else the one that covers its noon.
    return shifts.find((s) => s.from.getTime() >= day.getTime() && s.from.getTime() < dayEnd) ?? shifts.find((s) => s.from.getTime() <= day.getTime() + DAY_MS / 2 && s.to.getTime() > day.getTime() + DAY_MS / 2);
  }

  /** Refuses a change that would put a person on call at two levels at once. */
  private async assertNoClash(userId: string, level: OnCallLevel, from: Date, to: Date): Promise<void> {
    const overrides = await this.deps.overrides.overlapping(from, to);
    const others = this.settings.rotations.filter((r) => r.level !== level);
    const busy = others.flatMap((r) => shiftsBetween(r, overrides, from, to)).find((s) => s.userId === userId);
    if (busy) {
      throw new ConflictError(`${displayName(this.deps.team, userId)} is on call at ${busy.level} then (from ${busy.from.toISOString().slice(0, 16).replace('T', ' ')} UTC): nobody holds two levels at once.`);
    }
  }

  /** Clashes the rotations alone would make over the coming weeks, for the team-file check. */
  static clashesIn(settings: OnCallSettings, from: Date, weeks = 16) {
    return clashes(settings.rotations, [], from, new Date(from.getTime() + weeks * 7 * DAY_MS));
  }

  private async record(meta: RequestMeta, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    await this.deps.audit.record({ requestId: meta.requestId, actor: describeActor(meta.actor), action, target, outcome: 'succeeded', detail });
  }
}

function iso(window: { from: Date; to: Date }): { from: string; to: string } {
  return { from: window.from.toISOString(), to: window.to.toISOString() };
}
