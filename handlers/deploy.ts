import { ConflictError, InputError, NotAllowedError, NotFoundError, UnavailableError } from './errors';
import type {
  Actor,
  AuditLog,
  Clock,
  DeployPlan,
  DeployPlans,
  DrillHistory,
  EngineProgress,
  IncidentBoard,
  IncidentSummary,
  InfraEngine,
  PreviewResult,
  RiskAssessment,
  StackLock,
  StackLocks,
  StackTarget,
  UpdateResult,
} from './ports';
import { assessRisk, type Measurement } from './risk';
import { describeLock, withStackLock } from './stackLock';
import { displayName, hasAnyRole, type StackSettings, type Team } from './team';

/**
 * The rules of deploying a stack. A deploy is previewed first and its risk measured; a person confirms it; on
 * stacks that require it a second person approves; it then runs under the stack's lock, which holds across
 * replicas. Open SEV1/SEV2 incidents on a stack freeze it unless an approver overrides with a reason.
 */

export interface DeployDeps {
  team: Team;
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
  timing?: Partial<DeployTiming>;
}

export interface DeployTiming {
  /** How often a running deploy renews its lock. */
  heartbeatMs: number;
  /** A lock whose heartbeat is older than this was left by a crashed process and may be broken. */
  lockStaleAfterMs: number;
  /** A preview older than this no longer describes the stack; confirming it is refused. */
  planTtlMs: number;
}

export const DEFAULT_TIMING: DeployTiming = { heartbeatMs: 30_000, lockStaleAfterMs: 5 * 60_000, planTtlMs: 30 * 60_000 };

export interface RequestMeta {
  actor: Actor;
  requestId: string;
}

export type ConfirmOutcome = { kind: 'awaiting_approval'; plan: DeployPlan; approvers: string[] } | { kind: 'finished'; plan: DeployPlan; result: UpdateResult };

export type ProgressListener = (progress: EngineProgress) => void;

export class Deployer {
  private readonly timing: DeployTiming;

  constructor(private readonly deps: DeployDeps) {
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
  }

  /** The checks a preview makes before it starts: fronts call it before they announce the preview. */
  async assertMayPreview(stack: string, meta: RequestMeta, freezeOverrideReason?: string): Promise<void> {
    const settings = this.stack(stack);
    this.mustDeploy(stack, settings, meta.actor);
    if (freezeOverrideReason !== undefined) {
      if (!freezeOverrideReason.trim()) throw new InputError('a freeze override needs a reason');
      this.mustApprove(stack, settings, meta.actor, 'override a freeze');
    }
    await this.mustHaveEngine();
  }

  /** Previews the stack and records the plan with its risk report; nothing changes on the stack. */
  async preview(stack: string, meta: RequestMeta, options: { freezeOverrideReason?: string; onProgress?: ProgressListener } = {}): Promise<DeployPlan> {
    await this.assertMayPreview(stack, meta, options.freezeOverrideReason);
    const settings = this.stack(stack);
    const override = options.freezeOverrideReason?.trim();

    const preview = await this.deps.engine.preview(this.target(stack, settings), { onEvent: options.onProgress });
    const risk = await this.riskOf(stack, preview);
    const plan = await this.newPlan(stack, meta, preview, risk, override ? { by: meta.actor.id, reason: override } : undefined);
    await this.audit(meta, 'deploy.preview', stack, 'succeeded', {
      planId: plan.id,
      counts: preview.counts,
      risk: risk.level,
      reasons: risk.reasons,
      revision: preview.revision,
      ...(override ? { freezeOverride: override } : {}),
    });
    return plan;
  }

  /** Deploy pressed: runs the plan, or hands it to an approver when the stack needs a second person. */
  async confirm(planId: string, meta: RequestMeta, onProgress?: ProgressListener): Promise<ConfirmOutcome> {
    const plan = await this.livePlan(planId, ['awaiting_confirmation']);
    const settings = this.stack(plan.stack);
    this.mustDeploy(plan.stack, settings, meta.actor);
    await this.mustNotBeFrozen(plan);
    if (settings.approvers.length > 0) {
      const waiting = await this.deps.plans.transition(plan.id, ['awaiting_confirmation'], 'awaiting_approval', { confirmedBy: meta.actor.id });
      if (!waiting) throw this.movedOn(plan.id);
      await this.audit(meta, 'deploy.confirm', plan.stack, 'requested', { planId: plan.id, awaiting: 'approval' });
      return { kind: 'awaiting_approval', plan: waiting, approvers: this.approversOf(settings) };
    }
    const result = await this.run(plan, 'awaiting_confirmation', meta, { confirmedBy: meta.actor.id }, onProgress);
    return { kind: 'finished', ...result };
  }

  /** Approve pressed by a second person: checks who they are, then runs the plan. */
  async approve(planId: string, meta: RequestMeta, onProgress?: ProgressListener): Promise<{ plan: DeployPlan; result: UpdateResult }> {
    const plan = await this.livePlan(planId, ['awaiting_approval']);
    const settings = this.stack(plan.stack);
    this.mustApprove(plan.stack, settings, meta.actor, 'approve deploys');
    if (meta.actor.id === plan.requestedBy || meta.actor.id === plan.confirmedBy) {
      throw new NotAllowedError('You cannot approve your own deploy: a second person must.', `Approvers of ${plan.stack}: ${this.approversOf(settings).join(', ')}`);
    }
    await this.mustNotBeFrozen(plan);
    await this.audit(meta, 'deploy.approve', plan.stack, 'succeeded', { planId: plan.id, requestedBy: plan.requestedBy });
    return this.run(plan, 'awaiting_approval', meta, { approvedBy: meta.actor.id }, onProgress);
  }

  /** Cancel pressed on a plan that has not started: the requester, a deployer or an approver may. */
  async cancelPlan(planId: string, meta: RequestMeta): Promise<DeployPlan> {
    const plan = await this.plan(planId);
    const settings = this.stack(plan.stack);
    const allowed = meta.actor.id === plan.requestedBy || hasAnyRole(this.deps.team, meta.actor.id, [...settings.deployers, ...settings.approvers]);
    if (!allowed) throw new NotAllowedError(`Only ${displayName(this.deps.team, plan.requestedBy)}, a deployer or an approver of ${plan.stack} can cancel this deploy.`);
    const cancelled = await this.deps.plans.transition(plan.id, ['awaiting_confirmation', 'awaiting_approval'], 'cancelled');
    if (!cancelled) throw this.movedOn(plan.id);
    await this.audit(meta, 'deploy.cancel', plan.stack, 'cancelled', { planId: plan.id, before: 'start' });
    return cancelled;
  }

  /** `/cockpit cancel <stack>`: stops the update running on the stack, wherever it runs. */
  async cancelRunning(stack: string, meta: RequestMeta): Promise<StackLock> {
    const settings = this.stack(stack);
    this.mustDeploy(stack, settings, meta.actor);
    const lock = await this.deps.locks.get(stack);
    if (!lock) throw new NotFoundError(`Nothing is running on ${stack}.`);
    await this.deps.engine.cancel(this.target(stack, settings));
    await this.audit(meta, 'deploy.cancel', stack, 'requested', { lockedBy: lock.holder, purpose: lock.purpose, lockRequestId: lock.requestId });
    return lock;
  }

  /** Breaks a lock a crashed process left behind. Only an approver, only a stale lock, always with a reason. */
  async breakLock(stack: string, reason: string, meta: RequestMeta): Promise<StackLock> {
    const settings = this.stack(stack);
    this.mustApprove(stack, settings, meta.actor, 'break a lock');
    if (reason.trim() === '') throw new InputError('Breaking a lock needs a reason.', `/cockpit unlock ${stack} <reason>`);
    const lock = await this.deps.locks.get(stack);
    if (!lock) throw new NotFoundError(`${stack} is not locked.`);
    const silentMs = this.deps.clock.now().getTime() - lock.heartbeatAt.getTime();
    if (silentMs < this.timing.lockStaleAfterMs) {
      throw new ConflictError(
        `The lock on ${stack} is alive: its ${lock.purpose} sent a heartbeat ${Math.round(silentMs / 1000)}s ago.`,
        `To stop it, use /cockpit cancel ${stack}.`,
      );
    }
    // Release exactly the lock we judged stale: if it changed hands meanwhile, the new holder keeps it.
    if (!(await this.deps.locks.release(stack, lock.requestId))) throw new ConflictError(`The lock on ${stack} changed hands; look again with /cockpit status.`);
    await this.audit(meta, 'lock.break', stack, 'succeeded', { reason, holder: lock.holder, purpose: lock.purpose, lockRequestId: lock.requestId, owner: lock.owner, silentMs });
    return lock;
  }

  /** A PR merged into a stack's branch: the merge is the approval; the run takes the same lock and respects freezes. */
  async deployMerged(
    stack: string,
    merge: { sha: string; mergedBy: string; pullRequest: number },
    meta: RequestMeta,
    onProgress?: ProgressListener,
  ): Promise<{ plan: DeployPlan; result: UpdateResult }> {
    const settings = this.stack(stack);
    await this.mustHaveEngine();
    const openIncidents = await this.deps.incidents.open(stack);
    const freezing = openIncidents.filter((i) => i.severity === 'SEV1' || i.severity === 'SEV2');
    if (freezing.length > 0) {
      await this.audit(meta, 'deploy.merge', stack, 'refused', { reason: 'frozen', incidents: freezing.map((i) => i.id), pullRequest: merge.pullRequest });
      throw new NotAllowedError(
        `PR #${merge.pullRequest} merged into ${settings.branch}, but ${stack} is frozen by ${freezing.map((i) => `INC-${i.id} (${i.severity})`).join(', ')}: not deployed.`,
        `An approver can deploy through the freeze: /cockpit deploy ${stack} --override-freeze "<reason>"`,
      );
    }
    const preview = await this.deps.engine.preview(this.target(stack, settings));
    const plan = await this.newPlan(stack, meta, preview, await this.riskOf(stack, preview, openIncidents));
    await this.audit(meta, 'deploy.merge', stack, 'requested', { planId: plan.id, pullRequest: merge.pullRequest, mergeSha: merge.sha, mergedBy: merge.mergedBy });
    return this.run(plan, 'awaiting_confirmation', meta, { confirmedBy: meta.actor.id, approvedBy: meta.actor.id }, onProgress, merge.sha);
  }

  /**
   * Previews `stack` with the code of `branch` and measures the risk, for a promotion PR or a PR check: no
   * plan, no permission check (the code host decides who merges), and an absent engine is an answer, not an error.
   */
  async measure(stack: string, branch: string): Promise<Measurement> {
    const settings = this.stack(stack);
    const engine = await this.deps.engine.availability();
    if (!engine.available) return { unavailable: engine.reason };
    let preview: PreviewResult;
    try {
      preview = await this.deps.engine.preview({ stack, pulumiStack: settings.pulumiStack, branch });
    } catch (err) {
      return { unavailable: `the preview failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    return { preview, risk: await this.riskOf(stack, preview) };
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

  private newPlan(stack: string, meta: RequestMeta, preview: PreviewResult, risk: RiskAssessment, freezeOverride?: DeployPlan['freezeOverride']): Promise<DeployPlan> {
    return this.deps.plans.create({
      id: meta.requestId,
      stack,
      requestedBy: meta.actor.id,
      createdAt: this.deps.clock.now(),
      status: 'awaiting_confirmation',
      preview,
      risk,
      ...(freezeOverride ? { freezeOverride } : {}),
    });
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

  private async run(
    plan: DeployPlan,
    from: 'awaiting_confirmation' | 'awaiting_approval',
    meta: RequestMeta,
    patch: Partial<Pick<DeployPlan, 'confirmedBy' | 'approvedBy'>>,
    onProgress?: ProgressListener,
    revision = plan.preview.revision,
  ): Promise<{ plan: DeployPlan; result: UpdateResult }> {
    const settings = this.stack(plan.stack);
    const target = this.target(plan.stack, settings);
    const lockDeps = { locks: this.deps.locks, engine: this.deps.engine, owner: this.deps.owner, heartbeatMs: this.timing.heartbeatMs };
    const locked = await withStackLock(lockDeps, { target, holder: meta.actor.id, purpose: 'deploy', requestId: plan.id }, async () => {
      const running = await this.deps.plans.transition(plan.id, [from], 'running', patch);
      if (!running) throw this.movedOn(plan.id);
      await this.audit(meta, 'deploy.start', plan.stack, 'started', { planId: plan.id, revision });
      onProgress?.({ done: 0, total: plan.preview.steps });

      let result: UpdateResult;
      try {
        result = await this.deps.engine.up(target, { onEvent: onProgress, expectedSteps: plan.preview.steps, revision });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        result = { outcome: 'failed', durationMs: 0, counts: { create: 0, update: 0, replace: 0, delete: 0, same: 0 }, outputs: {}, error: message, logTail: [] };
        await this.finish(plan, result, meta);
        throw err;
      }
      return { plan: await this.finish(plan, result, meta), result };
    });
    if (!locked.acquired) {
      await this.audit(meta, 'deploy.start', plan.stack, 'refused', { planId: plan.id, lockedBy: locked.heldBy.holder, lockRequestId: locked.heldBy.requestId });
      throw new ConflictError(describeLock(this.deps.team, locked.heldBy, this.deps.clock.now()), 'Press Deploy again when it is free, or see /cockpit status.');
    }
    return locked.value;
  }

  private async finish(plan: DeployPlan, result: UpdateResult, meta: RequestMeta): Promise<DeployPlan> {
    const status = result.outcome === 'succeeded' ? 'succeeded' : result.outcome === 'cancelled' ? 'cancelled' : 'failed';
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
    return done ?? { ...plan, status, result };
  }

  // --- rules ----------------------------------------------------------------------------------------------

  private stack(stack: string): StackSettings {
    const settings = this.deps.team.stacks[stack];
    if (!settings) throw new NotFoundError(`No stack "${stack}".`, `Known: ${Object.keys(this.deps.team.stacks).join(', ')}`);
    return settings;
  }

  private target(stack: string, settings: StackSettings): StackTarget {
    return { stack, pulumiStack: settings.pulumiStack, branch: settings.branch };
  }

  private mustDeploy(stack: string, settings: StackSettings, actor: Actor): void {
    if (!hasAnyRole(this.deps.team, actor.id, settings.deployers)) {
      throw new NotAllowedError(`You may not deploy ${stack}: it needs the role ${settings.deployers.join(' or ')}.`, 'Roles are set in cockpit.yml.');
    }
  }

  /** A stack's own approver roles, or the team-wide `approver` role on stacks that name none. */
  private approverRoles(settings: StackSettings): string[] {
    return settings.approvers.length > 0 ? settings.approvers : ['approver'];
  }

  private mustApprove(stack: string, settings: StackSettings, actor: Actor, what: string): void {
    if (!hasAnyRole(this.deps.team, actor.id, this.approverRoles(settings))) {
      throw new NotAllowedError(`Only an approver of ${stack} may ${what}.`, `Approvers: ${this.approversOf(settings).join(', ') || 'none configured'}`);
    }
  }

  private approversOf(settings: StackSettings): string[] {
    const roles = this.approverRoles(settings);
    return this.deps.team.people.filter((p) => p.roles.some((r) => roles.includes(r))).map((p) => p.name);
  }

  private async mustHaveEngine(): Promise<void> {
    const engine = await this.deps.engine.availability();
    if (!engine.available) throw new UnavailableError(`Deploys are unavailable here: ${engine.reason}`, engine.install);
  }

  /** A freeze is checked again at confirm time: an incident may have opened since the preview. */
  private async mustNotBeFrozen(plan: DeployPlan): Promise<void> {
    if (plan.freezeOverride) return;
    const freezing = (await this.deps.incidents.open(plan.stack)).filter((i) => i.severity === 'SEV1' || i.severity === 'SEV2');
    if (freezing.length > 0) {
      throw new NotAllowedError(
        `${plan.stack} is frozen: ${freezing.map((i) => `INC-${i.id} ${i.severity} "${i.title}"`).join(', ')} is open.`,
        `An approver can deploy through it: /cockpit deploy ${plan.stack} --override-freeze "<reason>"`,
      );
    }
  }

  private async livePlan(planId: string, statuses: DeployPlan['status'][]): Promise<DeployPlan> {
    const plan = await this.plan(planId);
    if (!statuses.includes(plan.status)) throw this.movedOn(planId, plan);
    const ageMs = this.deps.clock.now().getTime() - plan.createdAt.getTime();
    if (ageMs > this.timing.planTtlMs) {
      await this.deps.plans.transition(plan.id, statuses, 'expired');
      throw new ConflictError(`This preview is ${Math.round(ageMs / 60_000)} minutes old and no longer describes ${plan.stack}.`, `Run /cockpit deploy ${plan.stack} again.`);
    }
    return plan;
  }

  private movedOn(planId: string, plan?: DeployPlan): ConflictError {
    const status = plan?.status.replace(/_/g, ' ') ?? 'handled';
    return new ConflictError(`This deploy is already ${status}.`, `ref ${planId}`);
  }

  private async audit(meta: RequestMeta, action: string, target: string, outcome: Parameters<AuditLog['record']>[0]['outcome'], detail: Record<string, unknown>): Promise<void> {
    await this.deps.audit.record({ requestId: meta.requestId, actor: meta.actor.id, action, target, outcome, detail });
  }
}
