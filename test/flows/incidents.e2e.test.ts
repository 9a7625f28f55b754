import { createCockpit, type Cockpit } from '../../bot/cockpit';
import { ACTIONS, VIEWS } from '../../bot/slack/ids';
import { startFakeDiscourse, type FakeDiscourse } from '../fakes/discourse';
import { MemoryAlertGroups, MemoryOnCall, RecordingPager } from '../fakes/incidentFakes';
import { startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { sendAction, sendEvent, sendSlashCommand, sendViewSubmission } from '../fakes/slackSigned';
import { exampleTeam, memoryLogger, slackTestConfig } from '../helpers';

const SIGNING_SECRET = 'incidents-e2e-secret';
const BOT_TOKEN = 'xoxb-incidents-e2e';
const API_KEY = 'incidents-e2e-discourse-key';
const CHANNEL = 'C0DEPLOYS01';
const INCIDENTS_CHANNEL = 'C0INCIDENT1';
const alice = 'U0ALICE001';
const bob = 'U0BOB00001'; // L1 on call
const carol = 'U0CAROL001';

/**
 * The "Done when", from signed Slack requests against the fake Slack and the fake Discourse: the real
 * Bolt app, the real Discourse client and outbox worker, the SQLite store, the shipped templates and team file.
 */
describe('incidents through signed Slack requests, mirrored to the fake Discourse', () => {
  let slack: FakeSlackApi;
  let forum: FakeDiscourse;
  let cockpit: Cockpit;
  let url: string;
  const pager = new RecordingPager();
  const onCall = new MemoryOnCall();
  const alertGroups = new MemoryAlertGroups();

  beforeAll(async () => {
    slack = await startFakeSlackApi({ token: BOT_TOKEN });
    forum = await startFakeDiscourse({ apiKey: API_KEY, apiUsername: 'cockpit', categories: [5] });
    onCall.levels.L1 = [bob];
    const config = slackTestConfig(
      slack.url,
      { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET },
      { DISCOURSE_URL: forum.url, DISCOURSE_API_KEY: API_KEY, DISCOURSE_API_USERNAME: 'cockpit', RUNBOOKS_BASE_URL: 'https://github.com/acme/infra/blob/master/runbooks' },
    );
    cockpit = await createCockpit(config, exampleTeam(), {
      log: memoryLogger('warn').log,
      onCall,
      pager,
      alertGroups,
      outboxTiming: { baseBackoffMs: 20, maxBackoffMs: 200, idleMs: 50, claimMs: 5_000 },
    });
    url = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}/slack/events`;
  });
  afterEach(() => {
    slack.assertNoViolations();
    forum.assertNoViolations();
  });
  afterAll(async () => {
    await cockpit.close();
    await slack.close();
    await forum.close();
  });

  /** Sends a command and waits for its answer, so the next one does not race it. */
  const command = async (text: string, userId = alice) => {
    const responseUrl = slack.responseUrl();
    const res = await sendSlashCommand({ url, signingSecret: SIGNING_SECRET, text, userId, channelId: CHANNEL, responseUrl });
    expect(res.status).toBe(200);
    const id = responseUrl.split('/').pop()!;
    return (await slack.firstResponseTo(id, 5000)).body;
  };
  const outboxEmpty = async () => {
    for (let i = 0; i < 200; i++) {
      if ((await cockpit.store.forumOutbox.totals()).pending === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the outbox did not drain: ${JSON.stringify(await cockpit.store.forumOutbox.totals())}`);
  };
  const raw = (text: string) => text.replace(/\n\n<!-- cockpit:[0-9a-f-]+ -->$/, '');

  test('open --public, three public updates and one internal through 500s and 429s, then resolve', async () => {
    const declared = await command('incident open SEV2 Dashboard fails to load --public');
    expect(String(declared.text)).toBe('INC-1 declared: Dashboard fails to load');

    // The channel: created, the summary pinned, the declarer and the L1 on call invited, the runbook bookmarked.
    const [create] = slack.callsTo('conversations.create');
    expect(String(create!.args.name)).toMatch(/^inc-\d{8}-dashboard-fails-to-load$/);
    const channel = String((create!.response.channel as { id: string }).id);
    expect(slack.membersOf(channel)).toEqual(expect.arrayContaining([alice, bob]));
    expect(slack.pinsIn(channel)).toHaveLength(1);
    const summary = slack.messagesIn(channel).find((m) => m.ts === slack.pinsIn(channel)[0]);
    expect(JSON.stringify(summary?.blocks)).toContain('INC-1 · SEV2 · Dashboard fails to load');
    expect(slack.bookmarksIn(channel)).toContainEqual({ title: 'Incident runbook', link: 'https://github.com/acme/infra/blob/master/runbooks/incident-management.md' });
    expect(slack.messagesIn(INCIDENTS_CHANNEL).map((m) => m.text)).toEqual(['INC-1 SEV2: Dashboard fails to load']);
    expect(pager.pages).toEqual([expect.objectContaining({ target: { kind: 'level', level: 'L1' }, source: { kind: 'incident', ref: 'INC-1' } })]);
    expect((await cockpit.incidents.get(1)).channelId).toBe(channel);

    // One topic in the status category, tagged investigating; its link bookmarked in the channel.
    await outboxEmpty();
    expect(forum.topics.size).toBe(1);
    const topic = forum.topicByExternalId('cockpit-incident-1')!;
    expect(topic).toMatchObject({ title: 'INC-1: Dashboard fails to load', categoryId: 5, tags: ['investigating'] });
    await slack.waitFor(() => slack.bookmarksIn(channel).some((b) => b.title === 'Status topic'));

    // Someone joins the channel: the timeline says so.
    await sendEvent({ url, signingSecret: SIGNING_SECRET, event: { type: 'member_joined_channel', user: carol, channel, channel_type: 'C', team: 'T0FAKETEAM', event_ts: `${Math.floor(Date.now() / 1000)}.000200` } });

    // Discourse answers 500 twice, then rate-limits twice: every post still lands once, in order.
    forum.fail(2, { status: 500 });
    forum.rateLimit(2, { retryAfterSeconds: 1, waitSeconds: 1 });
    await command('incident update 1 identified "A bad configuration in the last release; we are rolling it back."');
    await command('incident update 1 --internal "db-7 primary was OOM-killed at 11:58"');
    await command('incident update 1 monitoring "The rollback is done; we are watching that it holds."');
    await command('incident update 1 "Error rates are back to normal; we keep watching."');
    await outboxEmpty();

    const replies = forum.postsIn(topic.id).map((p) => raw(p.raw).split('\n')[0]);
    expect(replies).toEqual([
      '**Investigating: Dashboard fails to load**',
      '**Update (Identified): Dashboard fails to load**',
      '**Update (Monitoring): Dashboard fails to load**',
      '**Update (Monitoring): Dashboard fails to load**',
    ]);
    expect(forum.posts().some((p) => p.raw.includes('OOM'))).toBe(false);
    expect(topic.tags).toEqual(['monitoring']);
    expect(forum.calls.filter((c) => c.status === 500)).toHaveLength(2);
    expect(forum.calls.filter((c) => c.status === 429)).toHaveLength(2);
    // The internal update is in the channel, marked as such.
    expect(JSON.stringify(slack.messagesIn(channel))).toContain('Internal: not posted to customers');

    await command('incident resolve 1 "A configuration change broke the dashboard; rolling it back fixed it."');
    await outboxEmpty();
    const last = forum.postsIn(topic.id).at(-1)!;
    expect(raw(last.raw)).toContain('**Resolved: Dashboard fails to load**');
    expect(raw(last.raw)).toContain('A configuration change broke the dashboard; rolling it back fixed it.');
    expect(topic).toMatchObject({ closed: true, tags: ['resolved'] });
    expect(forum.postsIn(topic.id)).toHaveLength(5);

    const review = await slack.waitFor(() => slack.messagesIn(channel).find((m) => m.text === 'Post-incident review draft for INC-1'));
    const draft = JSON.stringify(review.blocks);
    expect(draft).toContain('*Time to resolve:*');
    expect(draft).toContain('A bad configuration in the last release');
    expect(draft).toContain('db-7 primary was OOM-killed'); // internal detail belongs in the review
    const timeline = await cockpit.store.incidents.timeline(1);
    expect(timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['declared', 'published', 'page', 'joined', 'status', 'update', 'resolved']));
    expect(await cockpit.store.incidents.open('prod')).toEqual([]);
  });

  test('/metrics shows MTTA and MTTR per severity, the open incidents and the outbox', async () => {
    const metrics = await (await fetch(url.replace('/slack/events', '/metrics'))).text();
    expect(metrics).toMatch(/^cockpit_incident_mtta_seconds\{severity="SEV2"\} 0$/m);
    expect(metrics).toMatch(/^cockpit_incident_mttr_seconds\{severity="SEV2"\} \d+(\.\d+)?$/m);
    expect(metrics).toMatch(/^cockpit_incidents_open\{severity="SEV1"\} 0$/m);
    expect(metrics).toMatch(/^cockpit_forum_outbox_pending 0$/m);
    expect(metrics).toMatch(/^cockpit_forum_writes_total\{kind="post.reply",outcome="failed"\} [1-9]/m);
  });

  test('a refused move lists the allowed ones; a stranger cannot resolve', async () => {
    await command('incident open SEV3 "Search is slow for some"');
    const id = (await cockpit.store.incidents.list({ open: true }))[0]!.id;
    const refused = await command(`incident close ${id}`);
    expect(String(refused.text)).toBe(`INC-${id} is investigating: it can go to identified or monitoring or resolved, not closed.\n/cockpit incident update ${id} identified "<message>"\n/cockpit incident update ${id} monitoring "<message>"\n/cockpit incident resolve ${id} "<what happened>"`);
    const stranger = await command(`incident resolve ${id}`, 'U0STRANGER');
    expect(String(stranger.text)).toMatch(/U0STRANGER is not in the team file/);
  });

  test('the form: opened by `incident open` alone, answered in the form when incomplete, declared when complete', async () => {
    const responseUrl = slack.responseUrl();
    await sendSlashCommand({ url, signingSecret: SIGNING_SECRET, text: 'incident open', userId: carol, channelId: CHANNEL, responseUrl });
    const [opened] = await slack.waitFor(() => slack.callsTo('views.open').length > 0 && slack.callsTo('views.open'));
    const view = opened!.args.view as { callback_id: string; private_metadata: string; blocks: unknown[] };
    expect(view.callback_id).toBe(VIEWS.declareIncident);
    slack.reset();

    const option = (value: string) => ({ text: { type: 'plain_text', text: value }, value });
    const values = (summary: string) => ({
      title: { value: { type: 'plain_text_input', value: 'Webhooks are delayed' } },
      impact: { value: { type: 'static_select', selected_option: option('medium') } },
      urgency: { value: { type: 'static_select', selected_option: option('medium') } },
      stacks: { value: { type: 'multi_static_select', selected_options: [option('prod')] } },
      components: { value: { type: 'multi_static_select', selected_options: [option('webhooks')] } },
      customer_impact: { value: { type: 'plain_text_input', value: null } },
      public: { value: { type: 'checkboxes', selected_options: [option('public')] } },
      public_summary: { value: { type: 'plain_text_input', value: summary } },
    });
    const incomplete = await sendViewSubmission({ url, signingSecret: SIGNING_SECRET, userId: carol, view, values: values('') });
    expect(incomplete.json()).toEqual({ response_action: 'errors', errors: { public_summary: expect.stringContaining('word for word') } });

    const before = (await cockpit.store.incidents.list({})).length;
    const complete = await sendViewSubmission({ url, signingSecret: SIGNING_SECRET, userId: carol, view, values: values('Webhooks arrive up to 10 minutes late.') });
    expect(complete.status).toBe(200);
    const [answer] = await slack.waitFor(() => slack.callsTo('chat.postEphemeral').length > 0 && slack.callsTo('chat.postEphemeral'));
    expect(answer!.args).toMatchObject({ channel: CHANNEL, user: carol });
    const declared = (await cockpit.store.incidents.list({}))[0]!;
    expect((await cockpit.store.incidents.list({})).length).toBe(before + 1);
    // medium × medium is SEV3 in the runbook's matrix.
    expect(declared).toMatchObject({ title: 'Webhooks are delayed', severity: 'SEV3', stacks: ['prod'], components: ['webhooks'], public: true, commander: carol });
    await outboxEmpty();
    expect(forum.topicByExternalId(`cockpit-incident-${declared.id}`)).toBeDefined();
  });

  test('Declare incident on an alert group opens the form filled from the alert', async () => {
    alertGroups.add({ id: 'g-42', cluster: 'cockpit-prod', stack: 'prod', alertname: 'ProductErrorBudgetBurnFast', severity: 'critical', status: 'firing', labels: {}, summary: 'Checkout errors burn the budget 14x', startsAt: new Date(Date.now() - 10 * 60_000), customerImpact: true, responders: [bob] });
    slack.reset();
    const res = await sendAction({ url, signingSecret: SIGNING_SECRET, actionId: ACTIONS.alertDeclareIncident, value: 'g-42', userId: alice, channelId: 'C0ALERTS01', responseUrl: slack.responseUrl() });
    expect(res.status).toBe(200);
    const [opened] = await slack.waitFor(() => slack.callsTo('views.open').length > 0 && slack.callsTo('views.open'));
    const form = JSON.stringify(opened!.args.view);
    expect(form).toContain('"initial_value":"Checkout errors burn the budget 14x"');
    expect(form).toContain('"private_metadata":"{\\"channelId\\":\\"C0ALERTS01\\",\\"alertGroupId\\":\\"g-42\\"}"');
    // The alert's message is left as it was: the form is the answer.
    expect(slack.responses).toEqual([]);
  });
});
