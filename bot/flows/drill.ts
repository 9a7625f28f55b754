import { z } from 'zod';
import { Drills, type DrillDeps, type DrillOutcome, type DrillRequest } from '../../handlers/drill';
import { InputError, isCockpitError } from '../../handlers/errors';
import { SCHEDULER_ACTOR } from '../../handlers/environments';
import type { RequestMeta } from '../../handlers/policy';
import type { Clock, Logger, Pager } from '../../handlers/ports';
import type { ActionHandler, Conversation, PostedMessage, RequestContext, VerbHandlers } from '../commands';
import type { Job, JobRun } from '../scheduler';
import { drillHistoryReply, drillLogsReply, drillNotRunReply, drillProgressReply, drillResultReply, drillStartingReply, drillUnavailableReply } from '../slack/blocks/drill';
import { ACTIONS } from '../slack/ids';
import { runLongOperation } from './longOperation';

/**
 * Restore drills as people see them: `/cockpit drill <stack>` (and Retry, and Run on a promotion) answers with
 * one message edited step by step to the result; `/cockpit drill history [stack]` lists them; Show logs shows
 * what the drill kept and Velero's log of the restore. The weekly drill posts in the deploys channel and pages
 * L3 when it fails. The promotion PR gate (drillGate.ts) runs drills through `runShown` too, so every drill,
 * whoever started it, is one message in a channel and one record. The rules are handlers/drill.ts's.
 */

export interface DrillFlowDeps {
  drills: Drills;
  clock: Clock;
  log: Logger;
  /** The deploys channel, asked for when a drill nobody typed posts (Slack starts after the core). */
  deploysChannel(): Conversation | undefined;
  /** A link to a posted message (Slack's permalink), for the PR status; undefined when there is none. */
  permalink?(message: PostedMessage): Promise<string | undefined>;
  /** Pages L3 when the weekly drill fails; the lead wires the on-call capability's pager. */
  pager?: Pager;
  /** Told of every drill that finished, whoever ran it (the PR gate updates the open promotion's status). */
  onFinished?(shown: ShownDrill, meta: RequestMeta): Promise<void>;
  progressIntervalMs?: number;
}

/** A drill that ran (or could not), where it was shown, and a link to that message. */
export interface ShownDrill {
  request: DrillRequest;
  outcome: DrillOutcome;
  message?: PostedMessage;
  link?: string;
}

export interface DrillFlow {
  verbs: VerbHandlers;
  actions: Record<string, ActionHandler>;
  jobs: Job[];
  /** Runs a drill shown in `conversation` (default: the deploys channel); refusals and a busy lock throw. */
  runShown(request: DrillRequest, meta: RequestMeta, conversation?: Conversation, log?: Logger): Promise<ShownDrill>;
}

const buttonValue = z.strictObject({
  stack: z.string().min(1).max(40),
  backup: z.enum(['fresh', 'latest']).optional(),
  on: z.strictObject({ cluster: z.string().min(1).max(40), storageLocation: z.string().min(1).max(63) }).optional(),
});

export const DRILL_JOBS = { weekly: 'drills.weekly' } as const;

export function drillFlow(deps: DrillFlowDeps): DrillFlow {
  const { drills, clock } = deps;
  const intervalMs = deps.progressIntervalMs ?? 3000;
  const meta = (ctx: RequestContext): RequestMeta => ({ actor: ctx.actor, requestId: ctx.requestId });

  async function runShown(request: DrillRequest, runMeta: RequestMeta, conversation?: Conversation, log: Logger = deps.log): Promise<ShownDrill> {
    await drills.assertMay(request, runMeta);
    const where = conversation ?? deps.deploysChannel();
    const { value: outcome, message } = await runLongOperation(
      { clock, log, intervalMs },
      {
        conversation: where,
        announce: drillStartingReply(request, runMeta.actor.id),
        // A person who typed the command waits for the message; a drill nobody typed runs even when Slack is down.
        required: conversation !== undefined,
        run: (op) => drills.run(request, runMeta, (progress) => op.show(drillProgressReply(progress, clock.now()))),
        done: (outcome) => (outcome.kind === 'finished' ? drillResultReply(outcome, request, clock.now()) : drillUnavailableReply(outcome, runMeta.requestId)),
        failed: (err) => drillNotRunReply(request.stack, isCockpitError(err) ? err.message : `failed, ref ${runMeta.requestId}`, runMeta.requestId),
      },
    );
    const link = message && deps.permalink ? await deps.permalink(message).catch((err: unknown) => void log.warn({ err }, 'no permalink for the drill message')) : undefined;
    const shown: ShownDrill = { request, outcome, ...(message ? { message } : {}), ...(link ? { link } : {}) };
    await deps.onFinished?.(shown, runMeta).catch((err: unknown) => log.error({ err }, 'reporting the drill elsewhere failed'));
    return shown;
  }

  /** The CLI has no channel: the result is its answer. */
  async function runHere(request: DrillRequest, ctx: RequestContext) {
    if (ctx.conversation) {
      await runShown(request, meta(ctx), ctx.conversation, ctx.log);
      return undefined;
    }
    await drills.assertMay(request, meta(ctx));
    const outcome = await drills.run(request, meta(ctx));
    await deps.onFinished?.({ request, outcome }, meta(ctx)).catch((err: unknown) => ctx.log.error({ err }, 'reporting the drill elsewhere failed'));
    return outcome.kind === 'finished' ? drillResultReply(outcome, request, clock.now()) : drillUnavailableReply(outcome, ctx.requestId);
  }

  const verbs: VerbHandlers = {
    drill: async (req, ctx) => {
      if (req.action === 'history') return drillHistoryReply(await drills.history(req.stack), req.stack, clock.now());
      return runHere({ stack: req.stack, trigger: 'manual', ...(req.backup ? { backup: req.backup } : {}) }, ctx);
    },
  };

  const actions: Record<string, ActionHandler> = {
    [ACTIONS.drillRun]: async (value, ctx) => {
      const parsed = buttonValue.safeParse(safeJson(value));
      if (!parsed.success) throw new InputError('That button no longer says which drill to run.', 'Run it again: /cockpit drill <stack>');
      return runHere({ ...parsed.data, trigger: 'manual' }, ctx);
    },
    [ACTIONS.drillLogs]: async (value, ctx) => {
      if (!/^r-[\w-]{1,40}$/.test(value)) throw new InputError('That button names no drill.');
      ctx.log.info({ drill: value }, 'drill logs asked for');
      return drillLogsReply(await drills.logs(value));
    },
  };

  const jobs: Job[] = [];
  const weekly = drills.weekly();
  if (weekly) {
    jobs.push({
      name: DRILL_JOBS.weekly,
      schedule: weekly.cron,
      timezone: weekly.timezone,
      run: async (run) => runWeekly(run, { stack: weekly.source, trigger: 'schedule', backup: 'latest', on: { cluster: weekly.cluster, storageLocation: weekly.storageLocation } }),
    });
  }

  /** The weekly drill: a failure, a drill that could not run, or a busy cluster all page L3. */
  async function runWeekly(run: JobRun, request: DrillRequest): Promise<void> {
    const runMeta: RequestMeta = { actor: { id: SCHEDULER_ACTOR, via: 'scheduler' }, requestId: run.requestId };
    let problem: string | undefined;
    try {
      const { outcome } = await runShown(request, runMeta, undefined, run.log);
      if (outcome.kind === 'unavailable') problem = `could not run: ${outcome.reason}`;
      else if (outcome.run.outcome === 'failed') problem = `failed: ${outcome.run.reason ?? 'see the deploys channel'}`;
    } catch (err) {
      problem = `did not run: ${isCockpitError(err) ? err.message : `failed, ref ${run.requestId}`}`;
      if (!isCockpitError(err)) run.log.error({ err }, 'the weekly drill failed to run');
    }
    if (!problem) return;
    run.log.warn({ stack: request.stack, problem }, 'weekly restore drill did not pass');
    if (!deps.pager) return void run.log.error({ stack: request.stack }, 'no pager is wired: nobody is paged for the failed weekly drill');
    await deps.pager
      .page({ target: { kind: 'level', level: 'L3' }, summary: `Weekly restore drill of ${request.stack} ${problem}`.slice(0, 300), source: { kind: 'drill', ref: run.requestId }, raisedBy: SCHEDULER_ACTOR, requestId: run.requestId })
      .catch((err: unknown) => run.log.error({ err }, 'paging L3 for the weekly drill failed'));
  }

  return { verbs, actions, jobs, runShown };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface WireDrillsDeps extends Omit<DrillFlowDeps, 'drills'> {
  engine: Omit<DrillDeps, 'clock'>;
}

/** Everything bot/cockpit.ts needs: the verb, the buttons, the weekly job, and the runner the PR gate uses. */
export function wireDrills(deps: WireDrillsDeps): DrillFlow & { drills: Drills } {
  const drills = new Drills({ ...deps.engine, clock: deps.clock });
  return { drills, ...drillFlow({ ...deps, drills }) };
}
