import type * as pulumi from '@pulumi/pulumi';
import { ALERT_RULES, RECORDING_RULES } from './alerts/rules';
import { loadStackConfig } from './config';
import { AlertRules } from './components/alertRules';
import { Backups, VELERO_NAMESPACE } from './components/backups';
import { Cluster } from './components/cluster';
import { BOT_NAMESPACE, CockpitBot } from './components/cockpitBot';
import { Ingress } from './components/ingress';
import { Logging } from './components/logging';
import { Monitoring } from './components/monitoring';
import { ProductEnvironment } from './components/productEnvironment';
import { ProductMonitoring } from './components/productMonitoring';

/**
 * The Cockpit infrastructure program: one Kubernetes cluster per stack (dev, integration, staging, prod), with
 * monitoring, logs, backups, the way in, and the bot. Every difference between stacks comes from
 * Pulumi.<stack>.yaml through loadStackConfig; nothing below asks which stack it is.
 *
 * Pulumi calls the exported function and publishes what it returns as the stack outputs.
 */
async function cockpitInfra() {
  const config = loadStackConfig();
  const { secrets } = config;

  const cluster = new Cluster('cluster', {
    settings: config.cluster,
    stack: config.stack,
    ephemeral: config.ephemeral,
    kubeconfig: secrets.kubeconfig,
  });
  const inCluster: pulumi.ComponentResourceOptions = { providers: [cluster.provider] };
  const clusterName = cluster.clusterName;

  const monitoring = new Monitoring(
    'monitoring',
    {
      clusterName,
      settings: config.monitoring,
      alerting: config.alerting,
      webhookToken: secrets.alertmanagerWebhookToken,
      grafanaAdminPassword: secrets.grafanaAdminPassword,
    },
    inCluster,
  );
  // Everything below declares ServiceMonitors or PrometheusRules, whose CRDs the monitoring release installs.
  const afterMonitoring: pulumi.ComponentResourceOptions = { ...inCluster, dependsOn: [monitoring.release] };

  new AlertRules(
    'alert-rules',
    {
      namespace: monitoring.namespace,
      clusterName,
      runbookBaseUrl: config.alerting.runbookBaseUrl,
      alerts: ALERT_RULES,
      recordings: RECORDING_RULES,
      parameters: { backupMaxAgeSeconds: config.backups.maxAgeSeconds },
    },
    afterMonitoring,
  );

  const ingress = new Ingress('ingress', { settings: config.ingress }, afterMonitoring);

  const product = new ProductEnvironment(
    'product',
    {
      stack: config.stack,
      clusterName,
      namespaces: config.product.namespaces,
      alphaBanner: config.product.alphaBanner,
    },
    inCluster,
  );
  new ProductMonitoring(
    'product-monitoring',
    { services: config.product.services, dashboardNamespace: monitoring.namespace },
    { ...inCluster, dependsOn: [monitoring.release, product] },
  );

  new Logging('logging', { clusterName, settings: config.logging }, inCluster);

  const bot = config.bot;
  const botSecrets = secrets.bot;
  const backups = new Backups(
    'backups',
    {
      settings: config.backups,
      namespaces: [...config.product.namespaces, ...(bot.enabled ? [BOT_NAMESPACE] : [])],
      accessKeyId: secrets.backupAccessKeyId,
      secretAccessKey: secrets.backupSecretAccessKey,
    },
    afterMonitoring,
  );

  let cockpit: CockpitBot | undefined;
  if (bot.enabled && botSecrets && config.teamConfig !== undefined) {
    cockpit = new CockpitBot(
      'cockpit',
      {
        settings: bot,
        teamConfig: config.teamConfig,
        ingressClassName: ingress.className,
        clusterIssuer: ingress.clusterIssuer,
        veleroNamespace: VELERO_NAMESPACE,
        secrets: { ...botSecrets, alertmanagerWebhookToken: secrets.alertmanagerWebhookToken },
      },
      // The Ingress needs the ClusterIssuer, and the Velero role its namespace.
      { ...afterMonitoring, dependsOn: [monitoring.release, ingress, backups] },
    );
  }

  return {
    clusterName,
    ephemeral: config.ephemeral,
    /** Secret: `pulumi stack output kubeconfig --show-secrets > kubeconfig`. Managed clusters' tokens last 6 hours. */
    kubeconfig: cluster.kubeconfig,
    nodePool: cluster.nodePool ?? null,
    productNamespaces: product.namespaces,
    productBanner: product.banner ?? null,
    backups: backups.summary,
    cockpit: cockpit ? { url: cockpit.url, replicas: cockpit.replicas } : null,
  };
}

export = cockpitInfra;
