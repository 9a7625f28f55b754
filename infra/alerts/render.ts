import { type AlertRule, type RecordingRule, type RuleParameters, forStack } from './rules';

/** One rule group of a PrometheusRule spec (monitoring.coreos.com/v1). */
export type RuleGroup = {
  name: string;
  interval?: string;
  rules: Array<
    | { record: string; expr: string }
    | {
        alert: string;
        expr: string;
        for: string;
        labels: Record<string, string>;
        annotations: Record<string, string>;
      }
  >;
};

export type RenderOptions = {
  /** Value of the `cluster` label on every alert: the stack's cluster name. */
  cluster: string;
  /** Where runbooks/ is browsable, ending with '/'; each rule's `runbook` path is appended to it. */
  runbookBaseUrl: string;
  parameters: RuleParameters;
};

export function runbookUrl(rule: Pick<AlertRule, 'runbook'>, runbookBaseUrl: string): string {
  return new URL(rule.runbook, runbookBaseUrl).toString();
}

/** Labels Cockpit's alert handler reads, beside Alertmanager's own. */
export function alertLabels(rule: AlertRule, cluster: string): Record<string, string> {
  return {
    severity: rule.severity,
    cluster,
    level: rule.level,
    customer_impact: String(rule.customerImpact),
  };
}

export function renderRuleGroups(alerts: AlertRule[], recordings: RecordingRule[], opts: RenderOptions): RuleGroup[] {
  const alertGroup = (level: AlertRule['level']): RuleGroup => ({
    name: `cockpit.${level}.alerts`,
    rules: alerts
      .filter((r) => r.level === level)
      .map((r) => ({
        alert: r.alert,
        expr: forStack(r.expr, opts.parameters),
        for: r.for,
        labels: alertLabels(r, opts.cluster),
        annotations: {
          summary: forStack(r.summary, opts.parameters),
          description: r.description,
          runbook_url: runbookUrl(r, opts.runbookBaseUrl),
        },
      })),
  });
  const groups: RuleGroup[] = [];
  if (recordings.length > 0) {
    groups.push({ name: 'cockpit.product.slo.recording', interval: '1m', rules: recordings.map((r) => ({ ...r })) });
  }
  for (const level of ['product', 'cluster'] as const) {
    const group = alertGroup(level);
    if (group.rules.length > 0) groups.push(group);
  }
  return groups;
}
