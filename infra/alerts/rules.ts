/**
 * The product's own alert rules, as plain data.
 *
 * No Pulumi here on purpose: the runbooks lint imports ALERT_RULES to check that every alert has its page in
 * runbooks/alerts/, and Cockpit's alert handler reads `customerImpact`. The PrometheusRule component renders
 * this list; the `cluster` label and the runbook base URL are added there from stack config.
 *
 * Cluster-level alerts that kube-prometheus-stack already ships (Watchdog, KubePodCrashLooping,
 * KubePersistentVolumeFillingUp, node and control-plane alerts, ...) are not repeated here. The product rules
 * below are narrower (the product's namespaces and services only) and are the ones that may page.
 */

export type AlertSeverity = 'critical' | 'warning' | 'info';

/** What a rule needs to know about the stack it runs in. */
export type RuleParameters = {
  /** How old the newest scheduled backup may get: the backup schedule's longest gap plus the time a backup takes. */
  backupMaxAgeSeconds: number;
};

/** A value that differs between stacks: written as a function of the stack's RuleParameters. */
export type PerStack<T extends string> = T | ((p: RuleParameters) => T);

export function forStack<T extends string>(value: PerStack<T>, p: RuleParameters): T {
  return typeof value === 'function' ? value(p) : value;
}

export type AlertRule = {
  alert: string;
  expr: PerStack<string>;
  for: string;
  severity: AlertSeverity;
  level: 'cluster' | 'product';
  /** Customers notice this while it fires; Cockpit may warn them before they open a ticket. */
  customerImpact: boolean;
  summary: PerStack<string>;
  description: string;
  /** Path relative to runbooks/, e.g. 'alerts/KubePodCrashLooping.md'. */
  runbook: string;
};

export type RecordingRule = { record: string; expr: string };

/**
 * The label that marks the product's namespaces (namespace label) and the product's scrape targets (target
 * label added by the product ServiceMonitors). kube-state-metrics exports it as `label_cockpit_tier`.
 */
export const PRODUCT_TIER_LABEL = 'cockpit-tier';
export const PRODUCT_TIER_VALUE = 'product';
const targetLabel = PRODUCT_TIER_LABEL.replace(/-/g, '_');
const productTargets = `${targetLabel}="${PRODUCT_TIER_VALUE}"`;
const productNamespaces = `kube_namespace_labels{label_${targetLabel}="${PRODUCT_TIER_VALUE}"}`;

/**
 * The product's service level objectives. The product's services expose the conventional Prometheus HTTP
 * metrics: `http_requests_total{code}` and the `http_request_duration_seconds` histogram with a bucket at
 * the latency threshold.
 */
export const PRODUCT_SLO = {
  /** Share of requests that must not fail with a 5xx, over 30 days. */
  availability: 0.999,
  /** Share of requests that must complete within `latencyThresholdSeconds`, over 30 days. */
  latency: 0.99,
  latencyThresholdSeconds: 0.5,
} as const;

const errorBudget = round(1 - PRODUCT_SLO.availability);
const latencyBudget = round(1 - PRODUCT_SLO.latency);

/** Windows used by the multiwindow, multi-burn-rate alerts (Google SRE workbook, chapter 5). */
const SLI_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
type SliWindow = (typeof SLI_WINDOWS)[number];

const errorRatio = (w: SliWindow) => `product:http_request_errors:ratio_rate${w}`;
const slowRatio = (w: SliWindow) => `product:http_request_slow:ratio_rate${w}`;

/**
 * Error and slow-request ratios per service, precomputed so the alerts over 1d and 3d windows stay cheap.
 * A service with no traffic yields no ratio (0/0), so burn alerts cannot fire on silence; ProductServiceDown
 * covers a service that stopped answering altogether.
 */
export const RECORDING_RULES: RecordingRule[] = SLI_WINDOWS.flatMap((w) => [
  {
    record: errorRatio(w),
    expr:
      `sum by (namespace, service) (rate(http_requests_total{${productTargets}, code=~"5.."}[${w}]))\n` +
      `/\nsum by (namespace, service) (rate(http_requests_total{${productTargets}}[${w}]))`,
  },
  {
    record: slowRatio(w),
    expr:
      `1 - (\n  sum by (namespace, service) (rate(http_request_duration_seconds_bucket{${productTargets}, le="${PRODUCT_SLO.latencyThresholdSeconds}"}[${w}]))\n` +
      `  /\n  sum by (namespace, service) (rate(http_request_duration_seconds_count{${productTargets}}[${w}]))\n)`,
  },
]);

/** Both windows must burn faster than `factor`: the long one proves it matters, the short one that it still does. */
function burn(ratio: (w: SliWindow) => string, budget: number, factor: number, long: SliWindow, short: SliWindow): string {
  const threshold = round(factor * budget);
  return `(${ratio(long)} > ${threshold} and ${ratio(short)} > ${threshold})`;
}

/**
 * cert-manager's expiry gauge, with each Certificate's own namespace in `namespace`. cert-manager's ServiceMonitor
 * keeps the chart's `honorLabels: false`, so Prometheus moves the metric's `namespace` to `exported_namespace` and
 * writes cert-manager's own namespace in its place; without this every alert would name cert-manager/<name>, and
 * grouping and inhibition by namespace would lump all certificates together. Where labels are honoured there is
 * no `exported_namespace` and the series passes unchanged.
 */
export const CERTIFICATE_EXPIRY =
  'label_replace(certmanager_certificate_expiration_timestamp_seconds, "namespace", "$1", "exported_namespace", "(.+)")';

export const ALERT_RULES: AlertRule[] = [
  {
    alert: 'ProductErrorBudgetBurnFast',
    expr: `${burn(errorRatio, errorBudget, 14.4, '1h', '5m')}\nor\n${burn(errorRatio, errorBudget, 6, '6h', '30m')}`,
    for: '2m',
    severity: 'critical',
    level: 'product',
    customerImpact: true,
    summary: '{{ $labels.namespace }}/{{ $labels.service }} is failing requests fast enough to spend its monthly error budget in days.',
    description:
      `Over 1h the 5xx ratio is above 14.4x the budget (${round(errorBudget * 100)}%), or above 6x over 6h; customers are seeing errors now. ` +
      'Error ratio over the long window (1h or 6h): {{ $value | humanizePercentage }}.',
    runbook: 'alerts/ProductErrorBudgetBurnFast.md',
  },
  {
    alert: 'ProductErrorBudgetBurnSlow',
    expr: `${burn(errorRatio, errorBudget, 3, '1d', '2h')}\nor\n${burn(errorRatio, errorBudget, 1, '3d', '6h')}`,
    for: '15m',
    severity: 'warning',
    level: 'product',
    customerImpact: false,
    summary: '{{ $labels.namespace }}/{{ $labels.service }} is spending its error budget faster than it earns it.',
    description:
      `The 5xx ratio has stayed above the budget (${round(errorBudget * 100)}%) for a day or more. Not an emergency; fix it before it becomes one.`,
    runbook: 'alerts/ProductErrorBudgetBurnSlow.md',
  },
  {
    alert: 'ProductLatencyBudgetBurnFast',
    expr: `${burn(slowRatio, latencyBudget, 14.4, '1h', '5m')}\nor\n${burn(slowRatio, latencyBudget, 6, '6h', '30m')}`,
    for: '2m',
    severity: 'critical',
    level: 'product',
    customerImpact: true,
    summary: `{{ $labels.namespace }}/{{ $labels.service }} answers too many requests slower than ${PRODUCT_SLO.latencyThresholdSeconds}s.`,
    description:
      `More than ${round(14.4 * latencyBudget * 100)}% of requests took longer than ${PRODUCT_SLO.latencyThresholdSeconds}s over the last hour ` +
      '(or the 6h equivalent); customers feel it as a slow or hanging product. Slow ratio over the long window: {{ $value | humanizePercentage }}.',
    runbook: 'alerts/ProductLatencyBudgetBurnFast.md',
  },
  {
    alert: 'ProductLatencyBudgetBurnSlow',
    expr: `${burn(slowRatio, latencyBudget, 3, '1d', '2h')}\nor\n${burn(slowRatio, latencyBudget, 1, '3d', '6h')}`,
    for: '15m',
    severity: 'warning',
    level: 'product',
    customerImpact: false,
    summary: '{{ $labels.namespace }}/{{ $labels.service }} is slowly spending its latency budget.',
    description: `The share of requests slower than ${PRODUCT_SLO.latencyThresholdSeconds}s has stayed above ${round(latencyBudget * 100)}% for a day or more.`,
    runbook: 'alerts/ProductLatencyBudgetBurnSlow.md',
  },
  {
    alert: 'ProductServiceDown',
    expr: `sum by (namespace, service) (up{${productTargets}}) == 0`,
    for: '2m',
    severity: 'critical',
    level: 'product',
    customerImpact: true,
    summary: 'No instance of {{ $labels.namespace }}/{{ $labels.service }} answers its metrics endpoint.',
    description:
      'Every scrape target of the service is down. A service that answers nothing records no errors either, so the burn-rate alerts stay silent; this one does not.',
    runbook: 'alerts/ProductServiceDown.md',
  },
  {
    alert: 'ProductPodCrashLooping',
    expr:
      'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m])\n' +
      `  * on (namespace) group_left () ${productNamespaces}\n>= 1`,
    for: '15m',
    severity: 'warning',
    level: 'product',
    customerImpact: false,
    summary: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) keeps crashing.',
    description:
      'The container has been in CrashLoopBackOff for 15 minutes. Other replicas may still serve traffic; the SLO alerts say whether customers notice.',
    runbook: 'alerts/ProductPodCrashLooping.md',
  },
  {
    alert: 'ProductVolumeFillingUp',
    expr:
      '(\n  kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"} < 0.15\n' +
      '  and predict_linear(kubelet_volume_stats_available_bytes{job="kubelet"}[6h], 24 * 3600) < 0\n)\n' +
      `* on (namespace) group_left () ${productNamespaces}`,
    for: '1h',
    severity: 'warning',
    level: 'product',
    customerImpact: false,
    summary: 'Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} will be full within a day at the current rate.',
    description: 'Less than 15% is free and the last 6 hours of growth fill the rest within 24 hours.',
    runbook: 'alerts/ProductVolumeFillingUp.md',
  },
  {
    alert: 'ProductVolumeAlmostFull',
    // The parentheses matter: `*` binds tighter than `<`, and a comparison against a join does not parse.
    expr:
      '(\n  kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"} < 0.05\n)\n' +
      `* on (namespace) group_left () ${productNamespaces}`,
    for: '5m',
    severity: 'critical',
    level: 'product',
    customerImpact: false,
    summary: 'Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 5% free.',
    description: 'Writes to this volume will start failing soon; databases stop accepting data when their disk is full.',
    runbook: 'alerts/ProductVolumeAlmostFull.md',
  },
  {
    alert: 'CertificateExpiringSoon',
    expr: `${CERTIFICATE_EXPIRY} - time() < 21 * 24 * 3600`,
    for: '1h',
    severity: 'warning',
    level: 'product',
    customerImpact: false,
    summary: 'Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }}.',
    description:
      'cert-manager renews 30 days before expiry, so a certificate inside 21 days has failed to renew for over a week.',
    runbook: 'alerts/CertificateExpiringSoon.md',
  },
  {
    alert: 'CertificateExpiryImminent',
    expr: `${CERTIFICATE_EXPIRY} - time() < 3 * 24 * 3600`,
    for: '10m',
    severity: 'critical',
    level: 'product',
    customerImpact: false,
    summary: 'Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }}.',
    description: 'When it expires, browsers and API clients refuse the connection: a full outage for everything behind it.',
    runbook: 'alerts/CertificateExpiryImminent.md',
  },
  {
    alert: 'VeleroBackupFailed',
    expr:
      'increase(velero_backup_failure_total{schedule!=""}[1h]) > 0\n' +
      'or\nincrease(velero_backup_partial_failure_total{schedule!=""}[1h]) > 0',
    for: '5m',
    severity: 'warning',
    level: 'cluster',
    customerImpact: false,
    summary: 'A scheduled backup of {{ $labels.schedule }} failed or only partly succeeded.',
    description: 'The last run left an incomplete backup. Until a run succeeds, a restore can only go back to an older backup.',
    runbook: 'alerts/VeleroBackupFailed.md',
  },
  {
    alert: 'VeleroBackupTooOld',
    // The stack's schedule sets the limit: its longest gap between runs plus the time a backup may take (25 hours
    // for a daily one). The second branch catches a schedule that keeps trying and never succeeds since Velero
    // started, when the last-success gauge is still 0; a Velero that is not running at all is TargetDown's job.
    expr: ({ backupMaxAgeSeconds: maxAge }) =>
      `(\n  time() - velero_backup_last_successful_timestamp{schedule!=""} > ${maxAge}\n` +
      '  and velero_backup_last_successful_timestamp{schedule!=""} > 0\n)\nor\n' +
      `(\n  increase(velero_backup_attempt_total{schedule!=""}[${promDuration(maxAge)}]) > 0\n` +
      `  unless on (schedule) increase(velero_backup_success_total{schedule!=""}[${promDuration(maxAge)}]) > 0\n)`,
    for: '30m',
    severity: 'critical',
    level: 'cluster',
    customerImpact: false,
    summary: ({ backupMaxAgeSeconds }) => `No successful backup of {{ $labels.schedule }} in over ${hoursAndDays(backupMaxAgeSeconds)}.`,
    description:
      'The schedule has missed at least one run. Data written since the last good backup cannot be restored if the cluster is lost now.',
    runbook: 'alerts/VeleroBackupTooOld.md',
  },
];

/** A range for a PromQL selector: "25h", "90m", "45s". */
export function promDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

/** "25 hours", "7 days and 1 hour": how a person reads a backup's age limit. */
export function hoursAndDays(seconds: number): string {
  const hours = Math.round(seconds / 3600);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (hours < 48) return plural(hours, 'hour');
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? plural(days, 'day') : `${plural(days, 'day')} and ${plural(hours % 24, 'hour')}`;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
