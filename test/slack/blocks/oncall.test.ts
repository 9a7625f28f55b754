import { alertGroupReply, stormDigestReply } from '../../../bot/slack/blocks/alerts';
import { oncallHomeBlocks } from '../../../bot/slack/blocks/oncall';
import { pageReply } from '../../../bot/slack/blocks/page';
import { ACTIONS } from '../../../bot/slack/ids';
import type { AlertGroup, StoredAlert } from '../../../handlers/model/alerts';
import type { Page } from '../../../handlers/model/oncall';

const now = new Date('2026-11-25T12:00:00Z');

const page = (p: Partial<Page> = {}): Page => ({
  id: 'P1',
  source: { kind: 'manual', ref: 'r-1' },
  target: { kind: 'level', level: 'L1' },
  summary: 'checkout <is> down',
  raisedBy: 'U0BOB00001',
  requestId: 'r-1',
  channel: 'C1',
  policy: 'default',
  status: 'triggered',
  step: 0,
  repeats: 0,
  responders: ['U0CAROL001'],
  everyone: false,
  createdAt: new Date(now.getTime() - 120_000),
  nextAt: new Date(now.getTime() + 180_000),
  version: 1,
  ...p,
});

const group = (g: Partial<AlertGroup> = {}): AlertGroup => ({
  id: 'g1',
  stack: 'prod',
  cluster: 'cockpit-prod',
  groupKey: 'k',
  receiver: 'cockpit',
  alertname: 'ProductServiceDown',
  severity: 'critical',
  status: 'firing',
  groupLabels: { alertname: 'ProductServiceDown' },
  commonLabels: { alertname: 'ProductServiceDown', cluster: 'cockpit-prod', customer_impact: 'true', namespace: 'shop' },
  commonAnnotations: { runbook_url: 'https://runbooks.example/ProductServiceDown.md' },
  externalUrl: 'http://am',
  truncatedAlerts: 3,
  channel: 'C0ALERTS01',
  inDigest: false,
  firstSeenAt: now,
  updatedAt: now,
  statusChangedAt: now,
  firing: 7,
  resolved: 1,
  ...g,
});

const alert = (i: number): StoredAlert => ({
  groupId: 'g1',
  fingerprint: `f${i}`,
  status: 'firing',
  labels: { alertname: 'ProductServiceDown', cluster: 'cockpit-prod', namespace: 'shop', service: 'api', pod: `api-${i}`, instance: '10.0.0.1' },
  annotations: { summary: `api-${i} does not answer` },
  startsAt: now,
  generatorUrl: 'http://prometheus/graph',
});

const json = (x: unknown) => JSON.stringify(x);

describe('page messages', () => {
  test('a waiting page says how long it waited and when it moves on, with all three buttons', () => {
    const reply = pageReply(page(), now, 'raised');
    expect(reply.text).toBe('PAGE: checkout &lt;is&gt; down');
    const blocks = json(reply.blocks);
    expect(blocks).toContain('checkout &lt;is&gt; down');
    expect(blocks).toContain('Waiting for an acknowledgement (2m) · next step in 3m');
    for (const id of [ACTIONS.pageAcknowledge, ACTIONS.pageEscalate, ACTIONS.pageResolve]) expect(blocks).toContain(id);
  });

  test('acknowledged: who and when, and no Acknowledge button; resolved: no buttons; everyone: @here', () => {
    const acked = json(pageReply(page({ status: 'acknowledged', acknowledgedBy: 'U0ALICE001', acknowledgedAt: now }), now).blocks);
    expect(acked).toContain('Acknowledged by <@U0ALICE001> at 12:00 UTC, after 2m');
    expect(acked).not.toContain(ACTIONS.pageAcknowledge);
    expect(json(pageReply(page({ status: 'resolved', resolvedBy: 'alertmanager', resolvedAt: now }), now).blocks)).not.toContain('"actions"');
    expect(pageReply(page({ everyone: true }), now, 'everyone').blocks[0]).toMatchObject({ text: { text: expect.stringContaining('<!here>') } });
  });
});

describe('alert group messages', () => {
  test('counts, the first five alerts with the labels that differ, truncation, links, and the buttons', () => {
    const reply = alertGroupReply({ group: group(), alerts: [0, 1, 2, 3, 4, 5].map(alert), now });
    const blocks = json(reply.blocks);
    expect(reply.text).toBe('CRITICAL ProductServiceDown on prod: 7 firing');
    expect(blocks).toContain('7 firing · 1 resolved · +3 more Alertmanager did not send');
    expect(blocks).toContain('Customers notice this.');
    expect(blocks).toContain('`pod=api-0`');
    expect(blocks).not.toContain('instance=');
    expect(blocks).not.toContain('api-5 does not answer');
    expect(blocks).toContain('3 more in this group.');
    expect(blocks).toContain('<https://runbooks.example/ProductServiceDown.md|Runbook>');
    expect(blocks).toContain('<http://prometheus/graph|source>');
    for (const id of [ACTIONS.alertAcknowledge, ACTIONS.alertSilence, ACTIONS.alertDeclareIncident]) expect(blocks).toContain(id);
    expect(reply.blocks.length).toBeLessThanOrEqual(50);
  });

  test('acknowledged and silenced groups say by whom and drop those buttons; resolved keeps Declare incident', () => {
    const blocks = json(alertGroupReply({ group: group({ acknowledgedBy: 'U0BOB00001', acknowledgedAt: now, silence: { id: 'abcdef123456', by: 'U0BOB00001', until: new Date(now.getTime() + 3_600_000) } }), alerts: [], page: page(), now }).blocks);
    expect(blocks).toContain('Acknowledged by <@U0BOB00001>');
    expect(blocks).toContain('Silenced by <@U0BOB00001> until 13:00 UTC (silence abcdef12)');
    expect(blocks).toContain(':pager: L1 P1');
    expect(blocks).not.toContain(ACTIONS.alertAcknowledge);
    expect(blocks).not.toContain(ACTIONS.alertSilence);
    const resolved = json(alertGroupReply({ group: group({ status: 'resolved', firing: 0, resolved: 8 }), alerts: [], now }).blocks);
    expect(resolved).toContain('resolved');
    expect(resolved).toContain(ACTIONS.alertDeclareIncident);
  });

  test('the storm digest counts by severity and cluster and names the top alerts', () => {
    const groups = [group(), group({ id: 'g2', severity: 'warning', cluster: 'cockpit-staging' }), group({ id: 'g3', alertname: 'Other', severity: 'warning' })];
    const blocks = json(stormDigestReply(groups, now).blocks);
    expect(blocks).toContain('3 new groups since 12:00 UTC, 3 still firing');
    expect(blocks).toContain('*By severity* warning 2 · critical 1');
    expect(blocks).toContain('*By cluster* cockpit-prod 2 · cockpit-staging 1');
    expect(blocks).toContain('*Top alerts* ProductServiceDown 2 · Other 1');
  });
});

describe('App Home', () => {
  test('who is on call, my next shifts, and the open pages with their buttons', () => {
    const shift = { level: 'L1' as const, userId: 'U0CAROL001', from: now, to: new Date(now.getTime() + 86_400_000), source: 'weekly' };
    const blocks = json(oncallHomeBlocks({ levels: [{ level: 'L1', current: shift, next: [] }], mine: [shift], pages: [page()], zone: 'UTC', now }));
    expect(blocks).toContain('*L1* <@U0CAROL001> until Thu 26 Nov 12:00');
    expect(blocks).toContain('*Your next shifts*\\nL1 Wed 25 Nov 12:00 → Thu 26 Nov 12:00');
    expect(blocks).toContain(ACTIONS.pageAcknowledge);
    expect(json(oncallHomeBlocks({ levels: [], mine: [], pages: [], zone: 'UTC', now }))).toContain('No open pages.');
  });
});
