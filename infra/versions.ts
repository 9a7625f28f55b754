/**
 * Every chart and image version the program installs, pinned in one place so an upgrade is one reviewed diff
 * (and one line for Renovate's helm-values/regex managers to bump).
 */

export type ChartRef = { chart: string; version: string; repo: string };

export const CHARTS = {
  kubePrometheusStack: { chart: 'kube-prometheus-stack', version: '79.5.0', repo: 'https://prometheus-community.github.io/helm-charts' },
  traefik: { chart: 'traefik', version: '37.3.0', repo: 'https://traefik.github.io/charts' },
  certManager: { chart: 'cert-manager', version: 'v1.19.1', repo: 'https://charts.jetstack.io' },
  eckOperator: { chart: 'eck-operator', version: '3.2.0', repo: 'https://helm.elastic.co' },
  // 12.x upgrades Velero's CRDs without the bitnami/kubectl image, which stopped being published.
  velero: { chart: 'velero', version: '12.0.1', repo: 'https://vmware-tanzu.github.io/helm-charts' },
} as const satisfies Record<string, ChartRef>;

export const IMAGES = {
  // Server and AWS plugin are released in pairs (plugin 1.13.x supports Velero 1.17.x); bump them together.
  velero: { repository: 'velero/velero', tag: 'v1.17.1' },
  veleroPluginForAws: 'velero/velero-plugin-for-aws:v1.13.0',
} as const;

/** Elasticsearch, Kibana and Filebeat run the same version; ECK 3.2 supports it. */
export const ELASTIC_STACK_VERSION = '9.2.0';
