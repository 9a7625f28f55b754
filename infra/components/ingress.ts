import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { type IngressSettings } from '../config';
import { CHARTS } from '../versions';
import { helmRelease, namespace } from './kube';

export type IngressArgs = { settings: IngressSettings };

const ACME_SERVERS: Record<IngressSettings['acme']['server'], string> = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

/** The ClusterIssuer every Ingress names in its `cert-manager.io/cluster-issuer` annotation. */
export const CLUSTER_ISSUER = 'letsencrypt';

/**
 * The way in: Traefik as the ingress controller behind the cloud's load balancer, and cert-manager issuing
 * Let's Encrypt certificates for every Ingress through HTTP-01.
 */
export class Ingress extends pulumi.ComponentResource {
  readonly className: string;
  readonly clusterIssuer: string;

  constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super('cockpit:infra:Ingress', name, {}, opts);
    const s = args.settings;
    this.className = s.className;
    this.clusterIssuer = CLUSTER_ISSUER;

    const traefikNs = namespace('traefik', { enforce: 'baseline' }, {}, { parent: this });
    const traefik = helmRelease(
      'traefik',
      traefikNs,
      CHARTS.traefik,
      {
        deployment: { replicas: s.replicas },
        podDisruptionBudget: s.replicas > 1 ? { enabled: true, minAvailable: 1 } : { enabled: false },
        ingressClass: { enabled: true, isDefaultClass: true, name: s.className },
        providers: { kubernetesIngress: { publishedService: { enabled: true } } },
        // The dashboard would be one more unauthenticated page on the public entry point.
        ingressRoute: { dashboard: { enabled: false } },
        service: { annotations: s.loadBalancerAnnotations },
        metrics: { prometheus: { serviceMonitor: { enabled: true } } },
      },
      { parent: this },
    );

    const certManagerNs = namespace('cert-manager', { enforce: 'restricted' }, {}, { parent: this });
    const certManager = helmRelease(
      'cert-manager',
      certManagerNs,
      CHARTS.certManager,
      {
        // `keep` leaves the CRDs (and so every Certificate) in place if the release is ever uninstalled.
        crds: { enabled: true, keep: true },
        prometheus: { enabled: true, servicemonitor: { enabled: true } },
      },
      { parent: this },
    );

    new k8s.apiextensions.CustomResource(
      'cluster-issuer',
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'ClusterIssuer',
        metadata: { name: CLUSTER_ISSUER },
        spec: {
          acme: {
            server: ACME_SERVERS[s.acme.server],
            email: s.acme.email,
            privateKeySecretRef: { name: `letsencrypt-${s.acme.server}-account-key` },
            solvers: [{ http01: { ingress: { ingressClassName: s.className } } }],
          },
        },
      },
      { parent: this, dependsOn: [certManager, traefik] },
    );

    this.registerOutputs({ className: this.className, clusterIssuer: this.clusterIssuer });
  }
}
