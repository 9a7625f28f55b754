import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { type LoggingSettings } from '../config';
import { CHARTS, ELASTIC_STACK_VERSION } from '../versions';
import { MANAGED_BY, helmRelease, namespace } from './kube';

export type LoggingArgs = {
  clusterName: string;
  settings: LoggingSettings;
};

export const LOGGING_NAMESPACE = 'logging';
const ES_NAME = 'logs';
const ILM_POLICY = 'cockpit-logs';
const ILM_MOUNT = '/etc/filebeat-ilm';

/** Roll over daily so deletion, which works on whole indices, lands within a day of the retention. */
export function ilmPolicy(retentionDays: number) {
  return {
    policy: {
      phases: {
        hot: { actions: { rollover: { max_age: '1d', max_primary_shard_size: '10gb' } } },
        delete: { min_age: `${retentionDays}d`, actions: { delete: {} } },
      },
    },
  };
}

/**
 * Container logs: Filebeat on every node ships /var/log/containers to Elasticsearch, all run by Elastic's own
 * operator (ECK). Logs older than the stack's retention are deleted by an ILM policy Filebeat installs.
 * Kibana reads them: `kubectl -n logging port-forward svc/logs-kb-http 5601`.
 */
export class Logging extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: LoggingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('cockpit:infra:Logging', name, {}, opts);
    const s = args.settings;
    const es = s.elasticsearch;

    const operatorNs = namespace('elastic-system', { enforce: 'baseline' }, {}, { parent: this });
    const operator = helmRelease(
      'eck-operator',
      operatorNs,
      CHARTS.eckOperator,
      { installCRDs: true, managedNamespaces: [LOGGING_NAMESPACE] },
      { parent: this },
    );

    // Filebeat reads host log directories as root.
    const ns = namespace(LOGGING_NAMESPACE, { enforce: 'privileged' }, {}, { parent: this });
    this.namespace = ns.metadata.name;
    const crOpts: pulumi.CustomResourceOptions = { parent: this, dependsOn: [operator] };

    new k8s.apiextensions.CustomResource(
      'elasticsearch',
      {
        apiVersion: 'elasticsearch.k8s.elastic.co/v1',
        kind: 'Elasticsearch',
        metadata: { name: ES_NAME, namespace: this.namespace, labels: MANAGED_BY },
        spec: {
          version: ELASTIC_STACK_VERSION,
          nodeSets: [
            {
              name: 'default',
              count: es.nodes,
              // Without mmap Elasticsearch needs no vm.max_map_count change on the nodes, which managed node pools do not allow.
              config: { 'node.store.allow_mmap': false },
              podTemplate: {
                spec: {
                  containers: [
                    {
                      name: 'elasticsearch',
                      // The JVM heap is sized from the memory limit; request what it will use.
                      resources: { requests: { cpu: es.cpu, memory: es.memory }, limits: { memory: es.memory } },
                    },
                  ],
                },
              },
              volumeClaimTemplates: [
                {
                  metadata: { name: 'elasticsearch-data' },
                  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: es.storage } } },
                },
              ],
            },
          ],
        },
      },
      crOpts,
    );

    new k8s.apiextensions.CustomResource(
      'kibana',
      {
        apiVersion: 'kibana.k8s.elastic.co/v1',
        kind: 'Kibana',
        metadata: { name: ES_NAME, namespace: this.namespace, labels: MANAGED_BY },
        spec: {
          version: ELASTIC_STACK_VERSION,
          count: 1,
          elasticsearchRef: { name: ES_NAME },
          podTemplate: {
            spec: {
              containers: [{ name: 'kibana', resources: { requests: { cpu: '100m', memory: '1Gi' }, limits: { memory: '1Gi' } } }],
            },
          },
        },
      },
      crOpts,
    );

    const policy = new k8s.core.v1.ConfigMap(
      'filebeat-ilm-policy',
      {
        metadata: { namespace: this.namespace, labels: MANAGED_BY },
        data: { 'policy.json': JSON.stringify(ilmPolicy(s.retentionDays)) },
      },
      { parent: this },
    );

    // add_kubernetes_metadata looks pods up by node to attach namespace, pod and labels to each line.
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      'filebeat',
      { metadata: { name: 'filebeat', namespace: this.namespace, labels: MANAGED_BY } },
      { parent: this },
    );
    const role = new k8s.rbac.v1.ClusterRole(
      'filebeat',
      {
        metadata: { labels: MANAGED_BY },
        rules: [
          { apiGroups: [''], resources: ['namespaces', 'pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] },
        ],
      },
      { parent: this },
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      'filebeat',
      {
        metadata: { labels: MANAGED_BY },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
        subjects: [{ kind: 'ServiceAccount', name: serviceAccount.metadata.name, namespace: this.namespace }],
      },
      { parent: this },
    );

    const hostPath = (volumeName: string, path: string) => ({
      volume: { name: volumeName, hostPath: { path } },
      mount: { name: volumeName, mountPath: path, readOnly: true },
    });
    const hostPaths = [
      hostPath('varlogcontainers', '/var/log/containers'),
      hostPath('varlogpods', '/var/log/pods'),
      hostPath('varlibdockercontainers', '/var/lib/docker/containers'),
    ];

    new k8s.apiextensions.CustomResource(
      'filebeat',
      {
        apiVersion: 'beat.k8s.elastic.co/v1beta1',
        kind: 'Beat',
        metadata: { name: 'filebeat', namespace: this.namespace, labels: MANAGED_BY },
        spec: {
          type: 'filebeat',
          version: ELASTIC_STACK_VERSION,
          elasticsearchRef: { name: ES_NAME },
          config: {
            'filebeat.inputs': [
              {
                type: 'filestream',
                id: 'kubernetes-container-logs',
                paths: ['/var/log/containers/*.log'],
                parsers: [{ container: null }],
                // Container log files are symlinks, rotated by the kubelet; follow them and identify files by content.
                prospector: { scanner: { symlinks: true, fingerprint: { enabled: true } } },
                file_identity: { fingerprint: null },
                processors: [
                  {
                    add_kubernetes_metadata: {
                      host: '${NODE_NAME}',
                      matchers: [{ logs_path: { logs_path: '/var/log/containers/' } }],
                    },
                  },
                ],
              },
            ],
            processors: [{ add_fields: { target: 'orchestrator.cluster', fields: { name: args.clusterName } } }],
            'setup.ilm.enabled': true,
            'setup.ilm.policy_name': ILM_POLICY,
            'setup.ilm.policy_file': `${ILM_MOUNT}/policy.json`,
            // Re-applies the policy at start-up, so a new retention takes effect on the next rollout.
            'setup.ilm.overwrite': true,
            // A single Elasticsearch node cannot hold replicas; asking for one would leave the cluster yellow.
            'setup.template.settings': { 'index.number_of_replicas': Math.min(1, es.nodes - 1) },
          },
          daemonSet: {
            // The policy ConfigMap is auto-named, so a new retention is a new name here and the DaemonSet rolls.
            podTemplate: {
              spec: {
                serviceAccountName: serviceAccount.metadata.name,
                automountServiceAccountToken: true,
                terminationGracePeriodSeconds: 30,
                dnsPolicy: 'ClusterFirstWithHostNet',
                hostNetwork: true,
                tolerations: [{ operator: 'Exists' }],
                containers: [
                  {
                    name: 'filebeat',
                    securityContext: { runAsUser: 0 },
                    resources: { requests: { cpu: '100m', memory: '200Mi' }, limits: { memory: '400Mi' } },
                    env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
                    volumeMounts: [...hostPaths.map((h) => h.mount), { name: 'ilm-policy', mountPath: ILM_MOUNT, readOnly: true }],
                  },
                ],
                volumes: [...hostPaths.map((h) => h.volume), { name: 'ilm-policy', configMap: { name: policy.metadata.name } }],
              },
            },
          },
        },
      },
      crOpts,
    );

    this.registerOutputs({ namespace: this.namespace });
  }
}
