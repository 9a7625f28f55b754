import cockpitInfra from '../../infra';
import { type RuleTestCase, ruleTests } from '../../infra/alerts/ruleTests';
import { backupCadence } from '../../infra/backupSchedule';
import {
  STACKS,
  type StackName,
  type StackRun,
  T,
  helmValues,
  named,
  ofType,
  plain,
  runProgram,
  stackConfigWithSecrets,
  stackFileConfig,
} from './harness';
import { promtoolTestFiles } from './promtoolTests';
import { type ToolRun, describeWithTools, mustPass, passed, runTool, runToolAsync, scratchDir } from './tools';

/**
 * What each stack deploys, judged by the tools the cluster itself is judged by: Prometheus' own rule parser (the
 * operator's admission webhook rejects a PrometheusRule that does not parse, and with it every rule in it) and
 * Alertmanager's own config loader.
 */

type Rendered = { rulesFile: string; ruleCount: number; alertmanagerFile: string; dashboardQueries: string[] };

/** What a stack file says about its alerts: the cluster they come from, where runbooks are, how often backups run. */
function stackFacts(file: Record<string, string>): { cluster: string; runbookBaseUrl: string; backupMaxAgeSeconds: number } {
  const cluster = (JSON.parse(file['cockpit:cluster']!) as { name: string }).name;
  const { runbookBaseUrl } = JSON.parse(file['cockpit:alerting']!) as { runbookBaseUrl: string };
  const cadence = backupCadence((JSON.parse(file['cockpit:backups']!) as { schedule: string }).schedule);
  if ('problem' in cadence) throw new Error(`the stack's backup schedule ${cadence.problem}`);
  return { cluster, runbookBaseUrl, backupMaxAgeSeconds: cadence.maxAgeSeconds };
}

const rulesOf = (run: StackRun) => plain(named(run, T.prometheusRule, 'cockpit-rules').inputs).spec.groups as Array<{ rules: unknown[] }>;

describeWithTools('the real tools, on what each stack renders', (tools) => {
  const scratch = scratchDir('infra-tools');
  const rendered = {} as Record<StackName, Rendered>;

  beforeAll(async () => {
    // Sequential on purpose: Pulumi's mock runtime is process-global.
    for (const stack of STACKS) {
      const { config, secretKeys } = stackConfigWithSecrets(stack);
      const run = await runProgram(cockpitInfra, stack, config, secretKeys);
      const groups = rulesOf(run);
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

  describe('amtool config routes test: where each kind of alert goes', () => {
    const routes = (stack: StackName, expected: string, labels: Record<string, string>) =>
      runTool(
        tools.amtool,
        [
          'config',
          'routes',
          'test',
          `--config.file=${rendered[stack].alertmanagerFile}`,
          `--verify.receivers=${expected}`,
          ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
        ],
        { cwd: scratch.dir },
      );
    const reaches = (stack: StackName, expected: string, labels: Record<string, string>) => {
      const run = routes(stack, expected, labels);
      expect({ labels, status: run.status, receiver: run.output.split('\n')[0] }).toEqual({ labels, status: 0, receiver: expected });
    };

    test.each(STACKS)('%s: a critical product alert, with the stack’s cluster, reaches cockpit', (stack) => {
      const { cluster } = stackFacts(stackFileConfig(stack));
      reaches(stack, 'cockpit', { alertname: 'ProductServiceDown', severity: 'critical', level: 'product', cluster, namespace: 'shop', service: 'api' });
      // kube-prometheus-stack's own alerts get the cluster label from Prometheus' external labels and go the same way.
      reaches(stack, 'cockpit', { alertname: 'KubePodCrashLooping', severity: 'warning', cluster, namespace: 'kube-system' });
    });

    test.each(STACKS)('%s: Watchdog reaches cockpit-heartbeat, InfoInhibitor nobody', (stack) => {
      const { cluster } = stackFacts(stackFileConfig(stack));
      reaches(stack, 'cockpit-heartbeat', { alertname: 'Watchdog', severity: 'none', cluster });
      reaches(stack, 'null', { alertname: 'InfoInhibitor', severity: 'none', cluster, namespace: 'shop' });
    });

    test('a wrong expectation fails', () => {
      expect(routes('prod', 'cockpit-heartbeat', { alertname: 'ProductServiceDown', cluster: 'cockpit-prod' }).status).not.toBe(0);
    });
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
    const testFiles = (name: string, file: Record<string, string>, pick: (c: RuleTestCase) => boolean = () => true) => {
      const facts = stackFacts(file);
      const cases = ruleTests({ backupMaxAgeSeconds: facts.backupMaxAgeSeconds }).filter(pick);
      return promtoolTestFiles({ rulesFile: `${name}.rules.yml`, ...facts, cases }).map(({ step, file: doc }) =>
        scratch.write(`${name}.rule-tests.${step}.yml`, doc),
      );
    };

    // The stacks' runs are the slow part of this suite (a few seconds each): start them all at once.
    const runs = {} as Record<StackName, Promise<Array<{ args: string[]; run: ToolRun }>>>;
    beforeAll(() => {
      for (const stack of STACKS) {
        const files = testFiles(stack, stackFileConfig(stack));
        runs[stack] = Promise.all(
          files.map(async (file) => {
            const args = ['test', 'rules', file];
            return { args, run: await runToolAsync(tools.promtool, args, { cwd: scratch.dir, timeoutMs: 120_000 }) };
          }),
        );
        // Awaited by the stack's own test; this keeps an early failure from surfacing as an unhandled rejection.
        runs[stack].catch(() => undefined);
      }
    });

    test.each(STACKS)('%s: every case passes, each alert carrying the stack’s cluster label', async (stack) => {
      const results = await runs[stack];
      expect(results.length).toBeGreaterThan(1);
      for (const { args, run } of results) expect(passed(tools.promtool, args, run)).toContain('SUCCESS');
    }, 120_000);

    test('a weekly backup schedule gets a week and an hour before its backup is too old, not a day', async () => {
      const { config, secretKeys } = stackConfigWithSecrets('dev');
      const backups = { ...JSON.parse(config['cockpit:backups']!), schedule: '0 1 * * 0' };
      const weekly = { ...config, 'cockpit:backups': JSON.stringify(backups) };
      scratch.write('weekly.rules.yml', { groups: rulesOf(await runProgram(cockpitInfra, 'dev', weekly, secretKeys)) });
      const files = testFiles('weekly', weekly, (c) => c.expect.some((e) => e.alert === 'VeleroBackupTooOld'));
      expect(files).toHaveLength(2);
      for (const file of files) expect(mustPass(tools.promtool, ['test', 'rules', file], { cwd: scratch.dir })).toContain('SUCCESS');
    });

    test('a case that expects the wrong outcome fails, with its name in promtool’s report', () => {
      const cases = ruleTests({ backupMaxAgeSeconds: 25 * 3600 });
      const firing = cases.find((c) => c.name.startsWith('a Certificate 20 days'))!;
      const silenced = { ...firing, expect: firing.expect.map((e) => ({ ...e, firing: [] })) };
      const file = scratch.write('wrong.rule-tests.yml', promtoolTestFiles({ rulesFile: 'dev.rules.yml', ...stackFacts(stackFileConfig('dev')), cases: [silenced] })[0]!.file);
      const run = runTool(tools.promtool, ['test', 'rules', file], { cwd: scratch.dir });
      expect(run.status).toBe(1);
      expect(run.output).toContain(`name: ${firing.name}`);
      expect(run.output).toContain('alertname: CertificateExpiringSoon');
    });
  });
});
