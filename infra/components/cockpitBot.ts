import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { type BotSettings } from '../config';
import { PRODUCT_TIER_LABEL, PRODUCT_TIER_VALUE } from '../alerts/rules';
import { MANAGED_BY, namespace } from './kube';

export type CockpitBotSecrets = {
  slackBotToken: pulumi.Output<string>;
  slackSigningSecret: pulumi.Output<string>;
  /** The token Alertmanager presents on /hooks/alertmanager. */
  alertmanagerWebhookToken: pulumi.Output<string>;
  /** Postgres for more than one replica; SQLite on a volume without it. */
  databaseUrl?: pulumi.Output<string>;
  pulumiAccessToken?: pulumi.Output<string>;
  digitaloceanToken?: pulumi.Output<string>;
  /** The other stacks' Alertmanager tokens (`dev=…,staging=…`): each carries only its own stack's alerts. */
  alertmanagerWebhookTokens?: pulumi.Output<string>;
};

export type CockpitBotArgs = {
  settings: BotSettings;
  /** Contents of cockpit.yml, the team file. */
  teamConfig: string;
  ingressClassName: string;
  clusterIssuer: string;
  /** Namespace of Velero's objects (Backups, Restores, DownloadRequests), which the restore drill creates. */
  veleroNamespace: string;
  secrets: CockpitBotSecrets;
};

export const BOT_NAMESPACE = 'cockpit';
/** The label a restore drill puts on its scratch namespaces (handlers/drill.ts DRILL_LABEL). */
export const DRILL_LABEL = 'cockpit.dev/drill';

/** A drill's writes beyond `view`: its scratch namespaces, and its marker Jobs (narrowed by DRILL_SCOPE_VALIDATIONS). */
export const DRILL_CLUSTER_RULES = [
  { apiGroups: [''], resources: ['namespaces'], verbs: ['create', 'delete'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] },
];

/** Velero's objects, in Velero's namespace: `view` shows none of them (Velero's CRDs do not aggregate into it). */
export const DRILL_VELERO_RULES = [
  { apiGroups: ['velero.io'], resources: ['backups', 'restores'], verbs: ['get', 'list', 'watch', 'create'] },
  { apiGroups: ['velero.io'], resources: ['schedules', 'backupstoragelocations', 'podvolumerestores'], verbs: ['get', 'list', 'watch'] },
  // `velero restore logs`: a DownloadRequest, which Velero answers with a pre-signed URL.
  { apiGroups: ['velero.io'], resources: ['downloadrequests'], verbs: ['get', 'create'] },
];

/**
 * What the admission policy lets Cockpit's service account do with the rules above: create and delete only
 * namespaces named drill-… with the drill label, and create Jobs only in those and in the product's namespaces,
 * without a service account token.
 */
export const DRILL_SCOPE_VALIDATIONS = [
  {
    expression: `request.resource.resource != 'namespaces' || request.operation != 'CREATE' || (object.metadata.name.startsWith('drill-') && has(object.metadata.labels) && '${DRILL_LABEL}' in object.metadata.labels)`,
    message: 'Cockpit creates only drill namespaces: named drill-…, labelled cockpit.dev/drill.',
  },
  {
    expression: `request.resource.resource != 'namespaces' || request.operation != 'DELETE' || (oldObject.metadata.name.startsWith('drill-') && has(oldObject.metadata.labels) && '${DRILL_LABEL}' in oldObject.metadata.labels)`,
    message: 'Cockpit deletes only its drill namespaces.',
  },
  {
    expression: `request.resource.resource != 'jobs' || (has(namespaceObject.metadata.labels) && ('${DRILL_LABEL}' in namespaceObject.metadata.labels || ('${PRODUCT_TIER_LABEL}' in namespaceObject.metadata.labels && namespaceObject.metadata.labels['${PRODUCT_TIER_LABEL}'] == '${PRODUCT_TIER_VALUE}')))`,
    message: "Cockpit runs Jobs only in its drill namespaces and the product's.",
  },
  {
    expression: `request.resource.resource != 'jobs' || (has(object.spec.template.spec.automountServiceAccountToken) && object.spec.template.spec.automountServiceAccountToken == false)`,
    message: "Cockpit's Jobs run without a service account token.",
  },
];
const APP_LABELS = { 'app.kubernetes.io/name': 'cockpit', 'app.kubernetes.io/component': 'bot' };
const PORT = 3000;
const DATA_DIR = '/var/lib/cockpit';
const TEAM_DIR = '/etc/cockpit';

/**
 * Cockpit itself: the Deployment, its Service, and an Ingress that exposes only what the outside calls (Slack's
 * HTTP events and interactivity under /slack, webhooks under /hooks). Health and metrics stay in the cluster.
 */
export class CockpitBot extends pulumi.ComponentResource {
  readonly url: string;
  readonly replicas: number;

  constructor(name: string, args: CockpitBotArgs, opts?: pulumi.ComponentResourceOptions) {
    super('cockpit:infra:CockpitBot', name, {}, opts);
    const s = args.settings;
    const postgres = args.secrets.databaseUrl !== undefined;
    this.url = `https://${s.host}`;
    this.replicas = s.replicas;
    const child = { parent: this };

    const ns = namespace(BOT_NAMESPACE, { enforce: 'restricted' }, {}, child);
    const nsName = ns.metadata.name;

    const secrets = args.secrets;
    const env = new k8s.core.v1.Secret(
      'cockpit-env',
      {
        // Auto-named: a changed secret gets a new name, and the Deployment rolls onto it.
        metadata: { namespace: nsName, labels: { ...MANAGED_BY, ...APP_LABELS } },
        type: 'Opaque',
        stringData: definedOnly({
          SLACK_BOT_TOKEN: secrets.slackBotToken,
          SLACK_SIGNING_SECRET: secrets.slackSigningSecret,
          ALERTMANAGER_WEBHOOK_TOKEN: secrets.alertmanagerWebhookToken,
          ALERTMANAGER_WEBHOOK_TOKENS: secrets.alertmanagerWebhookTokens,
          DATABASE_URL: secrets.databaseUrl,
          PULUMI_ACCESS_TOKEN: secrets.pulumiAccessToken,
          DIGITALOCEAN_TOKEN: secrets.digitaloceanToken,
        }),
      },
      child,
    );

    const team = new k8s.core.v1.ConfigMap(
      'cockpit-team',
      { metadata: { namespace: nsName, labels: { ...MANAGED_BY, ...APP_LABELS } }, data: { 'cockpit.yml': args.teamConfig } },
      child,
    );

    const data = postgres
      ? undefined
      : new k8s.core.v1.PersistentVolumeClaim(
          'cockpit-data',
          {
            metadata: { name: 'cockpit-data', namespace: nsName, labels: { ...MANAGED_BY, ...APP_LABELS } },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: s.storage } } },
          },
          // The SQLite database is the bot's whole memory (audit log, locks, incidents).
          { ...child, protect: true },
        );

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      'cockpit',
      { metadata: { name: 'cockpit', namespace: nsName, labels: { ...MANAGED_BY, ...APP_LABELS } } },
      child,
    );
    // Read-only view of the cluster: status, and what a restore drill reads (workloads, Jobs, pods and their logs).
    new k8s.rbac.v1.ClusterRoleBinding(
      'cockpit-view',
      {
        metadata: { labels: MANAGED_BY },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'ServiceAccount', name: serviceAccount.metadata.name, namespace: nsName }],
      },
      child,
    );
    // What a restore drill does beyond reading (runbooks/disaster-recovery.md#restore-drill). RBAC cannot scope a
    // create by name, nor anything by namespace labels, so the admission policy below narrows both rules to the
    // drill's own namespaces and Jobs.
    const drillRole = new k8s.rbac.v1.ClusterRole(
      'cockpit-drill',
      { metadata: { labels: MANAGED_BY }, rules: DRILL_CLUSTER_RULES },
      child,
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      'cockpit-drill',
      {
        metadata: { labels: MANAGED_BY },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: drillRole.metadata.name },
        subjects: [{ kind: 'ServiceAccount', name: serviceAccount.metadata.name, namespace: nsName }],
      },
      child,
    );
    const veleroRole = new k8s.rbac.v1.Role(
      'cockpit-velero',
      { metadata: { namespace: args.veleroNamespace, labels: MANAGED_BY }, rules: DRILL_VELERO_RULES },
      child,
    );
    new k8s.rbac.v1.RoleBinding(
      'cockpit-velero',
      {
        metadata: { namespace: args.veleroNamespace, labels: MANAGED_BY },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: veleroRole.metadata.name },
        subjects: [{ kind: 'ServiceAccount', name: serviceAccount.metadata.name, namespace: nsName }],
      },
      child,
    );
    const drillScope = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
      'cockpit-drill-scope',
      {
        metadata: { labels: MANAGED_BY },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'DELETE'], resources: ['namespaces'] },
              { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['jobs'] },
            ],
          },
          matchConditions: [{ name: 'cockpit-service-account', expression: `request.userInfo.username == 'system:serviceaccount:${BOT_NAMESPACE}:cockpit'` }],
          validations: DRILL_SCOPE_VALIDATIONS,
        },
      },
      child,
    );
    new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
      'cockpit-drill-scope',
      { metadata: { labels: MANAGED_BY }, spec: { policyName: drillScope.metadata.name, validationActions: ['Deny'] } },
      child,
    );

    const httpProbe = (path: string, periodSeconds: number, failureThreshold: number) => ({
      httpGet: { path, port: 'http' },
      periodSeconds,
      failureThreshold,
      timeoutSeconds: 3,
    });

    new k8s.apps.v1.Deployment(
      'cockpit',
      {
        metadata: { name: 'cockpit', namespace: nsName, labels: { ...MANAGED_BY, ...APP_LABELS } },
        spec: {
          replicas: s.replicas,
          selector: { matchLabels: APP_LABELS },
          // SQLite on a ReadWriteOnce volume allows one pod at a time; with Postgres, roll without a gap.
          strategy: postgres
            ? { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }
            : { type: 'Recreate' },
          template: {
            metadata: { labels: APP_LABELS },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 1000,
                runAsGroup: 1000,
                fsGroup: 1000,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              topologySpreadConstraints:
                s.replicas > 1
                  ? [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: APP_LABELS } }]
                  : undefined,
              terminationGracePeriodSeconds: 30,
              containers: [
                {
                  name: 'cockpit',
                  image: s.image,
                  ports: [{ name: 'http', containerPort: PORT }],
                  envFrom: [{ secretRef: { name: env.metadata.name } }],
                  env: [
                    { name: 'NODE_ENV', value: 'production' },
                    { name: 'PORT', value: String(PORT) },
                    { name: 'LOG_LEVEL', value: s.logLevel },
                    { name: 'COCKPIT_DATA_DIR', value: DATA_DIR },
                    { name: 'COCKPIT_CONFIG', value: `${TEAM_DIR}/cockpit.yml` },
                    // The Automation API keeps plugins and workspaces here; the root filesystem is read-only.
                    { name: 'PULUMI_HOME', value: '/var/cache/cockpit/pulumi' },
                    { name: 'HOME', value: '/tmp' },
                  ],
                  readinessProbe: httpProbe('/readyz', 10, 3),
                  livenessProbe: httpProbe('/healthz', 20, 3),
                  // Migrations run before the server listens; give start-up its own budget.
                  startupProbe: httpProbe('/healthz', 5, 30),
                  resources: { requests: { cpu: s.cpu, memory: s.memory }, limits: { memory: s.memory } },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ['ALL'] },
                  },
                  volumeMounts: [
                    { name: 'data', mountPath: DATA_DIR },
                    { name: 'team', mountPath: TEAM_DIR, readOnly: true },
                    { name: 'cache', mountPath: '/var/cache/cockpit' },
                    { name: 'tmp', mountPath: '/tmp' },
                  ],
                },
              ],
              volumes: [
                data ? { name: 'data', persistentVolumeClaim: { claimName: data.metadata.name } } : { name: 'data', emptyDir: {} },
                { name: 'team', configMap: { name: team.metadata.name } },
                { name: 'cache', emptyDir: { sizeLimit: '4Gi' } },
                { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
              ],
            },
          },
        },
      },
      child,
    );

    if (s.replicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        'cockpit',
        { metadata: { namespace: nsName, labels: MANAGED_BY }, spec: { minAvailable: 1, selector: { matchLabels: APP_LABELS } } },
        child,
      );
    }

    const service = new k8s.core.v1.Service(
      'cockpit',
      {
        metadata: { name: 'cockpit', namespace: nsName, labels: { ...MANAGED_BY, ...APP_LABELS } },
        spec: { selector: APP_LABELS, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      },
      child,
    );

    new k8s.networking.v1.Ingress(
      'cockpit',
      {
        metadata: {
          name: 'cockpit',
          namespace: nsName,
          labels: MANAGED_BY,
          annotations: { 'cert-manager.io/cluster-issuer': args.clusterIssuer },
        },
        spec: {
          ingressClassName: args.ingressClassName,
          tls: [{ hosts: [s.host], secretName: 'cockpit-tls' }],
          rules: [
            {
              host: s.host,
              http: {
                paths: ['/slack', '/hooks'].map((path) => ({
                  path,
                  pathType: 'Prefix',
                  backend: { service: { name: service.metadata.name, port: { name: 'http' } } },
                })),
              },
            },
          ],
        },
      },
      child,
    );

    new k8s.apiextensions.CustomResource(
      'cockpit-monitor',
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'cockpit', namespace: nsName, labels: MANAGED_BY },
        spec: {
          selector: { matchLabels: APP_LABELS },
          namespaceSelector: { matchNames: [BOT_NAMESPACE] },
          endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }],
        },
      },
      child,
    );

    this.registerOutputs({ url: this.url, replicas: this.replicas });
  }
}

function definedOnly<T>(record: Record<string, T | undefined>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter((e): e is [string, T] => e[1] !== undefined));
}
