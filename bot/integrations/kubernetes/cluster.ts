import { gunzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { ApiException, AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Job } from '@kubernetes/client-node';
import { DRILL_LABEL, DRILL_REQUEST_ANNOTATION } from '../../../handlers/drill';
import { UnavailableError } from '../../../handlers/errors';
import type { DrillCluster } from '../../../handlers/ports';
import type { DrillJob, DrillJobState, VeleroOperationState, VolumeRestoreState, WorkloadState } from '../../../handlers/model/drills';
import {
  RESTORE_NAME_LABEL,
  SCHEDULE_NAME_LABEL,
  VELERO_GROUP,
  VELERO_VERSION,
  type Backup,
  type DownloadRequest,
  type List,
  type OperationStatus,
  type PodVolumeRestore,
  type Restore,
  type Schedule,
} from './velero';

export interface KubernetesClusterDeps {
  /** Fetches Velero's pre-signed log URLs (object storage, not the API server). */
  fetch: typeof fetch;
  /** Waits between reads of a DownloadRequest. */
  sleep(ms: number): Promise<void>;
}

/** A log Cockpit reads whole is cut to its end: the errors are there, and Slack shows little. */
const MAX_LOG_BYTES = 2 * 1024 * 1024;
const JOB_TTL_SECONDS = 3600;

/**
 * A drill's view of one cluster through @kubernetes/client-node: Velero's objects as custom objects of
 * `velero.io/v1` in Velero's namespace, Jobs, Pods and their logs, the restored workloads. Reads of an object
 * that is not there answer undefined; every other refusal is an UnavailableError naming what was refused.
 */
export class KubernetesDrillCluster implements DrillCluster {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly batch: BatchV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(
    config: KubeConfig,
    readonly description: string,
    private readonly veleroNamespace: string,
    private readonly deps: KubernetesClusterDeps,
  ) {
    this.core = config.makeApiClient(CoreV1Api);
    this.apps = config.makeApiClient(AppsV1Api);
    this.batch = config.makeApiClient(BatchV1Api);
    this.custom = config.makeApiClient(CustomObjectsApi);
  }

  async createNamespace(name: string, metadata: { labels: Record<string, string>; annotations: Record<string, string> }): Promise<void> {
    await this.call(`create namespace ${name}`, () =>
      this.core.createNamespace({
        // Restored workloads are someone's product: warn at `restricted` as the live product namespaces do, never reject.
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...metadata.labels, 'pod-security.kubernetes.io/warn': 'restricted' }, annotations: metadata.annotations } },
      }),
    );
  }

  async deleteNamespace(name: string): Promise<boolean> {
    const done = await this.read(`delete namespace ${name}`, () => this.core.deleteNamespace({ name, propagationPolicy: 'Background' }));
    return done !== undefined;
  }

  async namespaceExists(name: string): Promise<boolean> {
    return (await this.read(`read namespace ${name}`, () => this.core.readNamespace({ name }))) !== undefined;
  }

  async drillNamespaces(): Promise<Array<{ name: string; requestId?: string }>> {
    const list = await this.call('list drill namespaces', () => this.core.listNamespace({ labelSelector: DRILL_LABEL }));
    return list.items.flatMap((ns) => (ns.metadata?.name ? [{ name: ns.metadata.name, requestId: ns.metadata.annotations?.[DRILL_REQUEST_ANNOTATION] }] : []));
  }

  async startJob(job: DrillJob): Promise<void> {
    const body: V1Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: job.name, namespace: job.namespace, labels: job.labels },
      spec: {
        // One try: a second would plant a second marker, and a failure must be read, not retried away.
        backoffLimit: 0,
        activeDeadlineSeconds: job.deadlineSeconds,
        // The drill reads the log at once; Kubernetes removes the Job (and its pod) an hour later.
        ttlSecondsAfterFinished: JOB_TTL_SECONDS,
        template: {
          metadata: { labels: job.labels },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'marker',
                image: job.image,
                command: job.command,
                env: Object.entries(job.env).map(([name, value]) => ({ name, value })),
                envFrom: job.envFromSecrets.map((name) => ({ secretRef: { name } })),
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
                resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              },
            ],
          },
        },
      },
    };
    await this.call(`create job ${job.namespace}/${job.name}`, () => this.batch.createNamespacedJob({ namespace: job.namespace, body }));
  }

  async job(namespace: string, name: string): Promise<DrillJobState> {
    const job = await this.read(`read job ${namespace}/${name}`, () => this.batch.readNamespacedJob({ namespace, name }));
    if (!job) return { phase: 'failed', reason: 'the Job is gone' };
    const conditions = job.status?.conditions ?? [];
    const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
    if (failed) return { phase: 'failed', reason: [failed.reason, failed.message].filter(Boolean).join(': ') || 'failed' };
    if (conditions.some((c) => c.type === 'Complete' && c.status === 'True') || (job.status?.succeeded ?? 0) > 0) return { phase: 'succeeded' };
    if ((job.status?.failed ?? 0) > 0) return { phase: 'failed', reason: 'its pod failed' };
    return { phase: 'running' };
  }

  async jobLog(namespace: string, name: string): Promise<string> {
    const pods = await this.call(`list the pods of job ${namespace}/${name}`, () => this.core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` }));
    const newest = pods.items.sort((a, b) => time(b.metadata?.creationTimestamp) - time(a.metadata?.creationTimestamp))[0];
    if (!newest?.metadata?.name) return '';
    const podName = newest.metadata.name;
    return (await this.read(`read the log of ${namespace}/${podName}`, () => this.core.readNamespacedPodLog({ namespace, name: podName, tailLines: 200 }))) ?? '';
  }

  async startBackup(request: { name: string; schedule: string; namespaces: string[]; ttlHours: number; labels: Record<string, string> }): Promise<void> {
    const schedule = await this.readVelero<Schedule>('schedules', request.schedule);
    if (!schedule) throw new UnavailableError(`Velero has no Schedule ${request.schedule} in ${this.veleroNamespace} to copy a backup from.`);
    const body: Backup = {
      apiVersion: 'velero.io/v1',
      kind: 'Backup',
      // Not labelled with the schedule's name: a drill's backup must not pass for a scheduled one (the
      // VeleroBackupTooOld alert and "latest" drills count only the schedule's own).
      metadata: { name: request.name, namespace: this.veleroNamespace, labels: request.labels },
      spec: { ...schedule.spec.template, includedNamespaces: request.namespaces, ttl: `${request.ttlHours}h0m0s` },
    };
    await this.createVelero('backups', body);
  }

  async backup(name: string): Promise<VeleroOperationState | undefined> {
    const backup = await this.readVelero<Backup>('backups', name);
    return backup && operation(backup.metadata.name, backup.status);
  }

  async latestBackup(schedule: string, storageLocation?: string): Promise<VeleroOperationState | undefined> {
    const list = await this.listVelero<Backup>('backups', `${SCHEDULE_NAME_LABEL}=${schedule}`);
    const newest = list.items
      .filter((b) => storageLocation === undefined || b.spec.storageLocation === storageLocation)
      .sort((a, b) => time(b.status?.startTimestamp ?? b.metadata.creationTimestamp) - time(a.status?.startTimestamp ?? a.metadata.creationTimestamp))[0];
    return newest && operation(newest.metadata.name, newest.status);
  }

  async startRestore(request: { name: string; backup: string; namespaceMapping: Record<string, string>; excludedResources: string[]; labels: Record<string, string> }): Promise<void> {
    const body: Restore = {
      apiVersion: 'velero.io/v1',
      kind: 'Restore',
      metadata: { name: request.name, namespace: this.veleroNamespace, labels: request.labels },
      spec: {
        backupName: request.backup,
        // Only the mapped namespaces: anything else in the backup (Cockpit's own namespace) would land on the live one.
        includedNamespaces: Object.keys(request.namespaceMapping),
        namespaceMapping: request.namespaceMapping,
        excludedResources: request.excludedResources,
        restorePVs: true,
        existingResourcePolicy: 'none',
      },
    };
    await this.createVelero('restores', body);
  }

  async restore(name: string): Promise<VeleroOperationState | undefined> {
    const restore = await this.readVelero<Restore>('restores', name);
    return restore && operation(restore.metadata.name, restore.status);
  }

  async volumeRestores(restore: string): Promise<VolumeRestoreState[]> {
    const list = await this.listVelero<PodVolumeRestore>('podvolumerestores', `${RESTORE_NAME_LABEL}=${restore}`);
    return list.items.map((v) => ({
      name: v.metadata.name,
      pod: `${v.spec.pod.namespace ?? '?'}/${v.spec.pod.name ?? '?'}`,
      volume: v.spec.volume,
      phase: v.status?.phase ?? 'New',
      ...(v.status?.message ? { message: v.status.message } : {}),
    }));
  }

  async workloads(namespace: string): Promise<WorkloadState[]> {
    const [deployments, statefulSets, claims] = await Promise.all([
      this.call(`list deployments in ${namespace}`, () => this.apps.listNamespacedDeployment({ namespace })),
      this.call(`list statefulsets in ${namespace}`, () => this.apps.listNamespacedStatefulSet({ namespace })),
      this.call(`list persistentvolumeclaims in ${namespace}`, () => this.core.listNamespacedPersistentVolumeClaim({ namespace })),
    ]);
    const replicated = (kind: 'Deployment' | 'StatefulSet', w: { metadata?: { name?: string }; spec?: { replicas?: number }; status?: { readyReplicas?: number } }): WorkloadState => {
      const want = w.spec?.replicas ?? 1;
      const ready = w.status?.readyReplicas ?? 0;
      return { kind, name: w.metadata?.name ?? '?', ready: ready >= want, detail: `${ready}/${want} ready` };
    };
    return [
      ...deployments.items.map((d) => replicated('Deployment', d)),
      ...statefulSets.items.map((s) => replicated('StatefulSet', s)),
      ...claims.items.map((c): WorkloadState => ({ kind: 'PersistentVolumeClaim', name: c.metadata?.name ?? '?', ready: c.status?.phase === 'Bound', detail: c.status?.phase ?? 'Pending' })),
    ];
  }

  /** `velero restore logs`: a DownloadRequest, then the pre-signed URL Velero answers with, gunzipped. */
  async restoreLog(restore: string): Promise<string> {
    const name = `${restore.slice(0, 40)}-log-${randomBytes(3).toString('hex')}`;
    const body: DownloadRequest = { apiVersion: 'velero.io/v1', kind: 'DownloadRequest', metadata: { name, namespace: this.veleroNamespace }, spec: { target: { kind: 'RestoreLog', name: restore } } };
    await this.createVelero('downloadrequests', body);
    let url: string | undefined;
    for (let attempt = 0; attempt < 20 && !url; attempt++) {
      const request = await this.readVelero<DownloadRequest>('downloadrequests', name);
      if (request?.status?.phase === 'Processed') {
        if (!request.status.downloadURL) throw new UnavailableError(`Velero has no log of restore ${restore} (its backup storage location may be unavailable).`);
        url = request.status.downloadURL;
      } else {
        await this.deps.sleep(500);
      }
    }
    if (!url) throw new UnavailableError(`Velero did not answer the request for the log of ${restore} within 10 s.`);
    // The URL is pre-signed: it carries its own credentials, and must never get the API server's token.
    const res = await this.deps.fetch(url, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new UnavailableError(`The object storage refused the log of ${restore}: HTTP ${res.status}.`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes, { maxOutputLength: MAX_LOG_BYTES * 4 }) : bytes).toString('utf8');
    return text.length > MAX_LOG_BYTES ? text.slice(-MAX_LOG_BYTES) : text;
  }

  // --- Velero's custom objects ----------------------------------------------------------------------------------

  private readVelero<T>(plural: string, name: string): Promise<T | undefined> {
    return this.read(`read ${plural}.velero.io ${name}`, () => this.custom.getNamespacedCustomObject({ group: VELERO_GROUP, version: VELERO_VERSION, namespace: this.veleroNamespace, plural, name }) as Promise<T>);
  }

  private listVelero<T>(plural: string, labelSelector: string): Promise<List<T>> {
    return this.call(`list ${plural}.velero.io`, () => this.custom.listNamespacedCustomObject({ group: VELERO_GROUP, version: VELERO_VERSION, namespace: this.veleroNamespace, plural, labelSelector }) as Promise<List<T>>);
  }

  private async createVelero(plural: string, body: { metadata: { name: string } }): Promise<void> {
    await this.call(`create ${plural}.velero.io ${body.metadata.name}`, () => this.custom.createNamespacedCustomObject({ group: VELERO_GROUP, version: VELERO_VERSION, namespace: this.veleroNamespace, plural, body }));
  }

  /** A read whose 404 means "not there". */
  private async read<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw refusal(what, err, this.description);
    }
  }

  private async call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw refusal(what, err, this.description);
    }
  }
}

function operation(name: string, status: OperationStatus | undefined): VeleroOperationState {
  return {
    name,
    phase: status?.phase || 'New',
    ...(status?.startTimestamp ? { startedAt: new Date(status.startTimestamp) } : {}),
    ...(status?.completionTimestamp ? { completedAt: new Date(status.completionTimestamp) } : {}),
    warnings: status?.warnings ?? 0,
    errors: status?.errors ?? 0,
    ...(status?.failureReason ? { failureReason: status.failureReason } : {}),
    validationErrors: status?.validationErrors ?? [],
  };
}

function time(value: string | Date | undefined): number {
  return value === undefined ? 0 : new Date(value).getTime();
}

/** The API server's own message (a Status object's), never the request: it carries no credentials. */
function refusal(what: string, err: unknown, cluster: string): UnavailableError {
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    // The generated client drops the body of a 401; its Status would only say "Unauthorized" anyway.
    const message =
      body && typeof body === 'object' && 'message' in body
        ? String((body as { message: unknown }).message)
        : err.code === 401
          ? 'Unauthorized: the kubeconfig’s credentials were refused (expired, or for another cluster)'
          : `HTTP ${err.code}`;
    return new UnavailableError(`Kubernetes refused to ${what} (${err.code}): ${message}`, `On ${cluster}.`);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new UnavailableError(`Cannot ${what}: ${message}`, `On ${cluster}: is the cluster reachable, and its kubeconfig current?`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
