import cockpitInfra from '../../infra';
import { BOT_NAMESPACE, DRILL_CLUSTER_RULES, DRILL_LABEL, DRILL_SCOPE_VALIDATIONS, DRILL_VELERO_RULES } from '../../infra/components/cockpitBot';
import { DRILL_LABEL as ENGINE_DRILL_LABEL } from '../../handlers/drill';
import { type Json, named, ofType, plain, runProgram, stackConfigWithSecrets, type StackRun } from './harness';

/**
 * What infra grants Cockpit for restore drills: exactly what the drill needs, no more, bound to Cockpit's service
 * account, and narrowed by an admission policy where RBAC cannot scope (creates by name, namespaces by label).
 * The drill suites run against a fake cluster enforcing these very rules (test/fakes/drillGrants.ts).
 */

const T = {
  clusterRole: 'kubernetes:rbac.authorization.k8s.io/v1:ClusterRole',
  clusterRoleBinding: 'kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding',
  role: 'kubernetes:rbac.authorization.k8s.io/v1:Role',
  roleBinding: 'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding',
  policy: 'kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy',
  policyBinding: 'kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding',
};

const runs: Record<string, StackRun> = {};

beforeAll(async () => {
  // Sequential: Pulumi's mock runtime is process-global. Cockpit runs on staging and prod only.
  for (const stack of ['integration', 'staging', 'prod'] as const) {
    const { config, secretKeys } = stackConfigWithSecrets(stack);
    runs[stack] = await runProgram(cockpitInfra, stack, config, secretKeys);
  }
});

const SUBJECT = { kind: 'ServiceAccount', name: 'cockpit', namespace: BOT_NAMESPACE };
const rulesOf = (run: StackRun, type: string, name: string): Json[] => plain(named(run, type, name).inputs).rules;
/** Every verb on every resource, flattened: `group/resource verb`. */
const grantsOf = (rules: Json[]) => rules.flatMap((r: Json) => r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g}/${res} ${v}`)))).sort();

describe.each(['staging', 'prod'])('%s: what Cockpit may do for a drill', (stack) => {
  test('beyond view: create and delete namespaces, create Jobs — nothing else cluster-wide', () => {
    const run = runs[stack]!;
    expect(grantsOf(rulesOf(run, T.clusterRole, 'cockpit-drill'))).toEqual(['/namespaces create', '/namespaces delete', 'batch/jobs create']);
    expect(rulesOf(run, T.clusterRole, 'cockpit-drill')).toEqual(DRILL_CLUSTER_RULES);
    const binding = plain(named(run, T.clusterRoleBinding, 'cockpit-drill').inputs);
    expect(binding.subjects).toEqual([SUBJECT]);
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole' });
    // view stays as it was: read-only, without Secrets (Kubernetes' own role).
    expect(plain(named(run, T.clusterRoleBinding, 'cockpit-view').inputs).roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' });
  });

  test("in Velero's namespace only: backups and restores, podvolumerestores read, downloadrequests create", () => {
    const run = runs[stack]!;
    const role = plain(named(run, T.role, 'cockpit-velero').inputs);
    expect(role.metadata.namespace).toBe('velero');
    expect(role.rules).toEqual(DRILL_VELERO_RULES);
    expect(grantsOf(role.rules)).toEqual([
      'velero.io/backups create', 'velero.io/backups get', 'velero.io/backups list', 'velero.io/backups watch',
      'velero.io/backupstoragelocations get', 'velero.io/backupstoragelocations list', 'velero.io/backupstoragelocations watch',
      'velero.io/downloadrequests create', 'velero.io/downloadrequests get',
      'velero.io/podvolumerestores get', 'velero.io/podvolumerestores list', 'velero.io/podvolumerestores watch',
      'velero.io/restores create', 'velero.io/restores get', 'velero.io/restores list', 'velero.io/restores watch',
      'velero.io/schedules get', 'velero.io/schedules list', 'velero.io/schedules watch',
    ].sort());
    expect(plain(named(run, T.roleBinding, 'cockpit-velero').inputs)).toMatchObject({ metadata: { namespace: 'velero' }, subjects: [SUBJECT] });
  });

  test("none of Cockpit's rules grants a wildcard, Secrets, deletes of Velero objects, or RBAC itself", () => {
    const all = [...rulesOf(runs[stack]!, T.clusterRole, 'cockpit-drill'), ...rulesOf(runs[stack]!, T.role, 'cockpit-velero')];
    const flat = grantsOf(all);
    expect(flat.filter((g) => g.includes('*'))).toEqual([]);
    expect(flat.filter((g) => /secrets|rbac|roles|bindings|escalate|impersonate/.test(g))).toEqual([]);
    expect(flat.filter((g) => g.startsWith('velero.io/') && / (delete|update|patch)$/.test(g))).toEqual([]);
  });

  test('an admission policy narrows the grants to drill namespaces and the product’s, for Cockpit’s account only', () => {
    const run = runs[stack]!;
    const policy = plain(named(run, T.policy, 'cockpit-drill-scope').inputs).spec;
    expect(policy.failurePolicy).toBe('Fail');
    expect(policy.matchConditions).toEqual([{ name: 'cockpit-service-account', expression: "request.userInfo.username == 'system:serviceaccount:cockpit:cockpit'" }]);
    expect(policy.matchConstraints.resourceRules).toEqual([
      { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'DELETE'], resources: ['namespaces'] },
      { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['jobs'] },
    ]);
    expect(policy.validations).toEqual(DRILL_SCOPE_VALIDATIONS);
    const text = policy.validations.map((v: Json) => v.expression).join('\n');
    expect(text).toContain("object.metadata.name.startsWith('drill-')");
    expect(text).toContain("oldObject.metadata.name.startsWith('drill-')");
    expect(text).toContain("namespaceObject.metadata.labels['cockpit-tier'] == 'product'");
    expect(text).toContain('automountServiceAccountToken == false');
    expect(plain(named(run, T.policyBinding, 'cockpit-drill-scope').inputs).spec).toEqual({ policyName: expect.any(String), validationActions: ['Deny'] });
  });
});

test('the label the admission policy checks is the one the drill engine puts on its namespaces', () => {
  expect(DRILL_LABEL).toBe(ENGINE_DRILL_LABEL);
});

test('where Cockpit does not run, nothing is granted (drills reach those clusters with the stack’s kubeconfig)', () => {
  expect(ofType(runs.integration!, T.clusterRole).filter((r) => r.name.startsWith('cockpit'))).toEqual([]);
  expect(ofType(runs.integration!, T.policy)).toEqual([]);
});
