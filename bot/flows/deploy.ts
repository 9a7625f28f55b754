import type { Deployer, RequestMeta, RunOutcome } from '../../handlers/deploy';
import type { Clock } from '../../handlers/ports';
import type { DeployPlan } from '../../handlers/model/deploys';
import type { EngineProgress } from '../../handlers/model/infra';
import type { ActionHandler, Conversation, PostedMessage, RequestContext, VerbHandler, VerbHandlers } from '../commands';
import {
  awaitingApprovalReply,
  cancelledReply,
  cancelRequestedReply,
  expiredReply,
  lockBrokenReply,
  previewFailedReply,
  previewingReply,
  progressReply,
  resultReply,
  riskReportReply,
} from '../slack/blocks/deploy';
import type { Reply } from '../slack/blocks/reply';
import { ACTIONS } from '../slack/ids';
import { runLongOperation } from './longOperation';

/**
 * The deploy as people see it: one message in the channel that moves from "previewing" to the risk report,
 * to "waiting for an approver", to progress, to the result. The rules are handlers/policy.ts's and the
 * orchestration handlers/deploy.ts's; this file only decides what is shown where.
 */

export interface DeployFlowDeps {
  deployer: Deployer;
  clock: Clock;
  /** Slack allows roughly one edit a second per message; progress is shown every few seconds. */
  progressIntervalMs?: number;
}

export const requestMeta = (ctx: RequestContext): RequestMeta => ({ actor: ctx.actor, requestId: ctx.requestId });

/** The result of a run, and a warning when the store could not record it (the update did happen). */
export function runResultReply(outcome: RunOutcome, requestId: string): Reply {
  const reply = resultReply(outcome.plan, outcome.result);
  if (!outcome.recordingFailed) return reply;
  return {
    ...reply,
    text: `${reply.text}, but recording it failed`,
    blocks: [...reply.blocks, { type: 'section', text: { type: 'mrkdwn', text: `:warning: *Deployed, but recording it failed* (ref \`${requestId}\`): the store refused the result, so status and history lag behind. See the log.` } }],
  };
}

export function deployFlow(deps: DeployFlowDeps): { verbs: VerbHandlers; actions: Record<string, ActionHandler> } {
  const { deployer, clock } = deps;
  const intervalMs = deps.progressIntervalMs ?? 3000;
  const opDeps = (ctx: RequestContext) => ({ clock, log: ctx.log, intervalMs });

  /** Runs a plan (confirm or approve) with progress edited into its message, and leaves the outcome there. */
  async function runPlan(planId: string, ctx: RequestContext, start: (onProgress: (p: EngineProgress) => void) => Promise<RunOutcome | { awaiting: DeployPlan; approvers: string[] }>) {
    const plan = await deployer.plan(planId);
    const where = messageOf(plan, ctx);
    const startedAt = clock.now().getTime();
    let recordingFailed: string | undefined;
    const { value } = await runLongOperation(opDeps(ctx), {
      conversation: where?.conversation,
      message: where?.message,
      run: (op) => start((p) => op.show(progressReply(plan, p, clock.now().getTime() - startedAt))),
      done: (outcome) => {
        if ('awaiting' in outcome) return awaitingApprovalReply(outcome.awaiting, outcome.approvers, clock.now());
        recordingFailed = outcome.recordingFailed;
        return runResultReply(outcome, ctx.requestId);
      },
      // A run that started and broke leaves its record, and a stale plan is expired: show that, not a frozen bar.
      failed: async () => {
        const after = await deployer.plan(planId).catch(() => undefined);
        if (!after || after.status === plan.status) return undefined;
        if (after.status === 'expired') return expiredReply(after);
        return after.result ? resultReply(after, after.result) : undefined;
      },
    });
    if (recordingFailed) ctx.log.error({ planId, error: recordingFailed }, 'deployed, but recording the result failed');
    if (where) return undefined;
    return 'awaiting' in value ? awaitingApprovalReply(value.awaiting, value.approvers, clock.now()) : runResultReply(value, ctx.requestId);
  }

  /** The message showing a plan: the one whose button was pressed, else the one the plan recorded. */
  function messageOf(plan: DeployPlan, ctx: RequestContext): { conversation: Conversation; message: PostedMessage } | undefined {
    const message = ctx.sourceMessage ?? plan.message;
    return ctx.conversation && message ? { conversation: ctx.conversation, message } : undefined;
  }

  const deploy: VerbHandler<'deploy'> = async (req, ctx) => {
    const meta = requestMeta(ctx);
    await deployer.assertMayPreview(req.stack, meta, req.overrideFreeze);
    const preview = (message?: PostedMessage) =>
      deployer.preview(req.stack, meta, { freezeOverrideReason: req.overrideFreeze }).then(async (plan) => {
        if (message) await deployer.recordMessage(plan.id, message);
        return plan;
      });
    if (!ctx.conversation) return riskReportReply(await preview(), clock.now(), { previewOnly: req.preview });
    await runLongOperation(opDeps(ctx), {
      conversation: ctx.conversation,
      announce: previewingReply(req.stack, ctx.actor.id),
      run: (op) => preview(op.message),
      done: (plan) => riskReportReply(plan, clock.now(), { previewOnly: req.preview }),
      failed: () => previewFailedReply(req.stack, ctx.requestId),
    });
    return undefined;
  };

  return {
    verbs: {
      deploy,
      cancel: async (req, ctx) => cancelRequestedReply(req.stack, await deployer.cancelRunning(req.stack, requestMeta(ctx)), ctx.actor.id),
      unlock: async (req, ctx) => lockBrokenReply(req.stack, await deployer.breakLock(req.stack, req.reason, requestMeta(ctx)), ctx.actor.id, req.reason),
    },
    actions: {
      [ACTIONS.deployConfirm]: (planId, ctx) =>
        runPlan(planId, ctx, async (onProgress) => {
          const outcome = await deployer.confirm(planId, requestMeta(ctx), onProgress);
          return outcome.kind === 'awaiting_approval' ? { awaiting: outcome.plan, approvers: outcome.approvers } : outcome;
        }),
      [ACTIONS.deployApprove]: (planId, ctx) => runPlan(planId, ctx, (onProgress) => deployer.approve(planId, requestMeta(ctx), onProgress)),
      [ACTIONS.deployCancel]: async (planId, ctx) => {
        const plan = await deployer.cancelPlan(planId, requestMeta(ctx));
        const where = messageOf(plan, ctx);
        const reply = cancelledReply(plan, ctx.actor.id);
        if (!where) return reply;
        await where.conversation.update(where.message, reply);
        return undefined;
      },
      // "Preview again" on a stale plan or a lagging stack: a fresh `/cockpit deploy <stack>`, by whoever pressed it.
      [ACTIONS.deployPreviewAgain]: (stack, ctx) => deploy({ verb: 'deploy', stack, preview: false }, { ...ctx, sourceMessage: undefined }),
    },
  };
}
