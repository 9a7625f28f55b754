import { createCockpit, type Cockpit } from '../../bot/cockpit';
import { personalKey } from '../../bot/http/calendarFeed';
import { SlackOutbound } from '../../bot/integrations/slack/outbound';
import { section } from '../../bot/slack/blocks/reply';
import { startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { exampleTeam, manualClock, memoryLogger, slackTestConfig } from '../helpers';

const BOT_TOKEN = 'xoxb-oncall-flow';
const SECRET = 'calendar-secret-0123456789';
const CAROL = 'U0CAROL001';
const ALICE = 'U0ALICE001';

describe('on-call jobs and feeds', () => {
  let fake: FakeSlackApi;
  let cockpit: Cockpit;
  let base: string;
  let clock: ReturnType<typeof manualClock>;

  beforeAll(async () => {
    fake = await startFakeSlackApi({ token: BOT_TOKEN });
    clock = manualClock('2026-11-25T12:00:00Z'); // L1 Carol until Monday 30 November 10:00 Paris, then Alice
    const team = exampleTeam();
    team.oncall!.rotations[0]!.userGroup = 'S0ONCALLL1';
    cockpit = await createCockpit(slackTestConfig(fake.url, { botToken: BOT_TOKEN, signingSecret: 's' }, { ONCALL_CALENDAR_SECRET: SECRET }), team, {
      log: memoryLogger('error').log,
      clock,
      slackPacing: { postIntervalMs: 5, updateIntervalMs: 5 },
    });
    base = `http://127.0.0.1:${await cockpit.listen('127.0.0.1')}`;
  });
  afterEach(() => {
    fake.assertNoViolations();
    fake.reset();
  });
  afterAll(async () => {
    await cockpit.close();
    await fake.close();
  });

  test('a handover is posted at each change of who is on call, and the user group follows', async () => {
    expect(await cockpit.scheduler.trigger('oncall.handover')).toBe('ran');
    await cockpit.idle();
    // The first run learns who is on call: no message, the group set.
    expect(fake.callsTo('chat.postMessage')).toHaveLength(0);
    expect(fake.callsTo('usergroups.users.update').map((c) => c.args)).toEqual([expect.objectContaining({ usergroup: 'S0ONCALLL1', users: CAROL })]);
    // Nothing changed: nothing to say.
    expect(await cockpit.scheduler.trigger('oncall.handover')).toBe('ran');
    await cockpit.idle();
    expect(fake.callsTo('chat.postMessage')).toHaveLength(0);
    clock.advance(5 * 86_400_000); // Monday 30 November, 13:00 Paris
    fake.reset();
    expect(await cockpit.scheduler.trigger('oncall.handover')).toBe('ran');
    await cockpit.idle();
    const posts = fake.callsTo('chat.postMessage');
    expect(posts.map((p) => [p.args.channel, p.args.text])).toEqual(expect.arrayContaining([['C0INCIDENT1', `L1 handover: ${CAROL} → ${ALICE}`]]));
    expect(fake.callsTo('usergroups.users.update').map((c) => c.args.users)).toEqual([ALICE]);
  });

  test('serves an iCalendar feed per level, and a personal one only at its secret URL', async () => {
    const level = await fetch(`${base}/oncall/L1.ics`);
    expect(level.status).toBe(200);
    expect(level.headers.get('content-type')).toContain('text/calendar');
    const text = await level.text();
    expect(text).toContain('BEGIN:VCALENDAR');
    expect(text).toMatch(/SUMMARY:On call L1: (Carol|Alice|Bob)/);
    expect(text.match(/BEGIN:VEVENT/g)!.length).toBeGreaterThan(10);
    const mine = await fetch(`${base}/oncall/person.ics?key=${personalKey(SECRET, CAROL)}`);
    expect(mine.status).toBe(200);
    const personal = await mine.text();
    expect(personal).toContain('On call L1: Carol');
    expect(personal).not.toContain('Alice');
    expect((await fetch(`${base}/oncall/person.ics?key=${CAROL}.forged`)).status).toBe(404);
    expect((await fetch(`${base}/oncall/person.ics?key=${personalKey('another-secret-000000', CAROL)}`)).status).toBe(404);
  });
});

describe('SlackOutbound', () => {
  test('edits of one message coalesce: the latest state wins, in few calls', async () => {
    const fake = await startFakeSlackApi({ token: BOT_TOKEN });
    const outbound = new SlackOutbound(SlackOutbound.client(BOT_TOKEN, fake.url), memoryLogger('error').log, { postIntervalMs: 5, updateIntervalMs: 200 });
    try {
      const message = await outbound.post('C0ALERTS01', { text: 'v0', visibility: 'in_channel', blocks: [section('v0')] });
      for (let i = 1; i <= 20; i++) outbound.edit(message, async () => ({ text: `v${i}`, visibility: 'in_channel', blocks: [section(`v${i}`)] }));
      await outbound.idle();
      const updates = fake.callsTo('chat.update');
      expect(updates.length).toBeLessThanOrEqual(2);
      expect(updates[updates.length - 1]!.args.text).toBe('v20');
      expect(fake.messagesIn('C0ALERTS01')[0]!.text).toBe('v20');
    } finally {
      await outbound.stop();
      await fake.close();
    }
  });
});
