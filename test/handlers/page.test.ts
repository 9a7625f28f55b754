import { openStore, type Store } from '../../bot/store/connect';
import { NotAllowedError } from '../../handlers/errors';
import { OnCallService } from '../../handlers/oncall';
import { PagerService, type PagerMetrics } from '../../handlers/page';
import { Policy } from '../../handlers/policy';
import type { PageNotifier } from '../../handlers/ports';
import type { Actor } from '../../handlers/model/identity';
import type { NotificationAddress, NotificationReceipt, Page, PageNotification } from '../../handlers/model/oncall';
import type { Team } from '../../handlers/team';
import { MemoryDeployPlans, MemoryIncidentBoard } from '../fakes/memoryStores';
import { manualClock, memoryLogger } from '../helpers';
import { ALICE, BOB, DAVE, ERIN, oncallTeam } from './oncallTeam';

const MIN = 60_000;
const slack = (id: string): Actor => ({ id, via: 'slack' });

/** Records what it was asked to send; can be told to fail. */
class RecordingNotifier implements PageNotifier {
  readonly sent: Array<{ pageId: string; to: string; reason: string }> = [];
  readonly updates: string[] = [];
  failNext = 0;
  private seq = 0;
  async send(page: Page, to: NotificationAddress, reason: PageNotification['reason']): Promise<NotificationReceipt> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('slack is down');
    }
    const address = to.kind === 'person' ? to.userId : `${to.channel}${to.everyone ? '@here' : ''}`;
    this.sent.push({ pageId: page.id, to: address, reason });
    return { medium: 'test', address, ref: String(++this.seq) };
  }
  async update(page: Page, receipt: NotificationReceipt): Promise<void> {
    this.updates.push(`${receipt.address}:${page.status}`);
  }
  to(who: string) {
    return this.sent.filter((s) => s.to === who).map((s) => s.reason);
  }
}

describe('PagerService', () => {
  let store: Store;
  let clock: ReturnType<typeof manualClock>;
  let team: Team;
  let notifier: RecordingNotifier;
  let metrics: { acks: number[]; outcomes: string[] } & PagerMetrics;
  let seq = 0;
  const meta = (actor: Actor) => ({ actor, requestId: `r-${++seq}` });

  const pagerOn = (s: Store, n: PageNotifier = notifier, owner = 'replica-a') => {
    const policy = new Policy({ team, plans: new MemoryDeployPlans(), incidents: new MemoryIncidentBoard(), audit: s.audit, clock });
    const directory = new OnCallService({ team, overrides: s.overrides, policy, audit: s.audit, clock });
    return new PagerService({ team, pages: s.pages, notifier: n, directory, policy, audit: s.audit, clock, log: memoryLogger('error').log, metrics, owner });
  };

  beforeEach(async () => {
    clock = manualClock('2026-11-25T12:00:00Z'); // L1 Dave, L2 Alice, L3 Bob
    store = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
    team = oncallTeam();
    notifier = new RecordingNotifier();
    metrics = { acks: [], outcomes: [], acknowledged: (_l, s) => void metrics.acks.push(s), outcome: (l, o) => void metrics.outcomes.push(`${l}:${o}`) };
  });
  afterEach(() => store.close());

  const raise = (pager: PagerService, ref = 'g1') =>
    pager.page({ target: { kind: 'level', level: 'L1' }, summary: 'ProductServiceDown on prod', source: { kind: 'alert', ref }, raisedBy: 'alertmanager', requestId: 'r-am' });

  test('escalates on time as the runbook says: L1, L2 after 5 minutes, L3 after 10 more, everyone after 15 more', async () => {
    const pager = pagerOn(store);
    const { pageId, created } = await raise(pager);
    expect(created).toBe(true);
    await pager.tick();
    expect(notifier.sent.map((s) => `${s.to}:${s.reason}`)).toEqual([`${team.channels.incidents}:raised`, `${DAVE}:raised`]);

    clock.advance(5 * MIN - 1000);
    await pager.tick();
    expect(notifier.to(ALICE)).toEqual([]);
    clock.advance(1000);
    await pager.tick();
    expect(notifier.to(ALICE)).toEqual(['escalated']);
    expect(notifier.to(DAVE)).toEqual(['raised', 'repeat']); // L1 keeps being paged

    clock.advance(10 * MIN);
    await pager.tick();
    expect(notifier.to(BOB)).toEqual(['escalated']);
    clock.advance(15 * MIN);
    await pager.tick();
    expect(notifier.to(`${team.channels.incidents}@here`)).toEqual(['everyone']);
    const page = (await pager.get(pageId))!;
    expect(page).toMatchObject({ status: 'triggered', everyone: true, responders: [DAVE, ALICE, BOB] });
    expect(page.nextAt).toBeUndefined();
    // Nothing more is timed: the page waits for a person.
    clock.advance(60 * MIN);
    const before = notifier.sent.length;
    await pager.tick();
    expect(notifier.sent.length).toBe(before);
    expect(metrics.outcomes).toEqual(['L1:raised', 'L1:escalated', 'L1:escalated', 'L1:escalated']);
  });

  test('raising it again while open adds nothing', async () => {
    const pager = pagerOn(store);
    const first = await raise(pager);
    const again = await raise(pager);
    expect(again).toEqual({ pageId: first.pageId, created: false });
    await pager.tick();
    expect(notifier.to(DAVE)).toEqual(['raised']);
  });

  test('acknowledging stops the escalation, edits every message, records the time; an open page then reminds its owner', async () => {
    const pager = pagerOn(store);
    const { pageId } = await raise(pager);
    await pager.tick();
    clock.advance(2 * MIN);
    const { page } = await pager.acknowledge(pageId, meta(slack(DAVE)));
    expect(page).toMatchObject({ status: 'acknowledged', acknowledgedBy: DAVE });
    await pager.tick();
    expect(notifier.updates.sort()).toEqual([`${DAVE}:acknowledged`, `${team.channels.incidents}:acknowledged`].sort());
    expect(metrics.acks).toEqual([120]);
    clock.advance(10 * MIN);
    await pager.tick();
    expect(notifier.to(ALICE)).toEqual([]); // no escalation
    clock.advance(20 * MIN);
    await pager.tick();
    expect(notifier.to(DAVE)).toEqual(['raised', 'reminder']);
    // A double press by the same person is fine; by another person it is news.
    expect((await pager.acknowledge(pageId, meta(slack(DAVE)))).already).toBe(true);
    await expect(pager.acknowledge(pageId, meta(slack(ALICE)))).rejects.toThrow(/Already acknowledged/);
    const { page: resolved } = await pager.resolve(pageId, meta(slack(DAVE)));
    expect(resolved.status).toBe('resolved');
    expect((await pager.resolve(pageId, meta(slack(DAVE)))).already).toBe(true);
    expect(metrics.outcomes).toContain('L1:resolved');
  });

  test('acknowledge is refused to someone neither paged nor on call, and from a terminal', async () => {
    const pager = pagerOn(store);
    const { pageId } = await raise(pager);
    await expect(pager.acknowledge(pageId, meta(slack(ERIN)))).rejects.toThrow(NotAllowedError);
    await expect(pager.acknowledge(pageId, meta({ id: DAVE, via: 'console', as: 'dave' }))).rejects.toThrow(/needs Slack/);
    // Someone on call at another level may (escalation.whoMayAcknowledge: on_call).
    expect((await pager.acknowledge(pageId, meta(slack(BOB)))).page.acknowledgedBy).toBe(BOB);
    const audit = await store.audit.query({ action: 'policy.acknowledge' });
    expect(audit).toHaveLength(2);
  });

  test('a restart in the middle of an escalation loses nothing and doubles nothing, even with two replicas', async () => {
    const first = pagerOn(store);
    const { pageId } = await raise(first);
    await first.tick();
    // The process stops; another replica (and the restarted one) share the store.
    const b = pagerOn(store, notifier, 'replica-b');
    const c = pagerOn(store, notifier, 'replica-c');
    clock.advance(5 * MIN);
    await Promise.all([b.tick(), c.tick(), b.tick()]);
    expect(notifier.to(ALICE)).toEqual(['escalated']);
    expect(notifier.to(DAVE)).toEqual(['raised', 'repeat']);
    expect((await b.get(pageId))!.step).toBe(1);
  });

  test('a notification claimed by a replica that died is sent by another, once; a failed send is retried', async () => {
    const dying = pagerOn(store, { send: () => new Promise(() => undefined), update: async () => undefined }, 'replica-dying');
    await raise(dying);
    // It claims both notifications and never reports back.
    void dying.deliver();
    await new Promise((r) => setTimeout(r, 50));
    const other = pagerOn(store, notifier, 'replica-b');
    await other.tick();
    expect(notifier.sent).toEqual([]);
    clock.advance(61_000);
    notifier.failNext = 1;
    await other.tick();
    expect(notifier.sent.length).toBe(1); // one of the two failed and waits for its retry
    clock.advance(5_000);
    await other.tick();
    expect(notifier.to(DAVE)).toEqual(['raised']);
    expect(notifier.sent).toHaveLength(2);
    await other.tick();
    expect(notifier.sent).toHaveLength(2);
  });

  test('a page to a person repeats for them and does not wake the levels; Escalate moves on at once', async () => {
    const pager = pagerOn(store);
    const { page } = await pager.pageByPerson({ target: { kind: 'user', userId: ERIN }, summary: 'handover test' }, meta(slack(ERIN)));
    await pager.tick();
    clock.advance(5 * MIN);
    await pager.tick();
    clock.advance(5 * MIN);
    await pager.tick();
    clock.advance(5 * MIN);
    await pager.tick();
    expect(notifier.to(ERIN)).toEqual(['raised', 'repeat', 'repeat']);
    expect(notifier.to(DAVE)).toEqual([]);

    const level = await pager.pageByPerson({ target: { kind: 'level', level: 'L2' }, summary: 'need an SRE' }, meta(slack(DAVE)));
    await pager.tick();
    expect(notifier.to(ALICE)).toEqual(['raised']);
    await pager.escalate(level.page.id, meta(slack(ALICE)));
    await pager.tick();
    expect(notifier.to(BOB)).toEqual(['escalated']);
    expect(page.policy).toBe('person');
  });

  test('an alert that resolves by itself resolves its page', async () => {
    const pager = pagerOn(store);
    const { pageId } = await raise(pager);
    const resolved = await pager.resolveSource({ kind: 'alert', ref: 'g1' }, 'alertmanager', 'r-x');
    expect(resolved).toMatchObject({ id: pageId, status: 'resolved', resolvedBy: 'alertmanager' });
    expect(metrics.outcomes).toEqual(['L1:raised', 'L1:auto_resolved']);
    expect((await raise(pager)).created).toBe(true); // it may page again
  });
});
