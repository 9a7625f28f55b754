import { runbookUrl } from '../../infra/alerts/render';
import { ALERT_RULES, type AlertRule } from '../../infra/alerts/rules';
import { type RuleTestCase } from '../../infra/alerts/ruleTests';

/**
 * Turns the rule unit tests kept beside the rules (infra/alerts/ruleTests.ts) into a `promtool test rules` file
 * for one stack. The expected labels are the case's series labels plus what every alert of this rule carries
 * there: its severity, level and customer impact, and the stack's cluster, which is how Cockpit tells which
 * cluster an alert came from.
 */
export function promtoolTestFiles(args: { rulesFile: string; cluster: string; runbookBaseUrl: string; cases: RuleTestCase[] }) {
  // promtool evaluates at one interval per file, so cases go into one file per step.
  const steps = [...new Set(args.cases.map(stepOf))];
  return steps.map((step) => ({ step, file: promtoolTestFile({ ...args, step, cases: args.cases.filter((c) => stepOf(c) === step) }) }));
}

const stepOf = (c: RuleTestCase) => c.step ?? '1m';

function promtoolTestFile(args: { rulesFile: string; cluster: string; runbookBaseUrl: string; step: string; cases: RuleTestCase[] }) {
  return {
    rule_files: [args.rulesFile],
    evaluation_interval: args.step,
    tests: args.cases.map((c) => ({
      name: c.name,
      interval: args.step,
      input_series: c.input,
      alert_rule_test: c.expect.map((e) => {
        const rule = alertRule(e.alert);
        return {
          eval_time: e.at,
          alertname: e.alert,
          exp_alerts: e.firing.map((a) => ({
            exp_labels: {
              ...a.labels,
              severity: rule.severity,
              cluster: args.cluster,
              level: rule.level,
              customer_impact: String(rule.customerImpact),
            },
            exp_annotations: {
              summary: a.summary,
              description: a.description ?? plainDescription(rule, c.name),
              runbook_url: runbookUrl(rule, args.runbookBaseUrl),
            },
          })),
        };
      }),
    })),
  };
}

function alertRule(name: string): AlertRule {
  const rule = ALERT_RULES.find((r) => r.alert === name);
  if (!rule) throw new Error(`rule test names ${name}, which is not an alert in infra/alerts/rules.ts`);
  return rule;
}

function plainDescription(rule: AlertRule, caseName: string): string {
  if (rule.description.includes('{{')) {
    throw new Error(`"${caseName}": ${rule.alert}'s description is a template; the case must give it as Prometheus renders it`);
  }
  return rule.description;
}
