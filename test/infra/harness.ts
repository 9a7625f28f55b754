import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseYaml } from 'yaml';

/**
 * Runs the infra program under Pulumi's mocks: no engine, no CLI, no provider plugins, no network. Config comes
 * from the real Pulumi.<stack>.yaml files plus test secrets, the way the CLI would hand it to the program.
 */

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const INFRA_DIR = path.join(REPO_ROOT, 'infra');
export const STACKS = ['dev', 'integration', 'staging', 'prod'] as const;
export type StackName = (typeof STACKS)[number];

/** Distinct, recognisable values: a leak into any plain input is easy to find. */
export const TEST_SECRETS = {
  'cockpit:alertmanagerWebhookToken': 'am-webhook-token-0123456789abcdef0123456789abcdef',
  'cockpit:grafanaAdminPassword': 'grafana-admin-password-0123456789',
  'cockpit:backupAccessKeyId': 'SPACES-ACCESS-KEY-ID-TEST',
  'cockpit:backupSecretAccessKey': 'spaces-secret-access-key-test-0123456789',
  'cockpit:slackBotToken': 'xoxb-test-bot-token-0123456789',
  'cockpit:slackSigningSecret': 'slack-signing-secret-test-0123456789',
  'cockpit:databaseUrl': 'postgresql://cockpit:db-password-test@db.internal:25060/cockpit?sslmode=require',
  'cockpit:pulumiAccessToken': 'pul-access-token-test-0123456789',
  'cockpit:digitaloceanToken': 'dop_v1_digitalocean-token-test-0123456789',
  'cockpit:alertmanagerWebhookTokens': 'dev=am-dev-token-0123456789abcdef0123456789ab,staging=am-staging-token-0123456789abcdef012345',
} as const;
type SecretKey = keyof typeof TEST_SECRETS;

/** What each stack's file header tells the operator to set with `pulumi config set --secret`. */
const BASE_SECRETS: SecretKey[] = [
  'cockpit:alertmanagerWebhookToken',
  'cockpit:grafanaAdminPassword',
  'cockpit:backupAccessKeyId',
  'cockpit:backupSecretAccessKey',
];
export const STACK_SECRETS: Record<StackName, SecretKey[]> = {
  dev: BASE_SECRETS,
  integration: BASE_SECRETS,
  staging: [...BASE_SECRETS, 'cockpit:slackBotToken', 'cockpit:slackSigningSecret'],
  prod: [
    ...BASE_SECRETS,
    'cockpit:slackBotToken',
    'cockpit:slackSigningSecret',
    'cockpit:databaseUrl',
    'cockpit:pulumiAccessToken',
    'cockpit:digitaloceanToken',
    'cockpit:alertmanagerWebhookTokens',
  ],
};

export const STORED_KUBECONFIG = kubeconfigFor('stored-7-day-token');
export const FRESH_KUBECONFIG = kubeconfigFor('fresh-short-lived-token');

export function kubeconfigFor(token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: test',
    '    cluster: { server: "https://127.0.0.1:6443" }',
    'users:',
    `  - name: test`,
    `    user: { token: "${token}" }`,
    'contexts:',
    '  - name: test',
    '    context: { cluster: test, user: test }',
    'current-context: test',
    '',
  ].join('\n');
}

/** The flat config map (`cockpit:cluster` → JSON text) the CLI builds from a stack file. */
export function stackFileConfig(stack: string): Record<string, string> {
  const doc = parseYaml(readFileSync(path.join(INFRA_DIR, `Pulumi.${stack}.yaml`), 'utf8')) as { config?: Record<string, unknown> };
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (typeof value === 'object' && value !== null && 'secure' in value) {
      throw new Error(`${key}: stack files in this repo keep no secrets; tests supply them`);
    }
    flat[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return flat;
}

export function stackConfigWithSecrets(stack: StackName): { config: Record<string, string>; secretKeys: string[] } {
  const secretKeys = STACK_SECRETS[stack];
  const config = { ...stackFileConfig(stack) };
  for (const k of secretKeys) config[k] = TEST_SECRETS[k];
  return { config, secretKeys };
}

export type RecordedResource = {
  type: string;
  name: string;
  /** Inputs as the engine received them; secret values stay wrapped (see isSecretValue). */
  inputs: Record<string, unknown>;
  provider?: string;
};
export type RecordedCall = { token: string; inputs: Record<string, unknown> };

export type StackRun = {
  stack: string;
  resources: RecordedResource[];
  calls: RecordedCall[];
  outputs: Record<string, unknown>;
  /** Top-level output names that are Pulumi secrets. */
  secretOutputs: Set<string>;
};

const SECRET_SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

export function isSecretValue(v: unknown): v is { value: unknown } {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/**
 * Decoded resource inputs: Kubernetes manifests and chart values the tests walk by path. A wrong path fails the
 * assertion that reads it, which says more than a type error in a test would.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type Json = any;

/** Inputs with secret wrappers removed, for assertions on values. */
export function plain(v: unknown): Json {
  if (isSecretValue(v)) return plain(v.value);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Every string reachable from `v` without passing through a secret wrapper. */
export function plainStrings(v: unknown, out: string[] = []): string[] {
  if (isSecretValue(v)) return out;
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => plainStrings(x, out));
  else if (typeof v === 'object' && v !== null) Object.values(v).forEach((x) => plainStrings(x, out));
  return out;
}

const mocks = (resources: RecordedResource[], calls: RecordedCall[]): pulumi.runtime.Mocks => ({
  newResource(args) {
    resources.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
    const state: Record<string, unknown> = { ...args.inputs };
    // Like the Kubernetes provider, give an object without metadata.name a generated one.
    const metadata = args.inputs.metadata as Record<string, unknown> | undefined;
    if (args.type.startsWith('kubernetes:') && args.type !== T.release && metadata && metadata.name === undefined) {
      state.metadata = { ...metadata, name: autoName(args.name) };
    }
    if (args.type === 'digitalocean:index/kubernetesCluster:KubernetesCluster') {
      Object.assign(state, {
        endpoint: 'https://cluster.k8s.ondigitalocean.com',
        status: 'running',
        kubeConfigs: [{ rawConfig: STORED_KUBECONFIG }],
      });
    }
    return { id: `${args.name}-id`, state };
  },
  call(args) {
    calls.push({ token: args.token, inputs: args.inputs });
    switch (args.token) {
      case 'digitalocean:index/getKubernetesVersions:getKubernetesVersions': {
        const prefix = String(args.inputs.versionPrefix ?? '');
        const valid = ['1.34.1-do.2', '1.34.0-do.0', '1.33.5-do.1'];
        return { latestVersion: valid.find((v) => v.startsWith(prefix)) ?? '', validVersions: valid, versionPrefix: prefix };
      }
      case 'digitalocean:index/getKubernetesCluster:getKubernetesCluster':
        return { ...args.inputs, id: 'cluster-id', kubeConfigs: [{ rawConfig: FRESH_KUBECONFIG }] };
      default:
        throw new Error(`the program called ${args.token}, which these tests do not fake`);
    }
  },
});

/** The suffix the fake engine appends to auto-named objects. */
export const autoName = (name: string) => `${name}-4f2a9c1d`;

type Program = () => Promise<Record<string, unknown>>;

/**
 * Runs the program for one stack and waits until every resource is registered. Pulumi's runtime state is
 * process-global, so runs must not overlap; call this sequentially.
 */
export async function runProgram(
  program: Program,
  stack: string,
  config: Record<string, string>,
  secretKeys: string[],
  resources: RecordedResource[] = [],
): Promise<StackRun> {
  const calls: RecordedCall[] = [];
  await pulumi.runtime.setMocks(mocks(resources, calls), 'cockpit-infra', stack, false);
  pulumi.runtime.setAllConfig(config, secretKeys);

  const exported = await program();
  const outputs: Record<string, unknown> = {};
  const secretOutputs = new Set<string>();
  for (const [name, value] of Object.entries(exported)) {
    const out = pulumi.output(value);
    outputs[name] = await new Promise((resolve) => (out as pulumi.Output<unknown>).apply(resolve));
    if (await pulumi.isSecret(out)) secretOutputs.add(name);
  }
  // Resources nothing exported depends on may still be on their way to the (mock) engine.
  await pulumi.runtime.disconnect();
  return { stack, resources, calls, outputs, secretOutputs };
}

// Helpers for assertions over a run.

export function ofType(run: StackRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

export function named(run: StackRun, type: string, name: string): RecordedResource {
  const found = run.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) {
    const names = ofType(run, type).map((r) => r.name);
    throw new Error(`expected one ${type} named ${name}, found ${found.length} (have: ${names.join(', ') || 'none'})`);
  }
  return found[0]!;
}

export function helmValues(run: StackRun, release: string): Json {
  return plain(named(run, 'kubernetes:helm.sh/v3:Release', release).inputs).values;
}

export const T = {
  doCluster: 'digitalocean:index/kubernetesCluster:KubernetesCluster',
  k8sProvider: 'pulumi:providers:kubernetes',
  release: 'kubernetes:helm.sh/v3:Release',
  configMap: 'kubernetes:core/v1:ConfigMap',
  secret: 'kubernetes:core/v1:Secret',
  namespace: 'kubernetes:core/v1:Namespace',
  pvc: 'kubernetes:core/v1:PersistentVolumeClaim',
  service: 'kubernetes:core/v1:Service',
  deployment: 'kubernetes:apps/v1:Deployment',
  ingress: 'kubernetes:networking.k8s.io/v1:Ingress',
  pdb: 'kubernetes:policy/v1:PodDisruptionBudget',
  prometheusRule: 'kubernetes:monitoring.coreos.com/v1:PrometheusRule',
  serviceMonitor: 'kubernetes:monitoring.coreos.com/v1:ServiceMonitor',
} as const;
