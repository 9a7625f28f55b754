import { ConflictError, InputError, NotFoundError } from './errors';
import { approversOf, describeActor, recordAct, type MergeVerdict, type Policy, type RequestMeta } from './policy';
import type { AuditLog, Clock, DeployPlans, DrillHistory, IncidentBoard, InfraEngine, StackLocks } from './ports';
import type { AuditOutcome } from './model/audit';
import type { DeployPlan, DeployPlanStatus, MergeSource, RiskAssessment } from './model/deploys';
import type { IncidentSummary } from './model/incidents';
import type { EngineProgress, PreviewCode, PreviewResult, UpdateResult } from './model/infra';
import type { StackLock, StackTarget } from './model/stacks';
import { assessRisk, type Measurement } from './risk';
import { describeLock, requireEngine, withStackLock, type StackLockDeps } from './stackLock';
import type { Team } from './team';

/**
 * The deploy as an orchestration: preview and measure, record a plan, run it under the stack's lock. Whether a
 * person may do each step, now, is handlers/policy.ts's to say; this file asks it at every step and never
 * decides itself. A press starts a run with one atomic plan transition (awaiting → running) before the lock is
 * taken, so of two presses exactly one runs and the other changes nothing.
 */

export interface DeployDeps {
  team: Team;
  policy: Policy;
  engine: InfraEngine;
  locks: StackLocks;
  plans: DeployPlans;
  drills: DrillHistory;
  incidents: IncidentBoard;
  audit: AuditLog;
  clock: Clock;
  /** This replica's id, written on the locks it takes so a crashed replica's lock can be told apart. */
  owner: string;
  /** Told after every run that may have created resources (EnvironmentKeeper.adoptDeployed gives ephemeral stacks a TTL). */
  onDeployed?(stack: string, meta: RequestMeta): Promise<unknown>;
  /** Told when this replica releases a stack's lock: merges queued behind it may go. */
  onReleased?(stack: string): void;
  timing?: Partial<DeployTiming>;
}

export interface DeployTiming {
  /** How often a running deploy renews its lock. */
  heartbeatMs: number;
}

export const DEFAULT_TIMING: DeployTiming = { heartbeatMs: 30_000 };

export type { RequestMeta };

/** A run that finished. `recordingFailed`: the update ran, but the store refused its record (say so, never hide it). */
export interface RunOutcome {
  plan: DeployPlan;
  result: UpdateResult;
  recordingFailed?: string;
}

export type ConfirmOutcome = { kind: 'awaiting_approval'; plan: DeployPlan; approvers: string[] } | ({ kind: 'finished' } & RunOutcome);

/** What a merge deploy did: ran, waits for an approver in Slack, or found the stack busy (it stays queued). */
export type MergeRunOutcome =
  | ({ kind: 'finished' } & RunOutcome)
  | { kind: 'awaiting_approval'; plan: DeployPlan; approvers: string[]; reason: string }
  | { kind: 'busy'; lock: StackLock };

export type ProgressListener = (progress: EngineProgress) => void;

/** Statuses in which a plan has not started: a person may still press its buttons. */
const WAITING: readonly DeployPlanStatus[] = ['awaiting_confirmation', 'awaiting_approval'];

export class Deployer {
  private readonly timing: DeployTiming;

  constructor(private readonly deps: DeployDeps) {
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
  }

  /** The checks a preview makes before it starts: fronts call it before they announce the preview. */
  async assertMayPreview(stack: string, meta: RequestMeta, freezeOverrideReason?: string): Promise<void> {
    await this.deps.policy.mayPreview(stack, meta, freezeOverrideReason);
    await this.mustHaveEngine();
  }

  /** Previews the stack and records the plan with its risk report; nothing changes on the stack. */
  async preview(stack: string, meta: RequestMeta, options: { freezeOverrideReason?: string; onProgress?: ProgressListener } = {}): Promise<DeployPlan> {
    await this.assertMayPreview(stack, meta, options.freezeOverrideReason);
    const override = options.freezeOverrideReason?.trim();
    const preview = await this.deps.engine.preview(this.target(stack), { onEvent: options.onProgress });
    const plan = await this.newPlan(stack, meta.actor.id, meta.requestId, preview, await this.riskOf(stack, preview), override ? { freezeOverride: { by: meta.actor.id, reason: override } } : {});
    await this.audit(meta, 'deploy.preview', stack, 'succeeded', {
      planId: plan.id,
      counts: preview.counts,
      risk: plan.risk.level,
      reasons: plan.risk.reasons,
      revision: preview.revision,
      ...(override ? { freezeOverride: override } : {}),
    });
    return plan;
  }

  /** Deploy pressed: runs the plan, or hands it to an approver when the stack needs a second person. */
  async confirm(planId: string, meta: RequestMeta, onProgress?: ProgressListener): Promise<ConfirmOutcome> {
    const plan = await this.waitingPlan(planId, 'awaiting_confirmation');
    await this.deps.policy.mayStart(plan, 'deploy', meta);
    const settings = this.deps.policy.stack(plan.stack);
    const confirmed = { confirmedBy: meta.actor.id, confirmedAt: this.deps.clock.now() };
    if (settings.approvers.length > 0) {
      const waiting = await this.deps.plans.transition(plan.id, ['awaiting_confirmation'], 'awaiting_approval', confirmed);
      if (!waiting) throw await this.movedOn(plan.id);
      await this.audit(meta, 'deploy.confirm', plan.stack, 'requested', { planId: plan.id, awaiting: 'approval' });
      return { kind: 'awaiting_approval', plan: waiting, approvers: approversOf(this.deps.team, settings) };
    }
    return { kind: 'finished', ...(await this.start(plan, 'awaiting_confirmation', meta, confirmed, onProgress)) };
  }

  /** Approve pressed by a second person: the policy checks who they are, then the plan runs. */
  async approve(planId: string, meta: RequestMeta, onProgress?: ProgressListener): Promise<RunOutcome> {
    const plan = await this.waitingPlan(planId, 'awaiting_approval');
    await this.deps.policy.mayStart(plan, 'approve', meta);
    await this.audit(meta, 'deploy.approve', plan.stack, 'succeeded', { planId: plan.id, requestedBy: plan.requestedBy, confirmedBy: plan.confirmedBy });
    return this.start(plan, 'awaiting_approval', meta, { approvedBy: meta.actor.id }, onProgress);
  }

  /** Cancel pressed on a plan that has not started: the requester, a deployer or an approver may. */
  async cancelPlan(planId: string, meta: RequestMeta): Promise<DeployPlan> {
    const plan = await this.plan(planId);
    await this.deps.policy.mayCancelPlan(plan, meta);
    const cancelled = await this.deps.plans.transition(plan.id, WAITING, 'cancelled');
    if (!cancelled) throw await this.movedOn(plan.id);
    await this.audit(meta, 'deploy.cancel', plan.stack, 'cancelled', { planId: plan.id, before: 'start' });
    return cancelled;
  }

  /** `/cockpit cancel <stack>`: stops the update running on the stack, wherever it runs. */
  async cancelRunning(stack: string, meta: RequestMeta): Promise<StackLock> {
    await this.deps.policy.mayCancelRun(stack, meta);
    const lock = await this.deps.locks.get(stack);
    if (!lock) throw new NotFoundError(`Nothing is running on ${stack}.`);
    await this.deps.engine.cancel(this.target(stack));
    await this.audit(meta, 'deploy.cancel', stack, 'requested', { lockedBy: lock.holder, purpose: lock.purpose, lockRequestId: lock.requestId });
    return lock;
  }

  /** Breaks a lock a crashed process left behind; the plan that lock ran is marked failed, since nobody finishes it. */
  async breakLock(stack: string, reason: string, meta: RequestMeta): Promise<StackLock> {
    const lock = await this.deps.locks.get(stack);
    if (!lock) {
      this.deps.policy.stack(stack);
      throw new NotFoundError(`${stack} is not locked.`);
    }
    await this.deps.policy.mayBreakLock(stack, lock, meta);
    if (reason.trim() === '') throw new InputError('Breaking a lock needs a reason.', `/cockpit unlock ${stack} <reason>`);
    // Release exactly the lock we judged stale: if it changed hands meanwhile, the new holder keeps it.
    if (!(await this.deps.locks.release(stack, lock.requestId))) throw new ConflictError(`The lock on ${stack} changed hands; look again with /cockpit status.`);
    const silentMs = this.deps.clock.now().getTime() - lock.heartbeatAt.getTime();
    await this.audit(meta, 'lock.break', stack, 'succeeded', { reason, holder: lock.holder, purpose: lock.purpose, lockRequestId: lock.requestId, owner: lock.owner, silentMs });
    await this.interrupted(lock.requestId, `its replica ${lock.owner} stopped; the lock was broken by ${describeActor(meta.actor)}`);
    this.deps.onReleased?.(stack);
    return lock;
  }

  /**
   * Runs a merge the policy accepted: under the stack's lock, previews the merge commit, records the plan, and
   * either runs it at once or leaves it waiting for an approver. The lock is held from the preview to the end, so
   * nothing changes the stack between what was previewed and what runs.
   */
  async deployMerge(
    source: MergeSource & { stack: string },
    verdict: MergeVerdict,
    meta: { requestId: string },
    hooks: { onPlan?(plan: DeployPlan): Promise<void> | void; onProgress?: ProgressListener } = {},
  ): Promise<MergeRunOutcome> {
    const { stack } = source;
    const settings = this.deps.policy.stack(stack);
    const target = this.target(stack);
    const runMeta = { requestId: meta.requestId, actor: verdict.merger };
    await this.mustHaveEngine();
    const locked = await withStackLock(this.lockDeps(), { target, holder: verdict.merger.id, purpose: 'deploy', requestId: meta.requestId }, async (): Promise<MergeRunOutcome> => {
      await this.deps.policy.mustNotBeFrozen(stack, runMeta, { pullRequest: source.pullRequest });
      const { stack: _stack, ...merge } = source;
      const preview = await this.deps.engine.preview(target, { revision: source.mergeSha });
      const plan = await this.newPlan(stack, verdict.author?.slack ?? verdict.merger.id, meta.requestId, preview, await this.riskOf(stack, preview), { source: merge });
      await hooks.onPlan?.(plan);
      const confirmed = { confirmedBy: verdict.merger.id, confirmedAt: this.deps.clock.now() };
      const detail = { planId: plan.id, pullRequest: source.pullRequest, mergeSha: source.mergeSha, carries: source.carries ?? [] };
      if (verdict.kind === 'needs_approval') {
        const waiting = await this.deps.plans.transition(plan.id, ['awaiting_confirmation'], 'awaiting_approval', confirmed);
        if (!waiting) throw await this.movedOn(plan.id);
        await this.audit(runMeta, 'deploy.merge', stack, 'requested', { ...detail, awaiting: 'approval', reason: verdict.reason });
        return { kind: 'awaiting_approval', plan: waiting, approvers: approversOf(this.deps.team, settings), reason: verdict.reason };
      }
      const running = await this.deps.plans.transition(plan.id, ['awaiting_confirmation'], 'running', { ...confirmed, ...(verdict.approvedBy ? { approvedBy: verdict.approvedBy.slack } : {}) });
      if (!running) throw await this.movedOn(plan.id);
      await this.audit(runMeta, 'deploy.merge', stack, 'requested', { ...detail, ...(verdict.approvedBy ? { approvedOnGitHubBy: verdict.approvedBy.slack } : {}) });
      return { kind: 'finished', ...(await this.execute(running, runMeta, hooks.onProgress)) };
    });
    return locked.acquired ? locked.value : { kind: 'busy', lock: locked.heldBy };
  }

  /**
   * Previews `stack` with other code and measures the risk, for a promotion PR or a PR check: no plan and no
   * permission check (the caller asked the policy), the code run apart from the stack's checkout, and an absent
   * engine is an answer, not an error.
   */
  async measure(stack: string, code: PreviewCode): Promise<Measurement> {
    const engine = await this.deps.engine.availability();
    if (!engine.available) return { unavailable: engine.reason };
    let preview: PreviewResult;
    try {
      preview = await this.deps.engine.preview(this.target(stack), { code });
    } catch (err) {
      return { unavailable: `the preview failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    return { preview, risk: await this.riskOf(stack, preview) };
  }

  /**
   * At start-up: plans left `running` with no lock to show for it were cut off by a replica that died after
   * releasing (or never taking) its lock; nobody will finish them, so they are marked failed. A plan whose lock
   * is still there stays running: its replica may be alive, and breaking a stale lock marks it (breakLock).
   */
  async reconcile(stacks: readonly string[] = Object.keys(this.deps.team.stacks)): Promise<DeployPlan[]> {
    const fixed: DeployPlan[] = [];
    for (const stack of stacks) {
      const lock = await this.deps.locks.get(stack);
      for (const plan of await this.deps.plans.byStack(stack, ['running'])) {
        if (lock?.requestId === plan.id) continue;
        const failed = await this.interrupted(plan.id, 'the replica running it stopped before it finished');
        if (failed) fixed.push(failed);
      }
    }
    return fixed;
  }

  /** Deletes plans that ended before the retention period; the audit log keeps their story forever. */
  async purge(retentionDays: number): Promise<number> {
    return this.deps.plans.purge(new Date(this.deps.clock.now().getTime() - retentionDays * 86_400_000));
  }

  /** The commit the stack runs: the one its last run deployed (even a failed run changed the stack). */
  async lastRunRevision(stack: string): Promise<string | undefined> {
    return (await this.deps.plans.lastRun(stack))?.preview.revision;
  }

  /** Remembers which message shows the plan, so a press on any replica edits the same one. */
  async recordMessage(planId: string, message: { channel: string; ts: string }): Promise<void> {
    await this.deps.plans.setMessage(planId, message);
  }

  /** The plan as stored (for rendering a button's message). */
  async plan(planId: string): Promise<DeployPlan> {
    const plan = await this.deps.plans.get(planId);
    if (!plan) throw new NotFoundError('That deploy is unknown; run /cockpit deploy again.');
    return plan;
  }

  // --- the run ------------------------------------------------------------------------------------------

  /**
   * Starts a waiting plan: one atomic transition to `running` (a second press finds it moved and changes
   * nothing), then the lock. Under the lock the plan is checked once more against the stack's history, since a
   * deploy may have finished between the press and the lock. A busy lock puts the plan back, to press again.
   */
  private async start(plan: DeployPlan, from: 'awaiting_confirmation' | 'awaiting_approval', meta: RequestMeta, patch: Partial<DeployPlan>, onProgress?: ProgressListener): Promise<RunOutcome> {
    const running = await this.deps.plans.transition(plan.id, [from], 'running', patch);
    if (!running) throw await this.movedOn(plan.id);
    const target = this.target(plan.stack);
    let locked;
    try {
      locked = await withStackLock(this.lockDeps(), { target, holder: meta.actor.id, purpose: 'deploy', requestId: plan.id }, async () => {
        await this.deps.policy.mustBeCurrent(running, from === 'awaiting_approval' ? 'approve' : 'deploy', meta);
        return this.execute(running, meta, onProgress);
      });
    } catch (err) {
      // Refused or failed before the engine started (a stale plan is already expired): nothing ran.
      await this.deps.plans.transition(plan.id, ['running'], from).catch(() => undefined);
      throw err;
    }
    if (!locked.acquired) {
      await this.deps.plans.transition(plan.id, ['running'], from);
      await this.audit(meta, 'deploy.start', plan.stack, 'refused', { planId: plan.id, lockedBy: locked.heldBy.holder, lockRequestId: locked.heldBy.requestId });
      throw new ConflictError(describeLock(this.deps.team, locked.heldBy, this.deps.clock.now()), 'Press Deploy again when it is free, or see /cockpit status.');
    }
    return locked.value;
  }

  /** The update itself, for a plan already `running` under the lock. */
  private async execute(plan: DeployPlan, meta: RequestMeta, onProgress?: ProgressListener): Promise<RunOutcome> {
    const revision = plan.preview.revision;
    await this.audit(meta, 'deploy.start', plan.stack, 'started', { planId: plan.id, revision });
    onProgress?.({ done: 0, total: plan.preview.steps });
    let result: UpdateResult;
    try {
      result = await this.deps.engine.up(this.target(plan.stack), { onEvent: onProgress, expectedSteps: plan.preview.steps, revision });
    } catch (err) {
      // The engine throws only when the update did not start (busy backend, checkout refused): nothing changed.
      const message = err instanceof Error ? err.message : String(err);
      await this.finish(plan, { outcome: 'failed', durationMs: 0, counts: { create: 0, update: 0, replace: 0, delete: 0, same: 0 }, outputs: {}, error: message, logTail: [] }, meta);
      throw err;
    }
    return this.finish(plan, result, meta);
  }

  /** Records the outcome. The update already happened: a store that refuses the record must not hide it. */
  private async finish(plan: DeployPlan, result: UpdateResult, meta: RequestMeta): Promise<RunOutcome> {
    const status = result.outcome === 'succeeded' ? 'succeeded' : result.outcome === 'cancelled' ? 'cancelled' : 'failed';
    const finished = { ...plan, status, result } as DeployPlan;
    try {
      const done = await this.deps.plans.transition(plan.id, ['running'], status, { result });
      // Even a failed or cancelled run may have created part of the stack.
      await this.deps.onDeployed?.(plan.stack, meta);
      await this.audit(meta, 'deploy.finish', plan.stack, status, {
        planId: plan.id,
        durationMs: result.durationMs,
        counts: result.counts,
        revision: result.revision,
        ...(result.error ? { error: result.error } : {}),
      });
      return { plan: done ?? finished, result };
    } catch (err) {
      return { plan: finished, result, recordingFailed: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Marks a plan that was running and will never finish as failed; undefined when it was not running. */
  private async interrupted(planId: string, why: string): Promise<DeployPlan | undefined> {
    const plan = await this.deps.plans.get(planId);
    if (!plan || plan.status !== 'running') return undefined;
    const result: UpdateResult = { outcome: 'failed', durationMs: 0, counts: { create: 0, update: 0, replace: 0, delete: 0, same: 0 }, outputs: {}, error: `Interrupted: ${why}. The stack may be partly updated; preview it again.`, logTail: [] };
    const failed = await this.deps.plans.transition(plan.id, ['running'], 'failed', { result });
    if (failed) await this.deps.audit.record({ requestId: plan.id, actor: 'cockpit', action: 'deploy.finish', target: plan.stack, outcome: 'failed', detail: { planId: plan.id, interrupted: why } });
    return failed;
  }

  // --- helpers -----------------------------------------------------------------------------------------------

  private lockDeps(): StackLockDeps {
    return { locks: this.deps.locks, engine: this.deps.engine, owner: this.deps.owner, heartbeatMs: this.timing.heartbeatMs, onReleased: this.deps.onReleased };
  }

  /** The risk report of a preview: what it would destroy, the stack's drills, its open incidents. */
  private async riskOf(stack: string, preview: PreviewResult, openIncidents?: IncidentSummary[]): Promise<RiskAssessment> {
    const [lastDrill, lastPassedDrill, incidents] = await Promise.all([
      this.deps.drills.latest(stack),
      this.deps.drills.latestPassed(stack),
      openIncidents ?? this.deps.incidents.open(stack),
    ]);
    return assessRisk({ preview, lastDrill, lastPassedDrill, openIncidents: incidents, now: this.deps.clock.now() });
  }

  private newPlan(stack: string, requestedBy: string, id: string, preview: PreviewResult, risk: RiskAssessment, extra: Pick<DeployPlan, 'freezeOverride' | 'source'>): Promise<DeployPlan> {
    return this.deps.plans.create({ id, stack, requestedBy, createdAt: this.deps.clock.now(), status: 'awaiting_confirmation', preview, risk, ...extra });
  }

  /** A plan still waiting in `status`; anything else is "already …" (a second press, a late click). */
  private async waitingPlan(planId: string, status: DeployPlanStatus): Promise<DeployPlan> {
    const plan = await this.plan(planId);
    if (plan.status !== status) throw await this.movedOn(planId, plan);
    return plan;
  }

  private async movedOn(planId: string, known?: DeployPlan): Promise<ConflictError> {
    const plan = known ?? (await this.deps.plans.get(planId).catch(() => undefined));
    const status = plan?.status.replace(/_/g, ' ') ?? 'handled';
    return new ConflictError(`This deploy is already ${status}.`, `ref ${planId}`);
  }

  private target(stack: string): StackTarget {
    return this.deps.policy.target(stack);
  }

  private mustHaveEngine(): Promise<void> {
    return requireEngine(this.deps.engine, 'Deploys are unavailable here');
  }

  private audit(meta: RequestMeta, action: string, target: string, outcome: AuditOutcome, detail: Record<string, unknown>): Promise<void> {
    return recordAct(this.deps.audit, meta, { action, target, outcome, detail });
  }
}
