import { Migrator, sql } from 'kysely';
import { createStore, type Store } from '../../bot/store/connect';
import { SqlDeliveryLog } from '../../bot/store/deliveryLog';
import { InCodeMigrationProvider, storeMigrations } from '../../bot/store/migrations';
import { ConflictError, NotFoundError } from '../../handlers/errors';
import type { Logger } from '../../handlers/ports';
import type { DeployPlan, DeployPlanStatus, RiskAssessment } from '../../handlers/model/deploys';
import type { DrillRecord } from '../../handlers/model/drills';
import type { PreviewResult, UpdateResult } from '../../handlers/model/infra';
import { backendsUnderTest, type ManualClock, type ScratchDatabase, useScratchStore } from './backends';
import { race } from './race';

const backends = backendsUnderTest();

/** A name that looks like a time: it must come back as the string it was, not as a Date. */
const DATE_LIKE_NAME = '2026-05-20T09:00:00.000Z';

const preview: PreviewResult = {
  counts: { create: 1, update: 1, replace: 1, delete: 0, same: 12 },
  changes: [
    {
      op: 'replace',
      type: 'kubernetes:core/v1:PersistentVolumeClaim',
      name: 'data',
      urn: 'urn:pulumi:staging::platform::kubernetes:core/v1:PersistentVolumeClaim::data',
    },
    {
      op: 'create',
      type: 'kubernetes:core/v1:ConfigMap',
      name: DATE_LIKE_NAME,
      urn: `urn:pulumi:staging::platform::kubernetes:core/v1:ConfigMap::${DATE_LIKE_NAME}`,
    },
    { op: 'update', type: 'kubernetes:apps/v1:Deployment', name: 'web', urn: 'urn:pulumi:staging::platform::kubernetes:apps/v1:Deployment::web' },
  ],
  steps: 16,
  durationMs: 4210,
  revision: 'a1b2c3d4',
};

const passedDrill: DrillRecord = {
  stack: 'staging',
  requestId: 'drill-1',
  startedAt: new Date('2026-05-01T02:00:00.000Z'),
  finishedAt: new Date('2026-05-01T02:07:30.250Z'),
  outcome: 'passed',
  rtoSeconds: 450.25,
  rpoSeconds: 3600,
};

const failedDrill: DrillRecord = {
  stack: 'staging',
  requestId: 'drill-2',
  startedAt: new Date('2026-05-15T02:00:00.000Z'),
  finishedAt: new Date('2026-05-15T02:03:00.000Z'),
  outcome: 'failed',
};

const risk: RiskAssessment = {
  stateful: [preview.changes[0]!],
  lastDrill: failedDrill,
  lastPassedDrill: passedDrill,
  openIncidents: [
    { id: 12, severity: 'SEV3', title: 'Slow "checkout" – p99 > 2s', status: 'monitoring', stacks: ['staging', 'prod'], openedAt: new Date('2026-05-19T22:10:05.123Z') },
  ],
  frozen: false,
  level: 'elevated',
  reasons: ['replaces 1 stateful resource (PersistentVolumeClaim data)', 'the last restore drill failed'],
};

const result: UpdateResult = {
  outcome: 'succeeded',
  durationMs: 61_000,
  counts: { create: 1, update: 1, replace: 1, delete: 0, same: 12 },
  outputs: {
    url: { value: 'https://staging.example.org', secret: false },
    password: { value: '[secret]', secret: true },
    settings: { value: { deployedAt: DATE_LIKE_NAME, replicas: 3, zones: ['a', { name: 'b', weight: 0.5 }], none: null }, secret: false },
  },
  logTail: ['Updating (staging)', 'Resources: 3 changed, 12 unchanged'],
  revision: 'a1b2c3d4',
};

describe.each(backends)('$name store: deploys', (backend) => {
  const fixture = useScratchStore(backend);
  let clock: ManualClock;
  let scratch: ScratchDatabase;
  let store: Store;
  const reopen = fixture.reopen;
  beforeEach(() => ({ clock, scratch, store } = fixture));

  it('upgrades a database made by 0001_initial, keeping its data', async () => {
    const fresh = await backend.scratch();
    const old = createStore(fresh.config, { clock });
    try {
      // The migrator the released 0001 ran under, pinned to this schema like the store's own.
      const schema = backend.name === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(old.db)).rows[0]?.schema : undefined;
      const initialOnly = new InCodeMigrationProvider({ '0001_initial': storeMigrations(backend.name)['0001_initial']! });
      const { error } = await new Migrator({ db: old.db, provider: initialOnly, migrationTableSchema: schema }).migrateToLatest();
      expect(error).toBeUndefined();
      await old.audit.record({ requestId: 'r0', actor: 'U1', action: 'deploy.preview', target: 'staging', outcome: 'started' });

      // Every migration after the first, in order: whatever later capabilities add.
      expect(await old.migrate()).toEqual(Object.keys(storeMigrations(backend.name)).filter((n) => n !== '0001_initial'));
      expect(await old.audit.query()).toHaveLength(1);
      await old.plans.create({ id: 'r1', stack: 'staging', requestedBy: 'U1', createdAt: clock.now(), status: 'awaiting_confirmation', preview, risk });
      expect((await old.plans.get('r1'))?.stack).toBe('staging');
    } finally {
      await old.close();
      await fresh.drop();
    }
  });

  describe('deploy plans', () => {
    function newPlan(overrides: Partial<Omit<DeployPlan, 'updatedAt'>> = {}): Omit<DeployPlan, 'updatedAt'> {
      return { id: 'r1', stack: 'staging', requestedBy: 'U1', createdAt: clock.now(), status: 'awaiting_confirmation', preview, risk, ...overrides };
    }

    it('stores a plan and reads it back whole: Dates revived where the ports have them, strings left alone', async () => {
      const plan = newPlan();
      const created = await store.plans.create(plan);
      expect(created).toStrictEqual({ ...plan, updatedAt: plan.createdAt });

      const got = await store.plans.get('r1');
      expect(got).toStrictEqual(created);
      expect(got?.risk.lastDrill?.finishedAt).toEqual(new Date('2026-05-15T02:03:00.000Z'));
      expect(got?.risk.lastPassedDrill?.startedAt).toBeInstanceOf(Date);
      expect(got?.risk.openIncidents[0]?.openedAt).toEqual(new Date('2026-05-19T22:10:05.123Z'));
      expect(got?.risk.lastDrill).not.toHaveProperty('rtoSeconds');
      expect(got?.preview.changes[1]?.name).toBe(DATE_LIKE_NAME);
    });

    it('stores every optional field, and a risk report with no drills and no incidents', async () => {
      const plan = newPlan({
        status: 'succeeded',
        risk: { stateful: [], openIncidents: [], frozen: true, level: 'high', reasons: [] },
        confirmedBy: 'U2',
        approvedBy: 'U3',
        freezeOverride: { by: 'U3', reason: 'the fix for INC-12 itself' },
        message: { channel: 'C0123', ts: '1716195600.000100' },
        result,
      });
      await store.plans.create(plan);
      const got = await store.plans.get('r1');
      expect(got).toStrictEqual({ ...plan, updatedAt: plan.createdAt });
      expect(got?.result?.outputs.settings?.value).toEqual({ deployedAt: DATE_LIKE_NAME, replicas: 3, zones: ['a', { name: 'b', weight: 0.5 }], none: null });
    });

    it('refuses a second plan under the same id and keeps the first', async () => {
      await store.plans.create(newPlan());
      await expect(store.plans.create(newPlan({ stack: 'prod', requestedBy: 'U9' }))).rejects.toThrow(ConflictError);
      expect(await store.plans.get('r1')).toMatchObject({ stack: 'staging', requestedBy: 'U1' });
    });

    it('finds nothing under an unknown id', async () => {
      expect(await store.plans.get('nope')).toBeUndefined();
    });

    it('moves a plan along its life, each step applying its patch and keeping what came before', async () => {
      const plan = newPlan();
      await store.plans.create(plan);

      clock.advance(20_000);
      const confirmed = await store.plans.transition('r1', ['awaiting_confirmation'], 'awaiting_approval', { confirmedBy: 'U2' });
      expect(confirmed).toStrictEqual({ ...plan, status: 'awaiting_approval', confirmedBy: 'U2', updatedAt: clock.now() });

      clock.advance(60_000);
      const freezeOverride = { by: 'U3', reason: 'the fix for INC-12 itself' };
      const running = await store.plans.transition('r1', ['awaiting_approval'], 'running', { approvedBy: 'U3', freezeOverride });
      expect(running).toMatchObject({ status: 'running', confirmedBy: 'U2', approvedBy: 'U3', freezeOverride, updatedAt: clock.now() });

      clock.advance(61_000);
      const done = await store.plans.transition('r1', ['running'], 'succeeded', { result, confirmedBy: undefined });
      expect(done).toStrictEqual({ ...plan, status: 'succeeded', confirmedBy: 'U2', approvedBy: 'U3', freezeOverride, result, updatedAt: clock.now() });
      expect(await store.plans.get('r1')).toStrictEqual(done);
    });

    it('does not move a plan that is not in one of the expected statuses, nor touch it', async () => {
      await store.plans.create(newPlan());
      await store.plans.transition('r1', ['awaiting_confirmation'], 'cancelled');
      const cancelled = await store.plans.get('r1');

      clock.advance(1000);
      expect(await store.plans.transition('r1', ['awaiting_confirmation', 'awaiting_approval'], 'running', { confirmedBy: 'U2' })).toBeUndefined();
      expect(await store.plans.transition('r1', [], 'running')).toBeUndefined();
      expect(await store.plans.transition('nope', ['awaiting_confirmation'], 'running')).toBeUndefined();
      expect(await store.plans.get('r1')).toStrictEqual(cancelled);
      expect(cancelled?.status).toBe('cancelled');
    });

    it('records where the plan is shown without changing its status or its updatedAt', async () => {
      const plan = newPlan();
      await store.plans.create(plan);
      clock.advance(1000);
      await store.plans.setMessage('r1', { channel: 'C0123', ts: '1716195600.000100' });
      await store.plans.setMessage('r1', { channel: 'C0123', ts: '1716195600.000200' });
      expect(await store.plans.get('r1')).toStrictEqual({ ...plan, updatedAt: plan.createdAt, message: { channel: 'C0123', ts: '1716195600.000200' } });

      await expect(store.plans.setMessage('nope', { channel: 'C0123', ts: '1' })).rejects.toThrow(NotFoundError);
    });

    it('lists the plans of a stack in the given statuses, newest first', async () => {
      const plans: Array<[string, string, DeployPlanStatus, string]> = [
        ['r1', 'staging', 'succeeded', '2026-05-18T10:00:00.000Z'],
        ['r2', 'staging', 'awaiting_confirmation', '2026-05-20T08:00:00.000Z'],
        ['r3', 'prod', 'awaiting_confirmation', '2026-05-20T08:30:00.000Z'],
        ['r4', 'staging', 'awaiting_approval', '2026-05-20T08:45:00.000Z'],
        ['r5', 'staging', 'awaiting_confirmation', '2026-05-19T23:59:59.999Z'],
        ['r6', 'staging', 'expired', '2026-05-20T08:50:00.000Z'],
      ];
      for (const [id, stack, status, at] of plans) await store.plans.create(newPlan({ id, stack, status, createdAt: new Date(at) }));
      const ids = async (stack: string, statuses: readonly DeployPlanStatus[]) => (await store.plans.byStack(stack, statuses)).map((p) => p.id);

      expect(await ids('staging', ['awaiting_confirmation', 'awaiting_approval'])).toEqual(['r4', 'r2', 'r5']);
      expect(await ids('staging', ['succeeded', 'expired'])).toEqual(['r6', 'r1']);
      expect(await ids('prod', ['awaiting_confirmation', 'awaiting_approval'])).toEqual(['r3']);
      expect(await ids('staging', ['running'])).toEqual([]);
      expect(await ids('staging', [])).toEqual([]);
      expect(await ids('nowhere', ['awaiting_confirmation'])).toEqual([]);
      expect((await store.plans.byStack('staging', ['awaiting_approval']))[0]).toStrictEqual(await store.plans.get('r4'));
    });

    it('lets exactly one of many concurrent presses across replicas move the plan', async () => {
      await store.plans.create(newPlan());
      const replicas = [store, await reopen(), await reopen()];
      // Half press Deploy, half press Cancel, all on a plan still awaiting confirmation.
      const presses = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          replicas[i % replicas.length]!.plans.transition('r1', ['awaiting_confirmation'], i % 2 === 0 ? 'running' : 'cancelled', { confirmedBy: `U${i}` }),
        ),
      );
      const winners = presses.filter((p): p is DeployPlan => p !== undefined);
      expect(winners).toHaveLength(1);
      expect(await store.plans.get('r1')).toMatchObject({ status: winners[0]!.status, confirmedBy: winners[0]!.confirmedBy });
    });

    it('lets exactly one of several racing processes start the run', async () => {
      await store.plans.create(newPlan({ id: 'race' }));
      const results = await race<{ won: boolean }>('confirm', scratch.config, 4);
      const winners = results.filter((r) => r.won);
      expect(winners).toHaveLength(1);
      expect(await store.plans.get('race')).toMatchObject({ status: 'running', confirmedBy: winners[0]!.requestId });
    }, 60_000);
  });

  describe('drill history', () => {
    it('has nothing for a stack that never ran a drill', async () => {
      expect(await store.drills.latest('staging')).toBeUndefined();
      expect(await store.drills.latestPassed('staging')).toBeUndefined();
    });

    it('round-trips a drill, with fractional and absent measurements', async () => {
      await store.drills.record(passedDrill);
      expect(await store.drills.latest('staging')).toStrictEqual(passedDrill);

      await store.drills.record(failedDrill);
      const latest = await store.drills.latest('staging');
      expect(latest).toStrictEqual(failedDrill);
      expect(latest).not.toHaveProperty('rtoSeconds');
    });

    it('picks the drill that finished last, and the last one that passed, per stack', async () => {
      const at = (iso: string) => new Date(iso);
      const drills: DrillRecord[] = [
        { stack: 'staging', requestId: 'd-newest-failed', startedAt: at('2026-05-19T01:00:00.000Z'), finishedAt: at('2026-05-19T01:10:00.000Z'), outcome: 'failed' },
        { stack: 'staging', requestId: 'd-old-passed', startedAt: at('2026-05-01T01:00:00.000Z'), finishedAt: at('2026-05-01T01:10:00.000Z'), outcome: 'passed', rtoSeconds: 600 },
        { stack: 'prod', requestId: 'd-prod', startedAt: at('2026-05-20T01:00:00.000Z'), finishedAt: at('2026-05-20T01:05:00.000Z'), outcome: 'passed' },
        { stack: 'staging', requestId: 'd-mid-passed', startedAt: at('2026-05-10T01:00:00.000Z'), finishedAt: at('2026-05-10T01:10:00.000Z'), outcome: 'passed', rtoSeconds: 580 },
        // Started before d-mid-passed but finished after it: "latest" goes by the finish.
        { stack: 'staging', requestId: 'd-long-failed', startedAt: at('2026-05-09T23:00:00.000Z'), finishedAt: at('2026-05-10T03:00:00.000Z'), outcome: 'failed' },
      ];
      for (const drill of drills) await store.drills.record(drill);

      expect((await store.drills.latest('staging'))?.requestId).toBe('d-newest-failed');
      expect(await store.drills.latestPassed('staging')).toStrictEqual(drills[3]);
      expect((await store.drills.latest('prod'))?.requestId).toBe('d-prod');
      expect((await store.drills.latestPassed('prod'))?.requestId).toBe('d-prod');
    });

    it('takes the one recorded last among drills that finished in the same millisecond', async () => {
      await store.drills.record({ ...passedDrill, requestId: 'first' });
      await store.drills.record({ ...passedDrill, requestId: 'second' });
      expect((await store.drills.latest('staging'))?.requestId).toBe('second');
    });

    it('refuses a drill it could not store faithfully, and stores nothing', async () => {
      await expect(store.drills.record({ ...passedDrill, rtoSeconds: Number.NaN })).rejects.toThrow(RangeError);
      await expect(store.drills.record({ ...passedDrill, rpoSeconds: -1 })).rejects.toThrow(RangeError);
      await expect(store.drills.record({ ...passedDrill, rtoSeconds: Number.POSITIVE_INFINITY })).rejects.toThrow(RangeError);
      await expect(store.drills.record({ ...passedDrill, finishedAt: new Date('2026-04-30T00:00:00.000Z') })).rejects.toThrow(RangeError);
      await expect(store.drills.record({ ...passedDrill, outcome: 'skipped' as DrillRecord['outcome'] })).rejects.toThrow(RangeError);
      expect(await store.drills.latest('staging')).toBeUndefined();
    });
  });

  describe('delivery log', () => {
    const count = async () => Number((await store.db.selectFrom('deliveries').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    it('sees a key first once per ttl, and again once it has expired', async () => {
      expect(await store.deliveries.firstSeen('event:Ev1', 10_000)).toBe(true);
      expect(await store.deliveries.firstSeen('event:Ev1', 10_000)).toBe(false);
      clock.advance(9_999);
      expect(await store.deliveries.firstSeen('event:Ev1', 10_000)).toBe(false);
      clock.advance(1);
      expect(await store.deliveries.firstSeen('event:Ev1', 10_000)).toBe(true);
      // The expiry starts again from this delivery, not from the first one.
      clock.advance(5_000);
      expect(await store.deliveries.firstSeen('event:Ev1', 10_000)).toBe(false);
    });

    it('keeps keys independent', async () => {
      expect(await store.deliveries.firstSeen('event:Ev1', 60_000)).toBe(true);
      expect(await store.deliveries.firstSeen('trigger:123.456', 60_000)).toBe(true);
      expect(await store.deliveries.firstSeen('trigger:123.456', 60_000)).toBe(false);
    });

    it('answers true to exactly one of many replicas handed the same retry, also when it has just expired', async () => {
      const replicas = [store, await reopen(), await reopen()];
      const deliver = () => Promise.all(Array.from({ length: 24 }, (_, i) => replicas[i % replicas.length]!.deliveries.firstSeen('event:Ev1', 60_000)));
      expect((await deliver()).filter(Boolean)).toHaveLength(1);

      clock.advance(60_000);
      expect((await deliver()).filter(Boolean)).toHaveLength(1);
    });

    it('answers true to exactly one of several racing processes', async () => {
      const results = await race<{ first: boolean }>('deliver', scratch.config, 4);
      expect(results.filter((r) => r.first)).toHaveLength(1);
    }, 60_000);

    it('deletes expired keys on its first call and every purgeEvery-th call after', async () => {
      await store.db
        .insertInto('deliveries')
        .values([
          { key: 'left-by-a-crash', expires_at: '2026-05-20T08:00:00.000Z' },
          { key: 'still-live', expires_at: '2026-05-20T10:00:00.000Z' },
        ])
        .execute();
      const deliveries = new SqlDeliveryLog(store.db, clock, { purgeEvery: 3 });

      await deliveries.firstSeen('a', 1000); // call 1 purges
      expect((await store.db.selectFrom('deliveries').select('key').orderBy('key').execute()).map((r) => r.key)).toEqual(['a', 'still-live']);
      await deliveries.firstSeen('b', 1000);
      clock.advance(1000); // a and b expire
      await deliveries.firstSeen('c', 1000);
      expect(await count()).toBe(4);
      await deliveries.firstSeen('d', 1000); // call 4 purges
      expect((await store.db.selectFrom('deliveries').select('key').orderBy('key').execute()).map((r) => r.key)).toEqual(['c', 'd', 'still-live']);
      expect(await deliveries.firstSeen('a', 1000)).toBe(true);
    });

    it('still answers when the purge fails, and says so in the log', async () => {
      await store.db.insertInto('deliveries').values({ key: 'expired', expires_at: '2026-05-20T08:00:00.000Z' }).execute();
      if (backend.name === 'sqlite') {
        await sql`create trigger deliveries_refuse_delete before delete on deliveries begin select raise(abort, 'deletes refused'); end`.execute(store.db);
      } else {
        await sql`create function deliveries_refuse_delete() returns trigger language plpgsql as $$ begin raise exception 'deletes refused'; end $$`.execute(store.db);
        await sql`create trigger deliveries_refuse_delete before delete on deliveries for each row execute function deliveries_refuse_delete()`.execute(store.db);
      }
      const log = new RecordingLogger();
      const deliveries = new SqlDeliveryLog(store.db, clock, { log });

      expect(await deliveries.firstSeen('event:Ev1', 60_000)).toBe(true);
      expect(await deliveries.firstSeen('event:Ev1', 60_000)).toBe(false);
      expect(log.warnings).toEqual([{ obj: { err: expect.stringMatching(/deletes refused/) }, msg: expect.stringMatching(/could not purge/) }]);
      expect(await count()).toBe(2);
    });

    it('refuses a ttl or a purge interval that is not positive', async () => {
      await expect(store.deliveries.firstSeen('k', 0)).rejects.toThrow(RangeError);
      await expect(store.deliveries.firstSeen('k', Number.NaN)).rejects.toThrow(RangeError);
      expect(() => new SqlDeliveryLog(store.db, clock, { purgeEvery: 0 })).toThrow(RangeError);
      expect(await count()).toBe(0);
    });
  });
});

class RecordingLogger implements Logger {
  readonly warnings: Array<{ obj: object; msg?: string }> = [];
  debug(): void {}
  info(): void {}
  warn(obj: object, msg?: string): void {
    this.warnings.push({ obj, msg });
  }
  error(): void {}
  child(): Logger {
    return this;
  }
}
