import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { PRODUCT_TIER_LABEL, PRODUCT_TIER_VALUE } from '../alerts/rules';
import { MANAGED_BY, namespace } from './kube';

export type ProductEnvironmentArgs = {
  stack: string;
  clusterName: string;
  namespaces: string[];
  /** Turns on the "ALPHA VERSION — NO SUPPORT" banner in the product. */
  alphaBanner: boolean;
};

export const ALPHA_BANNER_TEXT = 'ALPHA VERSION — NO SUPPORT';
/** ConfigMap each product Deployment loads with `envFrom: [{configMapRef: {name: product-environment}}]`. */
export const PRODUCT_ENVIRONMENT_CONFIGMAP = 'product-environment';

/**
 * The product's namespaces, labelled so the product alerts, dashboards and backups find them, and in each a
 * ConfigMap that tells the product where it runs. `PRODUCT_BANNER` is present only when the stack turns the
 * banner on, so the product shows a banner exactly when the variable is set.
 */
export class ProductEnvironment extends pulumi.ComponentResource {
  readonly namespaces: string[];
  readonly banner: string | undefined;

  constructor(name: string, args: ProductEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super('cockpit:infra:ProductEnvironment', name, {}, opts);
    this.namespaces = args.namespaces;
    this.banner = args.alphaBanner ? ALPHA_BANNER_TEXT : undefined;

    for (const nsName of args.namespaces) {
      // The product team owns its workloads: warn and audit at `restricted`, do not reject their pods.
      const ns = namespace(nsName, { warnOnly: true }, { [PRODUCT_TIER_LABEL]: PRODUCT_TIER_VALUE }, { parent: this });
      new k8s.core.v1.ConfigMap(
        `${nsName}-${PRODUCT_ENVIRONMENT_CONFIGMAP}`,
        {
          metadata: { name: PRODUCT_ENVIRONMENT_CONFIGMAP, namespace: ns.metadata.name, labels: MANAGED_BY },
          data: {
            ENVIRONMENT: args.stack,
            CLUSTER: args.clusterName,
            ...(this.banner !== undefined ? { PRODUCT_BANNER: this.banner } : {}),
          },
        },
        { parent: this },
      );
    }

    this.registerOutputs({ namespaces: this.namespaces, banner: this.banner });
  }
}
