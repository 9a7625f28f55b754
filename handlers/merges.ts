import type { Deployer, MergeRunOutcome, ProgressListener } from './deploy';
import { NotAllowedError } from './errors';
import { DRILL_CONTEXT, recordAct, type MergeVerdict, type Policy } from './policy';
import type { AuditLog, Clock, CodeHost, MergeQueue, StackLocks } from './ports';
import type { PullRequestMerged } from './model/code';
import type { DeployPlan, QueuedMerge } from './model/deploys';
import type { StackLock } from './model/stacks';
import { personById, stackOfBranch, type Team } from './team';

/**
 * Merging a pull request into a stack's branch deploys the stack, under the rules a Slack deploy follows
 * (handlers/policy.ts judges each merge). Merges are ordered and never lost: a merge that brings nothing the
 * stack does not already run (an old one replayed, or one that arrives after a newer one) deploys nothing; a
 * merge that meets a busy stack is queued in the store, and when the lock frees the stack deploys the newest
 * queued merge once, carrying the older ones.
 */

export interface MergeDeps {
  team: Team;
  policy: Policy;
  deployer: Deployer;
  codeHost: CodeHost;
  queue: MergeQueue;
  locks: StackLocks;
  audit: AuditLog;
  clock: Clock;
}

export interface MergeHooks {
  /** The merge's plan exists (previewed, not yet run): the flow announces it. */
  onPlan?(plan: DeployPlan): Promise<void> | void;
  onProgress?: ProgressListener;
}

export type MergeOutcome =
  | { kind: 'ignored'; reason: string }
  /** Nothing to deploy: the stack already runs these merges' code, or newer. */
  | { kind: 'already_deployed'; stack: string; revision: string; merges: QueuedMerge[] }
  | { kind: 'queued'; stack: string; behind: StackLock; merge: QueuedMerge }
  /** This merge is queued already (a delivery replayed while it waits). */
  | { kind: 'already_queued'; stack: string }
  | (MergeRunOutcome & { kind: 'finished' | 'awaiting_approval'; stack: string; merges: QueuedMerge[] });

export class MergeDeployer {
  constructor(private readonly deps: MergeDeps) {}

  /** A merged PR arrived: judged by the policy (refusals throw NotAllowedError), ordered, deployed or queued. */
  async merged(event: PullRequestMerged, meta: { requestId: string }, hooks: MergeHooks = {}): Promise<MergeOutcome> {
    const stack = stackOfBranch(this.deps.team, event.base);
    if (!stack) return { kind: 'ignored', reason: `${event.base} is no stack's branch` };
    const settings = this.deps.policy.stack(stack);
    const [reviews, drill, askedBy] = await Promise.all([
      settings.approvers.length > 0 ? this.deps.codeHost.reviews(event.number) : Promise.resolve([]),
      settings.promotionRequiresDrill ? this.deps.codeHost.commitStatus(event.headSha, DRILL_CONTEXT) : Promise.resolve(undefined),
      this.askedBy(event),
    ]);
    const verdict = await this.deps.policy.judgeMerge(
      { stack, pullRequest: event.number, mergeSha: event.mergeSha, headSha: event.headSha, mergedBy: event.mergedBy, author: event.author, askedBy, reviews, ...(drill ? { drill } : {}) },
      meta,
    );
    const merge: QueuedMerge = {
      stack,
      pullRequest: event.number,
      mergeSha: event.mergeSha,
      headSha: event.headSha,
      mergedBy: event.mergedBy,
      author: event.author,
      ...(askedBy.length > 0 ? { askedBy } : {}),
      htmlUrl: event.htmlUrl,
      ...(verdict.kind === 'deploy' && verdict.approvedBy ? { approvedBy: verdict.approvedBy.slack } : {}),
      ...(verdict.kind === 'needs_approval' ? { needsApproval: verdict.reason } : {}),
      queuedAt: this.deps.clock.now(),
      requestId: meta.requestId,
    };
    const running = await this.runningRevision(stack);
    if (running && (await this.carriedBy(merge.mergeSha, running))) {
      await this.record(verdict, meta.requestId, stack, { pullRequest: event.number, mergeSha: event.mergeSha, result: 'already deployed', runs: running });
      return { kind: 'already_deployed', stack, revision: running, merges: [merge] };
    }
    const lock = await this.deps.locks.get(stack);
    if (!lock) return this.deploy(stack, [merge], meta.requestId, hooks);
    if (!(await this.deps.queue.add(merge))) return { kind: 'already_queued', stack };
    await this.record(verdict, meta.requestId, stack, { pullRequest: event.number, mergeSha: event.mergeSha, result: 'queued', behind: lock.requestId });
    return { kind: 'queued', stack, behind: lock, merge };
  }

  /** Deploys what is queued for a stack once its lock is free; undefined when nothing is queued or it is busy. */
  async drain(stack: string, hooks: MergeHooks = {}): Promise<MergeOutcome | undefined> {
    if (await this.deps.locks.get(stack)) return undefined;
    const merges = await this.deps.queue.takeAll(stack);
    if (merges.length === 0) return undefined;
    try {
      return await this.deploy(stack, merges, merges.at(-1)!.requestId, hooks);
    } catch (err) {
      // Not deployed (GitHub unreachable for the order check, say): they wait for the next drain.
      for (const merge of merges) await this.deps.queue.add(merge);
      throw err;
    }
  }

  /** Stacks with merges waiting; the scheduler drains them every minute in case a release went unseen. */
  async waiting(): Promise<string[]> {
    return this.deps.queue.stacks();
  }

  /** Deploys the newest of `merges` (which carries the rest), unless the stack runs it already. */
  private async deploy(stack: string, merges: QueuedMerge[], requestId: string, hooks: MergeHooks): Promise<MergeOutcome> {
    const running = await this.runningRevision(stack);
    const live: QueuedMerge[] = [];
    for (const merge of merges) if (!running || !(await this.carriedBy(merge.mergeSha, running))) live.push(merge);
    if (live.length === 0) return { kind: 'already_deployed', stack, revision: running!, merges };

    const newest = await this.newestOf(live);
    const merger = this.deps.policy.githubActor(newest.mergedBy);
    if (!merger) throw new NotAllowedError(`PR #${newest.pullRequest} was merged by @${newest.mergedBy}, who is no longer in cockpit.yml: ${stack} is not deployed.`);
    const asker = newest.askedBy?.[0];
    const author = asker ? undefined : newest.author ? this.deps.policy.githubActor(newest.author) : undefined;
    const authorPerson = asker ? personById(this.deps.team, asker) : author ? personById(this.deps.team, author.id) : undefined;
    const waiting = live.filter((m) => m.needsApproval);
    const approvedBy = newest.approvedBy ? personById(this.deps.team, newest.approvedBy) : undefined;
    const verdict: MergeVerdict =
      waiting.length > 0 || (this.deps.policy.stack(stack).approvers.length > 0 && !approvedBy)
        ? { kind: 'needs_approval', merger, ...(authorPerson ? { author: authorPerson } : {}), reason: waiting.map((m) => m.needsApproval!).join('; ') || `${stack} needs a second person` }
        : { kind: 'deploy', merger, ...(authorPerson ? { author: authorPerson } : {}), ...(approvedBy ? { approvedBy } : {}) };
    const carries = live.filter((m) => m !== newest).map((m) => m.pullRequest);
    const outcome = await this.deps.deployer.deployMerge(
      { stack, kind: 'merge', pullRequest: newest.pullRequest, mergeSha: newest.mergeSha, mergedBy: newest.mergedBy, ...(newest.author ? { author: newest.author } : {}), htmlUrl: newest.htmlUrl, ...(carries.length > 0 ? { carries } : {}) },
      verdict,
      { requestId },
      hooks,
    );
    if (outcome.kind === 'busy') {
      // Taken between the look and the lock: they wait for that operation's release.
      for (const merge of live) await this.deps.queue.add(merge);
      return { kind: 'queued', stack, behind: outcome.lock, merge: newest };
    }
    return { ...outcome, stack, merges: live };
  }

  /** The merge whose commit contains the others'; when history was rewritten, the one merged last. */
  private async newestOf(merges: QueuedMerge[]): Promise<QueuedMerge> {
    let newest = merges[0]!;
    for (const merge of merges.slice(1)) {
      const comparison = await this.deps.codeHost.compare(newest.mergeSha, merge.mergeSha);
      if (comparison.status === 'ahead' || (comparison.status === 'diverged' && merge.queuedAt >= newest.queuedAt)) newest = merge;
    }
    return newest;
  }

  /**
   * A PR Cockpit opened (a promotion) has Cockpit as its author on GitHub; the people who asked for it with
   * `/cockpit promote` are its authors for the two-person rule, so none of them can approve it.
   */
  private async askedBy(event: PullRequestMerged): Promise<string[]> {
    const self = await this.deps.codeHost.selfLogin().catch(() => undefined);
    if (!self || event.author.toLowerCase() !== self.toLowerCase()) return [];
    const promotions = await this.deps.audit.query({ action: 'promote', limit: 500 });
    const askers = promotions.filter((e) => e.detail.pullRequestNumber === event.number && typeof e.detail.requestedBy === 'string').map((e) => e.detail.requestedBy as string);
    return [...new Set(askers)];
  }

  private runningRevision(stack: string): Promise<string | undefined> {
    return this.deps.deployer.lastRunRevision(stack);
  }

  /** Whether `sha` brings nothing beyond `running`: the same commit, or one of its ancestors. */
  private async carriedBy(sha: string, running: string): Promise<boolean> {
    if (sha === running) return true;
    const comparison = await this.deps.codeHost.compare(running, sha);
    return comparison.status === 'behind' || comparison.status === 'identical';
  }

  private async record(verdict: MergeVerdict, requestId: string, stack: string, detail: Record<string, unknown>): Promise<void> {
    await recordAct(this.deps.audit, { requestId, actor: verdict.merger }, { action: 'deploy.merge', target: stack, outcome: 'succeeded', detail });
  }
}
