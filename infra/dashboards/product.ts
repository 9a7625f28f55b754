import { PRODUCT_SLO, PRODUCT_TIER_LABEL, PRODUCT_TIER_VALUE } from '../alerts/rules';
import { dashboard, labelVariable } from './grafana';

const tier = `${PRODUCT_TIER_LABEL.replace(/-/g, '_')}="${PRODUCT_TIER_VALUE}"`;
const sel = `${tier}, namespace=~"$namespace", service=~"$service"`;
const productNamespaces = `kube_namespace_labels{label_${PRODUCT_TIER_LABEL.replace(/-/g, '_')}="${PRODUCT_TIER_VALUE}", namespace=~"$namespace"}`;

/**
 * The product as its customers see it: traffic, errors and latency against the SLOs the alerts enforce, and how
 * much of the month's error budget is left. Uses the recording rules from alerts/rules.ts.
 */
export function productDashboard() {
  const errorBudget = 1 - PRODUCT_SLO.availability;
  const latencyBudget = 1 - PRODUCT_SLO.latency;
  return dashboard({
    uid: 'cockpit-product-slo',
    title: 'Cockpit / Product SLOs',
    tags: ['cockpit', 'product', 'slo'],
    variables: [
      labelVariable('namespace', 'Namespace', `up{${tier}}`),
      labelVariable('service', 'Service', `up{${tier}, namespace=~"$namespace"}`),
    ],
    rows: [
      [
        {
          title: 'Error budget left (30d)',
          kind: 'stat',
          unit: 'percentunit',
          description: `Availability objective ${PRODUCT_SLO.availability * 100}%: the share of the month's allowed 5xx still unspent.`,
          targets: [
            {
              expr:
                `1 - (sum by (service) (increase(http_requests_total{${sel}, code=~"5.."}[30d]))` +
                ` / sum by (service) (increase(http_requests_total{${sel}}[30d]))) / ${errorBudget}`,
              legend: '{{service}}',
            },
          ],
        },
        {
          title: 'Latency budget left (30d)',
          kind: 'stat',
          unit: 'percentunit',
          description: `Objective: ${PRODUCT_SLO.latency * 100}% of requests within ${PRODUCT_SLO.latencyThresholdSeconds}s.`,
          targets: [
            {
              expr:
                `1 - (1 - sum by (service) (increase(http_request_duration_seconds_bucket{${sel}, le="${PRODUCT_SLO.latencyThresholdSeconds}"}[30d]))` +
                ` / sum by (service) (increase(http_request_duration_seconds_count{${sel}}[30d]))) / ${latencyBudget}`,
              legend: '{{service}}',
            },
          ],
        },
        {
          title: 'Instances up',
          kind: 'stat',
          unit: 'short',
          targets: [{ expr: `sum by (service) (up{${sel}})`, legend: '{{service}}' }],
        },
      ],
      [
        {
          title: 'Requests per second',
          kind: 'timeseries',
          unit: 'reqps',
          targets: [{ expr: `sum by (service) (rate(http_requests_total{${sel}}[5m]))`, legend: '{{service}}' }],
        },
        {
          title: 'Error ratio (5xx)',
          kind: 'timeseries',
          unit: 'percentunit',
          description: 'ProductErrorBudgetBurnFast fires when the 1h ratio stays above 14.4x the budget.',
          targets: [
            {
              expr: `product:http_request_errors:ratio_rate5m{namespace=~"$namespace", service=~"$service"}`,
              legend: '{{service}} 5m',
            },
            {
              expr: `product:http_request_errors:ratio_rate1h{namespace=~"$namespace", service=~"$service"}`,
              legend: '{{service}} 1h',
            },
          ],
        },
      ],
      [
        {
          title: 'Latency p50 / p95 / p99',
          kind: 'timeseries',
          unit: 's',
          targets: [0.5, 0.95, 0.99].map((q) => ({
            expr: `histogram_quantile(${q}, sum by (service, le) (rate(http_request_duration_seconds_bucket{${sel}}[5m])))`,
            legend: `{{service}} p${Math.round(q * 100)}`,
          })),
        },
        {
          title: `Requests slower than ${PRODUCT_SLO.latencyThresholdSeconds}s`,
          kind: 'timeseries',
          unit: 'percentunit',
          targets: [
            {
              expr: `product:http_request_slow:ratio_rate5m{namespace=~"$namespace", service=~"$service"}`,
              legend: '{{service}} 5m',
            },
          ],
        },
      ],
      [
        {
          title: 'Container restarts (1h)',
          kind: 'timeseries',
          unit: 'short',
          targets: [
            {
              expr:
                'sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total[1h]))' +
                ` * on (namespace) group_left () ${productNamespaces}`,
              legend: '{{namespace}}/{{pod}}',
            },
          ],
        },
        {
          title: 'Volume free space',
          kind: 'timeseries',
          unit: 'percentunit',
          targets: [
            {
              expr:
                '(kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes)' +
                ` * on (namespace) group_left () ${productNamespaces}`,
              legend: '{{namespace}}/{{persistentvolumeclaim}}',
            },
          ],
        },
      ],
    ],
  });
}
