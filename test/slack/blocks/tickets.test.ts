import { forumPostReply, ticketHomeBlocks, ticketListReply, ticketMessage, waited } from '../../../bot/slack/blocks/tickets';
import { ACTIONS } from '../../../bot/slack/ids';
import type { IncidentRecord } from '../../../handlers/incidentModel';
import type { TicketRecord } from '../../../handlers/model/tickets';
import type { TicketView } from '../../../handlers/ticket';

const at = new Date('2026-11-25T12:00:00Z');
const HOUR = 3_600_000;
const ticket: TicketRecord = {
  topicId: 321,
  title: 'Exports time out since Monday',
  customer: { username: 'jane', name: 'Jane Doe' },
  excerpt: 'Every CSV export of more than 10k rows ends in a 504.',
  priority: 'high',
  status: 'new',
  level: 'L1',
  components: ['api'],
  mentions: [],
  openedAt: at,
  dueAt: new Date(at.getTime() + 2 * HOUR),
  statusChangedAt: at,
  lastPostNumber: 1,
  version: 0,
  updatedAt: at,
};
const view = (overrides: Partial<TicketView> = {}): TicketView => ({ ticket, ageMs: HOUR, targetMs: 2 * HOUR, late: false, lookalikes: [], forum: { pending: 0 }, ...overrides });
const url = 'https://forum.example.com/t/321';
const buttons = (blocks: unknown) => JSON.stringify(blocks).match(/"action_id":"[^"]+"/g) ?? [];

describe('the ticket message', () => {
  it('shows who, what, the target and the buttons of a new ticket', () => {
    const reply = ticketMessage(view(), url);
    expect(reply.text).toBe('Ticket #321 (high, new): Exports time out since Monday');
    const text = JSON.stringify(reply.blocks);
    for (const shown of ['#321 · Exports time out since Monday', 'Jane Doe (@jane)', 'high · take within 2h', 'nobody yet', 'waited 1h of 2h', '> Every CSV export', url]) expect(text).toContain(shown);
    expect(buttons(reply.blocks)).toEqual([`"action_id":"${ACTIONS.ticketTake}"`, `"action_id":"${ACTIONS.ticketEscalate}"`]);
  });

  it('keeps a customer’s words inert: no channel-wide mention from the title, no link from the excerpt', () => {
    const hostile = { ...ticket, title: '<!channel> urgent <https://evil.example|click>', excerpt: '<!here> see <https://evil.example|this>', customer: { username: 'x', name: '<@U0ALICE001>' } };
    const reply = ticketMessage(view({ ticket: hostile }), url);
    expect(reply.text).not.toMatch(/<!channel>|<https/);
    // The header is plain_text, which Slack shows as written; every mrkdwn text must have it escaped.
    const mrkdwn = (JSON.stringify(reply.blocks).match(/"type":"mrkdwn","text":"(?:[^"\\]|\\.)*"/g) ?? []).join('\n');
    expect(mrkdwn).toContain('&lt;!here&gt;');
    expect(mrkdwn).not.toMatch(/<!here>|<!channel>|<https:\/\/evil|<@U0ALICE001>/);
  });

  it('offers a link to a lookalike incident, says when the forum is behind, and has no buttons once resolved', () => {
    const incident = { id: 4, title: 'API exports fail', components: ['api'], public: true, status: 'investigating' } as IncidentRecord;
    const linkable = ticketMessage(view({ lookalikes: [incident], forum: { pending: 2, lastError: 'POST /posts.json: Discourse answered 502' } }), url);
    expect(JSON.stringify(linkable.blocks)).toContain('Looks like *INC-4* API exports fail (api)');
    expect(buttons(linkable.blocks)).toContain(`"action_id":"${ACTIONS.ticketLinkIncident}"`);
    expect(JSON.stringify(linkable.blocks)).toContain('2 change(s) waiting for the forum: POST /posts.json: Discourse answered 502');
    const done = ticketMessage(view({ ticket: { ...ticket, status: 'resolved', assignee: 'U0BOB00001', takenAt: at } }), url);
    expect(buttons(done.blocks)).toEqual([]);
    const top = ticketMessage(view({ ticket: { ...ticket, status: 'in-progress', level: 'L3', assignee: 'U0BOB00001' } }), url);
    expect(buttons(top.blocks)).toEqual([`"action_id":"${ACTIONS.ticketTake}"`]);
  });

  it('says how long a ticket waited against its target, and when it was late', () => {
    expect(waited(view({ ageMs: 3 * HOUR, late: true }))).toBe(':warning: late: waited 3h of 2h');
    expect(waited(view({ ticket: { ...ticket, takenAt: at }, ageMs: 90 * 60_000 }))).toBe('taken after 1h 30m of 2h');
  });
});

describe('the thread and the list', () => {
  it('quotes a customer’s post, with what it asks of the taker', () => {
    const post = { id: 1, topicId: 321, postNumber: 3, kind: 'regular' as const, username: 'jane', raw: 'Here it is.\n\n<!-- hidden -->', createdAt: at };
    const reply = forumPostReply({ ...ticket, status: 'waiting', assignee: 'U0BOB00001' }, post, { customer: true, url: `${url}/3` });
    const text = JSON.stringify(reply.blocks);
    expect(text).toContain('Jane Doe (@jane), the customer');
    expect(text).toContain('> Here it is.');
    expect(text).not.toContain('hidden');
    expect(text).toContain('/cockpit ticket status 321 in-progress');
  });

  it('lists open tickets with their owner and wait, and says how many are late', () => {
    const reply = ticketListReply([view({ late: true, ageMs: 3 * HOUR }), view({ ticket: { ...ticket, topicId: 322, assignee: 'U0BOB00001', status: 'in-progress', takenAt: at } })], (id) => `https://forum.example.com/t/${id}`);
    const text = JSON.stringify(reply.blocks);
    expect(reply.visibility).toBe('ephemeral');
    expect(text).toContain('Open tickets (2)');
    expect(text).toContain('<@U0BOB00001>');
    expect(text).toContain('1 not taken within their target.');
    expect(ticketListReply([], () => url).text).toBe('No open tickets');
  });
});

describe('App Home', () => {
  it('shows the person’s tickets and how the queue stands', () => {
    const mine = [view({ ticket: { ...ticket, status: 'waiting', assignee: 'U0BOB00001', takenAt: at } })];
    const queue = [view({ ticket: { ...ticket, topicId: 400 }, late: true, ageMs: 3 * HOUR }), view({ ticket: { ...ticket, topicId: 401 } })];
    const text = JSON.stringify(ticketHomeBlocks({ mine, queue }, (id) => `https://forum.example.com/t/${id}`));
    expect(text).toContain('#321>* Exports time out since Monday · waiting · L1');
    expect(text).toContain('2 new in the queue, 1 past their target; the oldest is #400 (:warning: late: waited 3h of 2h).');
    expect(JSON.stringify(ticketHomeBlocks({ mine: [], queue: [] }, () => ''))).toContain('The queue is empty.');
  });
});
