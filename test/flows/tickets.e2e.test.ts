import { createCockpit, type Cockpit } from '../../bot/cockpit';
import { ACTIONS } from '../../bot/slack/ids';
import { startFakeDiscourse, type FakeDiscourse, type FakeTopic } from '../fakes/discourse';
import { MemoryOnCall, RecordingPager } from '../fakes/incidentFakes';
import { startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { sendAction, sendSlashCommand, sendViewSubmission } from '../fakes/slackSigned';
import { exampleTeam, memoryLogger, slackTestConfig } from '../helpers';

const SIGNING_SECRET = 'tickets-e2e-signing-secret';
const BOT_TOKEN = 'xoxb-tickets-e2e';
const API_KEY = 'tickets-e2e-discourse-key';
const WEBHOOK_SECRET = 'tickets-e2e-webhook-secret-0123';
const SUPPORT = 'C0SUPPORT01'; // cockpit.yml tickets.channel
const alice = 'U0ALICE001';
const bob = 'U0BOB00001'; // L1 on call
const carol = 'U0CAROL001'; // L2 on call

/**
 * The "Done when", end to end: a customer's topic on the fake Discourse reaches Cockpit by the forum's own
 * signed webhook, Cockpit posts it in the fake Slack, and signed Slack presses and commands move it, each change
 * told to the customer as one reply and one tag change on the forum (checked against Discourse's spec). The real
 * Bolt app, Discourse client, outbox worker, SQLite store, templates and team file.
 */
describe('support tickets from the fake Discourse, handled in the fake Slack', () => {
  let slack: FakeSlackApi;
  let forum: FakeDiscourse;
  let cockpit: Cockpit;
  let slackUrl: string;
  let base: string;
  const pager = new RecordingPager();
  const onCall = new MemoryOnCall();
  const logs = memoryLogger('warn');

  beforeAll(async () => {
    slack = await startFakeSlackApi({ token: BOT_TOKEN });
    forum = await startFakeDiscourse({ apiKey: API_KEY, apiUsername: 'cockpit', categories: [5, { id: 7, slug: 'support' }] });
    Object.assign(onCall.levels, { L1: [bob], L2: [carol] });
    const config = slackTestConfig(
      slack.url,
      { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET },
      { DISCOURSE_URL: forum.url, DISCOURSE_API_KEY: API_KEY, DISCOURSE_API_USERNAME: 'cockpit', DISCOURSE_WEBHOOK_SECRET: WEBHOOK_SECRET },
    );
    cockpit = await createCockpit(config, exampleTeam(), { log: logs.log, onCall, pager, outboxTiming: { baseBackoffMs: 20, maxBackoffMs: 200, idleMs: 50, claimMs: 5_000 } });
    base = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}`;
    slackUrl = `${base}/slack/events`;
    forum.webhooks({ url: `${base}/hooks/discourse`, secret: WEBHOOK_SECRET });
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

  /** Until nothing moves: the forum's webhooks answered, their work done, the outbox delivered (which makes more webhooks). */
  async function settle(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      await forum.waitForWebhooks();
      await cockpit.idle();
      const { pending } = await cockpit.store.forumOutbox.totals();
      const waiting = forum.webhookDeliveries.some((d) => d.status === 0);
      if (pending === 0 && !waiting) {
        await cockpit.idle();
        if (!forum.webhookDeliveries.some((d) => d.status === 0)) return;
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    throw new Error(`nothing settled: ${JSON.stringify(await cockpit.store.forumOutbox.totals())}`);
  }

  const ticketMessage = (topicId: number) => slack.messagesIn(SUPPORT).find((m) => !m.threadTs && JSON.stringify(m.blocks).includes(`#${topicId} · `));
  const thread = (topicId: number) => {
    const root = ticketMessage(topicId);
    return root ? slack.messagesIn(SUPPORT).filter((m) => m.threadTs === root.ts) : [];
  };
  /** Cockpit's replies on a topic, without the hidden marker, first line only. */
  const cockpitReplies = (topic: FakeTopic) => forum.postsIn(topic.id).filter((p) => p.username === 'cockpit');
  const tagWrites = (topic: FakeTopic) => forum.writes().filter((c) => c.route === '/t/-/{id}.json' && c.path === `/t/-/${topic.id}.json`);

  const press = async (actionId: string, topicId: number, userId: string, value = String(topicId)) => {
    const message = ticketMessage(topicId)!;
    const responseUrl = slack.responseUrl();
    const res = await sendAction({ url: slackUrl, signingSecret: SIGNING_SECRET, actionId, value, userId, channelId: SUPPORT, messageTs: message.ts, responseUrl });
    expect(res.status).toBe(200);
    const id = responseUrl.split('/').pop()!;
    return (await slack.firstResponseTo(id, 5000)).body;
  };
  const command = async (text: string, userId: string) => {
    const responseUrl = slack.responseUrl();
    const res = await sendSlashCommand({ url: slackUrl, signingSecret: SIGNING_SECRET, text, userId, channelId: SUPPORT, responseUrl });
    expect(res.status).toBe(200);
    const id = responseUrl.split('/').pop()!;
    return (await slack.firstResponseTo(id, 5000)).body;
  };

  let topic: FakeTopic;

  test('a new topic appears in the support channel with Take and Escalate, and the topic is tagged new', async () => {
    topic = forum.customerTopic({ title: 'Exports time out since Monday', raw: 'Every CSV export of the api over 10k rows ends in a 504 since Monday.', username: 'jane', name: 'Jane Doe', categoryId: 7, tags: ['high'] });
    await settle();
    const message = ticketMessage(topic.id);
    expect(message?.text).toBe(`Ticket #${topic.id} (high, new): Exports time out since Monday`);
    const blocks = JSON.stringify(message?.blocks);
    for (const shown of ['Jane Doe (@jane)', 'Every CSV export of the api over 10k rows ends in a 504 since Monday.', `${forum.url}/t/${topic.id}`, ACTIONS.ticketTake, ACTIONS.ticketEscalate]) expect(blocks).toContain(shown);
    expect(forum.topics.get(topic.id)?.tags).toEqual(['high', 'new']);
    // The forum's webhooks of Cockpit's own writes and of the first post brought nothing more.
    expect(slack.messagesIn(SUPPORT)).toHaveLength(1);
    expect(cockpitReplies(topic)).toEqual([]);
  });

  test('Take → one reply naming the taker, the tag in-progress, the topic assigned; the message says who has it', async () => {
    const answer = await press(ACTIONS.ticketTake, topic.id, bob);
    expect(answer).toMatchObject({ replace_original: true });
    await settle();
    const replies = cockpitReplies(topic);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.raw).toContain('Bob from our team is working on "Exports time out since Monday".');
    expect(forum.topics.get(topic.id)).toMatchObject({ tags: ['high', 'in-progress'], assignedTo: 'bob' });
    expect(tagWrites(topic)).toHaveLength(2); // new, then in-progress
    expect(JSON.stringify(ticketMessage(topic.id)?.blocks)).toContain(`<@${bob}>`);
    expect(thread(topic.id).map((m) => m.text)).toEqual([`#${topic.id}: Bob took it`]);
    // Bob's App Home lists it as his.
    const home = JSON.stringify(await cockpit.core.homeBlocks(bob));
    expect(home).toContain('Support tickets');
    expect(home).toMatch(new RegExp(`\\*Yours\\*\\\\n.*#${topic.id}`));
    // A double press: told, nothing more on the forum.
    const again = await press(ACTIONS.ticketTake, topic.id, bob);
    expect(JSON.stringify(again)).toContain(`You have #${topic.id} already.`);
    await settle();
    expect(cockpitReplies(topic)).toHaveLength(1);
  });

  test('a customer reply on Discourse reaches the ticket’s thread; Cockpit’s own posts and a small action do not', async () => {
    forum.customerReply(topic.id, 'It is the export of the orders table, id 7781.', { username: 'jane', name: 'Jane Doe' });
    forum.smallAction(topic.id, 'pinned.enabled', { username: 'moderator1' });
    await settle();
    const relayed = thread(topic.id).filter((m) => JSON.stringify(m.blocks).includes('wrote'));
    expect(relayed).toHaveLength(1);
    expect(JSON.stringify(relayed[0]!.blocks)).toContain('It is the export of the orders table, id 7781.');
    expect(JSON.stringify(relayed[0]!.blocks)).toContain('Jane Doe (@jane), the customer');
  });

  test('Escalate → a reply, the tags in-progress and escalated-l2, the L2 on call owns it and is paged', async () => {
    await press(ACTIONS.ticketEscalate, topic.id, bob);
    await settle();
    const replies = cockpitReplies(topic);
    expect(replies).toHaveLength(2);
    expect(replies[1]!.raw).toContain('to our level L2 engineers');
    expect(replies[1]!.raw).toContain('Carol has it now.');
    expect(forum.topics.get(topic.id)).toMatchObject({ tags: ['high', 'in-progress', 'escalated-l2'], assignedTo: 'carol' });
    expect(pager.pages).toEqual([expect.objectContaining({ target: { kind: 'level', level: 'L2' }, source: { kind: 'ticket', ref: `${topic.id}/L2` }, raisedBy: bob })]);
    expect(thread(topic.id).at(-1)?.text).toBe(`#${topic.id}: Bob escalated it to L2: Carol has it. L2 is paged.`);
  });

  test('resolve → one reply with the message and the tag resolved; someone else’s command is refused and changes nothing', async () => {
    const refused = await command(`ticket status ${topic.id} resolved "Fixed"`, bob);
    expect(JSON.stringify(refused)).toContain(`#${topic.id} is Carol's`);
    const done = await command(`ticket status ${topic.id} resolved "The export job had a 30 s timeout; it is 5 minutes now."`, carol);
    expect(done).toMatchObject({ response_type: 'ephemeral' });
    await settle();
    const replies = cockpitReplies(topic);
    expect(replies).toHaveLength(3);
    expect(replies[2]!.raw).toContain('We consider "Exports time out since Monday" resolved.');
    expect(replies[2]!.raw).toContain('The export job had a 30 s timeout; it is 5 minutes now.');
    expect(forum.topics.get(topic.id)?.tags).toEqual(['high', 'escalated-l2', 'resolved']);
    expect(String(ticketMessage(topic.id)?.text)).toContain('resolved');
    expect(JSON.stringify(ticketMessage(topic.id)?.blocks)).not.toContain(ACTIONS.ticketTake);
  });

  test('a forged webhook is refused and does nothing; a replayed one too', async () => {
    const before = (await cockpit.store.tickets.list()).length;
    const fake = { ...forum.topicWebhookBody(topic.id), topic: { ...forum.topicWebhookBody(topic.id).topic, id: 999_999 } };
    expect((await forum.sendWebhook('topic_created', fake, { secret: 'a-guess-at-the-secret' })).status).toBe(401);
    expect((await forum.sendWebhook('topic_created', fake, { signature: null })).status).toBe(401);
    const original = forum.webhookDeliveries.find((d) => d.event === 'topic_created' && !d.manual)!;
    expect((await forum.redeliver(original.seq)).status).toBe(401);
    await settle();
    expect((await cockpit.store.tickets.list()).length).toBe(before);
    expect(slack.messagesIn(SUPPORT).filter((m) => !m.threadTs)).toHaveLength(1);
  });

  test('a topic whose webhooks were lost is caught by the sweep: one message, one tag, and its posts relayed', async () => {
    forum.dropWebhooks(2); // topic_created and post_created of the next topic
    const lost = forum.customerTopic({ title: 'Login loops back to the form', raw: 'Since this morning the login page sends me back to itself.', username: 'omar', categoryId: 7 });
    await settle();
    expect(ticketMessage(lost.id)).toBeUndefined();
    expect(await cockpit.store.tickets.get(lost.id)).toBeUndefined();

    // And a topic from before tickets were turned on, whose webhooks never came: the sweep leaves it alone.
    forum.dropWebhooks(2);
    const old = forum.customerTopic({ title: 'How do I change my invoice address?', raw: 'Where in the settings is the invoice address kept?', username: 'li', categoryId: 7, createdAt: new Date(Date.now() - 30 * 24 * 3_600_000) });

    forum.dropWebhooks(1);
    forum.customerReply(lost.id, 'Still happening, on Firefox and Chrome.', { username: 'omar' });
    await settle();
    expect(await cockpit.scheduler.trigger('tickets.sweep')).toBe('ran');
    await settle();
    expect(ticketMessage(lost.id)?.text).toBe(`Ticket #${lost.id} (normal, new): Login loops back to the form`);
    expect(forum.topics.get(lost.id)?.tags).toEqual(['new']);
    expect(JSON.stringify(thread(lost.id).map((m) => m.blocks))).toContain('Still happening, on Firefox and Chrome.');
    expect(await cockpit.store.tickets.get(old.id)).toBeUndefined();
    expect(forum.topics.get(old.id)?.tags).toEqual([]);
    // A second sweep finds nothing new and reads no topic it knows.
    const reads = forum.calls.filter((c) => c.route === '/t/{id}.json').length;
    expect(await cockpit.scheduler.trigger('tickets.sweep')).toBe('ran');
    await settle();
    expect(forum.calls.filter((c) => c.route === '/t/{id}.json').length).toBe(reads);
    expect(slack.messagesIn(SUPPORT).filter((m) => !m.threadTs)).toHaveLength(2);
    expect(forum.topics.get(lost.id)?.tags).toEqual(['new']);
  });

  test('ticket list shows the open ones with their wait against the target; bad input gets usage', async () => {
    const list = await command('ticket list', alice);
    expect(JSON.stringify(list)).toContain('Open tickets (1)');
    expect(JSON.stringify(list)).toContain('Login loops back to the form');
    const bad = await command('ticket stauts 1 resolved', alice);
    expect(JSON.stringify(bad)).toContain('did you mean');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('cockpit_tickets_open{status="new"} 1');
    expect(metrics).toContain('cockpit_tickets_open{status="in-progress"} 0');
    expect(metrics).toMatch(/^cockpit_tickets_late 0$/m);
  });

  test('a ticket that looks like a public incident is offered the link; linked, it is resolved with the incident', async () => {
    const ticket = forum.customerTopic({ title: 'The dashboard shows no charts', raw: 'Since 10:00 every chart on the dashboard is empty for our whole team.', username: 'ana', categoryId: 7 });
    await settle();
    expect(ticketMessage(ticket.id)).toBeDefined();

    // Alice declares a public incident on the dashboard through the form.
    const responseUrl = slack.responseUrl();
    await sendSlashCommand({ url: slackUrl, signingSecret: SIGNING_SECRET, text: 'incident open', userId: alice, channelId: SUPPORT, responseUrl });
    const [opened] = await slack.waitFor(() => slack.callsTo('views.open').length > 0 && slack.callsTo('views.open'));
    const view = opened!.args.view as { callback_id: string; private_metadata: string; blocks: unknown[] };
    const option = (value: string) => ({ text: { type: 'plain_text', text: value }, value });
    const submitted = await sendViewSubmission({
      url: slackUrl,
      signingSecret: SIGNING_SECRET,
      userId: alice,
      view,
      values: {
        title: { value: { type: 'plain_text_input', value: 'Dashboard charts are empty' } },
        impact: { value: { type: 'static_select', selected_option: option('high') } },
        urgency: { value: { type: 'static_select', selected_option: option('high') } },
        stacks: { value: { type: 'multi_static_select', selected_options: [option('prod')] } },
        components: { value: { type: 'multi_static_select', selected_options: [option('dashboard')] } },
        customer_impact: { value: { type: 'plain_text_input', value: null } },
        public: { value: { type: 'checkboxes', selected_options: [option('public')] } },
        public_summary: { value: { type: 'plain_text_input', value: 'Charts on the dashboard show no data.' } },
      },
    });
    expect(submitted.status).toBe(200);
    await slack.waitFor(() => thread(ticket.id).some((m) => String(m.text).includes('This looks like INC-1')));
    await settle();
    const incidentId = (await cockpit.store.incidents.list({}))[0]!.id;
    expect(JSON.stringify(ticketMessage(ticket.id)?.blocks)).toContain(`"value":"${ticket.id}:${incidentId}"`);

    await press(ACTIONS.ticketLinkIncident, ticket.id, alice, `${ticket.id}:${incidentId}`);
    await settle();
    const statusTopic = forum.topicByExternalId(`cockpit-incident-${incidentId}`)!;
    expect(cockpitReplies(ticket).at(-1)?.raw).toContain(`${forum.url}/t/${statusTopic.id}`);

    await command(`incident resolve ${incidentId} "A cache node served empty results; it was replaced."`, alice);
    await settle();
    expect(cockpitReplies(ticket).at(-1)?.raw).toContain('The problem behind "The dashboard shows no charts" is resolved: Dashboard charts are empty.');
    expect(forum.topics.get(ticket.id)?.tags).toEqual(['resolved']);
    expect((await cockpit.store.tickets.get(ticket.id))?.status).toBe('resolved');
  });
});
