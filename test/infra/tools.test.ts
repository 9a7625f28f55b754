import cockpitInfra from '../../infra';
import { RULE_TESTS } from '../../infra/alerts/ruleTests';
import { STACKS, type StackName, T, helmValues, named, ofType, plain, runProgram, stackConfigWithSecrets, stackFileConfig } from './harness';
import { promtoolTestFiles } from './promtoolTests';
import { describeWithTools, mustPass, runTool, scratchDir } from './tools';

/**
 * What each stack deploys, judged by the tools the cluster itself is judged by: Prometheus' own rule parser (the
 * operator's admission webhook rejects a PrometheusRule that does not parse, and with it every rule in it) and
 * Alertmanager's own config loader.
 */

type Rendered = { rulesFile: string; ruleCount: number; alertmanagerFile: string; dashboardQueries: string[] };

/** What a stack file says about where its alerts come from and point to, read apart from the program. */
function stackFacts(stack: StackName): { cluster: string; runbookBaseUrl: string } {
  const file = stackFileConfig(stack);
  const cluster = (JSON.parse(file['cockpit:cluster']!) as { name: string }).name;
  const { runbookBaseUrl } = JSON.parse(file['cockpit:alerting']!) as { runbookBaseUrl: string };
  return { cluster, runbookBaseUrl };
}

describeWithTools('the real tools, on what each stack renders', (tools) => {
  const scratch = scratchDir('infra-tools');
  const rendered = {} as Record<StackName, Rendered>;

  beforeAll(async () => {
    // Sequential on purpose: Pulumi's mock runtime is process-global.
    for (const stack of STACKS) {
      const { config, secretKeys } = stackConfigWithSecrets(stack);
      const run = await runProgram(cockpitInfra, stack, config, secretKeys);
      const groups = plain(named(run, T.prometheusRule, 'cockpit-rules').inputs).spec.groups as Array<{ rules: unknown[] }>;
      rendered[stack] = {
        rulesFile: scratch.write(`${stack}.rules.yml`, { groups }),
        ruleCount: groups.reduce((n, g) => n + g.rules.length, 0),
        alertmanagerFile: scratch.write(`${stack}.alertmanager.yml`, helmValues(run, 'kube-prometheus-stack').alertmanager.config),
        dashboardQueries: ofType(run, T.configMap)
          .map((r) => plain(r.inputs))
          .filter((cm) => cm.metadata.labels?.grafana_dashboard === '1')
          .flatMap((cm) => Object.values(cm.data as Record<string, string>))
          .flatMap((json) => (JSON.parse(json) as { panels: Array<{ targets: Array<{ expr: string }> }> }).panels)
          .flatMap((panel) => panel.targets.map((t) => t.expr)),
      };
    }
  });
  afterAll(() => scratch.remove());

  test.each(STACKS)('%s: promtool check rules accepts every rule, lint included', (stack) => {
    const { rulesFile, ruleCount } = rendered[stack];
    const output = mustPass(tools.promtool, ['check', 'rules', '--lint=all', '--lint-fatal', rulesFile], { cwd: scratch.dir });
    expect(output).toContain(`SUCCESS: ${ruleCount} rules found`);
  });

  test.each(STACKS)('%s: amtool check-config accepts the Alertmanager config', (stack) => {
    const output = mustPass(tools.amtool, ['check-config', rendered[stack].alertmanagerFile], { cwd: scratch.dir });
    expect(output).toContain('SUCCESS');
    expect(output).toMatch(/- 3 receivers/);
  });

  test.each(STACKS)('%s: every dashboard panel query parses as PromQL', (stack) => {
    const queries = rendered[stack].dashboardQueries;
    expect(queries.length).toBeGreaterThan(10);
    // promtool parses expressions only inside rule files: each query becomes a recording rule of its own.
    const file = scratch.write(`${stack}.dashboards.yml`, {
      groups: [{ name: 'dashboard-queries', rules: queries.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }],
    });
    expect(mustPass(tools.promtool, ['check', 'rules', file], { cwd: scratch.dir })).toContain(`SUCCESS: ${queries.length} rules found`);
  });

  describe('promtool test rules: the cases in infra/alerts/ruleTests.ts', () => {
    const testFiles = (stack: StackName, cases = RULE_TESTS) =>
      promtoolTestFiles({ rulesFile: `${stack}.rules.yml`, ...stackFacts(stack), cases }).map(({ step, file }) =>
        scratch.write(`${stack}.rule-tests.${step}.yml`, file),
      );

    test.each(STACKS)('%s: every case passes, each alert carrying the stack’s cluster label', (stack) => {
      for (const file of testFiles(stack)) {
        expect(mustPass(tools.promtool, ['test', 'rules', file], { cwd: scratch.dir })).toContain('SUCCESS');
      }
    });

    test('a case that expects the wrong outcome fails, with its name in promtool’s report', () => {
      const firing = RULE_TESTS.find((c) => c.name.startsWith('a Certificate 20 days'))!;
      const silenced = { ...firing, expect: firing.expect.map((e) => ({ ...e, firing: [] })) };
      const run = runTool(tools.promtool, ['test', 'rules', ...testFiles('dev', [silenced])], { cwd: scratch.dir });
      expect(run.status).toBe(1);
      expect(run.output).toContain(`name: ${firing.name}`);
      expect(run.output).toContain('alertname: CertificateExpiringSoon');
    });
  });
});
