/**
 * Every chart and image version the program installs, pinned in one place so an upgrade is one reviewed diff
 * (and one line for Renovate's helm-values/regex managers to bump).
 *
 * A chart release is written for one app version: its templates pass that version's flags and carry its CRDs.
 * `appVersion` is copied from the chart's own Chart.yaml at that release; an image tag the values set must stay
 * on the same minor version (test/infra/versions.test.ts fails otherwise), so a chart bump is also a decision
 * about the images it runs.
 */

export type ChartRef = {
  chart: string;
  version: string;
  repo: string;
  /** `appVersion` in this chart release's Chart.yaml. */
  appVersion: string;
};

export const CHARTS = {
  kubePrometheusStack: {
    chart: 'kube-prometheus-stack',
    version: '79.5.0',
    appVersion: 'v0.86.2',
    repo: 'https://prometheus-community.github.io/helm-charts',
  },
  traefik: { chart: 'traefik', version: '37.3.0', appVersion: 'v3.6.0', repo: 'https://traefik.github.io/charts' },
  // The chart is built with --app-version set to the release's own tag.
  certManager: { chart: 'cert-manager', version: 'v1.19.1', appVersion: 'v1.19.1', repo: 'https://charts.jetstack.io' },
  eckOperator: { chart: 'eck-operator', version: '3.2.0', appVersion: '3.2.0', repo: 'https://helm.elastic.co' },
  // 12.x upgrades Velero's CRDs with `velero install --crds-only --apply`, which only Velero 1.18 understands,
  // instead of through the bitnamilegacy kubectl image 11.x needs, which is frozen and gets no more fixes.
  velero: { chart: 'velero', version: '12.0.3', appVersion: '1.18.1', repo: 'https://vmware-tanzu.github.io/helm-charts' },
} as const satisfies Record<string, ChartRef>;

export type ChartName = keyof typeof CHARTS;

export type ImageRef = { repository: string; tag: string };

export const IMAGES = {
  velero: { repository: 'velero/velero', tag: 'v1.18.1' },
  veleroPluginForAws: { repository: 'velero/velero-plugin-for-aws', tag: 'v1.14.2' },
} as const satisfies Record<string, ImageRef>;

/** `repository:tag`, the form a pod's `image` takes. */
export const imageName = (image: ImageRef) => `${image.repository}:${image.tag}`;

/**
 * Which minor version of each image a chart's values may set, given the minor of the chart's `appVersion`:
 * the app's own image runs that very minor; a companion (a plugin) runs the minor its vendor's compatibility
 * table pairs with it. An image the values set that is not listed here fails the versions test until it is.
 */
export const IMAGE_PAIRING: Record<string, { chart: ChartName; minorFor: (appMinor: string) => string | undefined }> = {
  'velero/velero': { chart: 'velero', minorFor: (appMinor) => appMinor },
  // velero-plugin-for-aws' README: plugin 1.14.x is built against Velero 1.18, 1.13.x for 1.17.x.
  'velero/velero-plugin-for-aws': { chart: 'velero', minorFor: (appMinor) => ({ '1.18': '1.14', '1.17': '1.13' })[appMinor] },
};

/** "1.18" of "v1.18.1" (or of "1.18.1-rc.1"); undefined when the text is not a version. */
export function minorOf(version: string): string | undefined {
  return /^v?(\d+\.\d+)(\.\d+)?([-+].*)?$/.exec(version)?.[1];
}

/** Elasticsearch, Kibana and Filebeat run the same version; ECK 3.2 supports it. */
export const ELASTIC_STACK_VERSION = '9.2.0';
