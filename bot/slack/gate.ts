import { z } from 'zod';
import { describeIssues } from '../zodIssues';

/**
 * What a signed Slack payload gets before Bolt sees it. Bolt reads fields it assumes are there (a block_actions
 * without `user` made it answer 500), holds a payload no listener acks for 3 seconds and then answers 404, and
 * never compares the workspace a request names with the one installed. So every payload, from HTTP or Socket
 * Mode, is screened here first: malformed ones are refused (400), ones from another workspace or app and ones
 * Cockpit has no listener for are answered at once and run nothing, and only the rest reach the listeners.
 */

export interface GateRules {
  /** SLACK_TEAM_ID: a request naming another workspace is refused. */
  teamId?: string;
  /** SLACK_APP_ID: a request for another app is refused. */
  appId?: string;
  /** The slash commands with a listener. */
  commands: readonly string[];
  /** The Events API event types with a listener. */
  events: readonly string[];
  /** The callback_ids of the modals whose submission has a listener. */
  views: readonly string[];
}

export type Verdict =
  | { pass: true; kind: PayloadKind }
  /** Answer at once and run nothing: `foreign` is another workspace or app, `unhandled` has no listener. */
  | { pass: false; kind: PayloadKind; refusal: 'foreign' | 'unhandled'; reason: string; reply?: string }
  /** Not what Slack sends: answer 400. Reasons name fields, never their values. */
  | { pass: false; kind?: PayloadKind; refusal: 'malformed'; reason: string };

export type PayloadKind = 'event' | 'command' | 'options' | 'action' | 'shortcut' | 'view';

const id = z.string().min(1).max(64);
const team = z.object({ id }).nullable().optional();
const user = z.object({ id, team_id: id.optional() });

const shapes = {
  event: z.object({
    event: z.object({ type: z.string().min(1).max(100) }),
    team_id: id.optional(),
    authorizations: z.array(z.object({ team_id: id.nullable().optional() })).max(10).optional(),
  }),
  command: z.object({
    command: z.string().min(1).max(100),
    team_id: id,
    user_id: id,
    channel_id: id,
    // Slack always sends it, empty for a bare `/cockpit`; absent reads as empty too.
    text: z.string().max(4000).optional(),
  }),
  options: z.object({ team, user: user.optional() }),
  action: z.object({ type: z.string().max(64), team, user, actions: z.array(z.unknown()).max(25).optional() }),
  shortcut: z.object({ team, user }),
  view: z.object({ team, user, view: z.object({ app_installed_team_id: id.optional() }).passthrough() }),
} as const;

/** The action a block_actions listener reads (Bolt routes on `action_id`). */
const blockAction = z.object({ action_id: z.string().min(1).max(255), type: z.string().max(64).optional() });

/** Reads a payload's kind in the order Bolt does (helpers.getTypeAndConversation), so both agree on it. */
function kindOf(body: Record<string, unknown>): PayloadKind | undefined {
  if (body.event !== undefined) return 'event';
  if (body.command !== undefined) return 'command';
  if (body.name !== undefined || body.type === 'block_suggestion') return 'options';
  if (body.actions !== undefined || body.type === 'dialog_submission' || body.type === 'workflow_step_edit') return 'action';
  if (body.type === 'shortcut' || body.type === 'message_action') return 'shortcut';
  if (body.type === 'view_submission' || body.type === 'view_closed') return 'view';
  return undefined;
}

export function screenSlackPayload(body: unknown, rules: GateRules): Verdict {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { pass: false, refusal: 'malformed', reason: 'payload is not an object' };
  const record = body as Record<string, unknown>;
  const kind = kindOf(record);
  if (!kind) return { pass: false, refusal: 'malformed', reason: 'payload is no kind of request Slack sends' };
  const parsed = shapes[kind].safeParse(record);
  if (!parsed.success) return { pass: false, kind, refusal: 'malformed', reason: `${kind} payload: ${describeIssues(parsed.error, 3)}` };

  const foreign = foreignReason(kind, record, rules);
  if (foreign) return { pass: false, kind, refusal: 'foreign', reason: foreign, reply: kind === 'command' ? 'This Cockpit serves another Slack workspace.' : undefined };

  if (kind === 'event') {
    const type = (parsed.data as z.infer<typeof shapes.event>).event.type;
    return rules.events.includes(type) ? { pass: true, kind } : unhandled(kind, `event ${printable(type)} has no listener`);
  }
  if (kind === 'command') {
    const command = (parsed.data as z.infer<typeof shapes.command>).command;
    if (rules.commands.includes(command)) return { pass: true, kind };
    return { ...unhandled(kind, `command ${printable(command)} has no listener`), reply: `Cockpit answers ${rules.commands.join(', ')} only.` };
  }
  if (kind === 'action') {
    const action = parsed.data as z.infer<typeof shapes.action>;
    if (action.type !== 'block_actions') return unhandled(kind, `interaction ${printable(action.type)} has no listener`);
    // Slack sends a block_actions with no action at all in rare cases (a select cleared); there is nothing to run.
    if (!action.actions || action.actions.length === 0) return unhandled(kind, 'block_actions carries no action');
    const first = blockAction.safeParse(action.actions[0]);
    if (!first.success) return { pass: false, kind, refusal: 'malformed', reason: `block_actions payload: actions.0.${describeIssues(first.error, 3)}` };
    return { pass: true, kind };
  }
  if (kind === 'view') {
    const callbackId = (record.view as { callback_id?: unknown }).callback_id;
    if (record.type === 'view_submission' && typeof callbackId === 'string' && rules.views.includes(callbackId)) return { pass: true, kind };
    return unhandled(kind, `view ${printable(typeof callbackId === 'string' ? callbackId : '')} has no listener`);
  }
  // Cockpit offers no dynamic options and defines no shortcuts.
  return unhandled(kind, `${kind} payloads have no listener`);
}

function unhandled(kind: PayloadKind, reason: string): Verdict & { pass: false; refusal: 'unhandled' } {
  return { pass: false, kind, refusal: 'unhandled', reason };
}

/** The workspace and app a payload names, as Bolt reads them (buildSource), against the installed ones. */
function foreignReason(kind: PayloadKind, body: Record<string, unknown>, rules: GateRules): string | undefined {
  if (rules.appId !== undefined && body.api_app_id !== rules.appId) return 'request is for another Slack app';
  if (rules.teamId === undefined) return undefined;
  return teamOf(kind, body) === rules.teamId ? undefined : 'request comes from another Slack workspace';
}

function teamOf(kind: PayloadKind, body: Record<string, unknown>): unknown {
  const get = (value: unknown, key: string): unknown => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined);
  if (kind === 'event') {
    const first = Array.isArray(body.authorizations) ? body.authorizations[0] : undefined;
    return get(first, 'team_id') ?? body.team_id;
  }
  if (kind === 'command') return body.team_id;
  // A modal opened from a Slack Connect channel names the workspace that installed the app here.
  if (kind === 'view') {
    const installed = get(body.view, 'app_installed_team_id');
    if (installed !== undefined) return installed;
  }
  // Org-wide installs send `team: null`; the user's team says which workspace then.
  return get(body.team, 'id') ?? get(body.user, 'team_id');
}

function printable(value: string): string {
  return value.slice(0, 64).replace(/[^\w./:-]/g, '?');
}
