import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildAlertmanagerConfig } from '../../infra/alerts/alertmanager';
import { renderRuleGroups } from '../../infra/alerts/render';
import { ALERT_RULES, RECORDING_RULES } from '../../infra/alerts/rules';
import { REPO_ROOT } from './harness';

const RUNBOOKS = path.join(REPO_ROOT, 'runbooks');
const REQUIRED_HEADINGS = ['## Meaning', '## Impact', '## First checks', '## Mitigation', '## Escalation'];

describe('ALERT_RULES (the data the runbooks lint and Cockpit read)', () => {
  test('alert names are unique', () => {
    const names = ALERT_RULES.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  test.each(ALERT_RULES.map((r) => [r.alert, r] as const))('%s has a runbook page with the five sections', (alert, rule) => {
    expect(rule.runbook).toBe(`alerts/${alert}.md`);
    const file = path.join(RUNBOOKS, rule.runbook);
    expect(existsSync(file)).toBe(true);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith(`# ${alert}\n`)).toBe(true);
    const positions = REQUIRED_HEADINGS.map((h) => text.indexOf(`\n${h}\n`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // The page states the same severity the rule pages with.
    expect(text).toContain(`Severity: ${rule.severity}`);
  });

  test.each(ALERT_RULES.map((r) => [r.alert, r] as const))('%s is well-formed', (_alert, rule) => {
    expect(['critical', 'warning', 'info']).toContain(rule.severity);
    expect(rule.for).toMatch(/^\d+[smh]$/);
    expect(rule.summary.length).toBeGreaterThan(10);
    expect(rule.description.length).toBeGreaterThan(10);
    expect(balanced(rule.expr)).toBe(true);
    // A page that would be silent about what is wrong is no page: summaries name the thing.
    expect(rule.summary).toMatch(/\{\{ \$labels\.\w+ \}\}/);
  });

  test('every recorded series an alert reads is one of the recording rules', () => {
    const recorded = new Set(RECORDING_RULES.map((r) => r.record));
    const used = ALERT_RULES.flatMap((r) => r.expr.match(/product:[a-z_]+:ratio_rate\w+/g) ?? []);
    expect(used.length).toBeGreaterThan(0);
    for (const series of used) expect(recorded).toContain(series);
    for (const r of RECORDING_RULES) expect(balanced(r.expr)).toBe(true);
  });

  test('customer-impacting alerts are the ones that say customers notice now, and they page', () => {
    const impacting = ALERT_RULES.filter((r) => r.customerImpact);
    expect(impacting.map((r) => r.alert).sort()).toEqual([
      'ProductErrorBudgetBurnFast',
      'ProductLatencyBudgetBurnFast',
      'ProductServiceDown',
    ]);
    for (const r of impacting) expect(r.severity).toBe('critical');
  });

  test('the product rules only look at the product: its namespaces or its scrape targets', () => {
    for (const r of ALERT_RULES.filter((a) => a.level === 'product' && !a.alert.startsWith('Certificate'))) {
      expect(r.expr).toMatch(/label_cockpit_tier="product"|cockpit_tier="product"|product:http_request_/);
    }
  });
});

describe('rendering', () => {
  test('each alert gets severity, cluster, level, customer_impact and a runbook_url into runbooks/alerts/', () => {
    const groups = renderRuleGroups(ALERT_RULES, RECORDING_RULES, {
      cluster: 'cockpit-prod',
      runbookBaseUrl: 'https://github.com/example/cockpit/blob/master/runbooks/',
    });
    const alerts = groups.flatMap((g) => g.rules).filter((r): r is Extract<typeof r, { alert: string }> => 'alert' in r);
    expect(alerts).toHaveLength(ALERT_RULES.length);
    const first = alerts.find((a) => a.alert === 'ProductErrorBudgetBurnFast')!;
    expect(first.labels).toEqual({ severity: 'critical', cluster: 'cockpit-prod', level: 'product', customer_impact: 'true' });
    expect(first.annotations.runbook_url).toBe(
      'https://github.com/example/cockpit/blob/master/runbooks/alerts/ProductErrorBudgetBurnFast.md',
    );
  });

  test('an external heartbeat URL gets the beat but never Cockpit’s token', () => {
    const config = buildAlertmanagerConfig({
      webhookUrl: 'https://cockpit.example.com/hooks/alertmanager',
      heartbeatUrl: 'https://hc-ping.com/0f8b2c',
      bearerTokenFile: '/etc/alertmanager/secrets/t/token',
    });
    const heartbeat = config.receivers.find((r) => r.name === 'cockpit-heartbeat')!;
    expect(heartbeat.webhook_configs).toEqual([{ url: 'https://hc-ping.com/0f8b2c', send_resolved: false }]);
  });
});

function balanced(expr: string): boolean {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  let quoted = false;
  for (const ch of expr) {
    if (ch === '"') quoted = !quoted;
    if (quoted) continue;
    if ('([{'.includes(ch)) stack.push(ch);
    else if (ch in pairs && stack.pop() !== pairs[ch]) return false;
  }
  return stack.length === 0 && !quoted;
}
