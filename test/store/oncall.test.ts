import type { Store } from '../../bot/store/connect';
import type { IncomingAlert } from '../../handlers/model/alerts';
import type { OnCallOverride, Page, ShiftSwap } from '../../handlers/model/oncall';
import { backendsUnderTest, type ManualClock, useScratchStore } from './backends';

const backends = backendsUnderTest();

const at = (iso: string) => new Date(iso);

describe.each(backends)('$name store: on-call, pages and alerts', (backend) => {
  const fixture = useScratchStore(backend);
  let clock: ManualClock;
  let store: Store;
  beforeEach(() => ({ clock, store } = fixture));

  const override = (o: Partial<OnCallOverride> = {}): OnCallOverride => ({
    id: 'o1',
    level: 'L1',
    userId: 'U0BOB00001',
    replaces: 'U0ALICE001',
    from: at('2026-05-20T10:00:00.000Z'),
    to: at('2026-05-20T13:00:00.000Z'),
    createdBy: 'U0ALICE001',
    createdAt: at('2026-05-20T10:00:00.000Z'),
    requestId: 'r-1',
    ...o,
  });

  it('reads back the overrides that overlap a window, and only those', async () => {
    await store.overrides.add(override());
    await store.overrides.add(override({ id: 'o2', from: at('2026-05-21T10:00:00.000Z'), to: at('2026-05-21T11:00:00.000Z') }));
    expect((await store.overrides.overlapping(at('2026-05-20T12:59:00.000Z'), at('2026-05-20T14:00:00.000Z'))).map((o) => o.id)).toEqual(['o1']);
    expect(await store.overrides.overlapping(at('2026-05-20T13:00:00.000Z'), at('2026-05-21T10:00:00.000Z'))).toEqual([]);
    expect((await store.overrides.overlapping(at('2026-05-20T00:00:00.000Z'), at('2026-05-22T00:00:00.000Z'))).map((o) => o.id)).toEqual(['o1', 'o2']);
    expect((await store.overrides.overlapping(at('2026-05-20T11:00:00.000Z'), at('2026-05-20T11:00:00.001Z')))[0]).toStrictEqual(override());
  });

  it('accepts a swap once: its two overrides are written with it, and a second answer finds it decided', async () => {
    const swap: ShiftSwap = {
      id: 's1',
      level: 'L2',
      proposedBy: 'U0ALICE001',
      counterpart: 'U0BOB00001',
      give: { from: at('2026-06-01T08:00:00.000Z'), to: at('2026-06-08T08:00:00.000Z') },
      take: { from: at('2026-06-08T08:00:00.000Z'), to: at('2026-06-15T08:00:00.000Z') },
      status: 'proposed',
      createdAt: at('2026-05-20T10:00:00.000Z'),
      requestId: 'r-2',
    };
    await store.overrides.proposeSwap(swap);
    expect(await store.overrides.swap('s1')).toStrictEqual(swap);
    const pair: [OnCallOverride, OnCallOverride] = [
      override({ id: 'a', level: 'L2', userId: 'U0BOB00001', from: swap.give.from, to: swap.give.to, swapId: 's1' }),
      override({ id: 'b', level: 'L2', userId: 'U0ALICE001', from: swap.take.from, to: swap.take.to, swapId: 's1' }),
    ];
    const [first, second] = await Promise.all([store.overrides.acceptSwap('s1', clock.now(), pair), store.overrides.acceptSwap('s1', clock.now(), pair).catch(() => undefined)]);
    expect([first?.status, second?.status].filter(Boolean)).toEqual(['accepted']);
    expect((await store.overrides.overlapping(at('2026-06-01T00:00:00.000Z'), at('2026-06-20T00:00:00.000Z'))).map((o) => o.id).sort()).toEqual(['a', 'b']);
    expect(await store.overrides.decideSwap('s1', 'declined', clock.now())).toBeUndefined();
  });

  it('announces a level once per change (compare-and-set on what was announced)', async () => {
    expect(await store.announcements.last('L1')).toBeUndefined();
    expect(await store.announcements.announce('L1', undefined, ['U1'], clock.now())).toBe(true);
    expect(await store.announcements.announce('L1', undefined, ['U1'], clock.now())).toBe(false);
    expect(await store.announcements.announce('L1', ['U1'], ['U2'], clock.now())).toBe(true);
    expect(await store.announcements.announce('L1', ['U1'], ['U3'], clock.now())).toBe(false);
    expect(await store.announcements.last('L1')).toEqual(['U2']);
  });

  const page = (p: Partial<Page> = {}): Page => ({
    id: 'P1',
    source: { kind: 'alert', ref: 'g1' },
    target: { kind: 'level', level: 'L1' },
    summary: 'disk full',
    raisedBy: 'alertmanager',
    requestId: 'r-3',
    channel: 'C0ALERTS01',
    policy: 'default',
    status: 'triggered',
    step: 0,
    repeats: 0,
    responders: ['U0BOB00001'],
    everyone: false,
    createdAt: clock.now(),
    nextAt: new Date(clock.now().getTime() + 300_000),
    version: 1,
    ...p,
  });

  it('keeps one open page per source, even when two replicas raise it at once', async () => {
    const [a, b] = await Promise.all([
      store.pages.create(page(), [{ kind: 'send', to: { kind: 'person', userId: 'U0BOB00001' }, reason: 'raised' }]),
      store.pages.create(page({ id: 'P2' }), [{ kind: 'send', to: { kind: 'person', userId: 'U0BOB00001' }, reason: 'raised' }]),
    ]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.page.id).toBe(b.page.id);
    const claimed = await store.pages.claim('replica-a', clock.now(), new Date(clock.now().getTime() - 60_000));
    expect(claimed).toHaveLength(1);
    // Resolved, the source may page again.
    const open = (await store.pages.openBySource({ kind: 'alert', ref: 'g1' }))!;
    expect(await store.pages.transition(open.id, open.version, { ...open, status: 'resolved', nextAt: undefined }, [])).toMatchObject({ status: 'resolved', version: 2 });
    expect((await store.pages.create(page({ id: 'P3' }), [])).created).toBe(true);
  });

  it('takes a due step once: the second replica finds the page moved', async () => {
    await store.pages.create(page(), []);
    clock.advance(300_000);
    const [due] = await store.pages.due(clock.now());
    expect(due?.id).toBe('P1');
    const next = { ...due!, step: 1, responders: ['U0BOB00001', 'U0ALICE001'] };
    const one = await store.pages.transition('P1', due!.version, next, [{ kind: 'send', to: { kind: 'person', userId: 'U0ALICE001' }, reason: 'escalated' }]);
    const two = await store.pages.transition('P1', due!.version, next, [{ kind: 'send', to: { kind: 'person', userId: 'U0ALICE001' }, reason: 'escalated' }]);
    expect(one?.step).toBe(1);
    expect(two).toBeUndefined();
    expect(await store.pages.claim('r', clock.now(), new Date(0))).toHaveLength(1);
  });

  it('sends a notification a stopped replica claimed, once its claim is stale; retries a failed one after its back-off', async () => {
    await store.pages.create(page(), [{ kind: 'send', to: { kind: 'person', userId: 'U0BOB00001' }, reason: 'raised' }]);
    const stale = () => new Date(clock.now().getTime() - 60_000);
    const [n] = await store.pages.claim('replica-a', clock.now(), stale());
    expect(await store.pages.claim('replica-b', clock.now(), stale())).toEqual([]);
    clock.advance(61_000);
    const [again] = await store.pages.claim('replica-b', clock.now(), stale());
    expect(again?.id).toBe(n!.id);
    await store.pages.markFailed(again!.id, 'slack down', clock.now(), new Date(clock.now().getTime() + 2000));
    expect(await store.pages.claim('replica-b', clock.now(), stale())).toEqual([]);
    clock.advance(2000);
    const [retry] = await store.pages.claim('replica-b', clock.now(), stale());
    await store.pages.markSent(retry!.id, { medium: 'slack', address: 'D1', ref: '1.2' }, clock.now());
    expect(await store.pages.receipts('P1')).toEqual([{ medium: 'slack', address: 'D1', ref: '1.2' }]);
    expect(await store.pages.claim('replica-b', clock.now(), new Date(clock.now().getTime() + 1))).toEqual([]);
  });

  const alert = (fingerprint: string, a: Partial<IncomingAlert> = {}): IncomingAlert => ({
    status: 'firing',
    labels: { alertname: 'Disk', cluster: 'cockpit-prod', fp: fingerprint },
    annotations: { summary: `disk ${fingerprint}` },
    startsAt: at('2026-05-20T09:00:00.000Z'),
    fingerprint,
    ...a,
  });
  const group = {
    id: 'g1',
    stack: 'prod',
    cluster: 'cockpit-prod',
    groupKey: '{}:{alertname="Disk"}',
    receiver: 'cockpit',
    alertname: 'Disk',
    severity: 'critical',
    groupLabels: { alertname: 'Disk' },
    commonLabels: { alertname: 'Disk', cluster: 'cockpit-prod' },
    commonAnnotations: {},
    externalUrl: 'http://am:9093',
    truncatedAlerts: 0,
    channel: 'C0ALERTS01',
  };

  it('applies alerts idempotently and only forward: repeats and stale resends change nothing', async () => {
    const first = await store.alerts.apply(group, [alert('a'), alert('b')], clock.now());
    expect(first).toMatchObject({ created: true, changed: 2, statusChanged: false, group: { status: 'firing', firing: 2, resolved: 0 } });
    expect((await store.alerts.apply(group, [alert('a'), alert('b')], clock.now())).changed).toBe(0);
    const resolved = await store.alerts.apply(group, [alert('a', { status: 'resolved', endsAt: at('2026-05-20T09:30:00.000Z') })], clock.now());
    expect(resolved).toMatchObject({ changed: 1, group: { status: 'firing', firing: 1, resolved: 1 } });
    // The older "firing" of a, delivered late, does not undo its resolution.
    expect((await store.alerts.apply(group, [alert('a')], clock.now())).changed).toBe(0);
    const allResolved = await store.alerts.apply(group, [alert('b', { status: 'resolved' })], clock.now());
    expect(allResolved).toMatchObject({ statusChanged: true, group: { status: 'resolved', firing: 0, resolved: 2 } });
    // Fired again: a later start.
    const again = await store.alerts.apply(group, [alert('a', { startsAt: at('2026-05-20T10:00:00.000Z') })], clock.now());
    expect(again).toMatchObject({ changed: 1, statusChanged: true, group: { status: 'firing', firing: 1 } });
    expect((await store.alerts.alerts('g1', 10)).map((a) => `${a.fingerprint}:${a.status}`)).toEqual(['a:firing', 'b:resolved']);
    expect(await store.alerts.countAlerts()).toBe(2);
  });

  it('lets one replica post a group, and takes the claim back when the post failed', async () => {
    await store.alerts.apply(group, [alert('a')], clock.now());
    expect(await store.alerts.claimPost('g1', 'r1', clock.now())).toBe(true);
    expect(await store.alerts.claimPost('g1', 'r2', clock.now())).toBe(false);
    await store.alerts.releasePost('g1');
    expect(await store.alerts.claimPost('g1', 'r2', clock.now())).toBe(true);
    await store.alerts.setMessage('g1', { channel: 'C0ALERTS01', ts: '1.1' });
    await store.alerts.releasePost('g1');
    expect(await store.alerts.claimPost('g1', 'r3', clock.now())).toBe(false);
    expect(await store.alerts.acknowledge('g1', 'U1', clock.now())).toBe(true);
    expect(await store.alerts.acknowledge('g1', 'U2', clock.now())).toBe(false);
    await store.alerts.setSilence('g1', { id: 's', by: 'U1', until: at('2026-05-20T11:00:00.000Z') });
    expect(await store.alerts.get('g1')).toMatchObject({ message: { ts: '1.1' }, acknowledgedBy: 'U1', silence: { id: 's', until: at('2026-05-20T11:00:00.000Z') } });
  });

  it('keeps each cluster’s last heartbeat, and marks silence once', async () => {
    await store.heartbeats.beat('prod', 'cockpit-prod', at('2026-05-20T10:00:00.000Z'));
    await store.heartbeats.beat('prod', 'cockpit-prod', at('2026-05-20T09:59:00.000Z')); // late delivery: ignored
    expect(await store.heartbeats.list()).toEqual([{ stack: 'prod', cluster: 'cockpit-prod', lastBeatAt: at('2026-05-20T10:00:00.000Z') }]);
    expect(await store.heartbeats.markSilent('prod', clock.now())).toBe(true);
    expect(await store.heartbeats.markSilent('prod', clock.now())).toBe(false);
    expect(await store.heartbeats.clearSilent('prod')).toBe(true);
    expect(await store.heartbeats.clearSilent('prod')).toBe(false);
  });
});
