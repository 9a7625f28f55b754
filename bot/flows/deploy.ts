import type { Deployer, RequestMeta } from '../../handlers/deploy';
import { UnavailableError } from '../../handlers/errors';
import type { Clock, DeployPlan, EngineProgress, UpdateResult } from '../../handlers/ports';
import type { ActionHandler, Conversation, PostedMessage, RequestContext, VerbHandlers } from '../commands';
import {
  awaitingApprovalReply,
  cancelledReply,
  cancelRequestedReply,
  lockBrokenReply,
  previewFailedReply,
  previewingReply,
  progressReply,
  resultReply,
  riskReportReply,
} from '../slack/blocks/deploy';
import { ACTIONS } from '../slack/ids';
import { ThrottledEditor } from './throttledEditor';

/**
 * The deploy as people see it: one message in the channel that moves from "previewing" to the risk report,
 * to "waiting for an approver", to progress, to the result. The rules are handlers/deploy.ts's; this file
 * only decides what is shown where.
 */

export interface DeployFlowDeps {
  deployer: Deployer;
  clock: Clock;
  /** Slack allows roughly one edit a second per message; progress is shown every few seconds. */
  progressIntervalMs?: number;
}

const meta = (ctx: RequestContext): RequestMeta => ({ actor: ctx.actor, requestId: ctx.requestId });

export function deployFlow(deps: DeployFlowDeps): { verbs: VerbHandlers; actions: Record<string, ActionHandler> } {
  const { deployer, clock } = deps;
  const interval = deps.progressIntervalMs ?? 3000;

  /** Runs a plan (confirm or approve) with progress edited into its message, and leaves the result there. */
  async function runWithProgress(
    planId: string,
    ctx: RequestContext,
    start: (onProgress: (p: EngineProgress) => void) => Promise<{ plan: DeployPlan; result: UpdateResult } | { awaiting: DeployPlan; approvers: string[] }>,
  ) {
    const plan = await deployer.plan(planId);
    const where = messageOf(plan, ctx);
    const startedAt = clock.now().getTime();
    const editor = where && new ThrottledEditor(where.conversation, where.message, interval, ctx.log, () => clock.now().getTime());
    try {
      const outcome = await start((p) => editor?.push(progressReply(plan, p, clock.now().getTime() - startedAt)));
      await editor?.stop();
      const reply = 'awaiting' in outcome ? awaitingApprovalReply(outcome.awaiting, outcome.approvers, clock.now()) : resultReply(outcome.plan, outcome.result);
      if (!where) return reply;
      await where.conversation.update(where.message, reply);
      return undefined;
    } catch (err) {
      await editor?.stop();
      // A run that started and then broke leaves its record; show it rather than a frozen progress bar.
      const after = await deployer.plan(planId).catch(() => undefined);
      if (where && after?.result && after.status !== plan.status) await where.conversation.update(where.message, resultReply(after, after.result)).catch(() => undefined);
      throw err;
    }
  }

  /** The message showing a plan: the one whose button was pressed, else the one the plan recorded. */
  function messageOf(plan: DeployPlan, ctx: RequestContext): { conversation: Conversation; message: PostedMessage } | undefined {
    const message = ctx.sourceMessage ?? plan.message;
    return ctx.conversation && message ? { conversation: ctx.conversation, message } : undefined;
  }

  return {
    verbs: {
      deploy: async (req, ctx) => {
        await deployer.assertMayPreview(req.stack, meta(ctx), req.overrideFreeze);
        if (!ctx.conversation) {
          const plan = await deployer.preview(req.stack, meta(ctx), { freezeOverrideReason: req.overrideFreeze });
          return riskReportReply(plan, clock.now(), { previewOnly: req.preview });
        }
        const message = await ctx.conversation.post(previewingReply(req.stack, ctx.actor.id)).catch((err: unknown) => {
          ctx.log.warn({ err }, 'cannot post the deploy message in this conversation');
          throw new UnavailableError('Cockpit cannot post in this conversation.', 'Run deploys in a channel Cockpit is in (invite @cockpit), e.g. the deploys channel.');
        });
        try {
          const plan = await deployer.preview(req.stack, meta(ctx), { freezeOverrideReason: req.overrideFreeze });
          await deployer.recordMessage(plan.id, message);
          await ctx.conversation.update(message, riskReportReply(plan, clock.now(), { previewOnly: req.preview }));
          return undefined;
        } catch (err) {
          await ctx.conversation.update(message, previewFailedReply(req.stack, ctx.requestId)).catch(() => undefined);
          throw err;
        }
      },
      cancel: async (req, ctx) => cancelRequestedReply(req.stack, await deployer.cancelRunning(req.stack, meta(ctx)), ctx.actor.id),
      unlock: async (req, ctx) => lockBrokenReply(req.stack, await deployer.breakLock(req.stack, req.reason, meta(ctx)), ctx.actor.id, req.reason),
    },
    actions: {
      [ACTIONS.deployConfirm]: (planId, ctx) =>
        runWithProgress(planId, ctx, async (onProgress) => {
          const outcome = await deployer.confirm(planId, meta(ctx), onProgress);
          return outcome.kind === 'awaiting_approval' ? { awaiting: outcome.plan, approvers: outcome.approvers } : outcome;
        }),
      [ACTIONS.deployApprove]: (planId, ctx) => runWithProgress(planId, ctx, (onProgress) => deployer.approve(planId, meta(ctx), onProgress)),
      [ACTIONS.deployCancel]: async (planId, ctx) => {
        const plan = await deployer.cancelPlan(planId, meta(ctx));
        const where = messageOf(plan, ctx);
        const reply = cancelledReply(plan, ctx.actor.id);
        if (!where) return reply;
        await where.conversation.update(where.message, reply);
        return undefined;
      },
    },
  };
}
