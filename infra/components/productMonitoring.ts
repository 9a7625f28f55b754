import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { PRODUCT_TIER_LABEL, PRODUCT_TIER_VALUE } from '../alerts/rules';
import { type ProductService } from '../config';
import { productDashboard } from '../dashboards/product';
import { MANAGED_BY, dashboardConfigMap } from './kube';

export type ProductMonitoringArgs = {
  services: ProductService[];
  /** Where the Grafana dashboards live (the monitoring namespace). */
  dashboardNamespace: pulumi.Input<string>;
};

/**
 * Product-level monitoring: a ServiceMonitor for each of the product's services and the product SLO dashboard.
 * Every product target gets the `cockpit_tier="product"` label, which the SLO rules and dashboards select on.
 */
export class ProductMonitoring extends pulumi.ComponentResource {
  constructor(name: string, args: ProductMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('cockpit:infra:ProductMonitoring', name, {}, opts);

    for (const svc of args.services) {
      new k8s.apiextensions.CustomResource(
        `${svc.namespace}-${svc.name}-monitor`,
        {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'ServiceMonitor',
          metadata: { name: svc.name, namespace: svc.namespace, labels: MANAGED_BY },
          spec: {
            selector: { matchLabels: svc.selector },
            namespaceSelector: { matchNames: [svc.namespace] },
            endpoints: [
              {
                port: svc.port,
                path: svc.path,
                interval: svc.interval,
                relabelings: [{ action: 'replace', targetLabel: PRODUCT_TIER_LABEL.replace(/-/g, '_'), replacement: PRODUCT_TIER_VALUE }],
              },
            ],
          },
        },
        { parent: this },
      );
    }

    dashboardConfigMap('cockpit-product-slo', args.dashboardNamespace, 'Product', productDashboard(), { parent: this });

    this.registerOutputs({});
  }
}
