/**
 * The Velero objects a drill reads and writes, as Velero v1.17.1 (infra/versions.ts) defines them in
 * pkg/apis/velero/v1: only the fields Cockpit uses. Times are RFC 3339 strings, durations Go durations ("72h0m0s").
 */

export const VELERO_GROUP = 'velero.io';
export const VELERO_VERSION = 'v1';
/** Labels Velero itself sets (pkg/apis/velero/v1/labels_annotations.go). */
export const SCHEDULE_NAME_LABEL = 'velero.io/schedule-name';
export const RESTORE_NAME_LABEL = 'velero.io/restore-name';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
}

/** BackupSpec: the fields a Schedule's template carries over, and the ones a drill sets. */
export interface BackupSpec {
  includedNamespaces?: string[];
  excludedNamespaces?: string[];
  includedResources?: string[];
  excludedResources?: string[];
  snapshotVolumes?: boolean;
  ttl?: string;
  storageLocation?: string;
  defaultVolumesToFsBackup?: boolean;
  [field: string]: unknown;
}

/** The status both Backup and Restore carry (BackupStatus, RestoreStatus). */
export interface OperationStatus {
  phase?: string;
  validationErrors?: string[];
  startTimestamp?: string;
  completionTimestamp?: string;
  warnings?: number;
  errors?: number;
  failureReason?: string;
}

export interface Backup {
  apiVersion: 'velero.io/v1';
  kind: 'Backup';
  metadata: ObjectMeta;
  spec: BackupSpec;
  status?: OperationStatus;
}

export interface Schedule {
  metadata: ObjectMeta;
  spec: { schedule: string; template: BackupSpec };
}

export interface RestoreSpec {
  backupName: string;
  includedNamespaces?: string[];
  excludedResources?: string[];
  namespaceMapping?: Record<string, string>;
  restorePVs?: boolean;
  existingResourcePolicy?: 'none' | 'update';
}

export interface Restore {
  apiVersion: 'velero.io/v1';
  kind: 'Restore';
  metadata: ObjectMeta;
  spec: RestoreSpec;
  status?: OperationStatus;
}

export interface PodVolumeRestore {
  metadata: ObjectMeta;
  spec: { pod: { namespace?: string; name?: string }; volume: string };
  /** phase: New, Accepted, Prepared, InProgress, Canceling, Canceled, Completed, Failed. */
  status?: { phase?: string; message?: string };
}

export interface DownloadRequest {
  apiVersion: 'velero.io/v1';
  kind: 'DownloadRequest';
  metadata: ObjectMeta;
  spec: { target: { kind: 'RestoreLog' | 'BackupLog' | 'RestoreResults'; name: string } };
  /** phase: New, Processed; `downloadURL` is pre-signed object storage, valid until `expiration`. */
  status?: { phase?: string; downloadURL?: string; expiration?: string };
}

export interface List<T> {
  items: T[];
}
