import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { type BackupSettings } from '../config';
import { CHARTS, IMAGES, imageName } from '../versions';
import { MANAGED_BY, helmRelease, namespace } from './kube';

export type BackupsArgs = {
  settings: BackupSettings;
  /** Namespaces every scheduled backup covers, volumes included. */
  namespaces: string[];
  accessKeyId: pulumi.Output<string>;
  secretAccessKey: pulumi.Output<string>;
};

export const VELERO_NAMESPACE = 'velero';
export const BACKUP_STORAGE_LOCATION = 'default';
const SCHEDULE_KEY = 'product';
const CREDENTIALS_SECRET = 'velero-credentials';

/** What a restore (or the restore drill) needs to know to find this stack's backups. */
export type BackupSummary = {
  namespace: string;
  storageLocation: string;
  /** The Velero Schedule name; its backups are named `<schedule>-<timestamp>`. */
  schedule: string;
  includedNamespaces: string[];
  retentionDays: number;
};

/**
 * Velero with an S3-compatible object-storage location and a scheduled backup of the product's namespaces.
 * Volumes are copied file by file (kopia, through the node agent) into the same bucket, so a backup restores
 * on any cluster and any provider, not only where a disk snapshot lives.
 */
export class Backups extends pulumi.ComponentResource {
  readonly summary: BackupSummary;

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('cockpit:infra:Backups', name, {}, opts);
    const s = args.settings;

    // The node agent reads pod volumes from the host's kubelet directory.
    const ns = namespace(VELERO_NAMESPACE, { enforce: 'privileged' }, {}, { parent: this });

    const credentials = new k8s.core.v1.Secret(
      'velero-credentials',
      {
        metadata: { name: CREDENTIALS_SECRET, namespace: ns.metadata.name, labels: MANAGED_BY },
        type: 'Opaque',
        stringData: {
          cloud: pulumi.interpolate`[default]\naws_access_key_id=${args.accessKeyId}\naws_secret_access_key=${args.secretAccessKey}\n`,
        },
      },
      { parent: this },
    );

    helmRelease(
      'velero',
      ns,
      CHARTS.velero,
      {
        image: IMAGES.velero,
        initContainers: [
          {
            name: 'velero-plugin-for-aws',
            image: imageName(IMAGES.veleroPluginForAws),
            imagePullPolicy: 'IfNotPresent',
            volumeMounts: [{ mountPath: '/target', name: 'plugins' }],
          },
        ],
        credentials: { useSecret: true, existingSecret: CREDENTIALS_SECRET },
        configuration: {
          backupStorageLocation: [
            {
              name: BACKUP_STORAGE_LOCATION,
              provider: 'aws',
              bucket: s.bucket,
              prefix: s.prefix,
              default: true,
              accessMode: 'ReadWrite',
              config: {
                region: s.region,
                s3Url: s.endpoint,
                // The AWS SDK's default request checksums are rejected by most S3-compatible stores (Spaces, MinIO, R2).
                checksumAlgorithm: '',
              },
            },
            // Another cluster's backups, to restore here (a drill) and never to write or prune: Velero keeps its
            // hands off a ReadOnly location, and its own schedule still writes only to `default`.
            ...s.readOnlyLocations.map((l) => ({
              name: l.name,
              provider: 'aws',
              bucket: s.bucket,
              prefix: l.prefix,
              default: false,
              accessMode: 'ReadOnly',
              config: { region: s.region, s3Url: s.endpoint, checksumAlgorithm: '' },
            })),
          ],
          volumeSnapshotLocation: [],
          uploaderType: 'kopia',
          defaultVolumesToFsBackup: true,
        },
        snapshotsEnabled: false,
        deployNodeAgent: true,
        schedules: {
          [SCHEDULE_KEY]: {
            disabled: false,
            schedule: s.schedule,
            // Deleting the release must not delete the backups it made.
            useOwnerReferencesInBackup: false,
            template: {
              ttl: `${s.retentionDays * 24}h0m0s`,
              storageLocation: BACKUP_STORAGE_LOCATION,
              includedNamespaces: args.namespaces,
              defaultVolumesToFsBackup: true,
              snapshotVolumes: false,
            },
          },
        },
        // The backup alerts read these metrics.
        metrics: { enabled: true, serviceMonitor: { enabled: true }, nodeAgentPodMonitor: { enabled: true } },
      },
      { parent: this, dependsOn: [credentials] },
    );

    this.summary = {
      namespace: VELERO_NAMESPACE,
      storageLocation: BACKUP_STORAGE_LOCATION,
      // The chart names schedules `<release>-<key>`.
      schedule: `velero-${SCHEDULE_KEY}`,
      includedNamespaces: args.namespaces,
      retentionDays: s.retentionDays,
    };
    this.registerOutputs({ summary: this.summary });
  }
}
