import * as digitalocean from '@pulumi/digitalocean';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { type ClusterSettings } from '../config';

export type ClusterArgs = {
  settings: ClusterSettings;
  stack: string;
  /** Disposable: no deletion protection, and the cluster's volumes and load balancers are deleted with it. */
  ephemeral: boolean;
  /** The cluster's kubeconfig in existing-cluster mode. */
  kubeconfig?: pulumi.Output<string>;
};

export type NodePoolSummary = { size: string; count: number; minNodes: number; maxNodes: number };

/**
 * DOKS mints a new API token for every kubeconfig it hands out; a short lifetime keeps abandoned ones from
 * piling up while outlasting the longest `pulumi up`.
 */
export const KUBECONFIG_TTL_SECONDS = 6 * 3600;

/**
 * The stack's Kubernetes cluster and the provider every other component deploys through. Either a DigitalOcean
 * Kubernetes (DOKS) cluster this stack owns, or an existing cluster reached through a kubeconfig secret.
 */
export class Cluster extends pulumi.ComponentResource {
  readonly clusterName: string;
  /** Credentials for this cluster; a secret output. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  /** The default node pool, when this stack provisions the cluster. */
  readonly nodePool?: NodePoolSummary;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('cockpit:infra:Cluster', name, {}, opts);
    const s = args.settings;
    this.clusterName = s.name;

    let clusterIdentifier: pulumi.Input<string>;
    if (s.mode === 'managed') {
      const version = digitalocean
        .getKubernetesVersionsOutput({ versionPrefix: `${s.kubernetesVersion}.` }, { parent: this })
        .apply((v) => {
          if (!v.latestVersion) {
            throw new Error(
              `DigitalOcean offers no Kubernetes ${s.kubernetesVersion} release (cockpit:cluster.kubernetesVersion); ` +
                `available: ${v.validVersions.join(', ')}`,
            );
          }
          return v.latestVersion;
        });
      const autoscale = s.autoscale;
      const cluster = new digitalocean.KubernetesCluster(
        name,
        {
          name: s.name,
          region: s.region,
          version,
          // Patch releases arrive in the maintenance window; the next `pulumi up` asks for the newest one anyway.
          autoUpgrade: true,
          surgeUpgrade: true,
          ha: s.highAvailability,
          maintenancePolicy: { day: s.maintenanceWindow.day, startTime: s.maintenanceWindow.startTime },
          destroyAllAssociatedResources: args.ephemeral,
          tags: ['cockpit', `stack:${args.stack}`, ...(args.ephemeral ? ['ephemeral'] : [])],
          nodePool: {
            name: `${s.name}-default`,
            size: s.nodeSize,
            nodeCount: s.nodeCount,
            autoScale: autoscale !== undefined,
            minNodes: autoscale?.minNodes,
            maxNodes: autoscale?.maxNodes,
            labels: { 'cockpit/pool': 'default' },
          },
        },
        {
          parent: this,
          protect: !args.ephemeral,
          // The autoscaler owns the node count once it is on; Pulumi would otherwise scale it back on every run.
          ignoreChanges: autoscale ? ['nodePool.nodeCount'] : [],
        },
      );
      // The kubeconfig stored with the cluster expires after 7 days; fetch a fresh one on every run.
      const fresh = digitalocean.getKubernetesClusterOutput(
        { name: cluster.name, kubeconfigExpireSeconds: KUBECONFIG_TTL_SECONDS },
        { parent: this },
      );
      this.kubeconfig = pulumi.secret(
        fresh.kubeConfigs.apply((configs) => {
          const raw = configs[0]?.rawConfig;
          if (!raw) throw new Error(`DigitalOcean returned no kubeconfig for cluster ${s.name}`);
          return raw;
        }),
      );
      clusterIdentifier = cluster.id;
      this.nodePool = {
        size: s.nodeSize,
        count: s.nodeCount,
        minNodes: autoscale?.minNodes ?? s.nodeCount,
        maxNodes: autoscale?.maxNodes ?? s.nodeCount,
      };
    } else {
      if (!args.kubeconfig) throw new Error('existing-cluster mode needs the kubeconfig secret (cockpit:kubeconfig)');
      this.kubeconfig = pulumi.secret(args.kubeconfig);
      clusterIdentifier = s.name;
    }

    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        kubeconfig: this.kubeconfig,
        // The token inside the kubeconfig changes every run; only a different cluster may replace the provider
        // (and with it every resource deployed through it).
        clusterIdentifier,
        enableServerSideApply: true,
        // An ephemeral cluster may already be gone when its stack is destroyed; forget its objects instead of failing.
        deleteUnreachable: args.ephemeral,
      },
      { parent: this },
    );

    this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig });
  }
}
