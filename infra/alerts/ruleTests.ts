/**
 * Unit tests for the alerts in rules.ts, as data: for each alert, input series that must fire it and series that
 * must not. `promtool test rules` runs them against the rules each stack renders (test/infra/tools.test.ts), and
 * the runbooks lint checks that every alert has both kinds of case here.
 *
 * The series are shaped like the real scrapes, labels included: kube-state-metrics and the kubelet keep the pod's
 * namespace (their ServiceMonitors honour labels), while cert-manager's ServiceMonitor does not (`honorLabels:
 * false`, the chart's default), so there the Certificate's namespace arrives as `exported_namespace` and
 * `namespace` is cert-manager's own.
 *
 * Each case starts at time 0 with one sample a `step` (a minute unless it says otherwise). Expected alerts list the labels
 * of the series they fire for; the runner adds the rule's own labels (severity, cluster, level, customer_impact)
 * and the runbook URL. Cases keep a margin around every threshold, so the outcome does not hang on how a
 * Prometheus version treats a sample exactly on a range's edge.
 */

import { type RuleParameters, hoursAndDays } from './rules';

export type InputSeries = { series: string; values: string };

export type ExpectedAlert = {
  labels: Record<string, string>;
  /** The summary as Prometheus renders it for this alert. */
  summary: string;
  /** Only for rules whose description is a template; otherwise the rule's description is expected verbatim. */
  description?: string;
};

type Step = '1m' | '5m' | '10m' | '1h';
const STEP_SECONDS: Record<Step, number> = { '1m': 60, '5m': 300, '10m': 600, '1h': 3600 };

export type RuleTestCase = {
  /** What the case shows; promtool prints it when the case fails. */
  name: string;
  /**
   * Time between input samples and between rule evaluations: 1m unless the case only needs long windows, where
   * a coarser step keeps promtool quick (it evaluates every rule at every step). At most 5m when a rate over a
   * window must see two samples.
   */
  step?: Step;
  input: InputSeries[];
  /** At each time, which alerts of `alert` are firing: an empty list means it must not fire then. */
  expect: Array<{ at: string; alert: string; firing: ExpectedAlert[] }>;
};

// Series builders. promtool writes `a+bxn` for n+1 samples a, a+b, …, a+nb; segments are separated by spaces.

function series(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}}`;
}

/** A counter growing by `perSample` for `samples` samples, segment after segment, starting at 0. */
function counter(...segments: Array<[perSample: number, samples: number]>): string {
  let value = 0;
  const parts = ['0'];
  for (const [rate, samples] of segments) {
    parts.push(`${value + rate}+${rate}x${samples - 1}`);
    value += rate * samples;
  }
  return parts.join(' ');
}

/** A value that stays the same for `samples` samples after the first. */
const flat = (value: number, samples: number) => `${value}+0x${samples}`;

const HOUR = 60;
const REQUESTS_PER_SAMPLE = 1000;

/** A product service's scrape target, as the product ServiceMonitors label it. */
const api = { cockpit_tier: 'product', namespace: 'shop', service: 'api', job: 'api', instance: '10.244.1.7:8080', pod: 'api-6f7c9d-x2k4q' };
const apiAlert = { namespace: 'shop', service: 'api' };

/** 1000 requests a sample, of which `errors` fail with a 5xx, phase after phase of [errors, samples]. */
function requests(...phases: Array<[errors: number, minutes: number]>): InputSeries[] {
  return [
    { series: series('http_requests_total', { ...api, code: '200' }), values: counter(...phases.map(([e, m]): [number, number] => [REQUESTS_PER_SAMPLE - e, m])) },
    { series: series('http_requests_total', { ...api, code: '500' }), values: counter(...phases) },
  ];
}

/** 1000 requests a sample, of which `slow` take longer than the 0.5 s objective, phase after phase of [slow, samples]. */
function latencies(...phases: Array<[slow: number, minutes: number]>): InputSeries[] {
  return [
    {
      series: series('http_request_duration_seconds_bucket', { ...api, le: '0.5' }),
      values: counter(...phases.map(([s, m]): [number, number] => [REQUESTS_PER_SAMPLE - s, m])),
    },
    { series: series('http_request_duration_seconds_count', api), values: counter(...phases.map(([, m]): [number, number] => [REQUESTS_PER_SAMPLE, m])) },
  ];
}

const errorFast = (ratio: string) =>
  'Over 1h the 5xx ratio is above 14.4x the budget (0.1%), or above 6x over 6h; customers are seeing errors now. ' +
  `Error ratio over the long window (1h or 6h): ${ratio}.`;
const latencyFast = (ratio: string) =>
  'More than 14.4% of requests took longer than 0.5s over the last hour (or the 6h equivalent); customers feel it as a slow or ' +
  `hanging product. Slow ratio over the long window: ${ratio}.`;

const apiErrors = (description: string): ExpectedAlert => ({
  labels: apiAlert,
  summary: 'shop/api is failing requests fast enough to spend its monthly error budget in days.',
  description,
});
const apiErrorsSlow: ExpectedAlert = { labels: apiAlert, summary: 'shop/api is spending its error budget faster than it earns it.' };
const apiSlow = (description: string): ExpectedAlert => ({
  labels: apiAlert,
  summary: 'shop/api answers too many requests slower than 0.5s.',
  description,
});
const apiSlowSlow: ExpectedAlert = { labels: apiAlert, summary: 'shop/api is slowly spending its latency budget.' };

/** kube-state-metrics' namespace labels: the product's namespaces carry cockpit-tier=product. */
const ksm = { job: 'kube-state-metrics', instance: '10.244.0.5:8080' };
const namespaceLabels = (samples: number): InputSeries[] => [
  { series: series('kube_namespace_labels', { ...ksm, namespace: 'shop', label_cockpit_tier: 'product' }), values: flat(1, samples) },
  { series: series('kube_namespace_labels', { ...ksm, namespace: 'kube-system' }), values: flat(1, samples) },
];

const crashLoop = (namespace: string, pod: string, container: string) => ({
  ...ksm,
  namespace,
  pod,
  container,
  reason: 'CrashLoopBackOff',
});

/** A 10 GB volume as the kubelet reports it. */
const GB = 1_000_000_000;
const volume = (namespace: string, claim: string) => ({
  job: 'kubelet',
  metrics_path: '/metrics',
  instance: '10.110.0.3:10250',
  node: 'cockpit-prod-default-abc12',
  namespace,
  persistentvolumeclaim: claim,
});
function volumeSeries(labels: Record<string, string>, available: string, samples: number): InputSeries[] {
  return [
    { series: series('kubelet_volume_stats_capacity_bytes', labels), values: flat(10 * GB, samples) },
    { series: series('kubelet_volume_stats_available_bytes', labels), values: available },
  ];
}
const postgresVolume = volume('shop', 'data-postgres-0');

/** cert-manager's controller as its ServiceMonitor scrapes it: `namespace` is the target's, the Certificate's is `exported_namespace`. */
const certificate = {
  job: 'cert-manager',
  namespace: 'cert-manager',
  service: 'cert-manager',
  endpoint: 'http-metrics',
  pod: 'cert-manager-6d8f9c7b5-q2w3e',
  container: 'cert-manager-controller',
  instance: '10.244.0.9:9402',
  exported_namespace: 'shop',
  name: 'cockpit-tls',
  issuer_name: 'letsencrypt',
  issuer_kind: 'ClusterIssuer',
  issuer_group: 'cert-manager.io',
};
/** The same Certificate as the alert names it: in the namespace it lives in. */
const certificateAlert = { ...certificate, namespace: 'shop' };
const SECONDS_PER_DAY = 24 * 3600;

/** Velero's server as its ServiceMonitor scrapes it; scheduled backups carry the schedule's name. */
const velero = (schedule: string) => ({
  job: 'velero',
  namespace: 'velero',
  service: 'velero',
  endpoint: 'http-monitoring',
  pod: 'velero-7b9c8d6f5-x1y2z',
  container: 'velero',
  instance: '10.244.0.11:8085',
  schedule,
});
const productSchedule = velero('velero-product');

/**
 * The backup age limit is the stack's (its schedule's longest gap plus an hour): one good run, then none, checked
 * an hour before the limit and an hour past it. For a daily schedule, 24 and 26 hours.
 */
function backupAge({ backupMaxAgeSeconds: maxAge }: RuleParameters): RuleTestCase {
  const step: Step = maxAge <= 2 * SECONDS_PER_DAY ? '10m' : '1h';
  const stepSeconds = STEP_SECONDS[step];
  const ceil = (t: number) => Math.ceil(t / stepSeconds) * stepSeconds;
  const success = stepSeconds;
  const silentAt = Math.floor((success + maxAge - 3600) / stepSeconds) * stepSeconds;
  // Long enough past the limit for `for: 30m` to have passed at this step.
  const firingAt = ceil(success + maxAge + Math.max(3600, stepSeconds + 1800));
  const samples = firingAt / stepSeconds;
  return {
    name: `a newest good backup ${hoursAndDays(silentAt - success)} old: on time; ${hoursAndDays(firingAt - success)} old: too old`,
    step,
    input: [
      { series: series('velero_backup_last_successful_timestamp', productSchedule), values: `0 ${flat(success, samples - 1)}` },
      { series: series('velero_backup_attempt_total', productSchedule), values: `0 ${flat(1, samples - 1)}` },
      { series: series('velero_backup_success_total', productSchedule), values: `0 ${flat(1, samples - 1)}` },
    ],
    expect: [
      { at: duration(silentAt), alert: 'VeleroBackupTooOld', firing: [] },
      {
        at: duration(firingAt),
        alert: 'VeleroBackupTooOld',
        firing: [{ labels: productSchedule, summary: tooOldSummary({ backupMaxAgeSeconds: maxAge }) }],
      },
    ],
  };
}

const tooOldSummary = (p: RuleParameters) => `No successful backup of velero-product in over ${hoursAndDays(p.backupMaxAgeSeconds)}.`;

/** "24h10m": a duration the way promtool reads and prints it. */
function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `${h > 0 ? `${h}h` : ''}${m > 0 || h === 0 ? `${m}m` : ''}`;
}

/** The cases, some of which depend on the stack (see backupAge); `ruleTests` gives them for one stack. */
const RULE_TESTS: Array<RuleTestCase | ((p: RuleParameters) => RuleTestCase)> = [
  // Error budget: 14.4x over 1h and 5m, or 6x over 6h and 30m (fast); 3x over 1d and 2h, or 1x over 3d and 6h (slow).
  {
    name: '2% 5xx after three healthy hours: fires once the 1h window burns too, clears when errors stop',
    input: requests([0, 3 * HOUR], [20, 70], [0, 15]),
    expect: [
      { at: '3h30m', alert: 'ProductErrorBudgetBurnFast', firing: [] },
      { at: '4h10m', alert: 'ProductErrorBudgetBurnFast', firing: [apiErrors(errorFast('2%'))] },
      // The 1h window still burns, but the last 5 minutes are clean: the short window ends the page.
      { at: '4h20m', alert: 'ProductErrorBudgetBurnFast', firing: [] },
    ],
  },
  {
    name: '1% 5xx: under the 1h threshold, over the 6h one',
    input: requests([10, 40]),
    expect: [{ at: '30m', alert: 'ProductErrorBudgetBurnFast', firing: [apiErrors(errorFast('1%'))] }],
  },
  {
    name: '0.5% 5xx: too slow to page, fast enough to spend the budget over a day',
    step: '5m',
    input: requests([5, 12]),
    expect: [
      { at: '10m', alert: 'ProductErrorBudgetBurnSlow', firing: [] },
      { at: '1h', alert: 'ProductErrorBudgetBurnSlow', firing: [apiErrorsSlow] },
      { at: '1h', alert: 'ProductErrorBudgetBurnFast', firing: [] },
    ],
  },
  {
    name: '0.2% 5xx: under the 1d threshold, fires on the 3d window; clears once the 6h window is clean',
    step: '5m',
    input: requests([2, 6], [0, 80]),
    expect: [
      { at: '25m', alert: 'ProductErrorBudgetBurnSlow', firing: [apiErrorsSlow] },
      { at: '6h40m', alert: 'ProductErrorBudgetBurnSlow', firing: [] },
    ],
  },
  {
    name: '0.05% 5xx, inside the budget: no burn alert',
    step: '5m',
    input: requests([0.5, 12]),
    expect: [
      { at: '1h', alert: 'ProductErrorBudgetBurnFast', firing: [] },
      { at: '1h', alert: 'ProductErrorBudgetBurnSlow', firing: [] },
    ],
  },

  // Latency budget: the same windows over the share of requests slower than 0.5 s (1% allowed).
  {
    name: '20% slow after two healthy hours: fires once the 1h window burns too',
    input: latencies([0, 2 * HOUR], [200, 80]),
    expect: [
      { at: '2h30m', alert: 'ProductLatencyBudgetBurnFast', firing: [] },
      { at: '3h15m', alert: 'ProductLatencyBudgetBurnFast', firing: [apiSlow(latencyFast('20%'))] },
    ],
  },
  {
    name: '8% slow: under the 1h threshold, over the 6h one',
    input: latencies([80, 40]),
    expect: [{ at: '30m', alert: 'ProductLatencyBudgetBurnFast', firing: [apiSlow(latencyFast('8%'))] }],
  },
  {
    name: '4% slow: the slow latency alert, not the page',
    step: '5m',
    input: latencies([40, 12]),
    expect: [
      { at: '1h', alert: 'ProductLatencyBudgetBurnSlow', firing: [apiSlowSlow] },
      { at: '1h', alert: 'ProductLatencyBudgetBurnFast', firing: [] },
    ],
  },
  {
    name: '1.5% slow: under the 1d threshold, fires on the 3d window',
    step: '5m',
    input: latencies([15, 12]),
    expect: [{ at: '1h', alert: 'ProductLatencyBudgetBurnSlow', firing: [apiSlowSlow] }],
  },
  {
    name: '0.5% slow, inside the budget: no latency alert',
    step: '5m',
    input: latencies([5, 12]),
    expect: [
      { at: '1h', alert: 'ProductLatencyBudgetBurnSlow', firing: [] },
      { at: '1h', alert: 'ProductLatencyBudgetBurnFast', firing: [] },
    ],
  },

  // A service that answers nothing.
  {
    name: 'every target of a product service down for 2 minutes',
    input: [
      { series: series('up', api), values: `${flat(1, 10)} ${flat(0, 9)}` },
      { series: series('up', { ...api, instance: '10.244.2.4:8080', pod: 'api-6f7c9d-p8m2n' }), values: `${flat(1, 10)} ${flat(0, 9)}` },
    ],
    expect: [
      { at: '12m', alert: 'ProductServiceDown', firing: [] },
      { at: '15m', alert: 'ProductServiceDown', firing: [{ labels: apiAlert, summary: 'No instance of shop/api answers its metrics endpoint.' }] },
    ],
  },
  {
    name: 'one of two targets down, or a target outside the product down: no page',
    input: [
      { series: series('up', api), values: flat(0, 20) },
      { series: series('up', { ...api, instance: '10.244.2.4:8080', pod: 'api-6f7c9d-p8m2n' }), values: flat(1, 20) },
      { series: series('up', { job: 'grafana', namespace: 'monitoring', service: 'grafana', instance: '10.244.0.7:3000' }), values: flat(0, 20) },
    ],
    expect: [{ at: '20m', alert: 'ProductServiceDown', firing: [] }],
  },

  // Pods and volumes, joined with the namespace labels so only the product's count.
  {
    name: 'a product pod in CrashLoopBackOff for 15 minutes; the same in kube-system is not the product’s',
    step: '5m',
    input: [
      ...namespaceLabels(6),
      { series: series('kube_pod_container_status_waiting_reason', crashLoop('shop', 'api-6f7c9d-x2k4q', 'api')), values: flat(1, 6) },
      { series: series('kube_pod_container_status_waiting_reason', crashLoop('kube-system', 'coredns-5d78c9869d-abcde', 'coredns')), values: flat(1, 6) },
    ],
    expect: [
      { at: '10m', alert: 'ProductPodCrashLooping', firing: [] },
      {
        at: '20m',
        alert: 'ProductPodCrashLooping',
        firing: [{ labels: crashLoop('shop', 'api-6f7c9d-x2k4q', 'api'), summary: 'Pod shop/api-6f7c9d-x2k4q (api) keeps crashing.' }],
      },
    ],
  },
  {
    name: 'a product volume at 14% free losing 1 MB a minute fills within a day',
    step: '5m',
    input: [...namespaceLabels(20), ...volumeSeries(postgresVolume, `${1.4 * GB}-${5_000_000}x20`, 20)],
    expect: [
      { at: '30m', alert: 'ProductVolumeFillingUp', firing: [] },
      {
        at: '90m',
        alert: 'ProductVolumeFillingUp',
        firing: [{ labels: postgresVolume, summary: 'Volume shop/data-postgres-0 will be full within a day at the current rate.' }],
      },
      { at: '90m', alert: 'ProductVolumeAlmostFull', firing: [] },
    ],
  },
  {
    name: 'a product volume at 10% free that is not growing, and a filling volume outside the product: no alert',
    step: '5m',
    input: [
      ...namespaceLabels(20),
      ...volumeSeries(postgresVolume, flat(1 * GB, 20), 20),
      ...volumeSeries(volume('kube-system', 'etcd-backup'), `${1.4 * GB}-${5_000_000}x20`, 20),
    ],
    expect: [
      { at: '90m', alert: 'ProductVolumeFillingUp', firing: [] },
      { at: '90m', alert: 'ProductVolumeAlmostFull', firing: [] },
    ],
  },
  {
    name: 'a product volume under 5% free for 5 minutes; one outside the product is not the product’s',
    input: [
      ...namespaceLabels(20),
      ...volumeSeries(postgresVolume, flat(0.4 * GB, 20), 20),
      ...volumeSeries(volume('monitoring', 'prometheus-db-0'), flat(0.1 * GB, 20), 20),
    ],
    expect: [
      { at: '3m', alert: 'ProductVolumeAlmostFull', firing: [] },
      {
        at: '10m',
        alert: 'ProductVolumeAlmostFull',
        firing: [{ labels: postgresVolume, summary: 'Volume shop/data-postgres-0 has less than 5% free.' }],
      },
    ],
  },
  {
    name: 'a product volume at 6% free: not yet almost full',
    input: [...namespaceLabels(20), ...volumeSeries(postgresVolume, flat(0.6 * GB, 20), 20)],
    expect: [{ at: '15m', alert: 'ProductVolumeAlmostFull', firing: [] }],
  },

  // Certificates: the value is the expiry time, so time() - value is how long is left.
  {
    name: 'a Certificate 20 days from expiry, named by its own namespace, not cert-manager’s',
    step: '5m',
    input: [{ series: series('certmanager_certificate_expiration_timestamp_seconds', certificate), values: flat(20 * SECONDS_PER_DAY + 2 * 3600, 30) }],
    expect: [
      { at: '30m', alert: 'CertificateExpiringSoon', firing: [] },
      {
        at: '2h',
        alert: 'CertificateExpiringSoon',
        firing: [{ labels: certificateAlert, summary: 'Certificate shop/cockpit-tls expires in 20d 0h 0m 0s.' }],
      },
      { at: '2h', alert: 'CertificateExpiryImminent', firing: [] },
    ],
  },
  {
    name: 'a Certificate 2 days from expiry: imminent',
    step: '5m',
    input: [{ series: series('certmanager_certificate_expiration_timestamp_seconds', certificate), values: flat(2 * SECONDS_PER_DAY + 30 * 60, 8) }],
    expect: [
      { at: '5m', alert: 'CertificateExpiryImminent', firing: [] },
      {
        at: '30m',
        alert: 'CertificateExpiryImminent',
        firing: [{ labels: certificateAlert, summary: 'Certificate shop/cockpit-tls expires in 2d 0h 0m 0s.' }],
      },
    ],
  },
  {
    name: 'a Certificate 25 days from expiry: renewed in time, no alert',
    step: '5m',
    input: [{ series: series('certmanager_certificate_expiration_timestamp_seconds', certificate), values: flat(25 * SECONDS_PER_DAY, 30) }],
    expect: [
      { at: '2h', alert: 'CertificateExpiringSoon', firing: [] },
      { at: '2h', alert: 'CertificateExpiryImminent', firing: [] },
    ],
  },

  // Backups.
  {
    name: 'a scheduled backup that failed, and one that partly failed; a failed manual backup is not the schedule’s',
    step: '5m',
    // Each fails at 30m.
    input: [
      { series: series('velero_backup_failure_total', productSchedule), values: `${flat(0, 5)} ${flat(1, 12)}` },
      { series: series('velero_backup_partial_failure_total', velero('velero-nightly')), values: `${flat(0, 5)} ${flat(1, 12)}` },
      { series: series('velero_backup_failure_total', velero('')), values: `${flat(0, 5)} ${flat(1, 12)}` },
    ],
    expect: [
      { at: '20m', alert: 'VeleroBackupFailed', firing: [] },
      {
        at: '40m',
        alert: 'VeleroBackupFailed',
        firing: [
          { labels: productSchedule, summary: 'A scheduled backup of velero-product failed or only partly succeeded.' },
          { labels: velero('velero-nightly'), summary: 'A scheduled backup of velero-nightly failed or only partly succeeded.' },
        ],
      },
    ],
  },
  backupAge,
  (p) => ({
    name: 'a schedule that has tried and never succeeded since Velero started',
    input: [
      { series: series('velero_backup_last_successful_timestamp', productSchedule), values: flat(0, 90) },
      { series: series('velero_backup_attempt_total', productSchedule), values: `${flat(0, 9)} ${flat(1, 80)}` },
      { series: series('velero_backup_failure_total', productSchedule), values: `${flat(0, 9)} ${flat(1, 80)}` },
      { series: series('velero_backup_success_total', productSchedule), values: flat(0, 90) },
    ],
    expect: [
      { at: '30m', alert: 'VeleroBackupTooOld', firing: [] },
      { at: '60m', alert: 'VeleroBackupTooOld', firing: [{ labels: productSchedule, summary: tooOldSummary(p) }] },
    ],
  }),
];

/** Every case, for a stack with these parameters. */
export function ruleTests(p: RuleParameters): RuleTestCase[] {
  return RULE_TESTS.map((c) => (typeof c === 'function' ? c(p) : c));
}

/** A daily schedule's parameters; which alerts the cases cover does not depend on them. */
const DAILY_BACKUPS: RuleParameters = { backupMaxAgeSeconds: 25 * 3600 };

/** The alerts a case expects firing at some point, and those it expects silent at some point. */
export function coverage(cases: RuleTestCase[] = ruleTests(DAILY_BACKUPS)): { fires: Set<string>; staysSilent: Set<string> } {
  const fires = new Set<string>();
  const staysSilent = new Set<string>();
  for (const c of cases) for (const e of c.expect) (e.firing.length > 0 ? fires : staysSilent).add(e.alert);
  return { fires, staysSilent };
}
