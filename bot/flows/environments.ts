import { EnvironmentKeeper, SCHEDULER_ACTOR, type EnvironmentEvent, type EnvironmentTiming, type RequestMeta } from '../../handlers/environments';
import type { AuditLog, Clock, Environments, InfraEngine, Logger, StackLocks } from '../../handlers/ports';
import type { Leases } from '../scheduler/leases';
import { ConflictError, isCockpitError } from '../../handlers/errors';
import type { Policy } from '../../handlers/policy';
import type { Team } from '../../handlers/team';
import type { ActionHandler, Conversation, PostedMessage, RequestContext, VerbHandlers } from '../commands';
import { Scheduler, type Job, type JobRun } from '../scheduler';
import {
  alreadyKeptReply,
  alreadyUpReply,
  bringingUpReply,
  broughtUpReply,
  confirmDownReply,
  downCancelledReply,
  downExpiredReply,
  downNotStartedReply,
  parseDownButtonValue,
  previewingDownReply,
  keptReply,
  parseKeepButtonValue,
  progressReply,
  scheduleAdoptedReply,
  scheduledUpReply,
  scheduledUpResultReply,
  tearDownErrorReply,
  tearingDownReply,
  tornDownReply,
  postponedReply,
  upNotStartedReply,
  warningReply,
} from '../slack/blocks/environments';
import type { Reply } from '../slack/blocks/reply';
import { ACTIONS } from '../slack/ids';
import { runLongOperation } from './longOperation';

/**
 * Stacks that come and go, as people see them: `/cockpit up` and `/cockpit down` answer in the channel with one
 * message edited from "bringing up…" to the outcome; the scheduler's jobs post warnings (with Keep), reminders
 * and tear-downs in the deploys channel. The rules are handlers/environments.ts's.
 */

export interface EnvironmentsFlowDeps {
  keeper: EnvironmentKeeper;
  team: Team;
  clock: Clock;
  /** The deploys channel, asked for when a job posts (Slack starts after the core is built); none: logged only. */
  deploysChannel: () => Conversation | undefined;
  progressIntervalMs?: number;
}

export const JOBS = { sweep: 'environments.sweep', schedule: 'environments.schedule' } as const;

const meta = (ctx: RequestContext): RequestMeta => ({ actor: ctx.actor, requestId: ctx.requestId });

export function environmentsFlow(deps: EnvironmentsFlowDeps): { verbs: VerbHandlers; actions: Record<string, ActionHandler>; jobs: Job[] } {
  const { keeper, clock } = deps;
  const interval = deps.progressIntervalMs ?? 3000;
  const now = () => clock.now();

  const opDeps = (log: Logger) => ({ clock, log, intervalMs: interval });

  const verbs: VerbHandlers = {
    up: async (req, ctx) => {
      const ttl = req.ttlMinutes ?? keeper.defaultTtlMinutes;
      await keeper.assertMay('up', req.stack, meta(ctx), ttl);
      const current = await keeper.environment(req.stack);
      if (!ctx.conversation || current?.state === 'up') {
        const outcome = await keeper.up(req.stack, req.ttlMinutes, meta(ctx));
        return outcome.kind === 'already_up' ? alreadyUpReply(outcome.environment, outcome.extended, now()) : broughtUpReply(outcome.environment, outcome.result, now(), ctx.requestId);
      }
      const startedAt = clock.now().getTime();
      await runLongOperation(opDeps(ctx.log), {
        conversation: ctx.conversation,
        announce: bringingUpReply(req.stack, ctx.actor.id, ttl),
        run: (op) => keeper.up(req.stack, req.ttlMinutes, meta(ctx), (p) => op.show(progressReply('Bringing up', req.stack, p, clock.now().getTime() - startedAt))),
        done: (outcome) =>
          outcome.kind === 'already_up' ? { ...alreadyUpReply(outcome.environment, true, now()), visibility: 'in_channel' as const } : broughtUpReply(outcome.environment, outcome.result, now(), ctx.requestId),
        failed: () => upNotStartedReply(req.stack, ctx.requestId),
      });
      return undefined;
    },
    down: async (req, ctx) => {
      await keeper.assertMay('down', req.stack, meta(ctx));
      const confirmation = { stack: req.stack, askedBy: ctx.actor.id, expiresAt: new Date(now().getTime() + keeper.downConfirmationMinutes * 60_000) };
      const confirm = async () => confirmDownReply(confirmation, await keeper.environment(req.stack), await keeper.previewDown(req.stack, meta(ctx)), now());
      if (!ctx.conversation) return confirm();
      await runLongOperation(opDeps(ctx.log), {
        conversation: ctx.conversation,
        announce: previewingDownReply(req.stack, ctx.actor.id),
        run: confirm,
        done: (reply) => reply,
        failed: (err) => downNotStartedReply(req.stack, isCockpitError(err) ? err.message : `failed, ref ${ctx.requestId}`),
      });
      return undefined;
    },
  };

  const actions: Record<string, ActionHandler> = {
    [ACTIONS.environmentDown]: async (value, ctx) => {
      const confirmation = parseDownButtonValue(value);
      const { stack } = confirmation;
      if (now() > confirmation.expiresAt) {
        if (ctx.conversation && ctx.sourceMessage) await ctx.conversation.update(ctx.sourceMessage, downExpiredReply(confirmation)).catch(() => undefined);
        throw new ConflictError(`This confirmation expired at ${confirmation.expiresAt.toISOString().slice(11, 16)} UTC: what it listed may no longer be what ${stack} holds.`, `Ask again: /cockpit down ${stack}`);
      }
      await keeper.assertMay('down', stack, meta(ctx));
      if (!ctx.conversation || !ctx.sourceMessage) {
        const { environment, result } = await keeper.down(stack, meta(ctx));
        return tornDownReply(environment, result, now(), ctx.requestId, { why: 'asked', actorId: ctx.actor.id });
      }
      const startedAt = clock.now().getTime();
      await runLongOperation(opDeps(ctx.log), {
        conversation: ctx.conversation,
        message: ctx.sourceMessage,
        run: (op) => {
          op.show(tearingDownReply(stack, ctx.actor.id, 'asked'));
          return keeper.down(stack, meta(ctx), (p) => op.show(progressReply('Tearing down', stack, p, clock.now().getTime() - startedAt)));
        },
        done: ({ environment, result }) => tornDownReply(environment, result, now(), ctx.requestId, { why: 'asked', actorId: ctx.actor.id }),
        failed: (err) => downNotStartedReply(stack, isCockpitError(err) ? err.message : `failed, ref ${ctx.requestId}`),
      });
      return undefined;
    },
    [ACTIONS.environmentDownCancel]: async (value, ctx) => {
      const { stack, askedBy } = parseDownButtonValue(value);
      await keeper.mayCancelDown(stack, askedBy, meta(ctx));
      return downCancelledReply(stack, ctx.actor.id);
    },
    [ACTIONS.environmentKeep]: async (value, ctx) => {
      const { stack, expiresAt } = parseKeepButtonValue(value);
      const outcome = await keeper.extend(stack, keeper.keepMinutes, meta(ctx), expiresAt);
      return outcome.kind === 'extended' ? keptReply(outcome.environment, ctx.actor.id, now()) : alreadyKeptReply(outcome.environment, now());
    },
  };

  /** What the channel was last told about a postponed scheduled act, per stack: said once, not every minute. */
  const postponedSaid = new Map<string, string>();

  /** Posts what a scheduler run did; a post that fails is logged and never stops the run. */
  function poster(run: JobRun): (event: EnvironmentEvent) => Promise<void> {
    const messages = new Map<string, PostedMessage>();
    const channel = deps.deploysChannel();
    const availabilityOf = (stack: string) => deps.team.stacks[stack]?.availability;
    const send = async (stack: string, reply: Reply, how: 'post' | 'update') => {
      if (!channel) return void run.log.info({ stack, text: reply.text }, 'no deploys channel to post in');
      try {
        const message = messages.get(stack);
        if (how === 'update' && message) await channel.update(message, reply);
        else messages.set(stack, await channel.post(reply));
      } catch (err) {
        run.log.warn({ err, stack }, 'cannot post in the deploys channel');
      }
    };
    return async (event) => {
      const at = now();
      if (event.kind !== 'postponed') postponedSaid.delete('stack' in event ? event.stack : event.environment.stack);
      switch (event.kind) {
        case 'warning':
          return send(event.environment.stack, warningReply(event, at, keeper.keepMinutes, availabilityOf(event.environment.stack)), 'post');
        case 'tearing_down':
          return send(event.environment.stack, tearingDownReply(event.environment.stack, SCHEDULER_ACTOR, event.stackKind === 'scheduled' ? 'schedule' : 'expired'), 'post');
        case 'torn_down':
        case 'tear_down_failed': {
          const why = event.stackKind === 'scheduled' ? 'schedule' : 'expired';
          const reply = event.result
            ? tornDownReply(event.environment, event.result, at, run.requestId, {
                why,
                ...('nextUp' in event && event.nextUp ? { nextUp: event.nextUp } : {}),
                ...('retryAt' in event && event.retryAt ? { retryAt: event.retryAt } : {}),
                timezone: availabilityOf(event.environment.stack)?.timezone,
              })
            : tearDownErrorReply(event.environment.stack, 'error' in event ? (event.error ?? 'unknown error') : 'unknown error', at, run.requestId, 'retryAt' in event ? event.retryAt : undefined);
          return send(event.environment.stack, reply, 'update');
        }
        case 'bringing_up':
          return send(event.stack, scheduledUpReply(event.stack), 'post');
        case 'brought_up':
        case 'bring_up_failed':
          return send(
            event.environment.stack,
            scheduledUpResultReply(event.environment, at, run.requestId, availabilityOf(event.environment.stack), {
              ...(event.result ? { result: event.result } : {}),
              ...('error' in event && event.error ? { error: event.error } : {}),
            }),
            'update',
          );
        case 'schedule_adopted': {
          const availability = availabilityOf(event.environment.stack);
          return availability ? send(event.environment.stack, scheduleAdoptedReply(event.environment, availability, at), 'post') : undefined;
        }
        case 'postponed': {
          if (event.lock) {
            run.log.info({ stack: event.stack, what: event.what, lockedBy: event.lock.holder, purpose: event.lock.purpose, lockRequestId: event.lock.requestId }, 'stack busy: the scheduler tries again next run');
            return undefined;
          }
          run.log.warn({ stack: event.stack, what: event.what, reason: event.reason }, 'the policy postponed a scheduled act');
          if (postponedSaid.get(event.stack) === event.reason) return undefined;
          postponedSaid.set(event.stack, event.reason ?? '');
          return send(event.stack, postponedReply(event.stack, event.what, event.reason ?? 'refused', at), 'post');
        }
      }
    };
  }

  const schedulerMeta = (run: JobRun): RequestMeta => ({ actor: { id: SCHEDULER_ACTOR, via: 'scheduler' }, requestId: run.requestId });
  const stacks = Object.values(deps.team.stacks);
  const jobs: Job[] = [];
  if (stacks.some((s) => s.ephemeral)) {
    jobs.push({ name: JOBS.sweep, schedule: '* * * * *', run: async (run) => void (await keeper.sweep(schedulerMeta(run), poster(run))) });
  }
  if (stacks.some((s) => !s.ephemeral && s.availability)) {
    jobs.push({ name: JOBS.schedule, schedule: '* * * * *', run: async (run) => void (await keeper.followSchedules(schedulerMeta(run), poster(run))) });
  }
  return { verbs, actions, jobs };
}

export interface WireEnvironmentsDeps {
  team: Team;
  policy: Policy;
  engine: InfraEngine;
  store: { locks: StackLocks; environments: Environments; audit: AuditLog; leases: Leases };
  clock: Clock;
  /** This replica's id: on the locks and the scheduler's leases it takes. */
  owner: string;
  log: Logger;
  deploysChannel: () => Conversation | undefined;
  /** Told when this replica releases a stack's lock: merges queued behind it may go. */
  onReleased?(stack: string): void;
  progressIntervalMs?: number;
  timing?: Partial<EnvironmentTiming>;
}

/** Everything bot/cockpit.ts needs: the verbs and buttons for the core, and the scheduler to start and stop. */
export function wireEnvironments(deps: WireEnvironmentsDeps): { keeper: EnvironmentKeeper; verbs: VerbHandlers; actions: Record<string, ActionHandler>; scheduler: Scheduler } {
  const keeper = new EnvironmentKeeper({
    team: deps.team,
    policy: deps.policy,
    engine: deps.engine,
    locks: deps.store.locks,
    environments: deps.store.environments,
    audit: deps.store.audit,
    clock: deps.clock,
    owner: deps.owner,
    ...(deps.onReleased ? { onReleased: deps.onReleased } : {}),
    timing: deps.timing,
  });
  const flow = environmentsFlow({ keeper, team: deps.team, clock: deps.clock, deploysChannel: deps.deploysChannel, progressIntervalMs: deps.progressIntervalMs });
  const scheduler = new Scheduler({ leases: deps.store.leases, owner: deps.owner, log: deps.log.child({ component: 'scheduler' }), clock: deps.clock });
  for (const job of flow.jobs) scheduler.add(job);
  return { keeper, verbs: flow.verbs, actions: flow.actions, scheduler };
}
