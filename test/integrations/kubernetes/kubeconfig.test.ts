import { fromConfig as kubernetesFromConfig } from '../../../bot/integrations/kubernetes';
import { fromConfig as pulumiFromConfig } from '../../../bot/integrations/pulumi';
import type { StackTarget } from '../../../handlers/model/stacks';
import { FakeAutomation } from '../../fakes/pulumiEngine';
import { FakeKubernetes } from '../../fakes/kubernetes';
import { drillTeam } from '../../drills/world';
import { localInfraDir, tempDir } from '../pulumi/helpers';

/** Where a drill's kubeconfig comes from, and what Cockpit says when it cannot have one. */

describe('the kubeconfig of a drill', () => {
  let kube: FakeKubernetes;
  const now = () => new Date('2026-11-25T12:00:00Z');
  beforeAll(async () => {
    kube = await FakeKubernetes.start({ now });
  });
  afterAll(() => kube.close());
  afterEach(() => kube.assertNoViolations());

  const team = drillTeam({ kind: 'stack-output', output: 'kubeconfig' });

  test("from the Pulumi stack's secret output, read through the Automation API for each drill", async () => {
    const dir = tempDir('drill-outputs');
    try {
      localInfraDir(dir.path);
      const automation = new FakeAutomation();
      const stack = automation.withStack('integration', { outputs: { kubeconfig: { value: kube.kubeconfig(), secret: true }, clusterName: { value: 'cockpit-integration', secret: false } } });
      const engine = pulumiFromConfig({ infraRepo: { localDir: dir.path }, workDir: dir.path, programDir: 'infra' }, { automation });
      const clusters = kubernetesFromConfig(team, { stackOutput: (target, name) => engine.stackOutput(target, name) });
      const access = await clusters.forStack('integration');
      if (!('cluster' in access)) throw new Error(access.unavailable);
      expect(access.cluster.description).toBe(`integration's cluster (kubeconfig from the Pulumi output "kubeconfig")`);
      expect(await access.cluster.namespaceExists('velero')).toBe(true);
      expect(stack.calls).toEqual(['outputs']);
      expect(await engine.stackOutput({ stack: 'integration', pulumiStack: 'integration', branch: 'integration' }, 'missing')).toBeUndefined();
    } finally {
      dir.cleanup();
    }
  });

  test('an output that is absent, unreadable or no kubeconfig says what to do, and never quotes the output', async () => {
    const answer = (value: unknown, fails = false) =>
      kubernetesFromConfig(team, {
        stackOutput: async (target: StackTarget) => {
          if (fails) throw new Error(`stack ${target.pulumiStack} not found`);
          return value;
        },
      }).forStack('integration');
    expect(await answer(undefined)).toEqual({ unavailable: 'integration\'s kubeconfig is not there: the Pulumi stack integration has no output "kubeconfig"', needs: 'Bring integration up first (/cockpit up integration); its program exports "kubeconfig".' });
    expect(await answer(undefined, true)).toMatchObject({ unavailable: expect.stringContaining('could not be read from the Pulumi stack integration: stack integration not found') });
    const secret = 'token: s3cr3t-token-value\n: : not yaml [';
    const broken = await answer(secret);
    expect(broken).toMatchObject({ unavailable: 'integration\'s kubeconfig from the Pulumi output "kubeconfig" is not a kubeconfig' });
    expect(JSON.stringify(broken)).not.toContain('s3cr3t');
  });

  test('a token the cluster does not accept is a clear refusal on the first call', async () => {
    const clusters = kubernetesFromConfig(team, { stackOutput: async () => kube.kubeconfig('stolen-or-expired-token') });
    const access = await clusters.forStack('integration');
    if (!('cluster' in access)) throw new Error(access.unavailable);
    await expect(access.cluster.drillNamespaces()).rejects.toThrow(/^Kubernetes refused to list drill namespaces \(401\): Unauthorized: the kubeconfig’s credentials were refused/);
  });

  test('in-cluster outside a pod says so', async () => {
    const inCluster = kubernetesFromConfig(drillTeam({ kind: 'in-cluster' }), { serviceAccountRoot: '/nonexistent' });
    expect(await inCluster.forStack('staging')).toMatchObject({ unavailable: expect.stringContaining('Cockpit is not running in a pod of that cluster') });
  });
});
