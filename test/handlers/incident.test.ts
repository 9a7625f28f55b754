import { join } from 'node:path';
import { FileMessageTemplateSource } from '../../bot/integrations/runbooks';
import { ConflictError, InputError, NotAllowedError } from '../../handlers/errors';
import type { ForumWrite } from '../../handlers/forum';
import { IncidentDesk, type IncidentDeskDeps } from '../../handlers/incident';
import { Policy, type RequestMeta } from '../../handlers/policy';
import type { Actor } from '../../handlers/model/identity';
import type { Team } from '../../handlers/team';
import { MemoryAlertGroups, MemoryAuditLog, MemoryIncidentRecords, MemoryOnCall, RecordingPager } from '../fakes/incidentFakes';
import { MemoryDeployPlans } from '../fakes/memoryStores';
import { exampleTeam, manualClock } from '../helpers';

const alice = 'U0ALICE001'; // engineer, sre, approver
const bob = 'U0BOB00001'; // engineer, sre
const carol = 'U0CAROL001'; // engineer, approver
const dave = 'U0DAVE0001'; // engineer only

const slack = (id: string): RequestMeta => ({ actor: { id, via: 'slack' }, requestId: `r-${id.toLowerCase()}` });
const consoleMeta = (id: string): RequestMeta => ({ actor: { id, via: 'console', as: 'ops' } as Actor, requestId: 'r-console' });
const MINUTE = 60_000;

function team(): Team {
  const base = exampleTeam();
  return { ...base, people: [...base.people, { slack: dave, name: 'Dave', roles: ['engineer'] }] };
}

function setup(overrides: Partial<IncidentDeskDeps> = {}) {
  const clock = manualClock('2026-11-25T12:00:00Z'); // a Wednesday
  const records = new MemoryIncidentRecords(clock);
  const audit = new MemoryAuditLog(clock);
  const onCall = new MemoryOnCall();
  const pager = new RecordingPager();
  const alertGroups = new MemoryAlertGroups();
  const t = team();
  const policy = new Policy({ team: t, plans: new MemoryDeployPlans(clock.now), incidents: records, audit, clock });
  const desk = new IncidentDesk({
    team: t,
    policy,
    records,
    audit,
    clock,
    templates: new FileMessageTemplateSource({ dir: join(__dirname, '..', '..', 'runbooks') }),
    onCall,
    pager,
    alertGroups,
    forum: { categoryId: 5 },
    ...overrides,
  });
  return { clock, records, audit, onCall, pager, alertGroups, policy, desk };
}

const raws = (writes: ForumWrite[]) => writes.map((w) => (w.kind === 'post.reply' || w.kind === 'topic.create' ? `${w.kind}: ${w.raw.split('\n')[0]}` : w.kind === 'topic.tags' ? `tags +${w.add.join(',')}` : w.kind === 'topic.closed' ? `closed=${w.closed}` : w.kind));

describe('declaring an incident', () => {
  it('records it, tells customers with one topic in the status category, and pages whom the severity pages', async () => {
    const { desk, records, onCall, pager, audit, clock } = setup();
    onCall.levels.L1 = [bob];
    const { incident, invite, pages } = await desk.declare({ severity: 'SEV2', title: 'Dashboard fails to load', stacks: ['prod'], components: ['dashboard'], public: true, publicSummary: 'Some customers see an error page.' }, slack(alice));

    expect(incident).toMatchObject({ id: 1, status: 'investigating', commander: alice, declaredBy: alice, public: true, stacks: ['prod'], components: ['dashboard'], lastPublicUpdateAt: clock.now(), forumStatus: 'investigating' });
    const [create, tag] = records.forumOf(1);
    expect(create).toMatchObject({ kind: 'topic.create', externalId: 'cockpit-incident-1', title: 'INC-1: Dashboard fails to load', categoryId: 5 });
    expect(create!.kind === 'topic.create' && create!.raw).toBe(
      [
        '**Investigating: Dashboard fails to load**',
        '',
        'We are looking into a problem that started at 2026-11-25 12:00 UTC.',
        'Affected: dashboard',
        'Affected environment: prod',
        '',
        'Some customers see an error page.',
        '',
        'We will post every update in this topic.',
        'Next update by 2026-11-25 13:00 UTC.',
        '',
        'Reference INC-1 (SEV2)',
      ].join('\n'),
    );
    expect(tag).toEqual({ kind: 'topic.tags', topic: { externalId: 'cockpit-incident-1' }, add: ['investigating'], remove: ['investigating', 'identified', 'monitoring', 'resolved'] });
    expect(pages).toEqual([{ level: 'L1', people: [bob], pageId: 'p-1' }]);
    expect(pager.pages[0]).toMatchObject({ target: { kind: 'level', level: 'L1' }, source: { kind: 'incident', ref: 'INC-1' }, summary: 'INC-1 SEV2: Dashboard fails to load', raisedBy: alice });
    expect(invite).toEqual([alice, bob]);
    expect((await records.timeline(1)).map((e) => e.kind)).toEqual(['declared', 'published', 'page']);
    expect(audit.entries.map((e) => [e.action, e.target])).toContainEqual(['incident.declare', 'INC-1']);
  });

  it('does not page the declarer, who is on call and here already; SEV1 pages L2 as well', async () => {
    const { desk, onCall, pager } = setup();
    onCall.levels.L1 = [alice];
    onCall.levels.L2 = [bob];
    const { pages } = await desk.declare({ severity: 'SEV1', title: 'Nobody can log in', public: false }, slack(alice));
    expect(pages).toEqual([
      { level: 'L1', people: [alice], skipped: 'Alice is on call at L1 and declared it' },
      { level: 'L2', people: [bob], pageId: 'p-1' },
    ]);
    expect(pager.pages.map((p) => p.target)).toEqual([{ kind: 'level', level: 'L2' }]);
  });

  it('is declared whatever the pager says, and says who was not reached', async () => {
    const { desk, pager, onCall } = setup();
    onCall.levels.L1 = [bob];
    pager.failWith = new Error('pager down');
    const { incident, pages } = await desk.declare({ severity: 'SEV2', title: 'Webhooks are delayed', public: false }, slack(alice));
    expect(incident.id).toBe(1);
    expect(pages).toEqual([{ level: 'L1', people: [bob], skipped: 'paging failed: pager down' }]);
  });

  it('from an alert group: started when the alert did, on its stack, its responders invited; once per group', async () => {
    const { desk, alertGroups } = setup();
    alertGroups.add({ id: 'g-1', cluster: 'cockpit-prod', stack: 'prod', alertname: 'ProductErrorBudgetBurnFast', severity: 'critical', status: 'firing', labels: {}, startsAt: new Date('2026-11-25T11:40:00Z'), customerImpact: true, responders: [carol] });
    const { incident, invite } = await desk.declare({ severity: 'SEV2', title: 'Checkout errors', public: false, alertGroupId: 'g-1' }, slack(alice));
    expect(incident).toMatchObject({ startedAt: new Date('2026-11-25T11:40:00Z'), acknowledgedAt: new Date('2026-11-25T12:00:00Z'), stacks: ['prod'], alertGroupId: 'g-1' });
    expect(invite).toEqual([alice, carol]);
    // A second press of "Declare incident" on the same group.
    await expect(desk.declare({ severity: 'SEV2', title: 'Checkout errors', public: false, alertGroupId: 'g-1' }, slack(bob))).rejects.toThrow(/INC-1 is already open for this alert group/);
  });

  it('refuses what would go wrong later: no title, an unknown stack or component, a public one without a forum', async () => {
    const { desk } = setup();
    await expect(desk.declare({ severity: 'SEV2', title: '   ', public: false }, slack(alice))).rejects.toThrow(InputError);
    await expect(desk.declare({ severity: 'SEV2', title: 'x', stacks: ['qa'], public: false }, slack(alice))).rejects.toThrow('No stack "qa".');
    await expect(desk.declare({ severity: 'SEV2', title: 'x', components: ['chat'], public: false }, slack(alice))).rejects.toThrow('No component "chat".');
    const noForum = setup({ forum: undefined }).desk;
    await expect(noForum.declare({ severity: 'SEV2', title: 'Dashboard fails to load', public: true }, slack(alice))).rejects.toThrow(/status forum is not configured/);
  });

  it('lets a terminal declare, but tell customers only from Slack', async () => {
    const { desk, audit } = setup();
    await expect(desk.declare({ severity: 'SEV2', title: 'Dashboard fails to load', public: true }, consoleMeta(alice))).rejects.toThrow(/posts to customers on the status forum need Slack/);
    expect(audit.entries.map((e) => [e.action, e.outcome])).toContainEqual(['policy.incident_declare', 'refused']);
    expect((await desk.declare({ severity: 'SEV2', title: 'Dashboard fails to load', public: false }, consoleMeta(alice))).incident.public).toBe(false);
  });
});

describe('the lifecycle', () => {
  async function declared(isPublic = true) {
    const s = setup();
    const { incident } = await s.desk.declare({ severity: 'SEV2', title: 'Dashboard fails to load', stacks: ['prod'], public: isPublic }, slack(alice));
    return { ...s, id: incident.id };
  }

  it('posts each public update as a reply, changes the tag with the state, and keeps --internal in Slack', async () => {
    const { desk, records, id, clock } = await declared();
    clock.advance(20 * MINUTE);
    await desk.update(id, { status: 'identified', message: 'A bad configuration in the last release.', internal: false }, slack(alice));
    await desk.update(id, { message: 'We are rolling it back now.', internal: false }, slack(alice));
    await desk.update(id, { status: 'monitoring', message: 'db-7 primary was OOM-killed', internal: true }, slack(alice));
    clock.advance(10 * MINUTE);
    const last = await desk.update(id, { status: 'monitoring', message: 'The rollback is done; we are watching.', internal: false }, slack(alice));

    expect(raws(records.forumOf(id).slice(2))).toEqual([
      'post.reply: **Update (Identified): Dashboard fails to load**',
      'tags +identified',
      'post.reply: **Update (Identified): Dashboard fails to load**',
      // The internal state change told customers nothing; the next public update carries the state.
      'post.reply: **Update (Monitoring): Dashboard fails to load**',
      'tags +monitoring',
    ]);
    const forum = JSON.stringify(records.forumOf(id));
    expect(forum).not.toContain('OOM');
    expect(forum).toContain('Next update by 2026-11-25 13:30 UTC.'); // 60 minutes after the last update, for SEV2
    expect(last).toMatchObject({ customerFacing: true, incident: { status: 'monitoring', forumStatus: 'monitoring', lastPublicUpdateAt: clock.now() } });
    const timeline = await records.timeline(id);
    expect(timeline.filter((e) => e.kind === 'update').map((e) => [e.text, e.visibility])).toEqual([
      ['A bad configuration in the last release.', 'public'],
      ['We are rolling it back now.', 'public'],
      ['db-7 primary was OOM-killed', 'internal'],
      ['The rollback is done; we are watching.', 'public'],
    ]);
  });

  it('refuses the moves the runbook does not draw, naming the ones it does', async () => {
    const { desk, id } = await declared();
    await desk.update(id, { status: 'monitoring', message: 'Rolled back before we knew why.', internal: false }, slack(alice)); // mitigate before diagnosing
    const refused = await desk.update(id, { status: 'identified', message: 'We found it.', internal: false }, slack(alice)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InputError);
    expect(refused).toMatchObject({
      message: 'INC-1 is monitoring: it can go to investigating or resolved, not identified.',
      hint: '/cockpit incident update 1 investigating "<message>"\n/cockpit incident resolve 1 "<what happened>"',
    });
    await expect(desk.close(id, slack(alice))).rejects.toThrow('INC-1 is monitoring: it can go to investigating or resolved, not closed.');
  });

  it('resolves: the last post, the resolved tag, the topic closed, the freeze lifted, and a review draft', async () => {
    const { desk, records, id, clock, policy, audit } = await declared();
    // A deploy of prod an hour before, and one during the incident: the channel and the review show both.
    await audit.record({ at: new Date('2026-11-25T11:00:00Z'), requestId: 'r-deploy1', actor: bob, action: 'deploy.finish', target: 'prod', outcome: 'succeeded', detail: { revision: 'abcdef1234567890' } });
    await desk.followUp(id, 'Alert on the dashboard error rate', slack(bob));
    expect(await policy.freezing('prod')).toHaveLength(1);
    clock.advance(45 * MINUTE);
    await audit.record({ requestId: 'r-rollback', actor: alice, action: 'deploy.finish', target: 'prod', outcome: 'succeeded', detail: { revision: '0123456789abcdef' } });
    await desk.update(id, { status: 'monitoring', message: 'Rolled back; watching it hold.', internal: false }, slack(alice));
    clock.advance(30 * MINUTE);
    const { incident, review } = await desk.resolve(id, 'The release broke the dashboard; rolling it back fixed it.', slack(alice));

    expect(incident).toMatchObject({ status: 'resolved', resolvedAt: clock.now() });
    expect(await policy.freezing('prod')).toEqual([]);
    const writes = records.forumOf(id).slice(-3);
    expect(raws(writes)).toEqual(['post.reply: **Resolved: Dashboard fails to load**', 'tags +resolved', 'closed=true']);
    const raw = writes[0]!.kind === 'post.reply' ? writes[0]!.raw : '';
    expect(raw).toContain('The problem started at 2026-11-25 12:00 UTC and was resolved at 2026-11-25 13:15 UTC (1h 15m).');
    // SEV2: the summary is promised 5 business days later (Wednesday → the next Wednesday).
    expect(raw).toContain('We will publish what happened and what we are changing by 2026-12-02.');

    expect(review).toContain('# Post-incident review: INC-1 Dashboard fails to load');
    expect(review).toContain('**Time to acknowledge:** 0s');
    expect(review).toContain('**Time to resolve:** 1h 15m');
    expect(review).toContain('- 11:00 deploy of prod succeeded (abcdef123456) by U0BOB00001, ref r-deploy1'.replace('- 11:00', '- 2026-11-25 11:00'));
    expect(review).toMatch(/- 12:45 deploy of prod succeeded \(0123456789ab\)/);
    expect(review).toContain('- 12:45 Customer update (Alice): Rolled back; watching it hold.');
    expect(review).toContain('- [ ] Alert on the dashboard error rate (Bob)');
    expect(review).toContain('The release broke the dashboard; rolling it back fixed it.');
    expect(review).not.toMatch(/\{\{/);
  });

  it('reopens a resolved incident that came back: the topic reopened, one incident, one timeline', async () => {
    const { desk, records, id } = await declared();
    await desk.resolve(id, 'Fixed by the rollback.', slack(alice));
    const { incident } = await desk.update(id, { status: 'investigating', message: 'The errors are back.', internal: false }, slack(alice));
    expect(incident.status).toBe('investigating');
    expect(incident.resolvedAt).toBeUndefined();
    expect(raws(records.forumOf(id).slice(-3))).toEqual(['closed=false', 'post.reply: **Update (Investigating): Dashboard fails to load**', 'tags +investigating']);
    await expect(desk.update(id, { status: 'identified', message: 'x', internal: false }, slack(alice))).resolves.toBeDefined();
  });

  it('takes a note after resolving (the review summary promised to customers) without reopening anything', async () => {
    const { desk, records, id, clock } = await declared();
    await desk.resolve(id, 'Fixed by the rollback.', slack(alice));
    clock.advance(2 * 24 * 60 * MINUTE);
    const resolvedAt = (await records.get(id))!.resolvedAt;
    const { incident } = await desk.update(id, { message: 'What happened, and what we change: a review of the release checks.', internal: false }, slack(alice));
    expect(incident).toMatchObject({ status: 'resolved', resolvedAt });
    expect(raws(records.forumOf(id).slice(-1))).toEqual(['post.reply: **Update (Resolved): Dashboard fails to load**']);
  });

  it('records who acknowledged a page raised for it, by the page source the pager reports', async () => {
    const { desk, records, id } = await declared();
    expect(await desk.acknowledged(`INC-${id}`, bob)).toMatchObject({ id });
    expect(await desk.acknowledged('INC-999', bob)).toBeUndefined();
    expect(await desk.acknowledged('alert:g-1', bob)).toBeUndefined();
    expect((await records.timeline(id)).filter((e) => e.kind === 'acknowledged').map((e) => [e.actor, e.text])).toEqual([[bob, 'Bob acknowledged the page']]);
  });

  it('closes only after the fix held 24 hours, and then nothing more happens to it', async () => {
    const { desk, id, clock, records } = await declared();
    await desk.resolve(id, undefined, slack(alice));
    clock.advance(3 * 60 * MINUTE);
    await expect(desk.close(id, slack(alice))).rejects.toThrow('INC-1 was resolved 3h ago: it is closed once it held for 24 hours, from 2026-11-26 12:00 UTC.');
    clock.advance(21 * 60 * MINUTE);
    const before = records.forumOf(id).length;
    expect((await desk.close(id, consoleMeta(alice))).status).toBe('closed'); // closing is internal: a terminal may
    expect(records.forumOf(id)).toHaveLength(before);
    await expect(desk.update(id, { status: 'investigating', message: 'back', internal: false }, slack(alice))).rejects.toThrow(/closed: nothing more happens to it/);
  });

  it('makes an internal incident public with publish, once', async () => {
    const { desk, records, id } = await declared(false);
    await desk.update(id, { status: 'identified', message: 'bad config', internal: false }, slack(alice));
    expect(records.forumOf(id)).toEqual([]); // not public: nothing to post yet
    await desk.publish(id, 'Some customers cannot load the dashboard.', slack(alice));
    const [create, tag] = records.forumOf(id);
    expect(create!.kind === 'topic.create' && create!.raw.split('\n')[0]).toBe('**Identified: Dashboard fails to load**');
    expect(tag).toMatchObject({ add: ['identified'] });
    await expect(desk.publish(id, 'again', slack(alice))).rejects.toThrow(ConflictError);
  });

  it('pads a short title so Discourse does not refuse the topic', async () => {
    const { desk, records } = setup();
    await desk.declare({ severity: 'SEV3', title: 'DB down', public: true }, slack(alice));
    expect(records.forumOf(1)[0]).toMatchObject({ title: 'Incident INC-1: DB down' });
  });

  it('re-reads and re-judges when someone changed the incident meanwhile', async () => {
    const { desk, records, id } = await declared();
    const change = records.change.bind(records);
    let raced = false;
    records.change = async (...args) => {
      if (!raced) {
        raced = true;
        // Another person's update lands between this one's read and its write.
        await change(id, (await records.get(id))!.version, { status: 'monitoring' }, { timeline: [], forum: [] });
      }
      return change(...args);
    };
    // From investigating, identified was fine; from monitoring, the runbook does not allow it.
    await expect(desk.update(id, { status: 'identified', message: 'Found it.', internal: false }, slack(alice))).rejects.toThrow('INC-1 is monitoring: it can go to investigating or resolved, not identified.');
  });
});

describe('roles and severity', () => {
  async function declared() {
    const s = setup();
    const { incident } = await s.desk.declare({ severity: 'SEV2', title: 'Dashboard fails to load', stacks: ['prod'], public: true }, slack(alice));
    return { ...s, id: incident.id };
  }

  it('hands command over only when the new commander accepts; until then the old one still is', async () => {
    const { desk, id, records } = await declared();
    const handover = await desk.assign(id, 'commander', bob, slack(alice));
    expect(handover).toMatchObject({ pending: true, incident: { commander: alice, pendingCommander: bob } });
    await expect(desk.acceptCommand(id, slack(carol))).rejects.toThrow(NotAllowedError);
    expect((await desk.acceptCommand(id, slack(bob))).commander).toBe(bob);
    expect((await records.timeline(id)).filter((e) => e.kind === 'role').map((e) => e.text)).toEqual(['Alice handed command to Bob, who must accept it', 'Bob accepted command from Alice']);
    // Alice is no longer commander: she may not change the state (she is an approver, though, so she may).
    await expect(desk.update(id, { status: 'identified', message: 'x', internal: false }, slack(dave))).rejects.toThrow("Only INC-1's commander (Bob) or an approver may change its state.");
  });

  it('lets an SRE take command, the commander name a communications lead, who may post updates but not move the state', async () => {
    const { desk, id } = await declared();
    await expect(desk.assign(id, 'commander', dave, slack(dave))).rejects.toThrow('Only an SRE or an approver may take command of INC-1; Alice can hand it to you.');
    await desk.assign(id, 'commander', bob, slack(bob));
    await desk.assign(id, 'communications', dave, slack(bob));
    await expect(desk.update(id, { message: 'Still investigating; next update by 13:30.', internal: false }, slack(dave))).resolves.toMatchObject({ customerFacing: true });
    await expect(desk.update(id, { status: 'identified', message: 'found', internal: false }, slack(dave))).rejects.toThrow(/change its state/);
    await expect(desk.assign(id, 'communications', alice, slack(dave))).rejects.toThrow(/assign its roles/);
    // An internal note is anyone's.
    await expect(desk.update(id, { message: 'I see it on the EU cluster too', internal: true }, slack(dave))).resolves.toBeDefined();
  });

  it('changes the severity: raising to SEV1 pages L2; lowering below SEV2 lifts the freeze, so not from a terminal', async () => {
    const { desk, id, onCall, pager, policy } = await declared();
    onCall.levels.L2 = [carol];
    const raised = await desk.setSeverity(id, 'SEV1', slack(alice));
    // L1 was paged at the declaration (nobody on call there: the pager escalates); L2 only now.
    expect(raised.pages).toEqual([{ level: 'L2', people: [carol], pageId: 'p-2' }]);
    expect(pager.pages[1]).toMatchObject({ summary: 'INC-1 SEV1: Dashboard fails to load' });
    await expect(desk.setSeverity(id, 'SEV1', slack(alice))).rejects.toThrow('INC-1 is SEV1 already.');
    await expect(desk.setSeverity(id, 'SEV3', consoleMeta(alice))).rejects.toThrow(/lifting INC-1's deploy freeze needs Slack/);
    expect(await policy.freezing('prod')).toHaveLength(1);
    await desk.setSeverity(id, 'SEV3', slack(alice));
    expect(await policy.freezing('prod')).toEqual([]);
  });

  it('from a terminal: internal updates yes, customer posts and resolving a freeze no', async () => {
    const { desk, id } = await declared();
    await expect(desk.update(id, { message: 'Still looking.', internal: false }, consoleMeta(alice))).rejects.toThrow(/need Slack/);
    await expect(desk.update(id, { status: 'identified', message: 'found it', internal: true }, consoleMeta(alice))).resolves.toBeDefined();
    await expect(desk.resolve(id, 'fixed', consoleMeta(alice))).rejects.toThrow(/need Slack/);
  });
});

describe('reminders', () => {
  it('reminds when no customer update went out within the interval, once per interval, with an injected clock', async () => {
    const { desk, clock } = setup();
    const { incident } = await desk.declare({ severity: 'SEV1', title: 'Nobody can log in', public: true }, slack(alice));
    await desk.declare({ severity: 'SEV1', title: 'An internal one', public: false }, slack(alice));
    await desk.declare({ severity: 'SEV4', title: 'A typo on the login page', public: true }, slack(alice));
    const due = async () => (await desk.dueReminders()).map((r) => [r.incident.id, r.silentMinutes, r.intervalMinutes]);

    clock.advance(29 * MINUTE);
    expect(await due()).toEqual([]);
    clock.advance(2 * MINUTE);
    expect(await due()).toEqual([[incident.id, 31, 30]]);
    clock.advance(4 * MINUTE);
    expect(await due()).toEqual([]); // reminded 4 minutes ago
    clock.advance(27 * MINUTE);
    expect(await due()).toEqual([[incident.id, 62, 30]]);
    await desk.update(incident.id, { message: 'Still investigating.', internal: false }, slack(alice));
    clock.advance(29 * MINUTE);
    expect(await due()).toEqual([]);
    clock.advance(MINUTE);
    expect(await due()).toEqual([[incident.id, 30, 30]]);
    // An internal update is not a customer update.
    await desk.update(incident.id, { message: 'db failover in progress', internal: true }, slack(alice));
    clock.advance(30 * MINUTE);
    expect(await due()).toEqual([[incident.id, 60, 30]]);
  });
});

describe('MTTA and MTTR', () => {
  it('are the means per severity over the last 90 days, from when it started', async () => {
    const { desk, alertGroups, clock } = setup();
    alertGroups.add({ id: 'g-1', cluster: 'c', stack: 'prod', alertname: 'A', severity: 'critical', status: 'firing', labels: {}, startsAt: new Date('2026-11-25T11:50:00Z'), customerImpact: true, responders: [] });
    const a = await desk.declare({ severity: 'SEV2', title: 'First one', public: false, alertGroupId: 'g-1' }, slack(alice));
    clock.advance(50 * MINUTE);
    await desk.resolve(a.incident.id, undefined, slack(alice));
    const b = await desk.declare({ severity: 'SEV2', title: 'Second one', public: false }, slack(alice));
    clock.advance(30 * MINUTE);
    await desk.resolve(b.incident.id, undefined, slack(alice));
    await desk.declare({ severity: 'SEV1', title: 'Still open', public: false }, slack(alice));
    const { stats, open } = await desk.list();
    expect(open.map((i) => i.title)).toEqual(['Still open']);
    expect(stats.find((s) => s.severity === 'SEV2')).toEqual({ severity: 'SEV2', count: 2, resolved: 2, mttaSeconds: 300, mttrSeconds: 2700 });
    expect(stats.find((s) => s.severity === 'SEV1')).toEqual({ severity: 'SEV1', count: 1, resolved: 0, mttaSeconds: 0, mttrSeconds: undefined });
  });
});
