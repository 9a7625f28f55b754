import type { Store } from '../../bot/store/connect';
import type { DrillRun } from '../../handlers/model/drills';
import { backendsUnderTest, useScratchStore } from './backends';

const backends = backendsUnderTest();

describe.each(backends)('$name store: drills', (backend) => {
  const fixture = useScratchStore(backend);
  let store: Store;
  beforeEach(() => ({ store } = fixture));

  const at = (minute: number) => new Date(Date.UTC(2026, 10, 25, 12, minute, 0, 123));
  const run = (requestId: string, overrides: Partial<DrillRun> = {}): DrillRun => ({
    stack: 'integration',
    requestId,
    startedAt: at(0),
    finishedAt: at(10),
    outcome: 'passed',
    rtoSeconds: 312.5,
    rpoSeconds: 61,
    trigger: 'gate',
    cluster: 'integration',
    steps: [
      { name: 'marker', state: 'passed', startedAt: at(0), finishedAt: at(1), detail: 'planted in shop' },
      { name: 'cleanup', state: 'running', startedAt: at(9) },
    ],
    warnings: ['Restore x: 2 warning(s)'],
    backup: { name: 'cockpit-drill-abc123', takenAt: at(2), fresh: true },
    marker: { value: 'm-1', plantedAt: at(1), stack: 'integration', requestId, found: true },
    logs: { restore: 'cockpit-drill-abc123', jobs: [{ name: 'cockpit-drill-abc123-plant', namespace: 'shop', tail: ['marker written'] }] },
    leftBehind: [],
    ...overrides,
  });

  it('keeps a whole run and reads it back exactly; the summary keeps only what the risk report stores', async () => {
    const whole = run('r-1');
    await store.drills.record(whole);
    expect(await store.drills.get('r-1')).toStrictEqual(whole);
    expect(await store.drills.latest('integration')).toStrictEqual({ stack: 'integration', requestId: 'r-1', startedAt: at(0), finishedAt: at(10), outcome: 'passed', rtoSeconds: 312.5, rpoSeconds: 61, trigger: 'gate' });
  });

  it('lists newest first, per stack or all, and a summary recorded the old way reads as a run with no steps', async () => {
    await store.drills.record({ stack: 'staging', requestId: 'r-old', startedAt: at(0), finishedAt: at(5), outcome: 'failed' });
    await store.drills.record(run('r-2', { finishedAt: at(20), outcome: 'failed', reason: 'the marker is not in the restored data' }));
    await store.drills.record(run('r-3', { finishedAt: at(30) }));
    expect((await store.drills.list({ stack: 'integration' })).map((r) => r.requestId)).toEqual(['r-3', 'r-2']);
    expect((await store.drills.list({ limit: 2 })).map((r) => r.requestId)).toEqual(['r-3', 'r-2']);
    expect(await store.drills.get('r-old')).toStrictEqual({ stack: 'staging', requestId: 'r-old', startedAt: at(0), finishedAt: at(5), outcome: 'failed', cluster: 'staging', steps: [], warnings: [], logs: { jobs: [] }, leftBehind: [] });
    expect(await store.drills.latestPassed('integration')).toMatchObject({ requestId: 'r-3' });
    expect(await store.drills.latest('integration')).toMatchObject({ requestId: 'r-3' });
  });

  it('keeps each planted marker once and finds the newest planted before a backup', async () => {
    await store.drills.recordMarker({ stack: 'prod', requestId: 'r-a', value: 'one', plantedAt: at(1) });
    await store.drills.recordMarker({ stack: 'prod', requestId: 'r-b', value: 'two', plantedAt: at(20) });
    await store.drills.recordMarker({ stack: 'prod', requestId: 'r-b', value: 'replayed', plantedAt: at(25) });
    await store.drills.recordMarker({ stack: 'staging', requestId: 'r-c', value: 'other', plantedAt: at(5) });
    expect(await store.drills.markerBefore('prod', at(21))).toStrictEqual({ stack: 'prod', requestId: 'r-b', value: 'two', plantedAt: at(20) });
    expect(await store.drills.markerBefore('prod', at(20))).toMatchObject({ requestId: 'r-a' });
    expect(await store.drills.markerBefore('prod', at(1))).toBeUndefined();
  });

  it('refuses what would mislead the risk report, and stores nothing', async () => {
    await expect(store.drills.record(run('r-bad', { trigger: 'whim' as DrillRun['trigger'] }))).rejects.toThrow(RangeError);
    await expect(store.drills.record(run('r-bad', { rtoSeconds: Number.NaN }))).rejects.toThrow(RangeError);
    expect(await store.drills.list()).toEqual([]);
  });
});
