import { prefillFrom } from '../../../bot/flows/incidents';
import {
  declareForm,
  handoverReply,
  markdownLineToMrkdwn,
  parseFormDeclaration,
  parseFormMetadata,
  readDeclareForm,
  reviewReply,
  summaryReply,
  updateReply,
  type FormValues,
} from '../../../bot/slack/blocks/incidents';
import { ACTIONS, VIEWS } from '../../../bot/slack/ids';
import type { IncidentRecord } from '../../../handlers/incidentModel';
import type { AlertGroupSummary } from '../../../handlers/model/alerts';
import { exampleTeam } from '../../helpers';

const at = new Date('2026-11-25T12:00:00Z');
const incident: IncidentRecord = {
  id: 12,
  severity: 'SEV2',
  title: 'Dashboard fails to load',
  status: 'identified',
  stacks: ['prod'],
  openedAt: at,
  startedAt: at,
  acknowledgedAt: at,
  declaredBy: 'U0ALICE001',
  commander: 'U0ALICE001',
  pendingCommander: 'U0BOB00001',
  components: ['dashboard'],
  customerImpact: 'Customers <b>see</b> errors & retry',
  public: true,
  lastPublicUpdateAt: at,
  channelId: 'C0INC00012',
  version: 3,
  updatedAt: at,
};
const text = (reply: { blocks: unknown }) => JSON.stringify(reply.blocks);

describe('incident blocks', () => {
  it('summarises an incident for whoever joins: state, freeze, commander and handover, customers, next update', () => {
    const reply = summaryReply(incident, { now: new Date('2026-11-25T13:05:00Z'), topicUrl: 'https://forum.example.com/t/100', forum: { pending: 2, oldestAt: at, lastError: 'POST /posts.json: Discourse answered 429' } });
    const blocks = text(reply);
    expect(reply.text).toBe('INC-12 SEV2: Dashboard fails to load (Identified)');
    expect(blocks).toContain('INC-12 · SEV2 · Dashboard fails to load');
    expect(blocks).toContain('SEV2 (deploys to prod frozen)');
    expect(blocks).toContain('<@U0ALICE001> (handing over to <@U0BOB00001>)');
    expect(blocks).toContain('<https://forum.example.com/t/100|status topic> · next update by 13:00 UTC (late)');
    expect(blocks).toContain('Customers &lt;b&gt;see&lt;/b&gt; errors &amp; retry');
    expect(blocks).toContain('2 post(s) waiting for the status forum since 12:00 UTC');
  });

  it('says plainly whether customers were told', () => {
    const told = updateReply({ incident, from: 'investigating', message: 'Found it', customerFacing: true }, 'U0ALICE001');
    expect(text(told)).toContain('*Identified* (was Investigating) · <@U0ALICE001>');
    expect(text(told)).toContain('Posted to customers on the status forum');
    expect(text(updateReply({ incident, from: 'identified', message: 'x', customerFacing: false }, 'U0ALICE001'))).toContain('Internal: not posted to customers');
    expect(text(updateReply({ incident: { ...incident, public: false }, from: 'identified', message: 'x', customerFacing: false }, 'U0ALICE001'))).toContain('/cockpit incident publish 12');
  });

  it('puts "I am IC" under a handover, carrying the incident number', () => {
    expect(text(handoverReply(incident, 'U0ALICE001', 'U0BOB00001'))).toContain(`"action_id":"${ACTIONS.incidentAcceptCommand}","value":"12"`);
  });

  it('turns the review draft into Slack text within Slack limits', () => {
    const markdown = ['# Post-incident review: INC-12 Dashboard', '', '**Severity:** SEV2', '', '## Timeline', '', ...Array.from({ length: 400 }, (_, i) => `- 12:${String(i % 60).padStart(2, '0')} Update (Alice): step ${i} <x>`), '', '## Follow-ups', '', '- [ ] Alert on it (Bob)'].join('\n');
    const reply = reviewReply(incident, markdown);
    expect(reply.blocks.length).toBeLessThanOrEqual(50);
    expect(reply.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Post-incident review: INC-12 Dashboard' } });
    expect(text(reply)).toContain('*Severity:* SEV2');
    expect(text(reply)).toContain('&lt;x&gt;');
    expect(markdownLineToMrkdwn('- [ ] Alert on it (Bob)')).toBe('☐ Alert on it (Bob)');
    expect(markdownLineToMrkdwn('## Timeline')).toBe('*Timeline*');
  });
});

describe('the declare form', () => {
  const team = exampleTeam();

  it('asks impact and urgency (the severity matrix), stacks and components from the team file, and customers only with a forum', () => {
    const form = declareForm({ team, forum: true, channelId: 'C0DEPLOYS01', alertGroupId: 'g-9', prefill: { title: 'Errors', impact: 'medium', urgency: 'high', stacks: ['prod', 'nowhere'] } });
    expect(form.callback_id).toBe(VIEWS.declareIncident);
    expect(parseFormMetadata(form.private_metadata)).toEqual({ channelId: 'C0DEPLOYS01', alertGroupId: 'g-9' });
    const blocks = form.blocks.map((b) => b.block_id).filter(Boolean);
    expect(blocks).toEqual(['title', 'impact', 'urgency', 'stacks', 'components', 'customer_impact', 'public', 'public_summary']);
    expect(JSON.stringify(form)).toContain('"initial_options":[{"text":{"type":"plain_text","text":"prod","emoji":true},"value":"prod"}]');
    expect(declareForm({ team, forum: false }).blocks.map((b) => b.block_id)).not.toContain('public');
  });

  const values = (overrides: FormValues = {}): FormValues => ({
    title: { value: { type: 'plain_text_input', value: ' Dashboard fails to load ' } },
    impact: { value: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'Medium' }, value: 'medium' } } },
    urgency: { value: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'High' }, value: 'high' } } },
    stacks: { value: { type: 'multi_static_select', selected_options: [{ text: { type: 'plain_text', text: 'prod' }, value: 'prod' }] } },
    components: { value: { type: 'multi_static_select', selected_options: [] } },
    customer_impact: { value: { type: 'plain_text_input', value: null } },
    public: { value: { type: 'checkboxes', selected_options: [{ text: { type: 'plain_text', text: 'Tell' }, value: 'public' }] } },
    public_summary: { value: { type: 'plain_text_input', value: 'Some customers see an error page.' } },
    ...overrides,
  });

  it('reads a submission into a declaration the action checks again', () => {
    const read = readDeclareForm(values(), { alertGroupId: 'g-9' });
    expect(read).toEqual({ ok: true, declaration: { title: 'Dashboard fails to load', impact: 'medium', urgency: 'high', stacks: ['prod'], components: [], public: true, publicSummary: 'Some customers see an error page.', alertGroupId: 'g-9' } });
    if (read.ok) expect(parseFormDeclaration(JSON.stringify(read.declaration))).toEqual(read.declaration);
    expect(() => parseFormDeclaration('{"title":"x","impact":"huge"}')).toThrow(/older Cockpit/);
  });

  it('answers in the form what Slack cannot check: a public incident needs its summary', () => {
    expect(readDeclareForm(values({ public_summary: { value: { type: 'plain_text_input', value: '  ' } } }), {})).toEqual({ ok: false, errors: { public_summary: expect.stringContaining('word for word') } });
    expect(readDeclareForm(values({ impact: { value: { type: 'static_select', selected_option: null } } }), {})).toMatchObject({ ok: false, errors: { impact: 'Choose the impact.' } });
  });

  it('prefills from an alert group: a fast burn on production is at least medium impact', () => {
    const group: AlertGroupSummary = { id: 'g-1', cluster: 'cockpit-prod', stack: 'prod', alertname: 'ProductErrorBudgetBurnFast', severity: 'critical', status: 'firing', labels: {}, summary: 'Error budget burning 14x', startsAt: at, customerImpact: true, responders: [] };
    expect(prefillFrom(group, team)).toEqual({ title: 'Error budget burning 14x', impact: 'medium', urgency: 'high', stacks: ['prod'] });
    expect(prefillFrom({ ...group, stack: 'staging', severity: 'warning' }, team)).toMatchObject({ impact: 'low', urgency: 'medium', stacks: ['staging'] });
  });
});
