import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { renderRuleGroups } from '../alerts/render';
import { type AlertRule, type RecordingRule, type RuleParameters } from '../alerts/rules';
import { MANAGED_BY } from './kube';

export type AlertRulesArgs = {
  namespace: pulumi.Input<string>;
  clusterName: string;
  runbookBaseUrl: string;
  alerts: AlertRule[];
  recordings: RecordingRule[];
  parameters: RuleParameters;
};

/** The product's own alerting and recording rules as one PrometheusRule, rendered from alerts/rules.ts. */
export class AlertRules extends pulumi.ComponentResource {
  constructor(name: string, args: AlertRulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('cockpit:infra:AlertRules', name, {}, opts);

    new k8s.apiextensions.CustomResource(
      'cockpit-rules',
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: 'cockpit-rules', namespace: args.namespace, labels: MANAGED_BY },
        spec: {
          groups: renderRuleGroups(args.alerts, args.recordings, {
            cluster: args.clusterName,
            runbookBaseUrl: args.runbookBaseUrl,
            parameters: args.parameters,
          }),
        },
      },
      { parent: this },
    );

    this.registerOutputs({});
  }
}
