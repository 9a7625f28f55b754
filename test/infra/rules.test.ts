import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildAlertmanagerConfig } from '../../infra/alerts/alertmanager';
import { renderRuleGroups } from '../../infra/alerts/render';
import { ALERT_RULES, RECORDING_RULES, type RuleParameters, forStack, hoursAndDays, promDuration } from '../../infra/alerts/rules';
import { REPO_ROOT } from './harness';

const RUNBOOKS = path.join(REPO_ROOT, 'runbooks');
/** A daily backup schedule's: its 24 hours between runs and an hour for the backup. */
const DAILY: RuleParameters = { backupMaxAgeSeconds: 25 * 3600 };
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
    expect(forStack(rule.summary, DAILY).length).toBeGreaterThan(10);
    expect(rule.description.length).toBeGreaterThan(10);
    expect(balanced(forStack(rule.expr, DAILY))).toBe(true);
    // A page that would be silent about what is wrong is no page: summaries name the thing.
    expect(forStack(rule.summary, DAILY)).toMatch(/\{\{ \$labels\.\w+ \}\}/);
  });

  test('every recorded series an alert reads is one of the recording rules', () => {
    const recorded = new Set(RECORDING_RULES.map((r) => r.record));
    const used = ALERT_RULES.flatMap((r) => forStack(r.expr, DAILY).match(/product:[a-z_]+:ratio_rate\w+/g) ?? []);
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
      expect(forStack(r.expr, DAILY)).toMatch(/label_cockpit_tier="product"|cockpit_tier="product"|product:http_request_/);
    }
  });
});

describe('rendering', () => {
  test('each alert gets severity, cluster, level, customer_impact and a runbook_url into runbooks/alerts/', () => {
    const groups = renderRuleGroups(ALERT_RULES, RECORDING_RULES, {
      cluster: 'cockpit-prod',
      runbookBaseUrl: 'https://github.com/example/cockpit/blob/master/runbooks/',
      parameters: DAILY,
    });
    const alerts = groups.flatMap((g) => g.rules).filter((r): r is Extract<typeof r, { alert: string }> => 'alert' in r);
    expect(alerts).toHaveLength(ALERT_RULES.length);
    const first = alerts.find((a) => a.alert === 'ProductErrorBudgetBurnFast')!;
    expect(first.labels).toEqual({ severity: 'critical', cluster: 'cockpit-prod', level: 'product', customer_impact: 'true' });
    expect(first.annotations.runbook_url).toBe(
      'https://github.com/example/cockpit/blob/master/runbooks/alerts/ProductErrorBudgetBurnFast.md',
    );
  });

  test('the backup age limit comes from the stack’s schedule: 25 hours for a daily one, a week and an hour for a weekly one', () => {
    const tooOld = (p: RuleParameters) => {
      const groups = renderRuleGroups(ALERT_RULES, RECORDING_RULES, { cluster: 'c', runbookBaseUrl: 'https://r.example/', parameters: p });
      const rule = groups.flatMap((g) => g.rules).find((r) => 'alert' in r && r.alert === 'VeleroBackupTooOld');
      if (!rule || !('alert' in rule)) throw new Error('VeleroBackupTooOld was not rendered');
      return { expr: rule.expr, annotations: { summary: rule.annotations.summary } };
    };
    expect(tooOld(DAILY).expr).toContain('> 90000\n');
    expect(tooOld(DAILY).expr).toContain('increase(velero_backup_attempt_total{schedule!=""}[25h])');
    expect(tooOld(DAILY).annotations.summary).toBe('No successful backup of {{ $labels.schedule }} in over 25 hours.');
    const weekly = tooOld({ backupMaxAgeSeconds: 7 * 86400 + 3600 });
    expect(weekly.expr).toContain('> 608400\n');
    expect(weekly.expr).toContain('[169h]');
    expect(weekly.annotations.summary).toBe('No successful backup of {{ $labels.schedule }} in over 7 days and 1 hour.');
  });

  test('durations read the way Prometheus and people write them', () => {
    expect([90000, 5400, 45, 608400].map(promDuration)).toEqual(['25h', '90m', '45s', '169h']);
    expect([3600, 25 * 3600, 48 * 3600, 169 * 3600, 745 * 3600].map(hoursAndDays)).toEqual([
      '1 hour',
      '25 hours',
      '2 days',
      '7 days and 1 hour',
      '31 days and 1 hour',
    ]);
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
