import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { type ChartRef } from '../versions';

/** Pod Security Admission level a namespace enforces; system agents that read host paths need `privileged`. */
export type PodSecurity = 'privileged' | 'baseline' | 'restricted';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'pulumi', 'app.kubernetes.io/part-of': 'cockpit-infra' };

/**
 * A namespace with a fixed name (other resources and runbooks refer to it) and a Pod Security level.
 * `warnOnly` audits and warns at `restricted` without enforcing, for namespaces whose workloads we do not own.
 */
export function namespace(
  name: string,
  security: { enforce: PodSecurity } | { warnOnly: true },
  labels: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
  const psa: Record<string, string> =
    'enforce' in security
      ? { 'pod-security.kubernetes.io/enforce': security.enforce, 'pod-security.kubernetes.io/warn': security.enforce }
      : { 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted' };
  return new k8s.core.v1.Namespace(name, { metadata: { name, labels: { ...MANAGED_BY, ...psa, ...labels } } }, opts);
}

/**
 * A Helm release with a fixed name (chart resource names derive from it) that rolls back on a failed upgrade
 * instead of leaving half-applied manifests behind.
 */
export function helmRelease(
  name: string,
  ns: k8s.core.v1.Namespace,
  ref: ChartRef,
  values: pulumi.Input<Record<string, unknown>>,
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name,
      namespace: ns.metadata.name,
      chart: ref.chart,
      version: ref.version,
      repositoryOpts: { repo: ref.repo },
      values,
      atomic: true,
      cleanupOnFail: true,
      timeout: 900,
      maxHistory: 10,
    },
    opts,
  );
}

/** A Grafana dashboard the kube-prometheus-stack sidecar loads, in the folder named by `folder`. */
export function dashboardConfigMap(
  name: string,
  namespaceName: pulumi.Input<string>,
  folder: string,
  dashboard: object,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.ConfigMap {
  return new k8s.core.v1.ConfigMap(
    name,
    {
      metadata: {
        name,
        namespace: namespaceName,
        labels: { ...MANAGED_BY, grafana_dashboard: '1' },
        annotations: { grafana_folder: folder },
      },
      data: { [`${name}.json`]: JSON.stringify(dashboard) },
    },
    opts,
  );
}
