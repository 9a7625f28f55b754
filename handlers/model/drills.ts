/** Restore drills: their steps, markers, measurements, and what the cluster reports while one runs. */

/** What started a restore drill: a person, the promotion PR gate, or the weekly schedule. */
export type DrillTrigger = 'manual' | 'gate' | 'schedule';

/** One restore drill's result, as the drill capability records it: the summary other capabilities read. */
export interface DrillRecord {
  stack: string;
  requestId: string;
  startedAt: Date;
  finishedAt: Date;
  outcome: 'passed' | 'failed';
  /** Measured time to restore, seconds: from the restore's start to the data verified. */
  rtoSeconds?: number;
  /** Age of the restored backup at restore time, seconds. */
  rpoSeconds?: number;
  trigger?: DrillTrigger;
  /** Why it failed, in one line. */
  reason?: string;
}

export type DrillStepName = 'marker' | 'backup' | 'restore' | 'verify' | 'cleanup';

/** One step of a drill as it ran. */
export interface DrillStep {
  name: DrillStepName;
  state: 'running' | 'passed' | 'failed' | 'skipped';
  startedAt: Date;
  finishedAt?: Date;
  /** One line a person reads: "drill-x Completed, 2 warnings". */
  detail?: string;
}

/** A marker record a drill wrote into the product's datastore: a restore of any later backup must hold it. */
export interface DrillMarker {
  value: string;
  plantedAt: Date;
  /** The stack whose datastore holds it. */
  stack: string;
  requestId: string;
}

/** The logs a drill kept, and where to fetch the rest: its scratch namespaces are gone once it ends. */
export interface DrillLogs {
  /** The Velero Restore whose log Velero keeps in object storage (fetched on demand). */
  restore?: string;
  /** The last lines of each Job the drill ran, read before the clean-up. */
  jobs: Array<{ name: string; namespace: string; tail: string[] }>;
}

/** A drill whole: the summary, every step, what was restored from where, and what it kept for "Show logs". */
export interface DrillRun extends DrillRecord {
  /** The stack whose cluster the restore ran on; the drilled stack itself unless a drill cluster was used. */
  cluster: string;
  steps: DrillStep[];
  /** Velero's warnings and other things a person should read even when the drill passed. */
  warnings: string[];
  backup?: { name: string; takenAt: Date; fresh: boolean };
  /** The marker the restore was checked for, and whether it was found. */
  marker?: DrillMarker & { found?: boolean };
  /** A marker planted for the next drill (drills of the latest scheduled backup check the previous one). */
  plantedForNext?: DrillMarker;
  logs: DrillLogs;
  /** Scratch namespaces the drill could not delete: someone must. */
  leftBehind: string[];
}

/** Where a drill stands on a cluster: one read of a Kubernetes Job. */
export type DrillJobState = { phase: 'running' } | { phase: 'succeeded' } | { phase: 'failed'; reason: string };

/** A Job the drill runs: planting the marker in the live datastore, or checking the restored one. */
export interface DrillJob {
  namespace: string;
  name: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  /** Secrets of the namespace whose keys become the container's environment (the datastore's credentials). */
  envFromSecrets: string[];
  labels: Record<string, string>;
  /** Kubernetes stops the Job after this long (`activeDeadlineSeconds`). */
  deadlineSeconds: number;
}

/** A Velero Backup or Restore as a drill reads it. */
export interface VeleroOperationState {
  name: string;
  /** Velero's phase, as it writes it: `New`, `InProgress`, `Completed`, `PartiallyFailed`, `Failed`, … */
  phase: string;
  startedAt?: Date;
  completedAt?: Date;
  warnings: number;
  errors: number;
  failureReason?: string;
  validationErrors: string[];
}

/** One volume's data restore (Velero's PodVolumeRestore). */
export interface VolumeRestoreState {
  name: string;
  /** `namespace/pod` the volume belongs to. */
  pod: string;
  volume: string;
  phase: string;
  message?: string;
}

/** A restored workload or volume claim, and whether it is ready (bound, for a claim). */
export interface WorkloadState {
  kind: 'Deployment' | 'StatefulSet' | 'PersistentVolumeClaim';
  name: string;
  ready: boolean;
  /** "1/2 ready", "Pending". */
  detail: string;
}
