import type { DeployPlan, QueuedMerge } from '../../handlers/model/deploys';
import type { UpdateResult } from '../../handlers/model/infra';
import { backendsUnderTest, useScratchStore } from './backends';

const backends = backendsUnderTest();

const result: UpdateResult = { outcome: 'succeeded', durationMs: 1000, counts: { create: 0, update: 1, replace: 0, delete: 0, same: 3 }, outputs: {}, logTail: [] };

describe.each(backends)('$name store: what the policy keeps', (backend) => {
  const fixture = useScratchStore(backend);

  const plan = (id: string, over: Partial<DeployPlan> = {}): Omit<DeployPlan, 'updatedAt'> => ({
    id,
    stack: 'staging',
    requestedBy: 'U1',
    createdAt: fixture.clock.now(),
    status: 'awaiting_confirmation',
    preview: { counts: { create: 0, update: 1, replace: 0, delete: 0, same: 3 }, changes: [], steps: 4, durationMs: 10, revision: `rev-${id}` },
    risk: { stateful: [], openIncidents: [], frozen: false, level: 'low', reasons: [] },
    ...over,
  });

  describe('deploy plans', () => {
    test('the confirmation time and a merge source round-trip', async () => {
      const { store, clock } = fixture;
      const source = { kind: 'merge' as const, pullRequest: 12, mergeSha: 'a'.repeat(40), mergedBy: 'carol-gh', author: 'alice-gh', htmlUrl: 'https://github.test/pull/12', carries: [10, 11] };
      await store.plans.create(plan('p1', { source }));
      clock.advance(5000);
      const confirmedAt = clock.now();
      const moved = await store.plans.transition('p1', ['awaiting_confirmation'], 'awaiting_approval', { confirmedBy: 'U2', confirmedAt });
      expect(moved).toMatchObject({ confirmedBy: 'U2', confirmedAt, source });
      expect(await store.plans.get('p1')).toMatchObject({ confirmedAt, source });
    });

    test('finishedSince: plans that ran and finished at or after a time; never waiting, running or never-started ones', async () => {
      const { store, clock } = fixture;
      await store.plans.create(plan('before'));
      await store.plans.transition('before', ['awaiting_confirmation'], 'running');
      await store.plans.transition('before', ['running'], 'succeeded', { result });
      clock.advance(1000);
      const since = clock.now();
      for (const id of ['waiting', 'cancelled-early', 'running', 'after']) await store.plans.create(plan(id));
      await store.plans.transition('cancelled-early', ['awaiting_confirmation'], 'cancelled');
      await store.plans.transition('running', ['awaiting_confirmation'], 'running');
      await store.plans.transition('after', ['awaiting_confirmation'], 'running');
      clock.advance(1000);
      await store.plans.transition('after', ['running'], 'failed', { result: { ...result, outcome: 'failed' } });
      await store.plans.create(plan('other-stack', { stack: 'prod' }));
      expect((await store.plans.finishedSince('staging', since)).map((p) => p.id)).toEqual(['after']);
    });

    test('lastRun: the plan that ran last, running or finished, is what the stack runs', async () => {
      const { store, clock } = fixture;
      expect(await store.plans.lastRun('staging')).toBeUndefined();
      await store.plans.create(plan('a'));
      await store.plans.transition('a', ['awaiting_confirmation'], 'running');
      await store.plans.transition('a', ['running'], 'succeeded', { result });
      clock.advance(1000);
      await store.plans.create(plan('waiting'));
      expect((await store.plans.lastRun('staging'))?.id).toBe('a');
      await store.plans.create(plan('b'));
      clock.advance(1000);
      await store.plans.transition('b', ['awaiting_confirmation'], 'running');
      expect((await store.plans.lastRun('staging'))?.preview.revision).toBe('rev-b');
    });

    test('purge: ended plans older than the cut, never waiting or running ones', async () => {
      const { store, clock } = fixture;
      for (const id of ['old-done', 'old-waiting', 'old-running']) await store.plans.create(plan(id));
      await store.plans.transition('old-done', ['awaiting_confirmation'], 'expired');
      await store.plans.transition('old-running', ['awaiting_confirmation'], 'running');
      clock.advance(10 * 86_400_000);
      await store.plans.create(plan('recent'));
      await store.plans.transition('recent', ['awaiting_confirmation'], 'cancelled');
      expect(await store.plans.purge(new Date(clock.now().getTime() - 86_400_000))).toBe(1);
      expect(await store.plans.get('old-done')).toBeUndefined();
      for (const id of ['old-waiting', 'old-running', 'recent']) expect(await store.plans.get(id)).toBeDefined();
    });

    test('byStack stops at its limit', async () => {
      const { store, clock } = fixture;
      for (let i = 0; i < 5; i++) {
        await store.plans.create(plan(`p${i}`));
        clock.advance(1);
      }
      expect((await store.plans.byStack('staging', ['awaiting_confirmation'], 2)).map((p) => p.id)).toEqual(['p4', 'p3']);
    });
  });

  describe('the audit log', () => {
    test('queries by several actions, outcomes and a time', async () => {
      const { store, clock } = fixture;
      await store.audit.record({ requestId: 'r1', actor: 'U1', action: 'environment.up', target: 'dev', outcome: 'succeeded' });
      clock.advance(1000);
      const since = clock.now();
      await store.audit.record({ requestId: 'r2', actor: 'U1', action: 'environment.up', target: 'dev', outcome: 'started' });
      await store.audit.record({ requestId: 'r3', actor: 'U1', action: 'environment.down', target: 'dev', outcome: 'failed' });
      await store.audit.record({ requestId: 'r4', actor: 'U1', action: 'deploy.finish', target: 'dev', outcome: 'succeeded' });
      const found = await store.audit.query({ target: 'dev', actions: ['environment.up', 'environment.down'], outcomes: ['succeeded', 'failed'], since });
      expect(found.map((e) => e.requestId)).toEqual(['r3']);
      expect(await store.audit.query({ actions: [], outcomes: [] })).toEqual([]);
    });
  });

  describe('the merge queue', () => {
    const merge = (pullRequest: number, over: Partial<QueuedMerge> = {}): QueuedMerge => ({
      stack: 'staging',
      pullRequest,
      mergeSha: `${pullRequest}`.repeat(40).slice(0, 40),
      headSha: 'h'.repeat(40),
      mergedBy: 'carol-gh',
      author: 'cockpit-bot',
      askedBy: ['U0ALICE001'],
      htmlUrl: `https://github.test/pull/${pullRequest}`,
      needsApproval: 'prod needs a second person',
      queuedAt: fixture.clock.now(),
      requestId: `r-${pullRequest}`,
      ...over,
    });

    test('a merge is queued once; a replayed delivery adds nothing', async () => {
      const { store } = fixture;
      expect(await store.merges.add(merge(1))).toBe(true);
      expect(await store.merges.add(merge(1, { requestId: 'r-replay' }))).toBe(false);
      expect(await store.merges.add(merge(2, { stack: 'prod', approvedBy: 'U0CAROL001', needsApproval: undefined }))).toBe(true);
      expect(await store.merges.stacks()).toEqual(['prod', 'staging']);
      expect(await store.merges.takeAll('staging')).toStrictEqual([merge(1)]);
      expect(await store.merges.takeAll('staging')).toEqual([]);
      expect(await store.merges.takeAll('prod')).toStrictEqual([merge(2, { stack: 'prod', approvedBy: 'U0CAROL001', needsApproval: undefined })].map(({ needsApproval: _n, ...m }) => m));
    });

    test('of two replicas draining a stack at once, one gets its merges', async () => {
      const { store, clock } = fixture;
      for (const n of [1, 2, 3]) {
        await store.merges.add(merge(n));
        clock.advance(1);
      }
      const other = await fixture.reopen();
      const [a, b] = await Promise.all([store.merges.takeAll('staging'), other.merges.takeAll('staging')]);
      expect([a.length, b.length].sort()).toEqual([0, 3]);
      expect([...a, ...b].map((m) => m.pullRequest)).toEqual([1, 2, 3]);
    });
  });
});
