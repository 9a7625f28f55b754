import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { buildAlertmanagerConfig } from '../alerts/alertmanager';
import { PRODUCT_TIER_LABEL } from '../alerts/rules';
import { type AlertingSettings, type MonitoringSettings } from '../config';
import { clusterOverviewDashboard } from '../dashboards/cluster';
import { CHARTS } from '../versions';
import { MANAGED_BY, dashboardConfigMap, helmRelease, namespace } from './kube';

export type MonitoringArgs = {
  clusterName: string;
  settings: MonitoringSettings;
  alerting: AlertingSettings;
  /** Bearer token Alertmanager presents to Cockpit's webhook. */
  webhookToken: pulumi.Output<string>;
  grafanaAdminPassword: pulumi.Output<string>;
};

export const MONITORING_NAMESPACE = 'monitoring';
const WEBHOOK_SECRET = 'cockpit-alertmanager-webhook';
const GRAFANA_ADMIN_SECRET = 'grafana-admin';

/**
 * Cluster-level monitoring: kube-prometheus-stack (Prometheus, Alertmanager, Grafana, node-exporter,
 * kube-state-metrics and the upstream cluster alerts), with Alertmanager routed to Cockpit.
 *
 * Prometheus picks up every ServiceMonitor and PrometheusRule in the cluster, not only the chart's own, so the
 * product's and the add-ons' monitors need no release label.
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  /** Children that create CRDs (ServiceMonitor, PrometheusRule) depend on this. */
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('cockpit:infra:Monitoring', name, {}, opts);
    const s = args.settings;

    // node-exporter reads the host's /proc and /sys.
    const ns = namespace(MONITORING_NAMESPACE, { enforce: 'privileged' }, {}, { parent: this });
    this.namespace = ns.metadata.name;

    // Alertmanager reads the token from a mounted file on every request: it never sits in the chart values
    // (which Helm stores in the cluster and Pulumi in state), and a rotation needs no restart.
    const webhookSecret = new k8s.core.v1.Secret(
      'alertmanager-webhook-token',
      {
        metadata: { name: WEBHOOK_SECRET, namespace: this.namespace, labels: MANAGED_BY },
        type: 'Opaque',
        stringData: { token: args.webhookToken },
      },
      { parent: this },
    );
    const grafanaAdmin = new k8s.core.v1.Secret(
      'grafana-admin',
      {
        metadata: { name: GRAFANA_ADMIN_SECRET, namespace: this.namespace, labels: MANAGED_BY },
        type: 'Opaque',
        stringData: { 'admin-user': 'admin', 'admin-password': args.grafanaAdminPassword },
      },
      { parent: this },
    );

    const volume = (storage: string) => ({
      volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } } },
    });
    const controlPlane = { enabled: s.scrapeControlPlane };

    this.release = helmRelease(
      'kube-prometheus-stack',
      ns,
      CHARTS.kubePrometheusStack,
      {
        crds: { enabled: true },
        kubeEtcd: controlPlane,
        kubeControllerManager: controlPlane,
        kubeScheduler: controlPlane,
        kubeProxy: controlPlane,
        alertmanager: {
          config: buildAlertmanagerConfig({
            webhookUrl: args.alerting.cockpitWebhookUrl,
            heartbeatUrl: args.alerting.heartbeatUrl,
            bearerTokenFile: `/etc/alertmanager/secrets/${WEBHOOK_SECRET}/token`,
          }),
          alertmanagerSpec: {
            replicas: s.alertmanager.replicas,
            secrets: [WEBHOOK_SECRET],
            // Silences and the notification log survive a restart.
            storage: volume(s.alertmanager.storage),
          },
        },
        prometheus: {
          prometheusSpec: {
            replicas: s.prometheus.replicas,
            retention: s.prometheus.retention,
            // Time-based retention alone lets a busy week fill the volume; stop at 85% of it instead.
            retentionSize: retentionSizeFor(s.prometheus.storage),
            externalLabels: { cluster: args.clusterName },
            serviceMonitorSelectorNilUsesHelmValues: false,
            podMonitorSelectorNilUsesHelmValues: false,
            ruleSelectorNilUsesHelmValues: false,
            probeSelectorNilUsesHelmValues: false,
            resources: {
              requests: { cpu: s.prometheus.cpu, memory: s.prometheus.memory },
              limits: { memory: s.prometheus.memory },
            },
            storageSpec: volume(s.prometheus.storage),
          },
        },
        grafana: {
          admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: 'admin-user', passwordKey: 'admin-password' },
          sidecar: {
            dashboards: {
              enabled: true,
              label: 'grafana_dashboard',
              labelValue: '1',
              searchNamespace: 'ALL',
              folderAnnotation: 'grafana_folder',
              provider: { foldersFromFilesStructure: true },
            },
          },
        },
        // The product alerts join on this namespace label to tell the product's namespaces from the rest.
        'kube-state-metrics': { metricLabelsAllowlist: [`namespaces=[${PRODUCT_TIER_LABEL}]`] },
      },
      { parent: this, dependsOn: [webhookSecret, grafanaAdmin] },
    );

    dashboardConfigMap('cockpit-cluster-overview', this.namespace, 'Cluster', clusterOverviewDashboard(), { parent: this });

    this.registerOutputs({ namespace: this.namespace });
  }
}

/** Prometheus' size-based retention for a volume of `storage`: 85% of it, in MB (Prometheus' MB are mebibytes). */
export function retentionSizeFor(storage: string): string {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)$/.exec(storage);
  if (!match) throw new Error(`not a storage quantity: ${storage}`);
  const mebibytes = Number(match[1]) * { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 }[match[2] as 'Ki' | 'Mi' | 'Gi' | 'Ti'];
  return `${Math.max(1, Math.floor(mebibytes * 0.85))}MB`;
}
