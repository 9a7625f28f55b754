import type { Deployer } from '../../handlers/deploy';
import { ConflictError, InputError, isCockpitError } from '../../handlers/errors';
import type { MergeDeployer, MergeHooks, MergeOutcome } from '../../handlers/merges';
import { describeActor, type Policy } from '../../handlers/policy';
import type { AuditLog, Clock, CodeHost, Logger } from '../../handlers/ports';
import type { BranchPushed, CodeHostEvent, CommitState, PullRequestPreviewRequested, PullRequestChanged, PullRequestMerged } from '../../handlers/model/code';
import type { DeployPlan } from '../../handlers/model/deploys';
import type { Actor } from '../../handlers/model/identity';
import { measurementMarkdown } from '../../handlers/promote';
import type { Measurement } from '../../handlers/risk';
import { displayName, stackOfBranch, type Team } from '../../handlers/team';
import type { Conversation, RequestContext, VerbHandler } from '../commands';
import { newRequestId } from '../requestId';
import { awaitingApprovalReply, branchLagsReply, mergeDeployRefusedReply, mergeDeployReply, mergeQueuedReply, progressReply, type MergeShown } from '../slack/blocks/deploy';
import { pullRequestPreviewReply } from '../slack/blocks/promote';
import type { Reply } from '../slack/blocks/reply';
import { describeLock } from '../../handlers/stackLock';
import { runResultReply } from './deploy';
import type { DrillGate } from './drillGate';
import { runLongOperation } from './longOperation';

/**
 * What Cockpit does with the infra repo's pull requests, as Atlantis does. A PR into a stack branch gets the
 * preview of what its merge would deploy, as a comment and a `cockpit/preview` status — automatically only when
 * its author is a team member; anyone else's waits for a team member's `cockpit preview` comment or
 * `/cockpit preview <number>`. A merged PR deploys its stack under the rules a Slack deploy follows
 * (handlers/merges.ts, handlers/policy.ts), reported in the deploys channel, on the PR and as a `cockpit/deploy`
 * status. A stack branch that moves without a merged PR is said to lag its stack.
 */

export const PREVIEW_CONTEXT = 'cockpit/preview';
export const DEPLOY_CONTEXT = 'cockpit/deploy';

export interface GitHubFlowDeps {
  team: Team;
  /** `owner/name` of the infra repo: deliveries for any other repository are ignored. */
  repository: string;
  codeHost: CodeHost;
  policy: Policy;
  deployer: Deployer;
  merges: MergeDeployer;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  /** The team's deploys channel, when Slack is there to post in (asked for when needed: Slack starts later). */
  deploysChannel(): Conversation | undefined;
  progressIntervalMs?: number;
  /** Drills the source of a gated promotion PR and reports `cockpit/restore-drill` (bot/flows/drillGate.ts). */
  drillGate?: Pick<DrillGate, 'pullRequestChanged'>;
}

export interface GitHubFlow {
  /** Handles one verified delivery; a rejection means it was not done (the hook lets GitHub redeliver it). */
  handle(event: CodeHostEvent, deliveryId: string): Promise<void>;
  /** Deploys the merges queued for a stack, if its lock is free (after a release, and every minute). */
  drain(stack: string): Promise<void>;
  /** `/cockpit preview <pr>`. */
  previewVerb: VerbHandler<'preview'>;
}

interface PullRequestToPreview {
  number: number;
  base: string;
  headSha: string;
  author: string;
  htmlUrl: string;
  fromFork: boolean;
}

export function githubFlow(deps: GitHubFlowDeps): GitHubFlow {
  const intervalMs = deps.progressIntervalMs ?? 3000;
  const nameOfLogin = (login: string) => {
    const actor = deps.policy.githubActor(login);
    return actor ? `${actor.name ?? login} (@${login})` : `@${login}`;
  };
  const textOf = (err: unknown, requestId: string) => (isCockpitError(err) ? `${err.message}${err.hint ? `\n${err.hint}` : ''}` : `failed, ref ${requestId}`);

  /** Previews what merging the PR would deploy and reports it on the PR; `askedBy` is who asked, if anyone did. */
  async function previewPullRequest(pr: PullRequestToPreview, requestId: string, log: Logger, askedBy?: Actor): Promise<{ stack: string; measurement?: Measurement }> {
    const stack = stackOfBranch(deps.team, pr.base);
    if (!stack) {
      log.info({ base: pr.base }, 'PR into a branch that is no stack: nothing to preview');
      return { stack: '' };
    }
    const status = (state: CommitState, description: string) => deps.codeHost.setCommitStatus(pr.headSha, { state, context: PREVIEW_CONTEXT, description: description.slice(0, 140) });
    if (pr.fromFork) {
      // A fork's code would run with our cloud credentials: never.
      await status('error', 'Previews do not run on forks: push the branch to the infra repo.');
      return { stack };
    }
    await status('pending', `Previewing what merging into ${stack} deploys…`);
    const measurement = await deps.deployer.measure(stack, { kind: 'pull_request', number: pr.number, headSha: pr.headSha });
    const at =
      'preview' in measurement && measurement.preview.headRevision && measurement.preview.baseRevision
        ? `head \`${measurement.preview.headRevision.slice(0, 7)}\` merged into \`${pr.base}\` at \`${measurement.preview.baseRevision.slice(0, 7)}\``
        : `\`${pr.headSha.slice(0, 7)}\``;
    const body = [
      `### Cockpit preview of **${stack}**: ${at}`,
      '',
      ...measurementMarkdown(measurement, stack),
      '',
      `Merging this PR deploys **${stack}**. ${askedBy ? `Asked by ${displayName(deps.team, askedBy.id)}` : 'Updated on every push'}; ref \`${requestId}\`.`,
    ].join('\n');
    await deps.codeHost.upsertComment(pr.number, `cockpit-preview:${stack}`, body);
    if ('unavailable' in measurement) {
      await status('error', `No preview: ${measurement.unavailable}`);
    } else {
      const c = measurement.preview.counts;
      await status('success', `${measurement.risk.level} risk: +${c.create} ~${c.update} ±${c.replace} -${c.delete}`);
    }
    await deps.audit.record({
      requestId,
      actor: askedBy ? describeActor(askedBy) : `github:${pr.author}`,
      action: 'pr.preview',
      target: stack,
      outcome: 'unavailable' in measurement ? 'failed' : 'succeeded',
      detail: { pullRequest: pr.number, headSha: pr.headSha, ...('unavailable' in measurement ? { reason: measurement.unavailable } : { risk: measurement.risk.level, revision: measurement.preview.revision }) },
    });
    return { stack, measurement };
  }

  async function pullRequestChanged(event: PullRequestChanged, requestId: string, log: Logger): Promise<void> {
    deps.drillGate?.pullRequestChanged(event, requestId, log);
    if (event.draft) return void log.info({}, 'draft PR: previewed once it is ready for review');
    const stack = stackOfBranch(deps.team, event.base);
    if (!stack) return void log.info({ base: event.base }, 'PR into a branch that is no stack: nothing to preview');
    // Cockpit's own promotion PRs carry code already merged into a stack branch: previewed like a member's.
    const self = await deps.codeHost.selfLogin().catch(() => undefined);
    const verdict = self && event.author.toLowerCase() === self.toLowerCase() ? { allowed: true as const } : deps.policy.autoPreview(stack, event.author);
    // A delivery signed long ago (a replay past the dedupe window) may name a head the PR has left: skip it.
    const current = await deps.codeHost.pullRequest(event.number);
    if (current.state !== 'open' || current.headSha !== event.headSha || current.base !== event.base) {
      return void log.info({ headSha: event.headSha, now: current.headSha, state: current.state }, 'the PR moved on since this delivery: nothing to preview');
    }
    if (!verdict.allowed) {
      // Unreviewed code from outside the team runs with the stack's credentials only when a team member asks.
      await deps.codeHost.setCommitStatus(event.headSha, { state: 'pending', context: PREVIEW_CONTEXT, description: 'Waiting for a team member: comment `cockpit preview` to run it.' });
      await deps.codeHost.upsertComment(event.number, `cockpit-preview:${stack}`, `### Cockpit preview of **${stack}**\n\n${verdict.reason}\n${verdict.hint ?? ''}\n\nref \`${requestId}\``);
      await deps.audit.record({ requestId, actor: `github:${event.author}`, action: 'pr.preview', target: stack, outcome: 'refused', detail: { pullRequest: event.number, headSha: event.headSha, reason: verdict.reason } });
      return;
    }
    await previewPullRequest(event, requestId, log);
  }

  /** A team member asked for a preview (a `cockpit preview` comment, or Slack): the policy decides, then it runs. */
  async function requestedPreview(number: number, actor: Actor, requestId: string, log: Logger): Promise<{ stack: string; measurement?: Measurement; htmlUrl: string }> {
    const pr = await deps.codeHost.pullRequest(number);
    const stack = stackOfBranch(deps.team, pr.base);
    if (!stack) return { stack: '', htmlUrl: pr.htmlUrl };
    await deps.policy.mayPreview(stack, { actor, requestId });
    if (pr.state !== 'open') throw new ConflictError(`PR #${number} is ${pr.merged ? 'merged' : 'closed'}: nothing to preview.`);
    const outcome = await previewPullRequest(pr, requestId, log, actor);
    return { ...outcome, htmlUrl: pr.htmlUrl };
  }

  async function previewComment(event: PullRequestPreviewRequested, requestId: string, log: Logger): Promise<void> {
    const actor = deps.policy.githubActor(event.commenter);
    if (!actor) {
      // Someone outside the team cannot make Cockpit run code, nor make it write on the PR.
      await deps.audit.record({ requestId, actor: `github:${event.commenter}`, action: 'pr.preview', target: '', outcome: 'refused', detail: { pullRequest: event.number, reason: 'commenter not in cockpit.yml' } });
      return void log.info({ commenter: event.commenter }, 'cockpit preview asked by someone outside the team file: ignored');
    }
    try {
      const { stack } = await requestedPreview(event.number, actor, requestId, log);
      if (!stack) log.info({}, 'cockpit preview on a PR into a branch that is no stack');
    } catch (err) {
      if (!isCockpitError(err)) throw err;
      await deps.codeHost.upsertComment(event.number, `cockpit-preview-request`, `@${event.commenter}: ${textOf(err, requestId)}\n\nref \`${requestId}\``);
    }
  }

  /** The PR comment that tells the merge's outcome; none when the stack already ran it (a replay says nothing). */
  function commentFor(outcome: MergeOutcome, requestId: string): string | undefined {
    switch (outcome.kind) {
      case 'finished': {
        const r = outcome.result;
        const carried = outcome.plan.source?.carries?.length ? ` with ${outcome.plan.source.carries.map((n) => `#${n}`).join(', ')}` : '';
        return `${r.outcome === 'succeeded' ? ':white_check_mark:' : ':x:'} **${outcome.stack}** ${r.outcome} in ${Math.round(r.durationMs / 1000)} s at \`${(r.revision ?? outcome.plan.preview.revision ?? '').slice(0, 7)}\`${carried}${r.error ? `\n\n\`\`\`\n${r.error.slice(0, 2000)}\n\`\`\`` : ''}\n\nref \`${outcome.plan.id}\``;
      }
      case 'awaiting_approval':
        return `:raised_hand: **${outcome.stack}** waits for an approver in Slack: ${outcome.reason}.\n\nref \`${outcome.plan.id}\``;
      case 'queued':
        return `:hourglass_flowing_sand: **${outcome.stack}** is busy (${describeLock(deps.team, outcome.behind, deps.clock.now())}): this merge deploys as soon as that ends.\n\nref \`${requestId}\``;
      default:
        return undefined;
    }
  }

  function replyFor(outcome: MergeOutcome, shown: MergeShown): Reply | undefined {
    switch (outcome.kind) {
      case 'finished':
        return runResultReply(outcome, outcome.plan.id);
      case 'awaiting_approval':
        return awaitingApprovalReply(outcome.plan, outcome.approvers, deps.clock.now(), outcome.reason);
      case 'queued':
        return mergeQueuedReply(outcome.stack, shown, describeLock(deps.team, outcome.behind, deps.clock.now()));
      default:
        return undefined;
    }
  }

  /** What the PR and its merge commit are told: a comment and a `cockpit/deploy` status. */
  async function reportOnPullRequest(merge: { number: number; mergeSha: string; stack: string }, comment: string | undefined, state: CommitState | undefined, description: string, log: Logger): Promise<void> {
    if (comment) await deps.codeHost.upsertComment(merge.number, `cockpit-deploy:${merge.stack}`, comment).catch((err: unknown) => log.warn({ err }, 'cannot comment the deploy on the PR'));
    if (state) await deps.codeHost.setCommitStatus(merge.mergeSha, { state, context: DEPLOY_CONTEXT, description: description.slice(0, 140) }).catch((err: unknown) => log.warn({ err }, 'cannot set the deploy status'));
  }

  function statusOf(outcome: MergeOutcome): { state?: CommitState; description: string } {
    switch (outcome.kind) {
      case 'finished':
        return { state: outcome.result.outcome === 'succeeded' ? 'success' : 'failure', description: `${outcome.stack} ${outcome.result.outcome}, ref ${outcome.plan.id}` };
      case 'awaiting_approval':
        return { state: 'pending', description: `${outcome.stack} waits for an approver in Slack` };
      case 'queued':
        return { state: 'pending', description: `${outcome.stack} is busy: queued` };
      default:
        return { description: '' };
    }
  }

  /** Progress of a merge deploy in the deploys channel, once its plan exists. */
  function mergeHooks(op: { show(reply: Reply): void; announce(reply: Reply): Promise<void> }, startedAt: number, announce: (plan: DeployPlan) => Reply | undefined): MergeHooks {
    let plan: DeployPlan | undefined;
    return {
      onPlan: async (p) => {
        plan = p;
        const first = announce(p);
        if (first) await op.announce(first);
      },
      onProgress: (p) => plan && op.show(progressReply(plan, p, deps.clock.now().getTime() - startedAt)),
    };
  }

  async function merged(event: PullRequestMerged, requestId: string, log: Logger): Promise<void> {
    const stack = stackOfBranch(deps.team, event.base);
    if (!stack) return void log.info({ base: event.base }, 'merge into a branch that is no stack: nothing to deploy');
    const shown: MergeShown = { number: event.number, htmlUrl: event.htmlUrl, mergedBy: nameOfLogin(event.mergedBy), mergeSha: event.mergeSha };
    const startedAt = deps.clock.now().getTime();
    try {
      const { value: outcome } = await runLongOperation(
        { clock: deps.clock, log, intervalMs },
        {
          conversation: deps.deploysChannel(),
          // Announced once there is something to deploy: a replay the stack already runs says nothing in the channel.
          required: false,
          run: (op) => deps.merges.merged(event, { requestId }, mergeHooks(op, startedAt, () => mergeDeployReply(stack, shown))),
          done: (outcome) => replyFor(outcome, shown),
          failed: (err) => mergeDeployRefusedReply(stack, event, textOf(err, requestId)),
        },
      );
      if (outcome.kind === 'already_deployed') log.info({ stack, runs: outcome.revision }, 'the stack already runs this merge: nothing to deploy');
      const { state, description } = statusOf(outcome);
      await reportOnPullRequest({ ...event, stack }, commentFor(outcome, requestId), state, description, log);
    } catch (err) {
      const text = textOf(err, requestId);
      if (!isCockpitError(err)) log.error({ err }, 'merge deploy failed');
      await reportOnPullRequest({ ...event, stack }, `:x: **${stack}** was not deployed: ${text}\n\nref \`${requestId}\``, 'failure', `${stack} not deployed: ${isCockpitError(err) ? err.message : `failed, ref ${requestId}`}`, log);
      // A refusal is an answer; anything else was not done, and GitHub's Redeliver may try again.
      if (!isCockpitError(err) || err.code === 'UNAVAILABLE') throw err;
    }
  }

  async function drain(stack: string): Promise<void> {
    const requestId = newRequestId();
    const log = deps.log.child({ requestId, stack, job: 'merges.drain' });
    const startedAt = deps.clock.now().getTime();
    let shown: MergeShown | undefined;
    try {
      const { value: outcome } = await runLongOperation(
        { clock: deps.clock, log, intervalMs },
        {
          conversation: deps.deploysChannel(),
          required: false,
          run: (op) =>
            deps.merges.drain(
              stack,
              mergeHooks(op, startedAt, (plan) => {
                const source = plan.source!;
                shown = { number: source.pullRequest, htmlUrl: source.htmlUrl, mergedBy: nameOfLogin(source.mergedBy), mergeSha: source.mergeSha, ...(source.carries ? { carries: source.carries } : {}) };
                return mergeDeployReply(stack, shown);
              }),
            ),
          done: (outcome) => (outcome && shown ? replyFor(outcome, shown) : undefined),
        },
      );
      if (!outcome || outcome.kind === 'queued' || outcome.kind === 'ignored' || outcome.kind === 'already_queued') return;
      const comment = commentFor(outcome, requestId);
      const { state, description } = statusOf(outcome);
      for (const merge of outcome.merges) await reportOnPullRequest({ number: merge.pullRequest, mergeSha: merge.mergeSha, stack }, comment, state, description, log);
    } catch (err) {
      if (isCockpitError(err)) log.warn({ reason: err.message }, 'queued merges not deployed');
      else log.error({ err }, 'draining the queued merges failed; the next drain tries again');
    }
  }

  async function branchPushed(event: BranchPushed, requestId: string, log: Logger): Promise<void> {
    const stack = stackOfBranch(deps.team, event.branch);
    if (!stack || /^0+$/.test(event.after)) return;
    // A merge also pushes: its pull_request event deploys it. Only a push no merged PR made leaves the stack behind.
    const merges = await deps.codeHost.mergedPullRequestsOf(event.after);
    if (merges.some((m) => m.base === event.branch)) return;
    const runs = await deps.deployer.lastRunRevision(stack);
    await deps.audit.record({ requestId, actor: `github:${event.pusher}`, action: 'branch.push', target: stack, outcome: 'succeeded', detail: { branch: event.branch, before: event.before, after: event.after, forced: event.forced, lags: true } });
    log.warn({ branch: event.branch, after: event.after, forced: event.forced }, 'stack branch moved without a merged PR: the stack lags it');
    await deps.deploysChannel()?.post(branchLagsReply(stack, event, runs)).catch((err: unknown) => log.warn({ err }, 'cannot post in the deploys channel'));
  }

  return {
    async handle(event, deliveryId) {
      const requestId = newRequestId();
      const log = deps.log.child({ requestId, deliveryId, event: event.kind, ...('number' in event ? { pullRequest: event.number } : { branch: event.branch }) });
      if (event.repository.toLowerCase() !== deps.repository.toLowerCase()) return void log.warn({ repository: event.repository }, 'delivery for another repository ignored');
      switch (event.kind) {
        case 'pull_request.changed':
          try {
            return await pullRequestChanged(event, requestId, log);
          } catch (err) {
            log.error({ err }, 'PR preview failed');
            await deps.codeHost.setCommitStatus(event.headSha, { state: 'error', context: PREVIEW_CONTEXT, description: `Preview failed, ref ${requestId}` }).catch(() => undefined);
            throw err;
          }
        case 'pull_request.preview_requested':
          return previewComment(event, requestId, log);
        case 'pull_request.merged':
          return merged(event, requestId, log);
        case 'branch.pushed':
          return branchPushed(event, requestId, log);
      }
    },
    drain,
    previewVerb: async (req, ctx: RequestContext) => {
      const { stack, measurement, htmlUrl } = await requestedPreview(req.pullRequest, ctx.actor, ctx.requestId, ctx.log);
      if (!stack) throw new InputError(`PR #${req.pullRequest} does not merge into a stack's branch: nothing to preview.`, `Stacks' branches: ${Object.values(deps.team.stacks).map((s) => s.branch).join(', ')}`);
      return pullRequestPreviewReply({ number: req.pullRequest, htmlUrl, stack, measurement: measurement! });
    },
  };
}
