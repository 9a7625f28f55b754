/**
 * The shapes of the Velero objects a drill creates, as Velero v1.17.1 (infra/versions.ts) defines them in
 * pkg/apis/velero/v1: the fields each spec accepts and their types, and the phases each status can take. The fake
 * cluster refuses a field Velero does not define (as the API server does with strict field validation), a value
 * of the wrong type, and a missing required field, so a typo in the adapter fails a test instead of a real drill.
 */

export type Shape =
  | { type: 'string'; enum?: readonly string[]; pattern?: RegExp }
  | { type: 'boolean' }
  | { type: 'integer' }
  | { type: 'duration' }
  | { type: 'array'; items: Shape }
  | { type: 'map'; values: Shape }
  | { type: 'object'; fields: Record<string, Shape>; required?: readonly string[]; open?: boolean };

const str: Shape = { type: 'string' };
const bool: Shape = { type: 'boolean' };
const int: Shape = { type: 'integer' };
const duration: Shape = { type: 'duration' };
const strings: Shape = { type: 'array', items: str };
const labels: Shape = { type: 'map', values: str };
const labelSelector: Shape = {
  type: 'object',
  fields: {
    matchLabels: labels,
    matchExpressions: { type: 'array', items: { type: 'object', fields: { key: str, operator: str, values: strings }, required: ['key', 'operator'] } },
  },
};
// Hooks and resource policies are Velero's own nested types; a drill never sets them, so they are taken as they come.
const opaque: Shape = { type: 'object', fields: {}, open: true };

/** BackupPhase's kubebuilder enum. */
export const BACKUP_PHASES = ['New', 'FailedValidation', 'InProgress', 'WaitingForPluginOperations', 'WaitingForPluginOperationsPartiallyFailed', 'Finalizing', 'FinalizingPartiallyFailed', 'Completed', 'PartiallyFailed', 'Failed', 'Deleting'] as const;
/** RestorePhase's kubebuilder enum. */
export const RESTORE_PHASES = ['New', 'FailedValidation', 'InProgress', 'WaitingForPluginOperations', 'WaitingForPluginOperationsPartiallyFailed', 'Completed', 'PartiallyFailed', 'Failed', 'Finalizing', 'FinalizingPartiallyFailed'] as const;
/** PodVolumeRestorePhase's kubebuilder enum (1.17 added Accepted, Prepared, Canceling, Canceled). */
export const POD_VOLUME_RESTORE_PHASES = ['New', 'Accepted', 'Prepared', 'InProgress', 'Canceling', 'Canceled', 'Completed', 'Failed'] as const;
/** DownloadTargetKind's kubebuilder enum. */
export const DOWNLOAD_TARGET_KINDS = [
  'BackupLog', 'BackupContents', 'BackupVolumeSnapshots', 'BackupItemOperations', 'BackupResourceList', 'BackupResults',
  'RestoreLog', 'RestoreResults', 'RestoreResourceList', 'RestoreItemOperations', 'CSIBackupVolumeSnapshots',
  'CSIBackupVolumeSnapshotContents', 'BackupVolumeInfos', 'RestoreVolumeInfo',
] as const;

/** BackupSpec (backup_types.go). */
export const BACKUP_SPEC: Shape = {
  type: 'object',
  fields: {
    metadata: { type: 'object', fields: { labels } },
    includedNamespaces: strings,
    excludedNamespaces: strings,
    includedResources: strings,
    excludedResources: strings,
    includedClusterScopedResources: strings,
    excludedClusterScopedResources: strings,
    includedNamespaceScopedResources: strings,
    excludedNamespaceScopedResources: strings,
    labelSelector,
    orLabelSelectors: { type: 'array', items: labelSelector },
    snapshotVolumes: bool,
    ttl: duration,
    volumeGroupSnapshotLabelKey: str,
    includeClusterResources: bool,
    hooks: opaque,
    storageLocation: str,
    volumeSnapshotLocations: strings,
    defaultVolumesToRestic: bool,
    defaultVolumesToFsBackup: bool,
    orderedResources: labels,
    csiSnapshotTimeout: duration,
    itemOperationTimeout: duration,
    resourcePolicy: opaque,
    snapshotMoveData: bool,
    datamover: str,
    uploaderConfig: { type: 'object', fields: { parallelFilesUpload: int } },
  },
};

/** RestoreSpec (restore_types.go). */
export const RESTORE_SPEC: Shape = {
  type: 'object',
  fields: {
    backupName: str,
    scheduleName: str,
    includedNamespaces: strings,
    excludedNamespaces: strings,
    includedResources: strings,
    excludedResources: strings,
    namespaceMapping: labels,
    labelSelector,
    orLabelSelectors: { type: 'array', items: labelSelector },
    restorePVs: bool,
    restoreStatus: { type: 'object', fields: { includedResources: strings, excludedResources: strings } },
    preserveNodePorts: bool,
    includeClusterResources: bool,
    hooks: opaque,
    existingResourcePolicy: { type: 'string', enum: ['none', 'update'] },
    itemOperationTimeout: duration,
    resourceModifier: opaque,
    uploaderConfig: { type: 'object', fields: { writeSparseFiles: bool, parallelFilesDownload: int } },
  },
};

/** DownloadRequestSpec (download_request_types.go). */
export const DOWNLOAD_REQUEST_SPEC: Shape = {
  type: 'object',
  required: ['target'],
  fields: { target: { type: 'object', required: ['kind', 'name'], fields: { kind: { type: 'string', enum: DOWNLOAD_TARGET_KINDS }, name: str } } },
};

/** Go's time.ParseDuration accepts "72h0m0s", "1h30m", "90s"; Velero's CLI writes the first form. */
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/** Every way `value` breaks `shape`, as `path: problem`. */
export function checkShape(value: unknown, shape: Shape, path: string): string[] {
  if (value === undefined || value === null) return [];
  switch (shape.type) {
    case 'string':
      if (typeof value !== 'string') return [`${path}: must be a string`];
      if (shape.enum && !shape.enum.includes(value)) return [`${path}: "${value}" is not one of ${shape.enum.join(', ')}`];
      if (shape.pattern && !shape.pattern.test(value)) return [`${path}: "${value}" does not match ${shape.pattern}`];
      return [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: must be a boolean`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${path}: must be an integer`];
    case 'duration':
      return typeof value === 'string' && GO_DURATION.test(value) ? [] : [`${path}: must be a Go duration like 72h0m0s`];
    case 'array':
      return Array.isArray(value) ? value.flatMap((v, i) => checkShape(v, shape.items, `${path}[${i}]`)) : [`${path}: must be an array`];
    case 'map':
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: must be an object`];
      return Object.entries(value).flatMap(([k, v]) => checkShape(v, shape.values, `${path}.${k}`));
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: must be an object`];
      const record = value as Record<string, unknown>;
      const problems = (shape.required ?? []).filter((k) => record[k] === undefined).map((k) => `${path}.${k}: required`);
      for (const [k, v] of Object.entries(record)) {
        const field = shape.fields[k];
        if (!field) {
          if (!shape.open) problems.push(`${path}: unknown field "${k}"`);
          continue;
        }
        problems.push(...checkShape(v, field, `${path}.${k}`));
      }
      return problems;
    }
  }
}
