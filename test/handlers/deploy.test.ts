import { openStore, type Store } from '../../bot/store/connect';
import { Deployer, type DeployDeps } from '../../handlers/deploy';
import { Policy } from '../../handlers/policy';
import { ConflictError, NotAllowedError, NotFoundError, UnavailableError } from '../../handlers/errors';
import type { Actor } from '../../handlers/model/identity';
import type { ResourceChange } from '../../handlers/model/infra';
import { MemoryDeployPlans, MemoryDrillHistory, MemoryIncidentBoard } from '../fakes/memoryStores';
import { FakeInfraEngine } from '../fakes/pulumiEngine';
import { exampleTeam, manualClock } from '../helpers';

const alice: Actor = { id: 'U0ALICE001', name: 'Alice', via: 'slack' }; // engineer, sre, approver
const bob: Actor = { id: 'U0BOB00001', name: 'Bob', via: 'slack' }; // engineer, sre
const carol: Actor = { id: 'U0CAROL001', name: 'Carol', via: 'slack' }; // engineer, approver
const stranger: Actor = { id: 'U0NOBODY01', via: 'slack' };

const pvcReplace: ResourceChange = {
  op: 'replace',
  type: 'kubernetes:core/v1:PersistentVolumeClaim',
  name: 'postgres-data',
  urn: 'urn:pulumi:staging::infra::kubernetes:core/v1:PersistentVolumeClaim::postgres-data',
};
const deploymentUpdate: ResourceChange = { op: 'update', type: 'kubernetes:apps/v1:Deployment', name: 'web', urn: 'urn:pulumi:staging::infra::kubernetes:apps/v1:Deployment::web' };

describe('Deployer', () => {
  let store: Store;
  let engine: FakeInfraEngine;
  let plans: MemoryDeployPlans;
  let drills: MemoryDrillHistory;
  let incidents: MemoryIncidentBoard;
  let clock: ReturnType<typeof manualClock>;
  let deployer: Deployer;
  let seq = 0;
  const meta = (actor: Actor) => ({ actor, requestId: `r-${++seq}` });

  beforeEach(async () => {
    clock = manualClock('2026-11-25T12:00:00Z');
    store = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
    engine = new FakeInfraEngine();
    plans = new MemoryDeployPlans(clock.now);
    drills = new MemoryDrillHistory();
    incidents = new MemoryIncidentBoard();
    const team = exampleTeam();
    const policy = new Policy({ team, plans, incidents, audit: store.audit, clock });
    const deps: DeployDeps = { team, policy, engine, locks: store.locks, plans, drills, incidents, audit: store.audit, clock, owner: 'replica-test', timing: { heartbeatMs: 10 } };
    deployer = new Deployer(deps);
    engine.setPreview('staging', { counts: { create: 1, update: 1, replace: 1, delete: 0, same: 20 }, changes: [deploymentUpdate, pvcReplace], steps: 24, revision: 'abc123' });
    engine.setPreview('prod', { counts: { create: 0, update: 1, replace: 0, delete: 0, same: 30 }, changes: [deploymentUpdate], steps: 31, revision: 'def456' });
  });
  afterEach(() => store.close());

  describe('preview', () => {
    test('measures the risk: stateful replacements, drills, incidents', async () => {
      drills.drills.push({ stack: 'staging', requestId: 'r-d1', startedAt: new Date('2026-11-01T10:00:00Z'), finishedAt: new Date('2026-11-01T10:20:00Z'), outcome: 'passed', rtoSeconds: 1200, rpoSeconds: 3600 });
      drills.drills.push({ stack: 'staging', requestId: 'r-d2', startedAt: new Date('2026-11-20T10:00:00Z'), finishedAt: new Date('2026-11-20T10:30:00Z'), outcome: 'failed' });
      incidents.add({ severity: 'SEV3', title: 'slow search', stacks: ['staging'] });
      const m = meta(alice);
      const plan = await deployer.preview('staging', m);
      expect(plan).toMatchObject({ id: m.requestId, stack: 'staging', status: 'awaiting_confirmation', requestedBy: alice.id });
      expect(plan.risk.stateful).toEqual([pvcReplace]);
      expect(plan.risk.level).toBe('high');
      expect(plan.risk.lastPassedDrill?.requestId).toBe('r-d1');
      expect(plan.risk.lastDrill?.outcome).toBe('failed');
      expect(plan.risk.frozen).toBe(false);
      expect(plan.risk.reasons).toEqual([
        '1 stateful resource(s) would be replaced or deleted',
        'last good restore 24 days ago',
        'the last restore drill failed',
        '1 incident(s) open on this stack',
      ]);
      const [audit] = await store.audit.query({ action: 'deploy.preview' });
      expect(audit).toMatchObject({ requestId: m.requestId, actor: alice.id, target: 'staging', outcome: 'succeeded', detail: expect.objectContaining({ risk: 'high', revision: 'abc123' }) });
      expect(engine.calls).toEqual([{ method: 'preview', stack: 'staging' }]);
    });

    test('who may deploy comes from cockpit.yml', async () => {
      await expect(deployer.preview('prod', meta(carol))).rejects.toThrow(new NotAllowedError('You may not deploy prod: it needs the role sre.'));
      await expect(deployer.preview('dev', meta(stranger))).rejects.toBeInstanceOf(NotAllowedError);
      await expect(deployer.preview('qa', meta(alice))).rejects.toBeInstanceOf(NotFoundError);
      expect(engine.calls).toEqual([]);
    });

    test('without the Pulumi CLI: a clear message saying what to install', async () => {
      engine.availabilityResult = { available: false, reason: 'the pulumi CLI is not on PATH', install: 'curl -fsSL https://get.pulumi.com | sh' };
      const err = await deployer.preview('staging', meta(alice)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as UnavailableError).message).toBe('Deploys are unavailable here: the pulumi CLI is not on PATH');
      expect((err as UnavailableError).hint).toContain('get.pulumi.com');
    });
  });

  describe('confirm and run', () => {
    test('runs the previewed revision under the stack lock, then releases it and records every step', async () => {
      engine.holdUpdates = true;
      const m = meta(alice);
      const plan = await deployer.preview('staging', m);
      const progress: Array<{ done: number; total: number }> = [];
      const running = deployer.confirm(plan.id, meta(bob), (p) => progress.push(p));
      const update = await engine.nextUpdate();
      expect(update.options).toMatchObject({ revision: 'abc123', expectedSteps: 24 });
      expect(await store.locks.get('staging')).toMatchObject({ holder: bob.id, purpose: 'deploy', requestId: plan.id, owner: 'replica-test' });
      expect((await plans.get(plan.id))?.status).toBe('running');
      update.progress(12, 24, 'updating kubernetes:apps/v1:Deployment web');
      update.succeed();
      const outcome = await running;
      expect(outcome.kind).toBe('finished');
      expect(outcome.plan).toMatchObject({ status: 'succeeded', confirmedBy: bob.id });
      expect(progress).toEqual([{ done: 0, total: 24 }, { done: 12, total: 24, current: 'updating kubernetes:apps/v1:Deployment web' }]);
      expect(await store.locks.get('staging')).toBeUndefined();
      const actions = (await store.audit.query({ target: 'staging' })).map((e) => `${e.action}:${e.outcome}`).reverse();
      expect(actions).toEqual(['deploy.preview:succeeded', 'deploy.start:started', 'deploy.finish:succeeded']);
    });

    test('a second deploy on a locked stack is refused with who, since when and for what', async () => {
      engine.holdUpdates = true;
      const first = await deployer.preview('staging', meta(alice));
      const running = deployer.confirm(first.id, meta(alice));
      const update = await engine.nextUpdate();
      clock.advance(12 * 60_000);
      engine.holdUpdates = false;
      const second = await deployer.preview('staging', meta(bob)).catch((e: unknown) => e);
      // The fake engine, like Pulumi, refuses a preview while an update runs; the lock refuses the deploy itself.
      expect(second).toBeInstanceOf(ConflictError);
      const plan2 = await plans.create({ ...first, id: 'r-other', requestedBy: bob.id, status: 'awaiting_confirmation', createdAt: clock.now() });
      const refused = await deployer.confirm(plan2.id, meta(bob)).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ConflictError);
      expect((refused as ConflictError).message).toBe(`staging is locked by Alice since 12:00 UTC (12m) for deploy, ref ${first.id}`);
      expect((await plans.get('r-other'))?.status).toBe('awaiting_confirmation');
      update.succeed();
      await running;
    });

    test('two presses of Deploy at once: one run, its lock held to the end, the other told "already running"', async () => {
      engine.holdUpdates = true;
      const plan = await deployer.preview('staging', meta(alice));
      // Both presses read the plan as waiting before either moves it: the race the atomic transition settles.
      const presses = [deployer.confirm(plan.id, meta(alice)), deployer.confirm(plan.id, meta(bob))].map((p) => p.then((v) => ({ ok: v }), (e: unknown) => ({ err: e })));
      const update = await engine.nextUpdate();
      const loser = await Promise.race(presses);
      expect('err' in loser && loser.err).toEqual(new ConflictError('This deploy is already running.', `ref ${plan.id}`));
      // The loser released nothing: the winner's lock is there through more heartbeats than the loser took.
      await new Promise((r) => setTimeout(r, 40));
      expect(await store.locks.get('staging')).toMatchObject({ requestId: plan.id, purpose: 'deploy' });
      expect(update.cancelRequested).toBe(false);
      update.succeed();
      const results = await Promise.all(presses);
      expect(results.filter((r) => 'ok' in r)).toHaveLength(1);
      expect(engine.updates).toHaveLength(1);
      expect((await plans.get(plan.id))?.status).toBe('succeeded');
      expect(await store.locks.get('staging')).toBeUndefined();
    });

    test('two presses of Approve at once: one run', async () => {
      engine.holdUpdates = true;
      const plan = await deployer.preview('prod', meta(bob));
      await deployer.confirm(plan.id, meta(bob));
      const presses = [deployer.approve(plan.id, meta(alice)), deployer.approve(plan.id, meta(carol))].map((p) => p.then(() => 'ran', (e: unknown) => (e as Error).message));
      const update = await engine.nextUpdate();
      expect(await Promise.race(presses)).toBe('This deploy is already running.');
      update.succeed();
      expect((await Promise.all(presses)).sort()).toEqual(['This deploy is already running.', 'ran']);
      expect(engine.updates).toHaveLength(1);
    });

    test('what runs is what was previewed: an older preview confirmed after a newer deploy is refused, not rolled back to', async () => {
      const p1 = await deployer.preview('staging', meta(alice)); // at abc123
      clock.advance(60_000);
      engine.setPreview('staging', { counts: { create: 0, update: 1, replace: 0, delete: 0, same: 22 }, changes: [deploymentUpdate], steps: 23, revision: 'bbb999' });
      const p2 = await deployer.preview('staging', meta(bob));
      clock.advance(60_000);
      await deployer.confirm(p2.id, meta(bob));
      clock.advance(60_000);
      const err = await deployer.confirm(p1.id, meta(alice)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).message).toBe(`staging changed since this preview: Bob deployed it (succeeded) with ref ${p2.id} at bbb999.`);
      expect(engine.updates.map((u) => u.options.revision)).toEqual(['bbb999']);
      expect((await plans.get(p1.id))?.status).toBe('expired');
      const [expired] = await store.audit.query({ action: 'deploy.expire' });
      expect(expired).toMatchObject({ detail: { planId: p1.id, why: `superseded by ${p2.id}` } });
    });

    test('a deploy that finishes between a press and its lock is caught under the lock', async () => {
      const p1 = await deployer.preview('staging', meta(alice));
      clock.advance(1000);
      const p2 = await deployer.preview('staging', meta(bob));
      // p1's press passes the policy; before it gets the lock, another replica runs p2 to the end.
      const acquire = store.locks.acquire.bind(store.locks);
      store.locks.acquire = async (request) => {
        store.locks.acquire = acquire;
        await plans.transition(p2.id, ['awaiting_confirmation'], 'running');
        clock.advance(1000);
        await plans.transition(p2.id, ['running'], 'succeeded', { result: { outcome: 'succeeded', durationMs: 1, counts: { create: 0, update: 1, replace: 0, delete: 0, same: 0 }, outputs: {}, logTail: [] } });
        return acquire(request);
      };
      await expect(deployer.confirm(p1.id, meta(alice))).rejects.toThrow(`staging changed since this preview: Bob deployed it (succeeded) with ref ${p2.id} at abc123.`);
      expect(engine.updates).toHaveLength(0);
      expect((await plans.get(p1.id))?.status).toBe('expired');
      expect(await store.locks.get('staging')).toBeUndefined();
    });

    test('the store refusing the record after a successful update is reported, not hidden', async () => {
      const plan = await deployer.preview('staging', meta(alice));
      const transition = plans.transition.bind(plans);
      plans.transition = async (id, from, to, patch) => {
        if (to === 'succeeded') throw new Error('database is locked');
        return transition(id, from, to, patch);
      };
      const outcome = await deployer.confirm(plan.id, meta(alice));
      expect(outcome).toMatchObject({ kind: 'finished', result: { outcome: 'succeeded' }, recordingFailed: 'database is locked', plan: { status: 'succeeded' } });
    });

    test('at start-up, plans a dead replica left running are marked failed; one whose lock lives is left alone', async () => {
      const orphan = await plans.create({ ...(await deployer.preview('staging', meta(alice))), status: 'running', id: 'r-orphan' });
      const live = await plans.create({ ...orphan, id: 'r-live', stack: 'prod' });
      await store.locks.acquire({ stack: 'prod', holder: alice.id, purpose: 'deploy', requestId: live.id, owner: 'replica-b' });
      const fixed = await deployer.reconcile();
      expect(fixed.map((p) => p.id)).toEqual(['r-orphan']);
      expect(await plans.get('r-orphan')).toMatchObject({ status: 'failed', result: { error: expect.stringContaining('Interrupted: the replica running it stopped') } });
      expect((await plans.get('r-live'))?.status).toBe('running');
      // Breaking that lock once it is stale ends its plan too: nobody is left to finish it.
      clock.advance(6 * 60_000);
      await deployer.breakLock('prod', 'replica-b is gone', meta(carol));
      expect((await plans.get('r-live'))?.status).toBe('failed');
    });

    test('old finished plans are purged; waiting and running ones never', async () => {
      const done = await deployer.preview('staging', meta(alice));
      await deployer.confirm(done.id, meta(alice));
      const waiting = await deployer.preview('prod', meta(alice));
      clock.advance(91 * 86_400_000);
      expect(await deployer.purge(90)).toBe(1);
      expect(await plans.get(done.id)).toBeUndefined();
      expect(await plans.get(waiting.id)).toBeDefined();
    });

    test('a failed update is an outcome, recorded; the lock is released', async () => {
      engine.holdUpdates = true;
      const plan = await deployer.preview('staging', meta(alice));
      const running = deployer.confirm(plan.id, meta(alice));
      (await engine.nextUpdate()).failWith('Deployment web: ImagePullBackOff');
      const outcome = await running;
      expect(outcome.kind === 'finished' && outcome.result.outcome).toBe('failed');
      expect(outcome.plan.status).toBe('failed');
      expect(await store.locks.get('staging')).toBeUndefined();
      const [finish] = await store.audit.query({ action: 'deploy.finish' });
      expect(finish).toMatchObject({ outcome: 'failed', detail: expect.objectContaining({ error: 'Deployment web: ImagePullBackOff' }) });
    });

    test('a stale preview is refused and expired', async () => {
      const plan = await deployer.preview('staging', meta(alice));
      clock.advance(31 * 60_000);
      await expect(deployer.confirm(plan.id, meta(alice))).rejects.toThrow(/31 minutes old/);
      expect((await plans.get(plan.id))?.status).toBe('expired');
      expect(engine.updates).toHaveLength(0);
    });

    test('cancel before the start', async () => {
      const plan = await deployer.preview('staging', meta(alice));
      await expect(deployer.cancelPlan(plan.id, meta(stranger))).rejects.toBeInstanceOf(NotAllowedError);
      expect((await deployer.cancelPlan(plan.id, meta(alice))).status).toBe('cancelled');
      await expect(deployer.confirm(plan.id, meta(alice))).rejects.toThrow('This deploy is already cancelled.');
    });
  });

  describe('prod needs a second person', () => {
    test('Deploy hands it to an approver; the requester and non-approvers cannot approve', async () => {
      const plan = await deployer.preview('prod', meta(alice));
      const outcome = await deployer.confirm(plan.id, meta(alice));
      expect(outcome).toMatchObject({ kind: 'awaiting_approval', approvers: ['Alice', 'Carol'] });
      expect(engine.updates).toHaveLength(0);
      await expect(deployer.approve(plan.id, meta(alice))).rejects.toThrow('You asked for this deploy, so you cannot approve it: a second person must.');
      await expect(deployer.approve(plan.id, meta(bob))).rejects.toThrow('Only an approver of prod may approve deploys.');
      const done = await deployer.approve(plan.id, meta(carol));
      expect(done.plan).toMatchObject({ status: 'succeeded', approvedBy: carol.id, confirmedBy: alice.id });
      expect(engine.updates).toHaveLength(1);
    });

    test('whoever pressed Deploy cannot approve it either', async () => {
      const plan = await deployer.preview('prod', meta(bob));
      await deployer.confirm(plan.id, meta(alice));
      await expect(deployer.approve(plan.id, meta(alice))).rejects.toThrow(/You confirmed this deploy, so you cannot approve it/);
    });
  });

  describe('identities off Slack', () => {
    const consoleAlice: Actor = { id: alice.id, name: 'Alice', via: 'console', as: 'mallory' };
    const cliCarol: Actor = { id: carol.id, name: 'Carol', via: 'cli', as: 'deploy' };

    test('the console deploys what needs no second person, recorded as who typed for whom', async () => {
      const plan = await deployer.preview('staging', meta(consoleAlice));
      const outcome = await deployer.confirm(plan.id, meta(consoleAlice));
      expect(outcome.plan.status).toBe('succeeded');
      const [start] = await store.audit.query({ action: 'deploy.start' });
      expect(start).toMatchObject({ actor: 'console:mallory for U0ALICE001' });
    });

    test('no terminal approves, overrides a freeze or breaks a lock: that is what Slack vouches for', async () => {
      const plan = await deployer.preview('prod', meta(bob));
      await deployer.confirm(plan.id, meta(bob));
      await expect(deployer.approve(plan.id, meta(cliCarol))).rejects.toThrow('From the cli, you act for Carol on your word alone: approving, overriding a freeze and breaking a lock need Slack.');
      await expect(deployer.preview('prod', meta(consoleAlice), { freezeOverrideReason: 'hotfix' })).rejects.toBeInstanceOf(NotAllowedError);
      await store.locks.acquire({ stack: 'staging', holder: bob.id, purpose: 'deploy', requestId: 'r-stuck', owner: 'gone' });
      clock.advance(6 * 60_000);
      await expect(deployer.breakLock('staging', 'stuck', meta(cliCarol))).rejects.toBeInstanceOf(NotAllowedError);
      expect(engine.updates).toHaveLength(0);
      const refused = (await store.audit.query({ outcomes: ['refused'] })).filter((e) => e.action.startsWith('policy.'));
      expect(refused.map((e) => `${e.action} ${e.actor}`).sort()).toEqual(['policy.approve cli:deploy for U0CAROL001', 'policy.break_lock cli:deploy for U0CAROL001', 'policy.override_freeze console:mallory for U0ALICE001']);
    });
  });

  describe('freezes', () => {
    test('an open SEV1/SEV2 on the stack freezes it, even one opened after the preview', async () => {
      const plan = await deployer.preview('staging', meta(alice));
      expect(plan.risk.frozen).toBe(false);
      incidents.add({ severity: 'SEV2', title: 'checkout errors', stacks: ['staging'] });
      const err = await deployer.confirm(plan.id, meta(alice)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotAllowedError);
      expect((err as NotAllowedError).message).toBe('staging is frozen: INC-1 SEV2 "checkout errors" is open.');
      expect((err as NotAllowedError).hint).toContain('--override-freeze');
      incidents.add({ severity: 'SEV1', title: 'prod down', stacks: ['prod'] });
      expect((await deployer.preview('dev', meta(alice))).risk.frozen).toBe(false);
    });

    test('an approver overrides with a reason; others cannot; the override is recorded', async () => {
      incidents.add({ severity: 'SEV1', title: 'data loss', stacks: ['staging'] });
      await expect(deployer.preview('staging', meta(bob), { freezeOverrideReason: 'hotfix' })).rejects.toThrow('Only an approver of staging may override a freeze.');
      await expect(deployer.preview('staging', meta(alice), { freezeOverrideReason: '  ' })).rejects.toThrow('a freeze override needs a reason');
      const plan = await deployer.preview('staging', meta(alice), { freezeOverrideReason: 'the fix for INC-1' });
      expect(plan.risk.frozen).toBe(true);
      expect(plan.freezeOverride).toEqual({ by: alice.id, reason: 'the fix for INC-1' });
      const outcome = await deployer.confirm(plan.id, meta(alice));
      expect(outcome.kind).toBe('finished');
      const [preview] = await store.audit.query({ action: 'deploy.preview' });
      expect(preview?.detail).toMatchObject({ freezeOverride: 'the fix for INC-1' });
    });
  });

  describe('cancel and locks', () => {
    test('/cockpit cancel stops the running update', async () => {
      engine.holdUpdates = true;
      const plan = await deployer.preview('staging', meta(alice));
      const running = deployer.confirm(plan.id, meta(alice));
      await engine.nextUpdate();
      await expect(deployer.cancelRunning('staging', meta(stranger))).rejects.toBeInstanceOf(NotAllowedError);
      const lock = await deployer.cancelRunning('staging', meta(bob));
      expect(lock.requestId).toBe(plan.id);
      const outcome = await running;
      expect(outcome.plan.status).toBe('cancelled');
      await expect(deployer.cancelRunning('staging', meta(bob))).rejects.toThrow('Nothing is running on staging.');
    });

    test('a stale lock from a crashed process can be broken by an approver with a reason; a live one cannot', async () => {
      await store.locks.acquire({ stack: 'staging', holder: bob.id, purpose: 'deploy', requestId: 'r-crashed', owner: 'replica-gone' });
      await expect(deployer.breakLock('staging', 'stuck', meta(carol))).rejects.toThrow(/The lock on staging is alive: its deploy sent a heartbeat 0s ago/);
      clock.advance(6 * 60_000);
      await expect(deployer.breakLock('staging', 'stuck', meta(bob))).rejects.toBeInstanceOf(NotAllowedError);
      await expect(deployer.breakLock('staging', ' ', meta(carol))).rejects.toThrow('Breaking a lock needs a reason.');
      const broken = await deployer.breakLock('staging', 'replica-gone was OOM-killed', meta(carol));
      expect(broken).toMatchObject({ holder: bob.id, requestId: 'r-crashed' });
      expect(await store.locks.get('staging')).toBeUndefined();
      const [entry] = await store.audit.query({ action: 'lock.break' });
      expect(entry).toMatchObject({ actor: carol.id, detail: expect.objectContaining({ reason: 'replica-gone was OOM-killed', holder: bob.id, owner: 'replica-gone' }) });
    });

    test('a run whose lock was broken under it cancels itself', async () => {
      engine.holdUpdates = true;
      const plan = await deployer.preview('staging', meta(alice));
      const running = deployer.confirm(plan.id, meta(alice));
      await engine.nextUpdate();
      await store.locks.forceRelease('staging');
      const outcome = await running; // the next heartbeat (10 ms) finds the lock gone and cancels
      expect(outcome.plan.status).toBe('cancelled');
      expect(engine.calls.some((c) => c.method === 'cancel')).toBe(true);
    });
  });
});
