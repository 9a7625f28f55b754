import { CERTIFICATE_EXPIRY } from '../alerts/rules';
import { dashboard } from './grafana';

/**
 * One page that answers "is this cluster healthy?" before digging into the upstream kube-prometheus-stack
 * dashboards: capacity, things not running, what is firing, and whether backups and certificates are current.
 */
export function clusterOverviewDashboard() {
  return dashboard({
    uid: 'cockpit-cluster-overview',
    title: 'Cockpit / Cluster overview',
    tags: ['cockpit', 'cluster'],
    rows: [
      [
        {
          title: 'Nodes ready',
          kind: 'stat',
          unit: 'short',
          targets: [{ expr: 'sum(kube_node_status_condition{condition="Ready", status="true"})' }],
        },
        {
          title: 'Nodes not ready',
          kind: 'stat',
          unit: 'short',
          redAbove: 1,
          targets: [{ expr: 'sum(kube_node_status_condition{condition="Ready", status!="true"}) or vector(0)' }],
        },
        {
          title: 'Pods not ready',
          kind: 'stat',
          unit: 'short',
          redAbove: 1,
          targets: [{ expr: 'sum(kube_pod_status_ready{condition="false"}) or vector(0)' }],
        },
        {
          title: 'Critical alerts firing',
          kind: 'stat',
          unit: 'short',
          redAbove: 1,
          targets: [{ expr: 'count(ALERTS{alertstate="firing", severity="critical"}) or vector(0)' }],
        },
      ],
      [
        {
          title: 'CPU requested / allocatable',
          kind: 'timeseries',
          unit: 'percentunit',
          description: 'Above ~80% new pods stop fitting; add nodes or raise the autoscaler maximum.',
          targets: [
            {
              expr: 'sum(kube_pod_container_resource_requests{resource="cpu"}) / sum(kube_node_status_allocatable{resource="cpu"})',
              legend: 'requested',
            },
            {
              expr: 'sum(rate(container_cpu_usage_seconds_total{container!=""}[5m])) / sum(kube_node_status_allocatable{resource="cpu"})',
              legend: 'used',
            },
          ],
        },
        {
          title: 'Memory requested / allocatable',
          kind: 'timeseries',
          unit: 'percentunit',
          targets: [
            {
              expr: 'sum(kube_pod_container_resource_requests{resource="memory"}) / sum(kube_node_status_allocatable{resource="memory"})',
              legend: 'requested',
            },
            {
              expr: 'sum(container_memory_working_set_bytes{container!=""}) / sum(kube_node_status_allocatable{resource="memory"})',
              legend: 'used',
            },
          ],
        },
      ],
      [
        {
          title: 'Firing alerts by severity',
          kind: 'timeseries',
          unit: 'short',
          targets: [{ expr: 'count by (severity) (ALERTS{alertstate="firing", alertname!="Watchdog"})', legend: '{{severity}}' }],
        },
        {
          title: 'Container restarts (1h)',
          kind: 'timeseries',
          unit: 'short',
          targets: [
            {
              expr: 'topk(10, sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total[1h]))) > 0',
              legend: '{{namespace}}/{{pod}}',
            },
          ],
        },
      ],
      [
        {
          title: 'Age of last successful backup',
          kind: 'timeseries',
          unit: 'dtdurations',
          description: 'VeleroBackupTooOld fires past the schedule’s longest gap plus an hour: 25 hours for a daily one.',
          targets: [
            {
              expr: 'time() - (velero_backup_last_successful_timestamp{schedule!=""} > 0)',
              legend: '{{schedule}}',
            },
          ],
        },
        {
          title: 'Certificate time to expiry',
          kind: 'timeseries',
          unit: 'dtdurations',
          description: 'cert-manager renews at 30 days; CertificateExpiringSoon fires under 21.',
          targets: [{ expr: `${CERTIFICATE_EXPIRY} - time()`, legend: '{{namespace}}/{{name}}' }],
        },
        {
          title: 'Volumes by free space',
          kind: 'timeseries',
          unit: 'percentunit',
          targets: [
            {
              expr: 'bottomk(10, kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes)',
              legend: '{{namespace}}/{{persistentvolumeclaim}}',
            },
          ],
        },
      ],
    ],
  });
}
