import type { KnownBlock, ModalView } from '@slack/types';
import { InputError, isCockpitError, NotAvailableYetError } from '../handlers/errors';
import { describeActor } from '../handlers/policy';
import type { AuditLog, Logger } from '../handlers/ports';
import type { Actor } from '../handlers/model/identity';
import { getStatus, type StatusDeps } from '../handlers/status';
import { parseCommand, type CommandRequest, type Verb } from './router';
import { errorReply, unexpectedErrorReply } from './slack/blocks/errors';
import { helpReply, usageReply } from './slack/blocks/help';
import type { Reply } from './slack/blocks/reply';
import { statusReply } from './slack/blocks/status';
import type { Metrics } from './metrics';

/**
 * The command core shared by every front. Slack, the console and the CLI hand it the text a person typed;
 * it parses, runs the handler, and returns the reply as blocks. Errors are translated here, once.
 */

export type Front = 'slack' | 'console' | 'cli';
export type Outcome = 'ok' | 'bad_input' | 'refused' | 'error';

/** A message Cockpit posted and may edit later (progress, a confirmation turned into a result). */
export interface PostedMessage {
  channel: string;
  ts: string;
}

/** Where a handler's follow-up messages go: a Slack channel or thread, or the terminal. */
export interface Conversation {
  post(reply: Reply): Promise<PostedMessage>;
  update(message: PostedMessage, reply: Reply): Promise<void>;
}

export interface RequestContext {
  requestId: string;
  actor: Actor;
  front: Front;
  /** Child logger bound to {requestId, user, command}. */
  log: Logger;
  channelId?: string;
  conversation?: Conversation;
  /** For a button press: the message that holds the button, which the action may edit in place. */
  sourceMessage?: PostedMessage;
  /** Opens a modal for the person (Slack only, within 3 s of their command or press); absent elsewhere. */
  openView?(view: ModalView): Promise<void>;
}

/** What the core needs beyond the status board's inputs. */
export interface CoreDeps extends StatusDeps {
  audit: AuditLog;
  metrics?: Metrics;
}

/**
 * Answers a command. Undefined means the handler already answered in the conversation (a deploy posts its
 * risk report in the channel and edits it from then on), so the front has nothing more to send.
 */
export type VerbHandler<V extends Verb> = (request: Extract<CommandRequest, { verb: V }>, ctx: RequestContext) => Promise<Reply | undefined>;
export type VerbHandlers = { [V in Verb]?: VerbHandler<V> };
/** A button press: `value` is what the button carried (usually a JSON reference to the pending act). */
export type ActionHandler = (value: string, ctx: RequestContext) => Promise<Reply | undefined>;

/** Commands that only read; everything else is an operational act and goes to the audit log. */
const READ_ONLY: ReadonlySet<Verb> = new Set(['help', 'status', 'runbook']);

export class CommandCore {
  private readonly stacks: string[];
  private readonly handlers: VerbHandlers;
  private readonly actions: Map<string, ActionHandler>;
  private readonly homeSections: Array<(userId: string) => Promise<KnownBlock[]>>;

  /** `verbs` and `actions` add capabilities; `home` adds sections to App Home; help and status are built in. */
  constructor(
    private readonly deps: CoreDeps,
    extra: { verbs?: VerbHandlers; actions?: Record<string, ActionHandler>; home?: Array<(userId: string) => Promise<KnownBlock[]>> } = {},
  ) {
    this.homeSections = extra.home ?? [];
    this.stacks = Object.keys(deps.team.stacks);
    this.handlers = {
      help: async (req) => helpReply(req.topic),
      status: async () => statusReply(await getStatus(deps)),
      ...extra.verbs,
    };
    this.actions = new Map(Object.entries(extra.actions ?? {}));
  }

  /** The status board, for App Home. */
  async statusBoard(): Promise<Reply> {
    return statusReply(await getStatus(this.deps));
  }

  /** The capabilities' App Home sections for a person; one that fails is left out, and logged by its caller. */
  async homeBlocks(userId: string): Promise<KnownBlock[]> {
    const sections = await Promise.allSettled(this.homeSections.map((build) => build(userId)));
    return sections.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
  }

  /** Runs a button press; never throws. Unknown buttons (from an older deploy of Cockpit) get a short answer. */
  async act(actionId: string, value: string, ctx: RequestContext): Promise<Reply | undefined> {
    const log = ctx.log.child({ action: actionId });
    const handler = this.actions.get(actionId);
    const scoped = { ...ctx, log };
    try {
      if (!handler) throw new InputError('That button is no longer handled; run the command again.');
      const reply = await handler(value, scoped);
      this.count(`action:${actionId}`, 'ok', ctx);
      return reply;
    } catch (err) {
      if (isCockpitError(err)) {
        this.count(`action:${actionId}`, 'refused', ctx);
        log.info({ code: err.code, reason: err.message }, 'action refused');
        return errorReply(err);
      }
      this.count(`action:${actionId}`, 'error', ctx);
      log.error({ err }, 'action failed');
      return unexpectedErrorReply(ctx.requestId);
    }
  }

  /** Parses and runs one command; never throws (every failure becomes a reply). */
  async run(text: string, ctx: RequestContext): Promise<Reply | undefined> {
    return (await this.execute(text, ctx)).reply;
  }

  /** Like `run`, with the outcome too (the CLI turns it into an exit code). */
  async execute(text: string, ctx: RequestContext): Promise<{ reply: Reply | undefined; outcome: Outcome }> {
    const parsed = parseCommand(text, { stacks: this.stacks });
    if (!parsed.ok) {
      this.count('unknown', 'bad_input', ctx);
      ctx.log.child({ command: parsed.verb ?? 'unknown' }).info({ error: parsed.error }, 'bad command input');
      return { reply: usageReply(parsed.error, parsed.usage), outcome: 'bad_input' };
    }
    const request = parsed.request;
    const log = ctx.log.child({ command: request.verb });
    const scoped = { ...ctx, log };
    const handler = this.handlers[request.verb] as VerbHandler<typeof request.verb> | undefined;
    try {
      if (!handler) throw new NotAvailableYetError(request.verb);
      const reply = await handler(request as never, scoped);
      this.count(request.verb, 'ok', ctx);
      await this.audit(request, scoped, 'succeeded');
      return { reply, outcome: 'ok' };
    } catch (err) {
      return this.fail(err, request, scoped);
    }
  }

  private async fail(err: unknown, request: CommandRequest, ctx: RequestContext): Promise<{ reply: Reply; outcome: Outcome }> {
    if (isCockpitError(err)) {
      const outcome = err.code === 'INPUT' ? 'bad_input' : 'refused';
      this.count(request.verb, outcome, ctx);
      ctx.log.info({ code: err.code, reason: err.message }, 'command refused');
      await this.audit(request, ctx, 'refused', { code: err.code, reason: err.message });
      return { reply: errorReply(err), outcome };
    }
    this.count(request.verb, 'error', ctx);
    ctx.log.error({ err }, 'command failed');
    await this.audit(request, ctx, 'failed', { error: err instanceof Error ? err.message : String(err) });
    return { reply: unexpectedErrorReply(ctx.requestId), outcome: 'error' };
  }

  private async audit(request: CommandRequest, ctx: RequestContext, outcome: 'succeeded' | 'failed' | 'refused', detail?: Record<string, unknown>) {
    if (READ_ONLY.has(request.verb)) return;
    try {
      await this.deps.audit.record({
        requestId: ctx.requestId,
        actor: describeActor(ctx.actor),
        action: `command.${request.verb}`,
        target: ('stack' in request && request.stack) || '',
        outcome,
        detail: { ...detail, front: ctx.front, request },
      });
    } catch (err) {
      // The reply still goes out; a missing audit row is logged loudly rather than hiding the answer.
      ctx.log.error({ err }, 'audit log write failed');
    }
  }

  private count(command: string, outcome: string, ctx: RequestContext) {
    this.deps.metrics?.commands.inc({ command, outcome, front: ctx.front });
  }
}
