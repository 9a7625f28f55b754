import { ConflictError, NotAllowedError } from '../../handlers/errors';
import { Drills, type DrillOutcome } from '../../handlers/drill';
import type { DrillRun } from '../../handlers/model/drills';
import { ALICE, drillTeam, drillWorld, meta, POLL_MS, type DrillWorld } from './world';

/** The drill engine end to end: handlers/drill.ts → the Kubernetes adapter → a fake cluster playing Velero. */

function finished(outcome: DrillOutcome): DrillRun {
  if (outcome.kind !== 'finished') throw new Error(`expected a finished drill, got ${outcome.kind}: ${outcome.reason}`);
  return outcome.run;
}

const drillNamespaces = (w: DrillWorld) => w.kube.namespaces().filter((n) => n.name.startsWith('drill-'));

describe('a restore drill on the fake cluster', () => {
  let w: DrillWorld;
  beforeEach(async () => {
    w = await drillWorld();
  });
  afterEach(async () => {
    w.kube.assertNoViolations();
    await w.close();
  });

  test('passes: marker planted, backed up, restored into scratch namespaces, found, measured, cleaned up', async () => {
    const steps: string[] = [];
    const run = finished(await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-pass'), (p) => steps.push(p.steps.map((s) => `${s.name}:${s.state}`).join(' '))));
    expect(run).toMatchObject({ outcome: 'passed', stack: 'integration', cluster: 'integration', trigger: 'manual', leftBehind: [] });
    expect(run.reason).toBeUndefined();
    expect(run.steps.map((s) => [s.name, s.state])).toEqual([
      ['marker', 'passed'],
      ['backup', 'passed'],
      ['restore', 'passed'],
      ['verify', 'passed'],
      ['cleanup', 'passed'],
    ]);
    // The steps were shown as they advanced, not only at the end.
    expect(steps.some((s) => s.includes('restore:running'))).toBe(true);
    expect(run.marker).toMatchObject({ found: true, stack: 'integration' });
    expect(w.kube.markers('shop')).toContain(run.marker!.value);
    expect(run.backup).toMatchObject({ fresh: true, name: expect.stringMatching(/^cockpit-drill-/) });
    // RTO: restore start → verified; RPO: the backup's age when the restore started. All on the fake's clock.
    expect(run.rtoSeconds).toBeGreaterThan(90);
    expect(run.rtoSeconds).toBeLessThan(300);
    expect(run.rpoSeconds).toBeGreaterThan(40);
    expect(run.rpoSeconds).toBeLessThan(120);

    const [restore] = w.kube.objectsOf('velero.io/restores', 'velero');
    const mapping = (restore!.spec as { namespaceMapping: Record<string, string> }).namespaceMapping;
    expect(mapping).toEqual({ shop: expect.stringMatching(/^drill-[a-z0-9]{6}-shop$/) });
    expect(restore!.spec).toMatchObject({ includedNamespaces: ['shop'], excludedResources: ['ingresses.networking.k8s.io', 'cronjobs.batch'] });
    // The fresh backup copies the schedule's settings (volumes by file system) but does not pass for a scheduled one.
    const backup = w.kube.objectsOf('velero.io/backups', 'velero')[0]!;
    expect(backup.spec).toMatchObject({ includedNamespaces: ['shop'], defaultVolumesToFsBackup: true, ttl: '72h0m0s' });
    expect(backup.metadata.labels?.['velero.io/schedule-name']).toBeUndefined();
    expect(drillNamespaces(w)).toEqual([]);
    // The live product was never touched beyond the marker.
    expect(w.kube.objectsOf('networking.k8s.io/ingresses').map((i) => i.metadata.namespace)).toEqual(['shop']);

    const [kept] = await w.drills.history('integration');
    expect(kept).toMatchObject({ requestId: 'r-pass', outcome: 'passed', rtoSeconds: run.rtoSeconds });
    expect(kept!.logs.jobs.map((j) => j.name)).toEqual([expect.stringMatching(/-plant$/), expect.stringMatching(/-verify$/)]);
    expect(kept!.logs.jobs[1]!.tail.join('\n')).toContain('"marker":true');
    expect(await w.store.drills.latestPassed('integration')).toEqual(expect.objectContaining({ requestId: 'r-pass', trigger: 'manual' }));
    const audit = await w.store.audit.query({ requestId: 'r-pass' });
    expect(audit.map((a) => `${a.action}:${a.outcome}`)).toEqual(['drill.finish:succeeded', 'drill.start:started']);
  });

  test('warnings are kept and shown, and the restore log comes through a DownloadRequest', async () => {
    w.scenario({ restoreWarnings: 2 });
    const run = finished(await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-warn')));
    expect(run.outcome).toBe('passed');
    expect(run.warnings).toEqual([expect.stringMatching(/^Restore cockpit-drill-\w+: 2 warning\(s\)/)]);
    const logs = await w.drills.logs('r-warn');
    expect(logs.restoreLog).toContain('level=warning msg="could not restore, ConfigMap');
    expect(w.kube.objectsOf('velero.io/downloadrequests', 'velero')[0]!.spec).toEqual({ target: { kind: 'RestoreLog', name: run.logs.restore } });
  });

  test.each([
    ['a PartiallyFailed restore', { restoreEnds: 'PartiallyFailed' as const }, /restore cockpit-drill-\w+ is PartiallyFailed \(1 error/],
    ['a Completed restore with errors', { restoreErrors: 1 }, /restore cockpit-drill-\w+ is Completed \(1 error/],
    ['a volume whose data restore never completed', { volumeRestoresEnd: 'InProgress' as const }, /1 of 1 volume restore\(s\) did not complete: drill-\w+-shop\/postgres-0 data InProgress/],
    ['a failed volume restore', { volumeRestoresEnd: 'Failed' as const }, /PartiallyFailed/],
    ['a backup that PartiallyFailed', { backupEnds: 'PartiallyFailed' as const }, /backup cockpit-drill-\w+ is PartiallyFailed/],
    ['the marker missing from the restored data', { lose: 'marker' as const }, /the marker planted \d+ min ago is not in the restored data/],
    ['rows missing from the restored data', { lose: 'rows' as const }, /the restored data differs: orders: 602 restored, 1204 before the backup; customers: 155 restored, 311 before the backup/],
    ['a verification Job that fails', { jobFails: 'verify' as const }, /job cockpit-drill-\w+-verify failed \(BackoffLimitExceeded.*\): error: permission denied/],
  ])('fails on %s, says why, and still cleans up', async (_what, scenario, reason) => {
    w.scenario(scenario);
    const run = finished(await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-fail')));
    expect(run.outcome).toBe('failed');
    expect(run.reason).toMatch(reason);
    expect(run.steps.find((s) => s.name === 'cleanup')).toMatchObject({ state: 'passed' });
    expect(drillNamespaces(w)).toEqual([]);
    expect(await w.store.drills.latestPassed('integration')).toBeUndefined();
    expect(await w.store.drills.latest('integration')).toMatchObject({ outcome: 'failed', reason: run.reason });
  });

  test('a restore that hangs times out, and the scratch namespaces are deleted all the same', async () => {
    w.scenario({ hang: 'restore' });
    const run = finished(await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-hang')));
    expect(run.outcome).toBe('failed');
    expect(run.reason).toMatch(/^timed out after 60 min waiting for restore cockpit-drill-\w+ \(InProgress\)$/);
    expect(run.steps.map((s) => `${s.name}:${s.state}`)).toEqual(['marker:passed', 'backup:passed', 'restore:failed', 'cleanup:passed']);
    expect(drillNamespaces(w)).toEqual([]);
  });

  test('workloads that never become ready time out', async () => {
    w.scenario({ hang: 'ready' });
    const run = finished(await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-ready')));
    expect(run.reason).toMatch(/timed out after 15 min waiting for the restored workloads to be ready \(Deployment api 0\/2 ready/);
    expect(drillNamespaces(w)).toEqual([]);
  });

  test('a clean-up Kubernetes refuses fails the drill and names what is left behind', async () => {
    w.scenario({ deletion: 'forbidden' });
    const run = finished(await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-left')));
    expect(run.outcome).toBe('failed');
    expect(run.leftBehind).toEqual([expect.stringMatching(/^drill-\w+-shop$/)]);
    expect(run.reason).toMatch(/^clean-up failed: could not delete drill-\w+-shop \(Kubernetes refused to delete namespace drill-\w+-shop \(403\): namespaces "drill-\w+-shop" is forbidden/);
    expect(run.reason).toMatch(/delete it by hand/);
    expect(drillNamespaces(w)).toHaveLength(1);
    // The fake counts a 403 as a violation: here it is the scenario, not a mistake of the adapter.
    w.kube.violations.length = 0;
  });

  test('a namespace stuck terminating is reported too, after a failure of its own', async () => {
    w.scenario({ deletion: 'stuck', lose: 'marker' });
    const run = finished(await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-stuck')));
    expect(run.reason).toMatch(/is not in the restored data; clean-up failed too: could not delete drill-\w+-shop \(still terminating after 10 min\)/);
    expect(run.leftBehind).toHaveLength(1);
  });

  test('the next drill deletes what a crashed drill left behind, and says so', async () => {
    const access = await w.clusters.forStack('integration');
    if (!('cluster' in access)) throw new Error(access.unavailable);
    // What a replica that died mid-drill leaves: a labelled scratch namespace, and no lock.
    await access.cluster.createNamespace('drill-zz9zz9-shop', { labels: { 'cockpit.dev/drill': 'zz9zz9' }, annotations: { 'cockpit.dev/request-id': 'r-crashed' } });
    const run = finished(await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-next')));
    expect(run.outcome).toBe('passed');
    expect(run.warnings).toEqual([expect.stringMatching(/^Deleted drill-\w+-shop, left behind by drill r-crashed/)]);
    expect(drillNamespaces(w)).toEqual([]);
  });

  test('two drills on one stack: the second is refused by the lock, and a deploy waits for the drill', async () => {
    let second: Promise<unknown> | undefined;
    let deployLock: unknown;
    const { clock } = w;
    const drills = new Drills({
      team: w.team,
      policy: w.policy,
      clusters: w.clusters,
      history: w.store.drills,
      locks: w.store.locks,
      audit: w.store.audit,
      clock,
      owner: 'replica-test',
      timing: { pollMs: POLL_MS },
      // At the first wait of the first drill, Bob asks for a drill and Carol's deploy wants the lock.
      sleep: async (ms) => {
        if (!second) {
          second = w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-second', { id: 'U0BOB00001', via: 'slack' })).catch((err: unknown) => err);
          await second;
          deployLock = await w.store.locks.acquire({ stack: 'integration', holder: 'U0CAROL001', purpose: 'deploy', requestId: 'r-deploy', owner: 'other' });
        }
        clock.advance(ms);
      },
    });
    const first = finished(await drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-first')));
    expect(first.outcome).toBe('passed');
    const refused = await second;
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as Error).message).toMatch(/^integration is locked by Alice since \d\d:\d\d UTC \(\d+m\) for drill, ref r-first$/);
    expect(deployLock).toMatchObject({ acquired: false, heldBy: { purpose: 'drill', requestId: 'r-first' } });
    expect(await w.store.locks.get('integration')).toBeUndefined();
    const refusals = await w.store.audit.query({ requestId: 'r-second' });
    expect(refusals[0]).toMatchObject({ action: 'drill.start', outcome: 'refused' });
  });

  test('a drill of the latest scheduled backup checks the marker an earlier drill planted before it', async () => {
    const fresh = finished(await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-plant')));
    w.clock.advance(3_600_000);
    w.kube.seedScheduledBackup({ name: 'velero-product-20261125130000', startedAt: w.clock.now() });
    w.clock.advance(1_800_000);
    const run = finished(await w.drills.run({ stack: 'integration', trigger: 'manual', backup: 'latest' }, meta('r-latest')));
    expect(run).toMatchObject({ outcome: 'passed', backup: { name: 'velero-product-20261125130000', fresh: false }, marker: { value: fresh.marker!.value, requestId: 'r-plant', found: true } });
    // RPO is now the backup's real age: half an hour and the drill's own first steps.
    expect(run.rpoSeconds).toBeGreaterThan(1_800);
    expect(run.plantedForNext).toMatchObject({ requestId: 'r-latest' });
    expect(run.plantedForNext!.value).not.toBe(fresh.marker!.value);
  });

  test('the latest backup with no marker planted before it fails, and plants one for next time', async () => {
    w.kube.seedScheduledBackup({ name: 'velero-product-20261125030000', startedAt: new Date('2026-11-25T03:00:00Z') });
    const run = finished(await w.drills.run({ stack: 'integration', trigger: 'manual', backup: 'latest' }, meta('r-first-latest')));
    expect(run.outcome).toBe('failed');
    expect(run.reason).toBe('no marker was planted in integration before velero-product-20261125030000 was taken, so nothing proves its data (the one planted now is for the next drill)');
    w.clock.advance(1);
    expect(await w.store.drills.markerBefore('integration', w.clock.now())).toMatchObject({ requestId: 'r-first-latest' });
  });

  test('RTO over the stack’s target fails the drill with the numbers', async () => {
    const strict = await drillWorld({ team: (t) => ({ ...t, drills: { ...t.drills!, stacks: { ...t.drills!.stacks, integration: { ...t.drills!.stacks.integration!, targets: { rtoMinutes: 1, rpoMinutes: 1440 } } } } }) });
    try {
      const run = finished(await strict.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-slow')));
      expect(run.outcome).toBe('failed');
      expect(run.reason).toMatch(/^RTO \d+ min is over the 1 min target$/);
      expect(run.rtoSeconds).toBeGreaterThan(60);
    } finally {
      await strict.close();
    }
  });
});

describe('who may drill, and without a cluster', () => {
  test('a person without a deployer role is refused; a claimed console identity may; the scheduler only for its own triggers', async () => {
    const w = await drillWorld();
    try {
      await expect(w.drills.run({ stack: 'prod', trigger: 'manual' }, meta('r-carol', { id: 'U0CAROL001', via: 'slack' }))).rejects.toThrow(NotAllowedError);
      await expect(w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-sched', { id: 'scheduler', via: 'scheduler' }))).rejects.toThrow(/The scheduler runs only scheduled and gate drills/);
      await expect(w.drills.run({ stack: 'integration', trigger: 'gate' }, meta('r-person-gate'))).rejects.toThrow(/A person's drill is manual/);
      const console = finished(await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-console', { id: 'U0ALICE001', via: 'console', as: 'alice' })));
      expect(console.outcome).toBe('passed');
      const refusals = await w.store.audit.query({ action: 'policy.drill' });
      expect(refusals.map((r) => r.requestId).sort()).toEqual(['r-carol', 'r-person-gate', 'r-sched']);
    } finally {
      await w.close();
    }
  });

  test('an open SEV1 on the stack refuses a drill', async () => {
    const w = await drillWorld();
    try {
      const at = w.clock.now();
      await w.store.incidents.declare(
        { severity: 'SEV1', title: 'orders lost', status: 'investigating', stacks: ['integration'], startedAt: at, acknowledgedAt: at, declaredBy: ALICE.id, commander: ALICE.id, components: [], public: false },
        () => ({ timeline: [], forum: [] }),
      );
      await expect(w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-frozen'))).rejects.toThrow(/integration is frozen by INC-1 SEV1 "orders lost": no drill while it is open/);
    } finally {
      await w.close();
    }
  });

  test('without a kubeconfig the drill says what it needs, touches nothing and records nothing', async () => {
    const w = await drillWorld({ team: (t) => drillTeam({ kind: 'file', path: '/nonexistent/kubeconfig' }, t) });
    try {
      const outcome = await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-none'));
      expect(outcome).toEqual({
        kind: 'unavailable',
        stack: 'integration',
        reason: "integration's kubeconfig file /nonexistent/kubeconfig does not exist",
        needs: 'Mount it (a Secret) at that path, or point drills.stacks.<stack>.kubeconfig elsewhere.',
      });
      expect(await w.store.drills.latest('integration')).toBeUndefined();
      expect(await w.store.locks.get('integration')).toBeUndefined();
      expect(w.kube.requests).toEqual([]);
      expect((await w.store.audit.query({ requestId: 'r-none' }))[0]).toMatchObject({ action: 'drill.start', outcome: 'failed' });
    } finally {
      await w.close();
    }
  });

  test('a stack with no drills entry, and a stack-output source without Pulumi, say what to configure', async () => {
    const w = await drillWorld({ team: (t) => ({ ...drillTeam({ kind: 'stack-output', output: 'kubeconfig' }, t), drills: { ...t.drills!, stacks: { integration: { ...t.drills!.stacks.integration!, kubeconfig: { kind: 'stack-output', output: 'kubeconfig' } } } } }) });
    try {
      expect(await w.drills.run({ stack: 'dev', trigger: 'manual' }, meta('r-dev'))).toMatchObject({ kind: 'unavailable', needs: expect.stringContaining('drills.stacks.dev') });
      expect(await w.drills.run({ stack: 'integration', trigger: 'manual' }, meta('r-out'))).toMatchObject({ kind: 'unavailable', reason: expect.stringContaining('Pulumi is not available here') });
    } finally {
      await w.close();
    }
  });
});
