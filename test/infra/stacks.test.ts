import { existsSync } from 'node:fs';
import * as path from 'node:path';
import cockpitInfra from '../../infra';
import { loadConfig } from '../../bot/config';
import { loadTeamConfig } from '../../bot/teamConfig';
import { ALERT_RULES } from '../../infra/alerts/rules';
import { ALPHA_BANNER_TEXT } from '../../infra/components/productEnvironment';
import { KUBECONFIG_TTL_SECONDS } from '../../infra/components/cluster';
import {
  FRESH_KUBECONFIG,
  type Json,
  REPO_ROOT,
  STACKS,
  type RecordedResource,
  type StackName,
  type StackRun,
  T,
  TEST_SECRETS,
  autoName,
  helmValues,
  kubeconfigFor,
  named,
  ofType,
  plain,
  plainStrings,
  runProgram,
  stackConfigWithSecrets,
  stackFileConfig,
} from './harness';

const runs = {} as Record<StackName, StackRun>;

beforeAll(async () => {
  // Sequential on purpose: Pulumi's mock runtime is process-global.
  for (const stack of STACKS) {
    const { config, secretKeys } = stackConfigWithSecrets(stack);
    runs[stack] = await runProgram(cockpitInfra, stack, config, secretKeys);
  }
});

describe('cluster size per stack', () => {
  const expected: Record<
    StackName,
    { size: string; count: number; min?: number; max?: number; ha: boolean; prometheus: number; alertmanager: number; elasticsearch: number }
  > = {
    dev: { size: 's-4vcpu-8gb', count: 2, ha: false, prometheus: 1, alertmanager: 1, elasticsearch: 1 },
    integration: { size: 's-4vcpu-8gb', count: 2, ha: false, prometheus: 1, alertmanager: 1, elasticsearch: 1 },
    staging: { size: 's-4vcpu-8gb', count: 3, min: 3, max: 5, ha: false, prometheus: 1, alertmanager: 2, elasticsearch: 1 },
    prod: { size: 's-8vcpu-16gb', count: 3, min: 3, max: 6, ha: true, prometheus: 2, alertmanager: 3, elasticsearch: 3 },
  };

  test.each(STACKS)('%s: node pool, control plane and replicated services', (stack) => {
    const e = expected[stack];
    const run = runs[stack];
    const cluster = plain(named(run, T.doCluster, 'cluster').inputs);
    expect(cluster.name).toBe(`cockpit-${stack}`);
    expect(cluster.nodePool).toMatchObject({ size: e.size, nodeCount: e.count, autoScale: e.min !== undefined });
    if (e.min !== undefined) expect(cluster.nodePool).toMatchObject({ minNodes: e.min, maxNodes: e.max });
    expect(cluster.ha).toBe(e.ha);
    expect(cluster.autoUpgrade).toBe(true);
    // The newest patch of the configured minor, resolved through DigitalOcean's version list.
    expect(cluster.version).toBe('1.34.1-do.2');

    const kps = helmValues(run, 'kube-prometheus-stack');
    expect(kps.prometheus.prometheusSpec.replicas).toBe(e.prometheus);
    expect(kps.alertmanager.alertmanagerSpec.replicas).toBe(e.alertmanager);
    const es = plain(named(run, 'kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch', 'elasticsearch').inputs);
    expect(es.spec.nodeSets[0].count).toBe(e.elasticsearch);
    expect(run.outputs.nodePool).toEqual({ size: e.size, count: e.count, minNodes: e.min ?? e.count, maxNodes: e.max ?? e.count });
  });

  test('prometheus stops at 85% of its volume, not only at its retention time', () => {
    const spec = helmValues(runs.prod, 'kube-prometheus-stack').prometheus.prometheusSpec;
    expect(spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe('100Gi');
    expect(spec.retention).toBe('30d');
    expect(spec.retentionSize).toBe(`${Math.floor(100 * 1024 * 0.85)}MB`);
  });
});

describe('ephemeral stacks', () => {
  test.each(STACKS)('%s is marked ephemeral exactly when it is dev or integration', (stack) => {
    const ephemeral = stack === 'dev' || stack === 'integration';
    const run = runs[stack];
    const cluster = plain(named(run, T.doCluster, 'cluster').inputs);
    expect(run.outputs.ephemeral).toBe(ephemeral);
    expect(cluster.tags.includes('ephemeral')).toBe(ephemeral);
    // Volumes and load balancers of a throwaway cluster go with it instead of billing on.
    expect(cluster.destroyAllAssociatedResources).toBe(ephemeral);
    // Provider configuration reaches the engine as strings.
    expect(plain(named(run, T.k8sProvider, 'cluster-k8s').inputs).deleteUnreachable).toBe(String(ephemeral));
  });

  test('ephemeral stacks ask Let’s Encrypt’s staging server, long-lived ones production', () => {
    for (const stack of STACKS) {
      const issuer = plain(named(runs[stack], 'kubernetes:cert-manager.io/v1:ClusterIssuer', 'cluster-issuer').inputs);
      expect(issuer.spec.acme.server).toContain(runs[stack].outputs.ephemeral ? 'acme-staging-v02' : 'acme-v02');
    }
  });
});

describe('everything in the cluster goes through the stack’s own provider', () => {
  test.each(STACKS)('%s: no Kubernetes object falls back to the ambient kubeconfig', (stack) => {
    const run = runs[stack];
    const k8sObjects = run.resources.filter((r) => r.type.startsWith('kubernetes:'));
    expect(k8sObjects.length).toBeGreaterThan(20);
    for (const r of k8sObjects) {
      expect({ resource: `${r.type} ${r.name}`, provider: r.provider }).toEqual({
        resource: `${r.type} ${r.name}`,
        provider: expect.stringContaining('pulumi:providers:kubernetes::cluster-k8s::'),
      });
    }
  });

  test('the provider is keyed to the cluster, so a fresh token each run does not replace everything', () => {
    const provider = plain(named(runs.prod, T.k8sProvider, 'cluster-k8s').inputs);
    expect(provider.clusterIdentifier).toBe('cluster-id');
    expect(provider.kubeconfig).toBe(FRESH_KUBECONFIG);
  });
});

describe('secrets', () => {
  test.each(STACKS)('%s: the kubeconfig is a secret output, fetched fresh with a short expiry', (stack) => {
    const run = runs[stack];
    expect(run.secretOutputs).toEqual(new Set(['kubeconfig']));
    expect(run.outputs.kubeconfig).toBe(FRESH_KUBECONFIG);
    const fetch = run.calls.find((c) => c.token === 'digitalocean:index/getKubernetesCluster:getKubernetesCluster');
    expect(fetch?.inputs).toMatchObject({ name: `cockpit-${stack}`, kubeconfigExpireSeconds: KUBECONFIG_TTL_SECONDS });
    expect(named(run, T.k8sProvider, 'cluster-k8s').inputs.kubeconfig).toEqual(expect.objectContaining({ value: FRESH_KUBECONFIG }));
  });

  test.each(STACKS)('%s: no secret value appears in any resource input outside a Pulumi secret', (stack) => {
    const run = runs[stack];
    const secrets = Object.values(TEST_SECRETS);
    for (const r of run.resources) {
      for (const s of plainStrings(r.inputs)) {
        for (const secret of secrets) {
          if (s.includes(secret)) throw new Error(`${r.type} ${r.name} carries a secret in plain text`);
        }
      }
    }
    // And the secrets that matter did reach their Kubernetes Secrets.
    const webhook = plain(named(run, T.secret, 'alertmanager-webhook-token').inputs);
    expect(webhook.stringData.token).toBe(TEST_SECRETS['cockpit:alertmanagerWebhookToken']);
    const velero = plain(named(run, T.secret, 'velero-credentials').inputs);
    expect(velero.stringData.cloud).toContain(`aws_secret_access_key=${TEST_SECRETS['cockpit:backupSecretAccessKey']}`);
  });

  test('the bot’s environment Secret holds exactly what that stack configured', () => {
    const keys = (stack: StackName) => Object.keys(plain(named(runs[stack], T.secret, 'cockpit-env').inputs).stringData).sort();
    expect(keys('staging')).toEqual(['ALERTMANAGER_WEBHOOK_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET']);
    expect(keys('prod')).toEqual([
      'ALERTMANAGER_WEBHOOK_TOKEN',
      'ALERTMANAGER_WEBHOOK_TOKENS',
      'DATABASE_URL',
      'DIGITALOCEAN_TOKEN',
      'PULUMI_ACCESS_TOKEN',
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
    ]);
    const env = plain(named(runs.prod, T.secret, 'cockpit-env').inputs).stringData;
    expect(env.DATABASE_URL).toBe(TEST_SECRETS['cockpit:databaseUrl']);
    // The Cockpit every Alertmanager posts to holds the other stacks' tokens, in the form bot/config.ts reads.
    expect(env.ALERTMANAGER_WEBHOOK_TOKENS).toBe(TEST_SECRETS['cockpit:alertmanagerWebhookTokens']);
    expect(loadConfig({ ALERTMANAGER_WEBHOOK_TOKENS: env.ALERTMANAGER_WEBHOOK_TOKENS, ALERTMANAGER_WEBHOOK_TOKEN: env.ALERTMANAGER_WEBHOOK_TOKEN }).alertmanager.tokens.perStack).toEqual({
      dev: 'am-dev-token-0123456789abcdef0123456789ab',
      staging: 'am-staging-token-0123456789abcdef012345',
    });
  });
});

describe('Alertmanager', () => {
  test.each(STACKS)('%s: routes to Cockpit with resolved notifications, and Watchdog to the heartbeat', (stack) => {
    const values = helmValues(runs[stack], 'kube-prometheus-stack');
    const am = values.alertmanager.config;
    const receiver = (name: string) => am.receivers.find((r: { name: string }) => r.name === name);

    expect(am.route.receiver).toBe('cockpit');
    expect(am.route.group_by).toEqual(['alertname', 'namespace', 'cluster']);
    const cockpit = receiver('cockpit').webhook_configs;
    expect(cockpit).toEqual([
      {
        url: 'https://cockpit.example.com/hooks/alertmanager',
        send_resolved: true,
        http_config: {
          authorization: { type: 'Bearer', credentials_file: '/etc/alertmanager/secrets/cockpit-alertmanager-webhook/token' },
        },
      },
    ]);

    const heartbeatRoute = am.route.routes.find((r: { receiver: string }) => r.receiver === 'cockpit-heartbeat');
    expect(heartbeatRoute.matchers).toEqual(['alertname = "Watchdog"']);
    expect(heartbeatRoute.repeat_interval).toBe('1m');
    expect(am.route.routes.indexOf(heartbeatRoute)).toBe(0);
    expect(receiver('cockpit-heartbeat').webhook_configs[0]).toMatchObject({
      url: 'https://cockpit.example.com/hooks/alertmanager',
      send_resolved: false,
    });

    // The token file Alertmanager reads is the Secret this stack mounts into it.
    expect(values.alertmanager.alertmanagerSpec.secrets).toEqual(['cockpit-alertmanager-webhook']);
    expect(plain(named(runs[stack], T.secret, 'alertmanager-webhook-token').inputs).metadata).toMatchObject({
      name: 'cockpit-alertmanager-webhook',
      namespace: 'monitoring',
    });
  });

  test.each(STACKS)('%s: every alert leaves Prometheus with the stack’s cluster label', (stack) => {
    const spec = helmValues(runs[stack], 'kube-prometheus-stack').prometheus.prometheusSpec;
    expect(spec.externalLabels).toEqual({ cluster: `cockpit-${stack}` });
    // Monitors and rules outside the chart (the product's, the add-ons') are picked up too.
    expect(spec.serviceMonitorSelectorNilUsesHelmValues).toBe(false);
    expect(spec.ruleSelectorNilUsesHelmValues).toBe(false);
  });
});

describe('the PrometheusRule each stack deploys', () => {
  test.each(STACKS)('%s: every rule has severity, the stack’s cluster and a runbook_url whose page exists', (stack) => {
    const rule = plain(named(runs[stack], T.prometheusRule, 'cockpit-rules').inputs);
    expect(rule.metadata.namespace).toBe('monitoring');
    const alerts = rule.spec.groups.flatMap((g: { rules: object[] }) => g.rules).filter((r: object) => 'alert' in r);
    expect(alerts.map((a: { alert: string }) => a.alert).sort()).toEqual(ALERT_RULES.map((r) => r.alert).sort());

    const base = 'https://github.com/example/cockpit/blob/master/runbooks/';
    for (const a of alerts as Array<{ alert: string; labels: Record<string, string>; annotations: Record<string, string> }>) {
      expect(['critical', 'warning', 'info']).toContain(a.labels.severity);
      expect(a.labels.cluster).toBe(`cockpit-${stack}`);
      const url = a.annotations.runbook_url!;
      expect(url.startsWith(`${base}alerts/`)).toBe(true);
      expect(existsSync(path.join(REPO_ROOT, 'runbooks', url.slice(base.length)))).toBe(true);
    }
  });
});

describe('backups', () => {
  test.each(STACKS)('%s: the Velero schedule covers the product namespaces, volumes included', (stack) => {
    const run = runs[stack];
    const file = JSON.parse(stackFileConfig(stack)['cockpit:product']!) as { namespaces: string[] };
    const backups = JSON.parse(stackFileConfig(stack)['cockpit:backups']!) as { retentionDays: number; schedule: string; bucket: string };
    const velero = helmValues(run, 'velero');
    const schedules = Object.values(velero.schedules) as Array<{ schedule: string; template: Record<string, Json> }>;
    expect(schedules).toHaveLength(1);
    const { schedule, template } = schedules[0]!;
    for (const ns of file.namespaces) expect(template.includedNamespaces).toContain(ns);
    expect(template.defaultVolumesToFsBackup).toBe(true);
    expect(template.ttl).toBe(`${backups.retentionDays * 24}h0m0s`);
    expect(schedule).toBe(backups.schedule);
    expect(velero.deployNodeAgent).toBe(true);
    expect(velero.metrics.serviceMonitor.enabled).toBe(true);
    expect(velero.configuration.backupStorageLocation[0]).toEqual(
      expect.objectContaining({
        name: 'default',
        bucket: backups.bucket,
        prefix: `clusters/${stack}`,
        accessMode: 'ReadWrite',
        config: expect.objectContaining({ s3Url: 'https://fra1.digitaloceanspaces.com', region: 'fra1' }),
      }),
    );
    expect(run.outputs.backups).toMatchObject({ schedule: 'velero-product', includedNamespaces: template.includedNamespaces });
  });

  test('staging reads prod’s backups through a ReadOnly location, for the weekly drill cockpit.yml runs there', () => {
    const locations = (stack: StackName) => helmValues(runs[stack], 'velero').configuration.backupStorageLocation as Array<Record<string, Json>>;
    expect(locations('staging').slice(1)).toEqual([expect.objectContaining({ name: 'prod', prefix: 'clusters/prod', accessMode: 'ReadOnly', default: false })]);
    for (const stack of ['dev', 'integration', 'prod'] as const) expect(locations(stack)).toHaveLength(1);
    const team = loadTeamConfig(path.join(REPO_ROOT, 'cockpit.yml'));
    const weekly = team.drills?.weekly;
    expect(weekly).toBeDefined();
    expect(locations(weekly!.cluster as StackName).map((l) => l.name)).toContain(weekly!.storageLocation);
  });

  test('where the bot runs, its namespace is backed up with the product', () => {
    expect(helmValues(runs.prod, 'velero').schedules.product.template.includedNamespaces).toEqual(['shop', 'cockpit']);
    expect(helmValues(runs.dev, 'velero').schedules.product.template.includedNamespaces).toEqual(['shop']);
  });
});

describe('alpha banner', () => {
  test.each(STACKS)('%s: the banner is on for staging only', (stack) => {
    const run = runs[stack];
    const env = plain(named(run, T.configMap, 'shop-product-environment').inputs);
    expect(env.metadata).toMatchObject({ name: 'product-environment', namespace: 'shop' });
    expect(env.data.ENVIRONMENT).toBe(stack);
    if (stack === 'staging') {
      expect(env.data.PRODUCT_BANNER).toBe(ALPHA_BANNER_TEXT);
      expect(run.outputs.productBanner).toBe('ALPHA VERSION — NO SUPPORT');
    } else {
      expect(env.data).not.toHaveProperty('PRODUCT_BANNER');
      expect(run.outputs.productBanner).toBeNull();
    }
  });
});

describe('the bot', () => {
  test('runs where the stack enables it, and only there', () => {
    expect(ofType(runs.dev, T.deployment)).toHaveLength(0);
    expect(ofType(runs.integration, T.deployment)).toHaveLength(0);
    expect(runs.staging.outputs.cockpit).toEqual({ url: 'https://cockpit-staging.example.com', replicas: 1 });
    expect(runs.prod.outputs.cockpit).toEqual({ url: 'https://cockpit.example.com', replicas: 2 });
  });

  test('prod: two replicas on Postgres, rolled without a gap and kept apart', () => {
    const deployment = plain(named(runs.prod, T.deployment, 'cockpit').inputs);
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(deployment.spec.template.spec.topologySpreadConstraints).toHaveLength(1);
    expect(ofType(runs.prod, T.pvc)).toHaveLength(0);
    expect(plain(named(runs.prod, T.pdb, 'cockpit').inputs).spec.minAvailable).toBe(1);
  });

  test('staging: one replica on SQLite, on its own volume, replaced rather than rolled', () => {
    const deployment = plain(named(runs.staging, T.deployment, 'cockpit').inputs);
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    expect(deployment.spec.template.spec.volumes[0]).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'cockpit-data' } });
    expect(ofType(runs.staging, T.pdb)).toHaveLength(0);
  });

  test.each(['staging', 'prod'] as const)('%s: ready on /readyz, scraped on /metrics, reachable only on /slack and /hooks', (stack) => {
    const run = runs[stack];
    const container = plain(named(run, T.deployment, 'cockpit').inputs).spec.template.spec.containers[0];
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    // Auto-named, so a changed secret is a new Secret and the Deployment rolls onto it.
    expect(plain(named(run, T.secret, 'cockpit-env').inputs).metadata.name).toBeUndefined();
    expect(container.envFrom).toEqual([{ secretRef: { name: autoName('cockpit-env') } }]);

    const monitor = plain(named(run, T.serviceMonitor, 'cockpit-monitor').inputs);
    expect(monitor.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s' }]);
    const service = plain(named(run, T.service, 'cockpit').inputs);
    expect(monitor.spec.selector.matchLabels).toEqual(expect.objectContaining(service.spec.selector));

    const ingress = plain(named(run, T.ingress, 'cockpit').inputs);
    const host = stack === 'prod' ? 'cockpit.example.com' : 'cockpit-staging.example.com';
    expect(ingress.spec.rules).toHaveLength(1);
    expect(ingress.spec.rules[0].host).toBe(host);
    expect(ingress.spec.rules[0].http.paths.map((p: { path: string }) => p.path)).toEqual(['/slack', '/hooks']);
    expect(ingress.spec.tls).toEqual([{ hosts: [host], secretName: 'cockpit-tls' }]);
    expect(ingress.metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt');
  });

  test('the team file reaches the bot as it is in the repository', () => {
    const team = plain(named(runs.prod, T.configMap, 'cockpit-team').inputs);
    expect(team.data['cockpit.yml']).toContain('stacks:');
  });
});

describe('logs', () => {
  test.each(STACKS)('%s: Filebeat ships container logs and deletes them after the stack’s retention', (stack) => {
    const run = runs[stack];
    const retention = (JSON.parse(stackFileConfig(stack)['cockpit:logging']!) as { retentionDays: number }).retentionDays;
    const policy = JSON.parse(plain(named(run, T.configMap, 'filebeat-ilm-policy').inputs).data['policy.json']);
    expect(policy.policy.phases.delete).toEqual({ min_age: `${retention}d`, actions: { delete: {} } });

    const beat = plain(named(run, 'kubernetes:beat.k8s.elastic.co/v1beta1:Beat', 'filebeat').inputs);
    expect(beat.spec.elasticsearchRef).toEqual({ name: 'logs' });
    expect(beat.spec.config['filebeat.inputs'][0].paths).toEqual(['/var/log/containers/*.log']);
    expect(beat.spec.config['setup.ilm.policy_file']).toBe('/etc/filebeat-ilm/policy.json');
    expect(beat.spec.config['setup.ilm.overwrite']).toBe(true);
  });
});

describe('existing-cluster mode', () => {
  test('uses the kubeconfig secret, creates no cloud cluster, and exports the kubeconfig as a secret', async () => {
    const kubeconfig = kubeconfigFor('existing-cluster-token');
    const { config, secretKeys } = stackConfigWithSecrets('dev');
    config['cockpit:cluster'] = JSON.stringify({ mode: 'existing', name: 'on-prem-dev' });
    config['cockpit:kubeconfig'] = kubeconfig;
    const run = await runProgram(cockpitInfra, 'dev', config, [...secretKeys, 'cockpit:kubeconfig']);

    expect(ofType(run, T.doCluster)).toHaveLength(0);
    expect(run.calls.filter((c) => c.token.startsWith('digitalocean:'))).toHaveLength(0);
    expect(run.secretOutputs.has('kubeconfig')).toBe(true);
    expect(run.outputs.kubeconfig).toBe(kubeconfig);
    expect(run.outputs.nodePool).toBeNull();
    const provider = plain(named(run, T.k8sProvider, 'cluster-k8s').inputs);
    expect(provider).toMatchObject({ kubeconfig, clusterIdentifier: 'on-prem-dev' });
    expect(helmValues(run, 'kube-prometheus-stack').prometheus.prometheusSpec.externalLabels).toEqual({ cluster: 'on-prem-dev' });
    for (const s of run.resources.flatMap((r) => plainStrings(r.inputs))) expect(s).not.toContain('existing-cluster-token');
  });
});

describe('a broken stack file', () => {
  test('stops the program before it declares anything', async () => {
    const { config, secretKeys } = stackConfigWithSecrets('prod');
    config['cockpit:cluster'] = JSON.stringify({ ...JSON.parse(config['cockpit:cluster']!), mode: 'gke' });
    const resources: RecordedResource[] = [];
    const error = await runProgram(cockpitInfra, 'prod', config, secretKeys, resources).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ name: 'StackConfigError' });
    expect((error as Error).message).toContain('cockpit:cluster.mode: must be one of "managed", "existing" (got "gke")');
    expect(resources).toEqual([]);
  });
});
