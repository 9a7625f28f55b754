import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError } from './errors';
import { describeActor, type Policy, type RequestMeta } from './policy';
import type { AuditLog, Clock, DrillCluster, DrillClusters, DrillHistory, StackLocks } from './ports';
import type { AuditOutcome } from './model/audit';
import type { DrillJob, DrillMarker, DrillRun, DrillStep, DrillStepName, DrillTrigger, VeleroOperationState, WorkloadState } from './model/drills';
import { describeLock, withStackLock } from './stackLock';
import type { DrillSettings, StackDrillSettings, Team } from './team';

/**
 * The restore drill: one engine for `/cockpit drill`, the promotion PR's gate and the weekly schedule. Velero
 * says "Completed" even when parts failed, so the phase alone proves nothing: a drill plants a marker record
 * in the live datastore, backs it up, restores the backup into scratch namespaces, waits for the restored
 * workloads, and has the product's own tool find the marker (and the counts or checksums the plant reported)
 * in the restored data. It measures RTO (restore start → data verified) and RPO (the backup's age when the
 * restore starts), holds the lock of the stack whose cluster it runs on, and always deletes its scratch
 * namespaces — saying so, and failing, when it cannot.
 *
 * A drill of the schedule's latest backup (`backup: latest`, the weekly drill of prod) checks the marker an
 * earlier drill planted before that backup was taken, and plants the next one.
 */

export interface DrillTiming {
  /** Between two reads of a Velero object, a Job or the restored workloads. */
  pollMs: number;
  /** How often a running drill renews its lock. */
  heartbeatMs: number;
}

export const DEFAULT_DRILL_TIMING: DrillTiming = { pollMs: 5_000, heartbeatMs: 30_000 };

export interface DrillDeps {
  team: Team;
  policy: Policy;
  clusters: DrillClusters;
  history: DrillHistory;
  locks: StackLocks;
  audit: AuditLog;
  clock: Clock;
  /** Waits between polls; tests move their clock instead of waiting. */
  sleep(ms: number): Promise<void>;
  /** This replica's id, written on the locks it takes. */
  owner: string;
  onReleased?(stack: string): void;
  /** Marker values and scratch ids; random by default. */
  randomId?(): string;
  timing?: Partial<DrillTiming>;
}

export interface DrillRequest {
  /** The stack whose data is drilled. */
  stack: string;
  trigger: DrillTrigger;
  /** Default: the stack's `backup` setting. */
  backup?: 'fresh' | 'latest';
  /** Restore on another stack's cluster, reading the backups from `storageLocation` there (the weekly drill). */
  on?: { cluster: string; storageLocation: string };
}

/** Where a running drill is, for the message that follows it. */
export interface DrillProgress {
  stack: string;
  cluster: string;
  requestId: string;
  startedAt: Date;
  steps: DrillStep[];
}

export type DrillOutcome =
  | { kind: 'finished'; run: DrillRun; recent: DrillRun[]; recordingFailed?: string }
  /** No cluster to drill on: what Cockpit needs. Nothing is recorded as passed, or at all. */
  | { kind: 'unavailable'; stack: string; reason: string; needs: string };

export const DRILL_LABEL = 'cockpit.dev/drill';
export const DRILL_REQUEST_ANNOTATION = 'cockpit.dev/request-id';
/** The line the marker Jobs print their findings on: `cockpit-drill: {"marker": true, "counts": {...}}`. */
export const REPORT_PREFIX = 'cockpit-drill:';

const TERMINAL = new Set(['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation']);
const MINUTE_MS = 60_000;

/** What a marker Job reported: whether it saw the marker, and the counts and checksums of the data around it. */
export interface MarkerReport {
  marker?: boolean;
  counts: Record<string, number>;
  checksums: Record<string, string>;
}

/** A drill that cannot pass: the step it failed in and why, in words a person reads. */
class DrillFailure extends Error {}

export class Drills {
  private readonly timing: DrillTiming;

  constructor(private readonly deps: DrillDeps) {
    this.timing = { ...DEFAULT_DRILL_TIMING, ...deps.timing };
  }

  /** The settings a drill of `stack` runs with, or what is missing from cockpit.yml. */
  configured(stack: string): { settings: DrillSettings; stack: StackDrillSettings } | { missing: string } {
    this.deps.policy.stack(stack);
    const settings = this.deps.team.drills;
    if (!settings) return { missing: 'cockpit.yml has no `drills:` section (the marker Jobs, and each stack’s kubeconfig and namespaces)' };
    const own = settings.stacks[stack];
    if (!own) return { missing: `cockpit.yml names no drills.stacks.${stack} (its kubeconfig source, namespaces and targets)` };
    return { settings, stack: own };
  }

  /** The weekly drill's settings, when the team file has one. */
  weekly(): DrillSettings['weekly'] {
    return this.deps.team.drills?.weekly;
  }

  /** The checks a drill makes before anything is announced: fronts call it first. */
  async assertMay(request: DrillRequest, meta: RequestMeta): Promise<void> {
    await this.deps.policy.mayDrill(request.stack, request.trigger, meta);
  }

  /**
   * Runs a drill under the lock of the stack whose cluster it restores on. ConflictError when that stack is busy;
   * a cluster Cockpit cannot reach is an outcome (`unavailable`), never a pass.
   */
  async run(request: DrillRequest, meta: RequestMeta, onProgress?: (progress: DrillProgress) => void): Promise<DrillOutcome> {
    await this.assertMay(request, meta);
    const clusterStack = request.on?.cluster ?? request.stack;
    const config = this.configured(request.stack);
    if ('missing' in config) return this.unavailable(request, meta, `restore drills of ${request.stack} are not configured`, config.missing);
    const clusterConfig = this.configured(clusterStack);
    if ('missing' in clusterConfig) return this.unavailable(request, meta, `drills on ${clusterStack}'s cluster are not configured`, clusterConfig.missing);
    const access = await this.deps.clusters.forStack(clusterStack);
    if ('unavailable' in access) return this.unavailable(request, meta, access.unavailable, access.needs);

    const target = this.target(clusterStack);
    const locked = await withStackLock(
      { locks: this.deps.locks, owner: this.deps.owner, heartbeatMs: this.timing.heartbeatMs, onReleased: this.deps.onReleased },
      { target, holder: meta.actor.id, purpose: 'drill', requestId: meta.requestId },
      (lost) => this.execute(request, meta, { settings: config.settings, own: config.stack, cluster: access.cluster, clusterStack }, lost, onProgress),
    );
    if (!locked.acquired) {
      await this.audit(meta, 'drill.start', request.stack, 'refused', { trigger: request.trigger, lockedBy: locked.heldBy.holder, lockRequestId: locked.heldBy.requestId, purpose: locked.heldBy.purpose });
      throw new ConflictError(describeLock(this.deps.team, locked.heldBy, this.deps.clock.now()), 'A drill waits for it to end: run it again then, or see /cockpit status.');
    }
    return locked.value;
  }

  /** The last drills, newest first; of one stack when given. */
  async history(stack?: string, limit = 10): Promise<DrillRun[]> {
    if (stack !== undefined) this.deps.policy.stack(stack);
    return this.deps.history.list({ ...(stack !== undefined ? { stack } : {}), limit });
  }

  /** A drill's kept logs, and Velero's log of its restore when the cluster still has it. */
  async logs(requestId: string): Promise<{ run: DrillRun; restoreLog?: string; restoreLogMissing?: string }> {
    const run = await this.deps.history.get(requestId);
    if (!run) throw new NotFoundError(`No drill ${requestId} is recorded.`, 'See /cockpit drill history.');
    if (!run.logs.restore) return { run };
    const access = await this.deps.clusters.forStack(run.cluster);
    if ('unavailable' in access) return { run, restoreLogMissing: access.unavailable };
    try {
      return { run, restoreLog: await access.cluster.restoreLog(run.logs.restore) };
    } catch (err) {
      return { run, restoreLogMissing: messageOf(err) };
    }
  }

  // --- the drill -----------------------------------------------------------------------------------------------

  private async execute(
    request: DrillRequest,
    meta: RequestMeta,
    ctx: { settings: DrillSettings; own: StackDrillSettings; cluster: DrillCluster; clusterStack: string },
    lost: AbortSignal,
    onProgress?: (progress: DrillProgress) => void,
  ): Promise<DrillOutcome> {
    const { settings, own, cluster } = ctx;
    const mode = request.backup ?? own.backup;
    const startedAt = this.now();
    const id = this.randomId();
    const scratch = own.namespaces.map((source) => ({ source, target: `drill-${id}-${source}` }));
    const datastore = scratch[0]!;
    const labels = { [DRILL_LABEL]: id, 'app.kubernetes.io/managed-by': 'cockpit' };
    const run: DrillRun = {
      stack: request.stack,
      requestId: meta.requestId,
      startedAt,
      finishedAt: startedAt,
      outcome: 'failed',
      trigger: request.trigger,
      cluster: ctx.clusterStack,
      steps: [],
      warnings: [],
      logs: { jobs: [] },
      leftBehind: [],
    };
    const show = () => onProgress?.({ stack: request.stack, cluster: ctx.clusterStack, requestId: meta.requestId, startedAt, steps: run.steps.map((s) => ({ ...s })) });
    const step = async <T>(name: DrillStepName, body: (note: (detail: string) => void) => Promise<T>): Promise<T> => {
      const current: DrillStep = { name, state: 'running', startedAt: this.now() };
      run.steps.push(current);
      show();
      try {
        const value = await body((detail) => {
          if (current.detail === detail) return;
          current.detail = detail;
          show();
        });
        Object.assign(current, { state: 'passed', finishedAt: this.now() });
        return value;
      } catch (err) {
        Object.assign(current, { state: 'failed', finishedAt: this.now(), detail: messageOf(err) });
        throw err;
      } finally {
        show();
      }
    };
    const job = (kind: 'plant' | 'verify', namespace: string, env: Record<string, string>): DrillJob => ({
      namespace,
      name: `cockpit-drill-${id}-${kind}`,
      image: settings.marker.image,
      command: kind === 'plant' ? settings.marker.plant : settings.marker.verify,
      env: { COCKPIT_DRILL_ID: meta.requestId, COCKPIT_DRILL_STEP: kind, ...env },
      envFromSecrets: settings.marker.envFromSecrets,
      labels,
      deadlineSeconds: settings.timeouts.jobMinutes * 60,
    });

    await this.audit(meta, 'drill.start', request.stack, 'started', { trigger: request.trigger, cluster: ctx.clusterStack, mode, namespaces: scratch.map((s) => s.target) });
    let restoreStartedAt: Date | undefined;
    let backup: VeleroOperationState | undefined;
    let planted: { marker: DrillMarker; report: MarkerReport } | undefined;
    const created: string[] = [];
    try {
      await this.sweepLeftovers(cluster, meta.requestId, run);

      if (mode === 'fresh') {
        planted = await step('marker', async (note) => {
          const result = await this.plant(cluster, job('plant', datastore.source, {}), request.stack, meta.requestId, run, lost);
          note(`planted in ${datastore.source}${describeReport(result.report)}`);
          return result;
        });
        run.marker = { ...planted.marker };
      } else {
        const source = request.stack === ctx.clusterStack ? { cluster } : await this.deps.clusters.forStack(request.stack);
        await step('marker', async (note) => {
          if ('unavailable' in source) {
            run.warnings.push(`No marker planted for the next drill: ${source.unavailable}.`);
            return note('none planted for the next drill');
          }
          try {
            const next = await this.plant(source.cluster, job('plant', own.namespaces[0]!, {}), request.stack, meta.requestId, run, lost);
            run.plantedForNext = next.marker;
            note(`planted one in ${request.stack} for the next drill`);
          } catch (err) {
            if (lost.aborted) throw err;
            run.warnings.push(`No marker planted for the next drill: ${messageOf(err)}`);
            note('none planted for the next drill');
          }
        });
      }

      backup = await step('backup', async (note) => {
        const found = mode === 'fresh' ? await this.freshBackup(cluster, settings, own, id, labels, note, lost) : await cluster.latestBackup(settings.schedule, request.on?.storageLocation);
        if (!found) throw new DrillFailure(`no backup of the schedule ${settings.schedule} to restore${request.on ? ` in ${request.on.storageLocation}` : ''}`);
        if (found.phase !== 'Completed') throw new DrillFailure(`backup ${found.name} is ${found.phase}${counts(found)}${found.failureReason ? `: ${found.failureReason}` : ''}`);
        if (found.errors > 0) throw new DrillFailure(`backup ${found.name} has ${found.errors} error(s)`);
        if (found.warnings > 0) run.warnings.push(`Backup ${found.name}: ${found.warnings} warning(s) (velero backup logs ${found.name}).`);
        run.backup = { name: found.name, takenAt: found.startedAt ?? found.completedAt ?? this.now(), fresh: mode === 'fresh' };
        note(`${found.name} Completed${found.warnings ? `, ${found.warnings} warning(s)` : ''}`);
        return found;
      });

      if (mode === 'latest') {
        const expected = await this.deps.history.markerBefore(request.stack, run.backup!.takenAt);
        if (!expected) {
          throw new DrillFailure(`no marker was planted in ${request.stack} before ${run.backup!.name} was taken, so nothing proves its data (${run.plantedForNext ? 'the one planted now is for the next drill' : 'none could be planted now either'})`);
        }
        run.marker = { ...expected };
      }

      await step('restore', async (note) => {
        for (const ns of scratch) {
          await cluster.createNamespace(ns.target, { labels, annotations: { [DRILL_REQUEST_ANNOTATION]: meta.requestId } });
          created.push(ns.target);
        }
        const name = `cockpit-drill-${id}`;
        restoreStartedAt = this.now();
        await cluster.startRestore({
          name,
          backup: backup!.name,
          namespaceMapping: Object.fromEntries(scratch.map((s) => [s.source, s.target])),
          excludedResources: settings.excludeResources,
          labels,
        });
        run.logs.restore = name;
        const restore = await this.waitFor(`restore ${name}`, settings.timeouts.restoreMinutes, lost, async () => {
          const state = await cluster.restore(name);
          if (state && !TERMINAL.has(state.phase)) note(`${name} ${state.phase}`);
          return state && TERMINAL.has(state.phase) ? state : undefined;
        }, async () => (await cluster.restore(name))?.phase ?? 'not found');
        if (restore.warnings > 0) run.warnings.push(`Restore ${name}: ${restore.warnings} warning(s) — Show logs lists them.`);
        if (restore.phase !== 'Completed' || restore.errors > 0) {
          throw new DrillFailure(`restore ${name} is ${restore.phase}${counts(restore)}${restore.failureReason ? `: ${restore.failureReason}` : ''}${restore.validationErrors.length ? `: ${restore.validationErrors.join('; ')}` : ''}`);
        }
        const volumes = await cluster.volumeRestores(name);
        const unfinished = volumes.filter((v) => v.phase !== 'Completed');
        if (unfinished.length > 0) {
          throw new DrillFailure(`${unfinished.length} of ${volumes.length} volume restore(s) did not complete: ${unfinished.map((v) => `${v.pod} ${v.volume} ${v.phase || 'New'}${v.message ? ` (${v.message})` : ''}`).join('; ')}`);
        }
        note(`${name} Completed, ${volumes.length} volume(s) restored${restore.warnings ? `, ${restore.warnings} warning(s)` : ''}`);
      });

      await step('verify', async (note) => {
        const workloads = await this.waitFor('the restored workloads to be ready', settings.timeouts.readyMinutes, lost, async () => {
          const all = (await Promise.all(scratch.map(async (ns) => (await cluster.workloads(ns.target)).map((w) => ({ ...w, namespace: ns.target }))))).flat();
          const waiting = all.filter((w) => !w.ready);
          note(waiting.length === 0 ? `${all.length} restored object(s) ready` : `waiting for ${describeWaiting(waiting)}`);
          return all.length > 0 && waiting.length === 0 ? all : undefined;
        }, async () => {
          const all = (await Promise.all(scratch.map((ns) => cluster.workloads(ns.target)))).flat();
          return all.length === 0 ? 'nothing was restored' : describeWaiting(all.filter((w) => !w.ready)) || 'ready';
        });
        const expect = mode === 'fresh' ? planted!.report : undefined;
        const verify = job('verify', datastore.target, {
          COCKPIT_DRILL_MARKER: run.marker!.value,
          ...(expect ? { COCKPIT_DRILL_EXPECT: JSON.stringify({ counts: expect.counts, checksums: expect.checksums }) } : {}),
        });
        const report = await this.runJob(cluster, verify, run, lost);
        run.marker!.found = report.marker === true;
        if (!run.marker!.found) throw new DrillFailure(`the marker planted ${describeAgo(run.marker!.plantedAt, this.now())} is not in the restored data`);
        if (expect) checkAgainst(expect, report);
        note(`marker found${describeReport(report)} in ${workloads.length} ready object(s)`);
      });

      const verifiedAt = this.now();
      run.rtoSeconds = Math.max(0, (verifiedAt.getTime() - restoreStartedAt!.getTime()) / 1000);
      run.rpoSeconds = Math.max(0, (restoreStartedAt!.getTime() - run.backup!.takenAt.getTime()) / 1000);
      const over = [
        run.rtoSeconds > own.targets.rtoMinutes * 60 ? `RTO ${minutesOf(run.rtoSeconds)} is over the ${own.targets.rtoMinutes} min target` : '',
        run.rpoSeconds > own.targets.rpoMinutes * 60 ? `RPO ${minutesOf(run.rpoSeconds)} is over the ${own.targets.rpoMinutes} min target` : '',
      ].filter(Boolean);
      if (over.length > 0) throw new DrillFailure(over.join('; '));
      run.outcome = 'passed';
    } catch (err) {
      run.outcome = 'failed';
      run.reason = lost.aborted ? `stopped: ${messageOf(lost.reason)}` : messageOf(err);
    } finally {
      await step('cleanup', async (note) => {
        const left = await this.cleanUp(cluster, created, settings.timeouts.cleanupMinutes);
        run.leftBehind = left.map((l) => l.namespace);
        if (left.length > 0) {
          const why = `could not delete ${left.map((l) => `${l.namespace} (${l.why})`).join(', ')}: delete ${left.length === 1 ? 'it' : 'them'} by hand (kubectl delete namespace …)`;
          if (run.outcome === 'passed') {
            run.outcome = 'failed';
            run.reason = `clean-up failed: ${why}`;
          } else {
            run.reason = `${run.reason}; clean-up failed too: ${why}`;
          }
          throw new DrillFailure(why);
        }
        note(created.length === 0 ? 'nothing to delete' : `${created.length} scratch namespace(s) deleted`);
      }).catch(() => undefined);
    }

    run.finishedAt = this.now();
    let recordingFailed: string | undefined;
    try {
      await this.deps.history.record(run);
    } catch (err) {
      recordingFailed = messageOf(err);
    }
    await this.audit(meta, 'drill.finish', request.stack, run.outcome === 'passed' ? 'succeeded' : 'failed', {
      trigger: request.trigger,
      cluster: ctx.clusterStack,
      rtoSeconds: run.rtoSeconds,
      rpoSeconds: run.rpoSeconds,
      backup: run.backup?.name,
      ...(run.reason ? { reason: run.reason } : {}),
      ...(run.leftBehind.length ? { leftBehind: run.leftBehind } : {}),
    }).catch(() => undefined);
    const recent = await this.deps.history.list({ stack: request.stack, limit: 10 }).catch(() => [run]);
    return { kind: 'finished', run, recent, ...(recordingFailed ? { recordingFailed } : {}) };
  }

  /** Plants the marker through a Job and keeps it the moment the Job succeeds. */
  private async plant(cluster: DrillCluster, spec: DrillJob, stack: string, requestId: string, run: DrillRun, lost: AbortSignal): Promise<{ marker: DrillMarker; report: MarkerReport }> {
    const value = `${this.randomId()}${this.randomId()}${this.randomId()}`;
    const report = await this.runJob(cluster, { ...spec, env: { ...spec.env, COCKPIT_DRILL_MARKER: value } }, run, lost);
    const marker: DrillMarker = { value, plantedAt: this.now(), stack, requestId };
    await this.deps.history.recordMarker(marker);
    return { marker, report };
  }

  /** Starts a Job, waits for it, keeps its log's tail, and reads its report line. */
  private async runJob(cluster: DrillCluster, spec: DrillJob, run: DrillRun, lost: AbortSignal): Promise<MarkerReport> {
    await cluster.startJob(spec);
    const settings = this.deps.team.drills!;
    const kept = { name: spec.name, namespace: spec.namespace, tail: [] as string[] };
    run.logs.jobs.push(kept);
    const keepLog = async () => {
      const log = await cluster.jobLog(spec.namespace, spec.name).catch((err: unknown) => `(no log: ${messageOf(err)})`);
      kept.tail = log.split('\n').filter((l) => l.trim() !== '').slice(-40);
      return log;
    };
    let state;
    try {
      state = await this.waitFor(`job ${spec.name}`, settings.timeouts.jobMinutes, lost, async () => {
        const s = await cluster.job(spec.namespace, spec.name);
        return s.phase === 'running' ? undefined : s;
      });
    } catch (err) {
      await keepLog();
      throw err;
    }
    const log = await keepLog();
    if (state.phase === 'failed') throw new DrillFailure(`job ${spec.name} failed (${state.reason})${kept.tail.length ? `: ${kept.tail[kept.tail.length - 1]}` : ''}`);
    return parseReport(log, spec.name);
  }

  private async freshBackup(
    cluster: DrillCluster,
    settings: DrillSettings,
    own: StackDrillSettings,
    id: string,
    labels: Record<string, string>,
    note: (detail: string) => void,
    lost: AbortSignal,
  ): Promise<VeleroOperationState> {
    const name = `cockpit-drill-${id}`;
    await cluster.startBackup({ name, schedule: settings.schedule, namespaces: own.namespaces, ttlHours: settings.backupTtlHours, labels });
    return this.waitFor(`backup ${name}`, settings.timeouts.backupMinutes, lost, async () => {
      const state = await cluster.backup(name);
      if (state && !TERMINAL.has(state.phase)) note(`${name} ${state.phase}`);
      return state && TERMINAL.has(state.phase) ? state : undefined;
    }, async () => (await cluster.backup(name))?.phase ?? 'not found');
  }

  /** Deletes what this drill created and waits until it is gone; returns what is still there, and why. */
  private async cleanUp(cluster: DrillCluster, namespaces: string[], timeoutMinutes: number): Promise<Array<{ namespace: string; why: string }>> {
    const left: Array<{ namespace: string; why: string }> = [];
    const deleting: string[] = [];
    for (const namespace of namespaces) {
      try {
        await cluster.deleteNamespace(namespace);
        deleting.push(namespace);
      } catch (err) {
        left.push({ namespace, why: messageOf(err) });
      }
    }
    const deadline = this.now().getTime() + timeoutMinutes * MINUTE_MS;
    let pending = deleting;
    for (;;) {
      const still: string[] = [];
      for (const namespace of pending) if (await cluster.namespaceExists(namespace).catch(() => true)) still.push(namespace);
      pending = still;
      if (pending.length === 0 || this.now().getTime() >= deadline) break;
      await this.deps.sleep(this.timing.pollMs);
    }
    for (const namespace of pending) left.push({ namespace, why: `still terminating after ${timeoutMinutes} min` });
    return left;
  }

  /**
   * Every drill on a cluster holds that stack's lock, so a drill namespace of any other drill there is one a
   * crashed drill left behind: deleted before this one starts, and said.
   */
  private async sweepLeftovers(cluster: DrillCluster, requestId: string, run: DrillRun): Promise<void> {
    const leftovers = (await cluster.drillNamespaces()).filter((ns) => ns.requestId !== requestId);
    for (const ns of leftovers) {
      try {
        await cluster.deleteNamespace(ns.name);
        run.warnings.push(`Deleted ${ns.name}, left behind by drill ${ns.requestId ?? '(unknown)'}, which stopped before its clean-up.`);
      } catch (err) {
        run.warnings.push(`${ns.name}, left behind by drill ${ns.requestId ?? '(unknown)'}, could not be deleted: ${messageOf(err)}`);
      }
    }
  }

  /** Polls `check` until it answers, the timeout passes (DrillFailure, with `describe`'s last word) or the lock is lost. */
  private async waitFor<T>(what: string, timeoutMinutes: number, lost: AbortSignal, check: () => Promise<T | undefined>, describe?: () => Promise<string>): Promise<T> {
    const deadline = this.now().getTime() + timeoutMinutes * MINUTE_MS;
    for (;;) {
      if (lost.aborted) throw new DrillFailure(messageOf(lost.reason));
      const value = await check();
      if (value !== undefined) return value;
      if (this.now().getTime() >= deadline) {
        const last = describe ? await describe().catch((err: unknown) => messageOf(err)) : '';
        throw new DrillFailure(`timed out after ${timeoutMinutes} min waiting for ${what}${last ? ` (${last})` : ''}`);
      }
      await this.deps.sleep(this.timing.pollMs);
    }
  }

  private async unavailable(request: DrillRequest, meta: RequestMeta, reason: string, needs: string): Promise<DrillOutcome> {
    await this.audit(meta, 'drill.start', request.stack, 'failed', { trigger: request.trigger, unavailable: reason });
    return { kind: 'unavailable', stack: request.stack, reason, needs };
  }

  private target(stack: string) {
    const settings = this.deps.policy.stack(stack);
    return { stack, pulumiStack: settings.pulumiStack, branch: settings.branch };
  }

  private randomId(): string {
    return this.deps.randomId?.() ?? randomBytes(4).readUInt32BE(0).toString(36).padStart(6, '0').slice(-6);
  }

  private now(): Date {
    return this.deps.clock.now();
  }

  private async audit(meta: RequestMeta, action: string, target: string, outcome: AuditOutcome, detail: Record<string, unknown>): Promise<void> {
    await this.deps.audit.record({ requestId: meta.requestId, actor: describeActor(meta.actor), action, target, outcome, detail });
  }
}

/** The last `cockpit-drill: {...}` line of a Job's log; a Job that printed none cannot prove anything. */
export function parseReport(log: string, job: string): MarkerReport {
  const line = log
    .split('\n')
    .map((l) => l.trim())
    .reverse()
    .find((l) => l.startsWith(REPORT_PREFIX));
  if (!line) throw new DrillFailure(`job ${job} printed no "${REPORT_PREFIX} {…}" line`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.slice(REPORT_PREFIX.length));
  } catch {
    throw new DrillFailure(`job ${job} printed a report that is not JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DrillFailure(`job ${job} printed a report that is not an object`);
  const raw = parsed as Record<string, unknown>;
  const counts: Record<string, number> = {};
  const checksums: Record<string, string> = {};
  for (const [k, v] of Object.entries(isRecord(raw.counts) ? raw.counts : {})) if (typeof v === 'number' && Number.isFinite(v)) counts[k] = v;
  for (const [k, v] of Object.entries(isRecord(raw.checksums) ? raw.checksums : {})) if (typeof v === 'string') checksums[k] = v;
  return { ...(typeof raw.marker === 'boolean' ? { marker: raw.marker } : {}), counts, checksums };
}

/** Rows may only have grown since the plant (the backup came after it); a checksum must not have changed. */
function checkAgainst(expected: MarkerReport, restored: MarkerReport): void {
  const problems: string[] = [];
  for (const [key, count] of Object.entries(expected.counts)) {
    const got = restored.counts[key];
    if (got === undefined) problems.push(`no count of ${key}`);
    else if (got < count) problems.push(`${key}: ${got} restored, ${count} before the backup`);
  }
  for (const [key, sum] of Object.entries(expected.checksums)) {
    const got = restored.checksums[key];
    if (got !== sum) problems.push(`${key} checksum ${got === undefined ? 'missing' : `${got} ≠ ${sum}`}`);
  }
  if (problems.length > 0) throw new DrillFailure(`the restored data differs: ${problems.join('; ')}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

function describeReport(report: MarkerReport): string {
  const parts = [...Object.entries(report.counts).map(([k, v]) => `${k} ${v}`), ...Object.keys(report.checksums).map((k) => `${k} checksum`)];
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function describeWaiting(waiting: Array<WorkloadState & { namespace?: string }>): string {
  return waiting
    .slice(0, 5)
    .map((w) => `${w.kind} ${w.namespace ? `${w.namespace}/` : ''}${w.name} ${w.detail}`)
    .join(', ');
}

function counts(state: VeleroOperationState): string {
  const parts = [state.errors ? `${state.errors} error(s)` : '', state.warnings ? `${state.warnings} warning(s)` : ''].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function minutesOf(seconds: number): string {
  return `${Math.round(seconds / 60)} min`;
}

function describeAgo(at: Date, now: Date): string {
  const minutes = Math.round((now.getTime() - at.getTime()) / MINUTE_MS);
  return minutes < 120 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
