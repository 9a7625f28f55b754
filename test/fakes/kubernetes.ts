import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BACKUP_SPEC, checkShape, DOWNLOAD_REQUEST_SPEC, RESTORE_SPEC } from './veleroShapes';

/**
 * A fake Kubernetes API server on loopback (HTTPS with a throwaway CA when `openssl` is there), reached by the
 * real @kubernetes/client-node through a kubeconfig. Behind the API sit small stand-ins for the controllers a
 * drill depends on, driven by the test's clock: Velero's backup and restore controllers (phases advancing over
 * time, namespace mapping, PodVolumeRestores, DownloadRequests served as gzipped logs), the Job controller (a
 * marker Job "runs" the product's marker tool against a modelled datastore), the namespace controller, and
 * workloads becoming ready. A scenario tells it to end PartiallyFailed, lose the marker, hang, or fail to delete.
 *
 * Requests are checked as the API server would: the bearer token, RBAC (the rules the test grants, on top of a
 * read-only `view`), names, required fields, and Velero specs against their v1.17.1 shapes (veleroShapes.ts).
 * Every refusal is also recorded, so `assertNoViolations()` fails a test whose code swallowed the error.
 */

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** What the token may do beyond `view`: cluster-wide rules (a ClusterRole) and rules per namespace (Roles). */
export interface Grants {
  cluster: PolicyRule[];
  namespaced: Record<string, PolicyRule[]>;
}

export interface ProductSeed {
  namespace: string;
  deployments?: Array<{ name: string; replicas: number }>;
  statefulSets?: Array<{ name: string; replicas: number; volumes?: string[] }>;
  ingresses?: string[];
  /** What the product's datastore in this namespace holds, as its marker tool reports it. */
  datastore?: { counts: Record<string, number>; checksums: Record<string, string> };
}

export interface Scenario {
  backupSeconds: number;
  restoreSeconds: number;
  /** From a restore's end until its workloads are ready. */
  readySeconds: number;
  jobSeconds: number;
  deleteSeconds: number;
  backupEnds: 'Completed' | 'PartiallyFailed' | 'Failed';
  backupWarnings: number;
  restoreEnds: 'Completed' | 'PartiallyFailed' | 'Failed';
  restoreWarnings: number;
  restoreErrors: number;
  /** How the restore's PodVolumeRestores end. */
  volumeRestoresEnd: 'Completed' | 'Failed' | 'InProgress';
  /** The restore brings the data back without the marker (or with fewer rows). */
  lose?: 'marker' | 'rows';
  /** Never leaves its running phase. */
  hang?: 'backup' | 'restore' | 'ready' | 'job';
  /** DELETE of a namespace is forbidden, or the namespace never finishes terminating. */
  deletion: 'works' | 'forbidden' | 'stuck';
  /** A marker Job exits 1. */
  jobFails?: 'plant' | 'verify';
}

export const DEFAULT_SCENARIO: Scenario = {
  backupSeconds: 40,
  restoreSeconds: 90,
  readySeconds: 30,
  jobSeconds: 10,
  deleteSeconds: 5,
  backupEnds: 'Completed',
  backupWarnings: 0,
  restoreEnds: 'Completed',
  restoreWarnings: 0,
  restoreErrors: 0,
  volumeRestoresEnd: 'Completed',
  deletion: 'works',
};

export interface FakeKubernetesOptions {
  now: () => Date;
  token?: string;
  /** Absent: every request is allowed (RBAC is not what the test is about). */
  grants?: Grants;
  veleroNamespace?: string;
  products?: ProductSeed[];
  /** The Velero Schedule whose template a fresh backup copies; default `velero-product` over the products' namespaces. */
  schedule?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  body?: unknown;
}

type Meta = {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
};

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [hidden: `_${string}`]: unknown;
};

type Datastore = { markers: string[]; counts: Record<string, number>; checksums: Record<string, string> };
type Snapshot = { namespaces: string[]; objects: Obj[]; data: Record<string, Datastore> };

/** group/resource → kind, for the resources this fake keeps. */
const KINDS: Record<string, { kind: string; apiVersion: string; namespaced: boolean }> = {
  '/namespaces': { kind: 'Namespace', apiVersion: 'v1', namespaced: false },
  '/pods': { kind: 'Pod', apiVersion: 'v1', namespaced: true },
  '/persistentvolumeclaims': { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespaced: true },
  '/secrets': { kind: 'Secret', apiVersion: 'v1', namespaced: true },
  'apps/deployments': { kind: 'Deployment', apiVersion: 'apps/v1', namespaced: true },
  'apps/statefulsets': { kind: 'StatefulSet', apiVersion: 'apps/v1', namespaced: true },
  'batch/jobs': { kind: 'Job', apiVersion: 'batch/v1', namespaced: true },
  'batch/cronjobs': { kind: 'CronJob', apiVersion: 'batch/v1', namespaced: true },
  'networking.k8s.io/ingresses': { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespaced: true },
  'velero.io/backups': { kind: 'Backup', apiVersion: 'velero.io/v1', namespaced: true },
  'velero.io/restores': { kind: 'Restore', apiVersion: 'velero.io/v1', namespaced: true },
  'velero.io/schedules': { kind: 'Schedule', apiVersion: 'velero.io/v1', namespaced: true },
  'velero.io/podvolumerestores': { kind: 'PodVolumeRestore', apiVersion: 'velero.io/v1', namespaced: true },
  'velero.io/downloadrequests': { kind: 'DownloadRequest', apiVersion: 'velero.io/v1', namespaced: true },
};
/** What a restore can bring back, by Velero's resource names (what `excludedResources` lists). */
const RESTORABLE: Record<string, string> = {
  Deployment: 'deployments.apps',
  StatefulSet: 'statefulsets.apps',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  Ingress: 'ingresses.networking.k8s.io',
  CronJob: 'cronjobs.batch',
  Secret: 'secrets',
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SECOND = 1000;

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class FakeKubernetes {
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  scenario: Scenario = { ...DEFAULT_SCENARIO };

  private readonly objects = new Map<string, Obj>();
  private readonly data = new Map<string, Datastore>();
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly downloads = new Map<string, Buffer>();
  private readonly server: Server;
  /** Object storage, where Velero's pre-signed log URLs point: another host than the API server, plain HTTP here. */
  private readonly storage: Server;
  private storageUrl = '';
  private readonly token: string;
  private readonly velero: string;
  private baseUrl = '';
  private ca?: string;
  private tlsDir?: string;
  private version = 1;

  private constructor(
    private readonly options: FakeKubernetesOptions,
    tls: { key: string; cert: string } | undefined,
  ) {
    this.token = options.token ?? 'fake-kube-token-0123456789';
    this.velero = options.veleroNamespace ?? 'velero';
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.serve(req, res);
    this.server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createHttpServer(handler);
    this.ca = tls?.cert;
    this.storage = createHttpServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://storage.invalid');
      const record: RecordedRequest = { method: req.method ?? 'GET', path: `storage:${url.pathname}`, status: 0 };
      this.requests.push(record);
      this.download(url, req, res, record);
    });
    for (const ns of ['default', 'kube-system', this.velero]) this.put(this.make('/namespaces', ns, undefined, { labels: { 'kubernetes.io/metadata.name': ns } }, { status: { phase: 'Active' } }));
    for (const product of options.products ?? []) this.seedProduct(product);
    const scheduled = (options.products ?? []).map((p) => p.namespace);
    this.put(
      this.make('velero.io/schedules', options.schedule ?? 'velero-product', this.velero, {}, {
        spec: { schedule: '0 3 * * *', useOwnerReferencesInBackup: false, template: { ttl: '168h0m0s', storageLocation: 'default', includedNamespaces: scheduled, defaultVolumesToFsBackup: true, snapshotVolumes: false } },
        status: { phase: 'Enabled' },
      }),
    );
  }

  static async start(options: FakeKubernetesOptions): Promise<FakeKubernetes> {
    const tls = selfSignedCertificate();
    const fake = new FakeKubernetes(options, tls?.pem);
    fake.tlsDir = tls?.dir;
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.baseUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => fake.storage.listen(0, '127.0.0.1', () => resolve()));
    fake.storageUrl = `http://127.0.0.1:${(fake.storage.address() as AddressInfo).port}`;
    return fake;
  }

  get url(): string {
    return this.baseUrl;
  }

  /** A kubeconfig for this server: what a stack output, a file or a Secret would hold. */
  kubeconfig(token = this.token): string {
    const cluster = this.ca ? `certificate-authority-data: ${Buffer.from(this.ca).toString('base64')}` : 'insecure-skip-tls-verify: true';
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: fake',
      `    cluster: { server: "${this.baseUrl}", ${cluster} }`,
      'users:',
      '  - name: cockpit',
      `    user: { token: "${token}" }`,
      'contexts:',
      '  - name: fake',
      '    context: { cluster: fake, user: cockpit }',
      'current-context: fake',
      '',
    ].join('\n');
  }

  async close(): Promise<void> {
    for (const server of [this.server, this.storage]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.tlsDir) rmSync(this.tlsDir, { recursive: true, force: true });
  }

  assertNoViolations(): void {
    if (this.violations.length > 0) throw new Error(`the fake Kubernetes recorded violations:\n${this.violations.map((v) => `  - ${v}`).join('\n')}`);
  }

  // ---- seeding and reading -------------------------------------------------------------------------------------

  /** A backup the schedule made: a snapshot of the live namespaces (and their data) as they are now. */
  seedScheduledBackup(backup: { name: string; storageLocation?: string; startedAt: Date; phase?: string; from?: FakeKubernetes; schedule?: string }): void {
    const source = backup.from ?? this;
    const namespaces = (source.options.products ?? []).map((p) => p.namespace);
    this.snapshots.set(backup.name, source.snapshot(namespaces));
    const completed = new Date(backup.startedAt.getTime() + 5 * 60 * SECOND).toISOString();
    this.put(
      this.make('velero.io/backups', backup.name, this.velero, { labels: { 'velero.io/schedule-name': backup.schedule ?? 'velero-product', 'velero.io/storage-location': backup.storageLocation ?? 'default' } }, {
        spec: { includedNamespaces: namespaces, storageLocation: backup.storageLocation ?? 'default', ttl: '720h0m0s', defaultVolumesToFsBackup: true },
        status: { phase: backup.phase ?? 'Completed', startTimestamp: backup.startedAt.toISOString(), completionTimestamp: completed, version: 1, formatVersion: '1.1.0' },
      }),
      backup.startedAt,
    );
  }

  namespaces(): Array<{ name: string; phase: string; labels: Record<string, string> }> {
    return this.list('/namespaces').map((n) => ({ name: n.metadata.name, phase: String(n.status?.phase), labels: n.metadata.labels ?? {} }));
  }

  /** The objects of a kind, e.g. `objectsOf('velero.io/restores')`. */
  objectsOf(resource: string, namespace?: string): Obj[] {
    this.tick();
    return this.list(resource, namespace).map((o) => structuredClone(stripHidden(o)));
  }

  /** The markers the live (or restored) datastore of a namespace holds. */
  markers(namespace: string): string[] {
    return [...(this.data.get(namespace)?.markers ?? [])];
  }

  // ---- HTTP ---------------------------------------------------------------------------------------------------

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RecordedRequest = { method, path: url.pathname + url.search, status: 0 };
    this.requests.push(record);
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      let body: unknown;
      if (chunks.length > 0) {
        if (!String(req.headers['content-type'] ?? '').includes('json')) throw this.violation(415, 'UnsupportedMediaType', `${method} ${url.pathname}: body is not JSON`);
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          throw this.violation(400, 'BadRequest', `${method} ${url.pathname}: body does not parse`);
        }
        record.body = body;
      }
      this.tick();
      const reply = this.route(method, url, body);
      record.status = reply.status;
      if (typeof reply.body === 'string') {
        res.writeHead(reply.status, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(reply.body);
      } else {
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.body));
      }
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `the fake failed: ${(err as Error).stack ?? String(err)}`);
      if (!(err instanceof ApiError)) this.violations.push(e.message);
      record.status = e.code;
      res.writeHead(e.code, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, code: e.code }));
    }
  }

  private route(method: string, url: URL, body: unknown): { status: number; body: unknown } {
    const parts = url.pathname.split('/').filter(Boolean);
    let group: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1] === 'v1') [group, rest] = ['', parts.slice(2)];
    else if (parts[0] === 'apis' && parts.length >= 3) [group, rest] = [parts[1]!, parts.slice(3)];
    else throw this.violation(404, 'NotFound', `${method} ${url.pathname} is no API path`);

    let namespace: string | undefined;
    let resource: string;
    let name: string | undefined;
    let sub: string | undefined;
    if (group === '' && rest[0] === 'namespaces' && rest.length <= 2) {
      resource = 'namespaces';
      name = rest[1];
    } else if (rest[0] === 'namespaces' && rest.length >= 3) {
      [namespace, resource, name, sub] = [rest[1], rest[2]!, rest[3], rest[4]];
    } else {
      throw this.violation(404, 'NotFound', `${method} ${url.pathname}: this fake keeps no cluster-scoped ${rest[0]}`);
    }
    const key = `${group === '' ? '' : group}/${resource}`;
    const kind = KINDS[key];
    if (!kind) throw this.violation(404, 'NotFound', `${method} ${url.pathname}: the server could not find the requested resource ${key}`);

    const verb = method === 'GET' ? (name ? 'get' : url.searchParams.get('watch') === 'true' ? 'watch' : 'list') : method === 'POST' ? 'create' : method === 'DELETE' ? 'delete' : method === 'PATCH' ? 'patch' : 'update';
    this.authorize(verb, group, sub ? `${resource}/${sub}` : resource, namespace, name);
    if (namespace && !this.get('/namespaces', namespace) && verb === 'create') throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`);

    if (sub === 'log' && key === '/pods' && verb === 'get') {
      const pod = this.mustGet(key, name!, namespace);
      const log = String(pod._log ?? '');
      const tail = Number(url.searchParams.get('tailLines') ?? 0);
      return { status: 200, body: tail > 0 ? log.split('\n').filter(Boolean).slice(-tail).join('\n') + '\n' : log };
    }
    if (sub) throw this.violation(404, 'NotFound', `${method} ${url.pathname}: no subresource ${sub}`);

    switch (verb) {
      case 'get':
        return { status: 200, body: stripHidden(this.mustGet(key, name!, namespace)) };
      case 'list': {
        const items = this.list(key, namespace).filter((o) => matchesSelector(o.metadata.labels ?? {}, url.searchParams.get('labelSelector')));
        return { status: 200, body: { apiVersion: kind.apiVersion, kind: `${kind.kind}List`, metadata: { resourceVersion: String(this.version) }, items: items.map(stripHidden) } };
      }
      case 'create':
        return { status: 201, body: stripHidden(this.create(key, namespace, body)) };
      case 'delete':
        return { status: 200, body: stripHidden(this.remove(key, name!, namespace)) };
      default:
        throw this.violation(405, 'MethodNotAllowed', `${method} ${url.pathname}: the drill never needs ${verb}`);
    }
  }

  private authorize(verb: string, group: string, resource: string, namespace: string | undefined, name: string | undefined): void {
    const grants = this.options.grants;
    if (!grants) return;
    // `view`: read anything but Secrets, and nothing of Velero's (its CRDs do not aggregate into view).
    if (['get', 'list', 'watch'].includes(verb) && resource !== 'secrets' && group !== 'velero.io') return;
    const allows = (r: PolicyRule) =>
      r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb) && (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name)));
    if (grants.cluster.some(allows) || (namespace !== undefined && (grants.namespaced[namespace] ?? []).some(allows))) return;
    throw this.violation(403, 'Forbidden', `${resource}${group ? `.${group}` : ''} ${name ? `"${name}" ` : ''}is forbidden: User "system:serviceaccount:cockpit:cockpit" cannot ${verb} resource "${resource}" in API group "${group}"${namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope'}`);
  }

  private create(key: string, namespace: string | undefined, body: unknown): Obj {
    const kind = KINDS[key]!;
    if (!body || typeof body !== 'object') throw this.violation(400, 'BadRequest', `create ${key}: no object`);
    const input = body as Record<string, unknown>;
    const metadata = (input.metadata ?? {}) as Record<string, unknown>;
    const name = metadata.name;
    if (typeof name !== 'string' || !DNS_LABEL.test(name) || name.length > 63) throw this.violation(422, 'Invalid', `${kind.kind} "${String(name)}" is invalid: metadata.name: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`);
    if (input.apiVersion !== undefined && input.apiVersion !== kind.apiVersion) throw this.violation(400, 'BadRequest', `${kind.kind}: apiVersion ${String(input.apiVersion)} on the ${kind.apiVersion} endpoint`);
    if (input.kind !== undefined && input.kind !== kind.kind) throw this.violation(400, 'BadRequest', `kind ${String(input.kind)} on the ${kind.kind} endpoint`);
    if (metadata.namespace !== undefined && metadata.namespace !== namespace) throw this.violation(400, 'BadRequest', `the namespace of the object (${String(metadata.namespace)}) does not match the namespace on the request (${namespace})`);
    for (const [k, v] of Object.entries((metadata.labels ?? {}) as Record<string, unknown>)) {
      if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63) throw this.violation(422, 'Invalid', `metadata.labels: Invalid value: "${String(v)}" for ${k}`);
    }
    if (this.get(key, name, namespace)) throw new ApiError(409, 'AlreadyExists', `${key.split('/')[1]} "${name}" already exists`);
    const problems = this.validate(kind.kind, input);
    if (problems.length > 0) throw this.violation(422, 'Invalid', `${kind.kind} "${name}" is invalid: ${problems.join('; ')}`);

    const obj = this.make(key, name, namespace, { labels: metadata.labels as Record<string, string> | undefined, annotations: metadata.annotations as Record<string, string> | undefined }, {
      spec: input.spec as Record<string, unknown> | undefined,
    });
    if (kind.kind === 'Namespace') obj.status = { phase: 'Active' };
    if (['Backup', 'Restore', 'DownloadRequest'].includes(kind.kind)) obj.status = {};
    this.put(obj);
    if (kind.kind === 'Job') this.startPod(obj);
    return obj;
  }

  private validate(kind: string, input: Record<string, unknown>): string[] {
    switch (kind) {
      case 'Backup':
        return checkShape(input.spec, BACKUP_SPEC, 'spec');
      case 'Restore': {
        const problems = checkShape(input.spec, RESTORE_SPEC, 'spec');
        const spec = (input.spec ?? {}) as Record<string, unknown>;
        if (!spec.backupName && !spec.scheduleName) problems.push('spec: either backupName or scheduleName is required');
        return problems;
      }
      case 'DownloadRequest':
        return checkShape(input.spec, DOWNLOAD_REQUEST_SPEC, 'spec');
      case 'Job': {
        const template = ((input.spec as Record<string, unknown> | undefined)?.template ?? {}) as { spec?: { containers?: Array<Record<string, unknown>>; restartPolicy?: string } };
        const problems: string[] = [];
        const containers = template.spec?.containers ?? [];
        if (containers.length === 0) problems.push('spec.template.spec.containers: Required value');
        containers.forEach((c, i) => {
          if (typeof c.name !== 'string' || !DNS_LABEL.test(c.name)) problems.push(`spec.template.spec.containers[${i}].name: Required value`);
          if (typeof c.image !== 'string' || c.image === '') problems.push(`spec.template.spec.containers[${i}].image: Required value`);
        });
        if (!['Never', 'OnFailure'].includes(template.spec?.restartPolicy ?? '')) problems.push('spec.template.spec.restartPolicy: Unsupported value: must be Never or OnFailure for a Job');
        return problems;
      }
      case 'Namespace':
        return input.spec === undefined || typeof input.spec === 'object' ? [] : ['spec: must be an object'];
      default:
        return [`the drill never creates a ${kind}`];
    }
  }

  private remove(key: string, name: string, namespace: string | undefined): Obj {
    const obj = this.mustGet(key, name, namespace);
    if (key === '/namespaces') {
      if (this.scenario.deletion === 'forbidden') throw new ApiError(403, 'Forbidden', `namespaces "${name}" is forbidden: User "system:serviceaccount:cockpit:cockpit" cannot delete resource "namespaces" in API group "" in the namespace "${name}"`);
      obj.metadata.deletionTimestamp ??= this.now().toISOString();
      obj.status = { phase: 'Terminating' };
      return obj;
    }
    this.objects.delete(this.keyOf(key, name, namespace));
    return obj;
  }

  private download(url: URL, req: IncomingMessage, res: ServerResponse, record: RecordedRequest): void {
    const file = this.downloads.get(url.pathname.slice('/downloads/'.length));
    // A pre-signed URL carries its own credentials; the cluster's token must never be sent to object storage.
    if (req.headers.authorization) this.violations.push(`object storage got an Authorization header on ${url.pathname}`);
    if (!file || url.searchParams.get('X-Amz-Signature') === null) {
      record.status = 403;
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<Error><Code>AccessDenied</Code></Error>');
      return;
    }
    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(file);
  }

  // ---- the controllers -----------------------------------------------------------------------------------------

  /** Moves every object to where the clock says it is, with the side effects of each step, once. */
  private tick(): void {
    const now = this.now().getTime();
    const s = this.scenario;
    for (const ns of this.list('/namespaces')) {
      const deleting = ns.metadata.deletionTimestamp ? Date.parse(ns.metadata.deletionTimestamp) : undefined;
      if (deleting !== undefined && s.deletion !== 'stuck' && now - deleting >= s.deleteSeconds * SECOND) {
        for (const [k, o] of this.objects) if (o.metadata.namespace === ns.metadata.name) this.objects.delete(k);
        this.objects.delete(this.keyOf('/namespaces', ns.metadata.name));
        this.data.delete(ns.metadata.name);
      }
    }
    for (const backup of this.list('velero.io/backups', this.velero)) {
      if (backup._seeded) continue;
      const age = now - Number(backup._created);
      const status = backup.status!;
      if (!status.phase) status.phase = 'New';
      if (status.phase === 'New' && age >= 2 * SECOND) {
        const spec = backup.spec as { includedNamespaces?: string[] };
        this.snapshots.set(backup.metadata.name, this.snapshot(spec.includedNamespaces ?? []));
        Object.assign(status, { phase: 'InProgress', startTimestamp: iso(Number(backup._created) + 2 * SECOND), version: 1, formatVersion: '1.1.0', expiration: iso(now + 72 * 3600 * SECOND) });
      }
      if (status.phase === 'InProgress' && s.hang !== 'backup' && age >= (2 + s.backupSeconds) * SECOND) {
        Object.assign(status, { phase: s.backupEnds, completionTimestamp: iso(Number(backup._created) + (2 + s.backupSeconds) * SECOND), warnings: s.backupWarnings || undefined, errors: s.backupEnds === 'Completed' ? undefined : 2, progress: { totalItems: 12, itemsBackedUp: 12 } });
      }
    }
    for (const restore of this.list('velero.io/restores', this.velero)) {
      const age = now - Number(restore._created);
      const status = restore.status!;
      const spec = restore.spec as { backupName: string; namespaceMapping?: Record<string, string>; includedNamespaces?: string[]; excludedResources?: string[] };
      if (!status.phase) status.phase = 'New';
      if (status.phase === 'New' && age >= 2 * SECOND) {
        const snapshot = this.snapshots.get(spec.backupName);
        const backup = this.get('velero.io/backups', spec.backupName, this.velero);
        if (!snapshot || !backup || !['Completed', 'PartiallyFailed'].includes(String(backup.status?.phase))) {
          Object.assign(status, { phase: 'FailedValidation', validationErrors: [backup ? `backup ${spec.backupName} is ${String(backup.status?.phase)}: only Completed or PartiallyFailed backups can be restored` : `backup.velero.io "${spec.backupName}" not found`] });
          continue;
        }
        Object.assign(status, { phase: 'InProgress', startTimestamp: iso(Number(restore._created) + 2 * SECOND) });
        this.restoreInto(restore, snapshot, spec);
      }
      const endsAt = Number(restore._created) + (2 + s.restoreSeconds) * SECOND;
      if (status.phase === 'InProgress' && s.hang !== 'restore' && now >= endsAt) {
        const failedVolumes = s.volumeRestoresEnd === 'Failed';
        // Velero waits for the volume restores; a failed one makes the restore PartiallyFailed, one that never ends leaves it Completed here, which is what the drill must not believe.
        const phase = failedVolumes && s.restoreEnds === 'Completed' ? 'PartiallyFailed' : s.restoreEnds;
        Object.assign(status, {
          phase,
          completionTimestamp: iso(endsAt),
          warnings: s.restoreWarnings || undefined,
          errors: s.restoreErrors || (phase === 'Completed' ? undefined : 1),
          progress: { totalItems: 9, itemsRestored: 9 },
        });
        for (const pvr of this.list('velero.io/podvolumerestores', this.velero).filter((p) => p.metadata.labels?.['velero.io/restore-name'] === restore.metadata.name)) {
          if (s.volumeRestoresEnd !== 'InProgress') Object.assign(pvr.status!, { phase: s.volumeRestoresEnd, completionTimestamp: iso(endsAt), ...(failedVolumes ? { message: 'error restoring volume: kopia: unable to find snapshot' } : {}) });
        }
        for (const ns of Object.values(spec.namespaceMapping ?? {})) {
          for (const key of ['apps/deployments', 'apps/statefulsets'])
            for (const w of this.list(key, ns)) w._readyAt = s.hang === 'ready' ? Number.POSITIVE_INFINITY : endsAt + s.readySeconds * SECOND;
          for (const pvc of this.list('/persistentvolumeclaims', ns)) pvc.status = { phase: 'Bound' };
        }
        this.downloads.set(`${restore.metadata.name}-log`, gzipSync(restoreLog(restore.metadata.name, s)));
      }
    }
    for (const key of ['apps/deployments', 'apps/statefulsets']) {
      for (const w of this.list(key)) {
        const replicas = Number((w.spec as { replicas?: number }).replicas ?? 1);
        const ready = w._readyAt !== undefined && now >= Number(w._readyAt);
        w.status = { replicas, readyReplicas: ready ? replicas : 0, availableReplicas: ready ? replicas : 0, observedGeneration: 1 };
      }
    }
    for (const job of this.list('batch/jobs')) {
      if (job._done || s.hang === 'job' || now - Number(job._created) < s.jobSeconds * SECOND) continue;
      job._done = true;
      this.runMarkerTool(job);
    }
    for (const request of this.list('velero.io/downloadrequests', this.velero)) {
      if (request.status?.phase === 'Processed') continue;
      const target = (request.spec as { target: { kind: string; name: string } }).target;
      const file = target.kind === 'RestoreLog' ? `${target.name}-log` : undefined;
      request.status = {
        phase: 'Processed',
        ...(file && this.downloads.has(file) ? { downloadURL: `${this.storageUrl}/downloads/${file}?X-Amz-Signature=${randomBytes(8).toString('hex')}`, expiration: iso(now + 10 * 60 * SECOND) } : {}),
      };
    }
  }

  /** Velero's restore: the backup's objects and data, each namespace mapped, what is excluded left out. */
  private restoreInto(restore: Obj, snapshot: Snapshot, spec: { namespaceMapping?: Record<string, string>; includedNamespaces?: string[]; excludedResources?: string[] }): void {
    const excluded = new Set(spec.excludedResources ?? []);
    const included = spec.includedNamespaces ?? snapshot.namespaces;
    for (const source of included) {
      const target = spec.namespaceMapping?.[source] ?? source;
      if (!this.get('/namespaces', target)) this.put(this.make('/namespaces', target, undefined, {}, { status: { phase: 'Active' } }));
      for (const obj of snapshot.objects.filter((o) => o.metadata.namespace === source)) {
        if (excluded.has(RESTORABLE[obj.kind] ?? '')) continue;
        const key = Object.entries(KINDS).find(([, k]) => k.kind === obj.kind)![0];
        const copy = this.make(key, obj.metadata.name, target, { labels: { ...obj.metadata.labels, 'velero.io/backup-name': String((restore.spec as { backupName: string }).backupName), 'velero.io/restore-name': restore.metadata.name } }, { spec: structuredClone(obj.spec) });
        if (obj.kind === 'PersistentVolumeClaim') {
          copy.status = { phase: 'Pending' };
          this.put(
            this.make('velero.io/podvolumerestores', `${restore.metadata.name}-${randomBytes(3).toString('hex')}`, this.velero, { labels: { 'velero.io/restore-name': restore.metadata.name, 'velero.io/restore-uid': restore.metadata.uid } }, {
              spec: { pod: { kind: 'Pod', namespace: target, name: `${obj.metadata.name.replace(/^data-/, '')}` }, volume: 'data', backupStorageLocation: 'default', repoIdentifier: '', uploaderType: 'kopia', snapshotID: randomBytes(8).toString('hex'), sourceNamespace: source },
              status: { phase: 'InProgress' },
            }),
          );
        }
        if (!this.get(key, copy.metadata.name, target)) this.put(copy);
      }
      const data = snapshot.data[source];
      if (data) {
        const lose = this.scenario.lose;
        this.data.set(target, {
          markers: lose === 'marker' ? [] : [...data.markers],
          counts: Object.fromEntries(Object.entries(data.counts).map(([k, v]) => [k, lose === 'rows' ? Math.floor(v / 2) : v])),
          checksums: { ...data.checksums },
        });
      }
    }
  }

  private startPod(job: Obj): void {
    const podName = `${job.metadata.name.slice(0, 57)}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    this.put(this.make('/pods', podName, job.metadata.namespace, { labels: { 'job-name': job.metadata.name, 'batch.kubernetes.io/job-name': job.metadata.name, 'controller-uid': job.metadata.uid } }, { spec: structuredClone((job.spec as { template: { spec: unknown } }).template.spec) as Record<string, unknown>, status: { phase: 'Running' } }));
    job.status = { active: 1, startTime: job.metadata.creationTimestamp };
    job._pod = podName;
  }

  /** What the product's marker tool does, as the Job's command would: plant the marker, or look for it. */
  private runMarkerTool(job: Obj): void {
    const container = ((job.spec as { template: { spec: { containers: Array<{ env?: Array<{ name: string; value: string }> }> } } }).template.spec.containers[0] ?? {}) as { env?: Array<{ name: string; value: string }> };
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    const step = env.COCKPIT_DRILL_STEP;
    const store = this.data.get(job.metadata.namespace!);
    const pod = this.get('/pods', String(job._pod), job.metadata.namespace)!;
    let log: string;
    let ok = true;
    if (this.scenario.jobFails === step || !store) {
      ok = false;
      log = `connecting to the datastore…\nerror: ${store ? 'permission denied for table orders' : 'connection refused (no datastore in this namespace)'}\n`;
    } else if (step === 'plant') {
      store.markers.push(env.COCKPIT_DRILL_MARKER ?? '');
      log = `connecting to the datastore…\nmarker written\ncockpit-drill: ${JSON.stringify({ counts: store.counts, checksums: store.checksums })}\n`;
    } else {
      const found = store.markers.includes(env.COCKPIT_DRILL_MARKER ?? '');
      log = `connecting to the datastore…\nlooking for the marker…\ncockpit-drill: ${JSON.stringify({ marker: found, counts: store.counts, checksums: store.checksums })}\n`;
    }
    pod._log = log;
    pod.status = { phase: ok ? 'Succeeded' : 'Failed' };
    const at = this.now().toISOString();
    job.status = ok
      ? { succeeded: 1, startTime: job.metadata.creationTimestamp, completionTime: at, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: at }] }
      : { failed: 1, startTime: job.metadata.creationTimestamp, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: at }] };
  }

  private seedProduct(product: ProductSeed): void {
    const ns = product.namespace;
    this.put(this.make('/namespaces', ns, undefined, { labels: { 'kubernetes.io/metadata.name': ns, 'cockpit-tier': 'product' } }, { status: { phase: 'Active' } }));
    for (const d of product.deployments ?? []) this.put(this.make('apps/deployments', d.name, ns, { labels: { app: d.name } }, { spec: { replicas: d.replicas, selector: { matchLabels: { app: d.name } } }, _readyAt: 0 }));
    for (const st of product.statefulSets ?? []) {
      this.put(this.make('apps/statefulsets', st.name, ns, { labels: { app: st.name } }, { spec: { replicas: st.replicas, serviceName: st.name, selector: { matchLabels: { app: st.name } } }, _readyAt: 0 }));
      for (const v of st.volumes ?? [`data`]) {
        for (let i = 0; i < st.replicas; i++) this.put(this.make('/persistentvolumeclaims', `${v}-${st.name}-${i}`, ns, {}, { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } }, status: { phase: 'Bound' } }));
      }
    }
    for (const name of product.ingresses ?? []) this.put(this.make('networking.k8s.io/ingresses', name, ns, {}, { spec: { rules: [{ host: `${name}.example.com` }] } }));
    if (product.datastore) this.data.set(ns, { markers: [], counts: { ...product.datastore.counts }, checksums: { ...product.datastore.checksums } });
  }

  private snapshot(namespaces: string[]): Snapshot {
    const objects = [...this.objects.values()].filter((o) => o.metadata.namespace && namespaces.includes(o.metadata.namespace) && RESTORABLE[o.kind]).map((o) => structuredClone(o));
    const data = Object.fromEntries(namespaces.filter((n) => this.data.has(n)).map((n) => [n, structuredClone(this.data.get(n)!)]));
    return { namespaces, objects, data };
  }

  // ---- the object store ----------------------------------------------------------------------------------------

  private make(key: string, name: string, namespace: string | undefined, meta: { labels?: Record<string, string>; annotations?: Record<string, string> }, rest: Partial<Obj> = {}): Obj {
    const kind = KINDS[key]!;
    const created = this.now().getTime();
    return {
      apiVersion: kind.apiVersion,
      kind: kind.kind,
      metadata: {
        name,
        ...(namespace ? { namespace } : {}),
        uid: randomUUID(),
        resourceVersion: String(++this.version),
        creationTimestamp: new Date(Math.floor(created / SECOND) * SECOND).toISOString(),
        ...(meta.labels ? { labels: { ...meta.labels } } : {}),
        ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      },
      _created: created,
      ...rest,
    };
  }

  private put(obj: Obj, seededAt?: Date): void {
    const key = Object.entries(KINDS).find(([, k]) => k.kind === obj.kind)![0];
    if (seededAt) Object.assign(obj, { _seeded: true, _created: seededAt.getTime() });
    this.objects.set(this.keyOf(key, obj.metadata.name, obj.metadata.namespace), obj);
  }

  private get(key: string, name: string, namespace?: string): Obj | undefined {
    return this.objects.get(this.keyOf(key, name, namespace));
  }

  private mustGet(key: string, name: string, namespace?: string): Obj {
    const obj = this.get(key, name, namespace);
    if (!obj) throw new ApiError(404, 'NotFound', `${key.split('/')[1]}${key.startsWith('/') ? '' : `.${key.split('/')[0]}`} "${name}" not found`);
    return obj;
  }

  private list(key: string, namespace?: string): Obj[] {
    const prefix = `${key}|${namespace ?? ''}`;
    return [...this.objects.entries()].filter(([k]) => (namespace === undefined ? k.startsWith(`${key}|`) : k.startsWith(`${prefix}|`))).map(([, o]) => o);
  }

  private keyOf(key: string, name: string, namespace?: string): string {
    return `${key}|${namespace ?? ''}|${name}`;
  }

  private violation(code: number, reason: string, message: string): ApiError {
    this.violations.push(message);
    return new ApiError(code, reason, message);
  }

  private now(): Date {
    return this.options.now();
  }
}

function stripHidden(obj: Obj): Obj {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !k.startsWith('_'))) as Obj;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `a=b,c`, as the API server reads a label selector (equality and existence only: all a drill uses). */
function matchesSelector(labels: Record<string, string>, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return v === undefined ? k! in labels : labels[k!] === v;
  });
}

/** What Velero writes to a restore's log in the bucket (logrus text lines). */
function restoreLog(name: string, s: Scenario): string {
  const lines = [`time="2026-11-25T12:00:00Z" level=info msg="starting restore" logSource="pkg/controller/restore_controller.go:500" restore=velero/${name}`];
  for (let i = 0; i < s.restoreWarnings; i++) lines.push(`time="2026-11-25T12:00:01Z" level=warning msg="could not restore, ConfigMap \\"kube-root-ca.crt\\" already exists. Warning: the in-cluster version is different than the backed-up version" restore=velero/${name}`);
  for (let i = 0; i < s.restoreErrors; i++) lines.push(`time="2026-11-25T12:00:02Z" level=error msg="error restoring persistentvolumeclaims/data-postgres-0" restore=velero/${name}`);
  lines.push(`time="2026-11-25T12:01:30Z" level=info msg="restore completed" restore=velero/${name}`);
  return `${lines.join('\n')}\n`;
}

/** A throwaway CA-less certificate for 127.0.0.1, when openssl is there; plain HTTP (skip-TLS kubeconfig) when not. */
function selfSignedCertificate(): { pem: { key: string; cert: string }; dir: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'fake-kube-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } });
    return { pem: { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }, dir };
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

/** Writes a kubeconfig to a temporary file, as a mounted Secret would hold it. */
export function writeKubeconfig(text: string): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  const path = join(dir, 'config');
  writeFileSync(path, text, { mode: 0o600 });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
