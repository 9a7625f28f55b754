import { closest, distance } from 'fastest-levenshtein';
import { INCIDENT_ROLES, type IncidentRole } from '../../handlers/incidentModel';
import { TICKET_STATUSES, type TicketStatus } from '../../handlers/ticketModel';
import { hasControlCharacters, MAX_INPUT_LENGTH, normalizeTyped, parseDurationMinutes, parseUserMention, tokenize } from './tokens';

/**
 * One parser for every front: "/cockpit <words>" text → a typed request, or an error with usage text.
 * Slack, the console and the CLI all enter here, so a command means the same thing everywhere.
 */

export const INCIDENT_SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
export type Severity = (typeof INCIDENT_SEVERITIES)[number];
/** ITIL "in progress" sub-states plus the terminal ones, in lifecycle order. */
export const INCIDENT_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export const PAGE_LEVELS = ['L1', 'L2', 'L3'] as const;
export type PageLevel = (typeof PAGE_LEVELS)[number];

export type PageTarget = { kind: 'level'; level: PageLevel } | { kind: 'user'; userId: string };

export type CommandRequest =
  | { verb: 'help'; topic?: Verb }
  | { verb: 'status' }
  | { verb: 'deploy'; stack: string; preview: boolean; overrideFreeze?: string }
  | { verb: 'cancel'; stack: string }
  | { verb: 'unlock'; stack: string; reason: string }
  | { verb: 'promote'; stack: string }
  | { verb: 'preview'; pullRequest: number }
  | { verb: 'up'; stack: string; ttlMinutes?: number }
  | { verb: 'down'; stack: string }
  | { verb: 'drill'; action: 'run'; stack: string; backup?: 'fresh' | 'latest' }
  | { verb: 'drill'; action: 'history'; stack?: string }
  | { verb: 'oncall'; action: 'who' }
  | { verb: 'oncall'; action: 'schedule'; days: number }
  | { verb: 'oncall'; action: 'override'; userId: string; minutes: number; level?: PageLevel }
  | { verb: 'oncall'; action: 'swap'; userId: string; shift: string }
  | { verb: 'oncall'; action: 'calendar' }
  | { verb: 'page'; target: PageTarget; message: string }
  | { verb: 'incident'; action: 'list' }
  /** `incident open` with nothing after it: the declare form. */
  | { verb: 'incident'; action: 'form' }
  | { verb: 'incident'; action: 'open'; severity: Severity; title: string; public?: boolean }
  // Without an id, the incident is the one whose channel the command was typed in.
  | { verb: 'incident'; action: 'show'; id?: number }
  | { verb: 'incident'; action: 'update'; id?: number; status?: IncidentStatus; message: string; internal?: boolean }
  | { verb: 'incident'; action: 'assign'; id?: number; role: IncidentRole; userId: string }
  | { verb: 'incident'; action: 'severity'; id?: number; severity: Severity }
  | { verb: 'incident'; action: 'publish'; id?: number; summary: string }
  | { verb: 'incident'; action: 'followup'; id?: number; text: string }
  | { verb: 'incident'; action: 'resolve'; id?: number; message?: string }
  | { verb: 'incident'; action: 'close'; id?: number }
  | { verb: 'ticket'; action: 'list' }
  | { verb: 'ticket'; action: 'show'; topicId: number }
  | { verb: 'ticket'; action: 'take'; topicId: number }
  | { verb: 'ticket'; action: 'status'; topicId: number; status: TicketStatus; message?: string }
  | { verb: 'ticket'; action: 'escalate'; topicId: number }
  | { verb: 'ticket'; action: 'reply'; topicId: number; message: string }
  | { verb: 'ticket'; action: 'link'; topicId: number; incidentId: number }
  | { verb: 'runbook'; name?: string };

export type Verb = CommandRequest['verb'];

/**
 * `usage`: the one usage line that fits what was typed (or the few of its verb, or the suggested verb's), never
 * the whole list; empty when nothing typed resembles a command. `verb`: the command understood, if any.
 */
export type ParseResult = { ok: true; request: CommandRequest } | { ok: false; error: string; usage: string; verb?: Verb };

/** What the grammar needs to know about the team: the stacks it may name. */
export type RouterContext = { stacks: readonly string[] };

type Grammar = {
  usage: string[];
  summary: string;
  parse(args: string[], ctx: RouterContext): CommandRequest;
};

const stackArg = (args: string[], ctx: RouterContext, at = 0): string => {
  const stack = args[at];
  if (stack === undefined) throw new ParseFailure('which stack?');
  if (!ctx.stacks.includes(stack)) throw new ParseFailure(`unknown stack "${stack}"${didYouMean(stack, ctx.stacks)} (known: ${ctx.stacks.join(', ')})`);
  return stack;
};

const idArg = (token: string | undefined, what: string): number => {
  if (token === undefined) throw new ParseFailure(`which ${what}?`);
  const m = /^(?:#|INC-)?(\d{1,9})$/i.exec(token);
  if (!m) throw new ParseFailure(`"${token}" is not ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what} number`);
  return Number(m[1]);
};

/** A ticket is its forum topic: its number, `#123`, or the topic's URL as a person copies it. */
const topicArg = (token: string | undefined): number => {
  const url = token === undefined ? undefined : /^https?:\/\/[^\s/]+\/t\/(?:[^/\s]+\/)?(\d{1,9})(?:[/?#]\S*)?$/.exec(token);
  return url ? Number(url[1]) : idArg(token, 'ticket');
};

const noExtra = (args: string[], from: number): void => {
  if (args.length > from) throw new ParseFailure(`unexpected "${args.slice(from).join(' ')}"`);
};

class ParseFailure extends Error {}

/** `: did you mean "status"?` when one candidate is a typo away from `typed`, else nothing. */
export function didYouMean(typed: string, candidates: readonly string[], quote = true): string {
  const match = suggestion(typed, candidates);
  return match === undefined ? '' : `: did you mean ${quote ? `"${match}"` : match}?`;
}

/** The candidate a typo away from `typed`: at most one edit for short words, a third of the word for longer. */
function suggestion(typed: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || typed === '') return undefined;
  const word = typed.toLowerCase();
  const best = closest(word, [...candidates]);
  return distance(word, best.toLowerCase()) <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function unknownAction(verb: string, token: string | undefined, actions: readonly string[]): ParseFailure {
  return new ParseFailure(`unknown ${verb} action "${token}"${didYouMean(token ?? '', actions)} (${actions.join(', ')})`);
}

/** The verbs whose only argument is a stack. */
type StackOnlyVerb = 'cancel' | 'promote' | 'down';

function stackOnly<V extends StackOnlyVerb>(verb: V, summary: string): Grammar {
  return {
    usage: [`${verb} <stack>`],
    summary,
    parse(args, ctx) {
      const stack = stackArg(args, ctx);
      noExtra(args, 1);
      return { verb, stack } as Extract<CommandRequest, { verb: V }>;
    },
  };
}

function oneOf<T extends string>(token: string | undefined, allowed: readonly T[], what: string): T {
  const found = allowed.find((a) => a.toLowerCase() === token?.toLowerCase());
  if (!found) throw new ParseFailure(token === undefined ? `which ${what}? (${allowed.join(', ')})` : `"${token}" is not a ${what}${didYouMean(token, allowed)} (${allowed.join(', ')})`);
  return found;
}

export const GRAMMARS: Record<Verb, Grammar> = {
  help: {
    usage: ['help [command]'],
    summary: 'list the commands, or explain one',
    parse(args) {
      noExtra(args, 1);
      if (args[0] === undefined) return { verb: 'help' };
      const topic = args[0].toLowerCase();
      if (!isVerb(topic)) throw new ParseFailure(`no command "${args[0]}"${didYouMean(topic, VERBS)}`);
      return { verb: 'help', topic };
    },
  },
  status: {
    usage: ['status'],
    summary: 'stacks, their locks, the store and the version',
    parse(args) {
      noExtra(args, 0);
      return { verb: 'status' };
    },
  },
  deploy: {
    usage: ['deploy <stack> [--preview] [--override-freeze "<reason>"]'],
    summary: 'preview a stack, show the risk report, deploy on confirmation',
    parse(args, ctx) {
      const rest: string[] = [];
      let preview = false;
      let overrideFreeze: string | undefined;
      for (let i = 0; i < args.length; i++) {
        const arg = args[i]!;
        if (arg === '--preview') preview = true;
        else if (arg === '--override-freeze') {
          overrideFreeze = args[++i]?.trim();
          if (!overrideFreeze || overrideFreeze.startsWith('--')) throw new ParseFailure('--override-freeze needs a reason in quotes');
        } else if (arg.startsWith('--')) throw new ParseFailure(`unknown option ${arg}${didYouMean(arg, ['--preview', '--override-freeze'], false)}`);
        else rest.push(arg);
      }
      const stack = stackArg(rest, ctx);
      noExtra(rest, 1);
      return { verb: 'deploy', stack, preview, ...(overrideFreeze ? { overrideFreeze } : {}) };
    },
  },
  cancel: stackOnly('cancel', 'cancel the update running on a stack'),
  unlock: {
    usage: ['unlock <stack> <reason>'],
    summary: 'break a stale lock left by a crashed process (approvers)',
    parse(args, ctx) {
      const stack = stackArg(args, ctx);
      const reason = args.slice(1).join(' ').trim();
      if (reason === '') throw new ParseFailure('say why the lock may be broken');
      return { verb: 'unlock', stack, reason };
    },
  },
  promote: stackOnly('promote', 'open the promotion pull request into a stack from the one before it'),
  preview: {
    usage: ['preview <pull request number>'],
    summary: "preview what merging a pull request deploys (PRs from outside the team wait for this)",
    parse(args) {
      const m = /^(?:#|PR-?)?(\d{1,9})$/i.exec(args[0] ?? '') ?? /\/pull\/(\d{1,9})(?:[/?#].*)?$/.exec(args[0] ?? '');
      if (!m) throw new ParseFailure(args[0] === undefined ? 'which pull request? its number, like 42' : `"${args[0]}" is not a pull request number`);
      noExtra(args, 1);
      return { verb: 'preview', pullRequest: Number(m[1]) };
    },
  },
  up: {
    usage: ['up <stack> [--ttl 4h]'],
    summary: 'bring up an ephemeral stack for a while',
    parse(args, ctx) {
      const stack = stackArg(args, ctx);
      if (args.length === 1) return { verb: 'up', stack };
      if (args[1] !== '--ttl') throw new ParseFailure(`unexpected "${args[1]}"`);
      const ttlMinutes = args[2] === undefined ? undefined : parseDurationMinutes(args[2]);
      if (ttlMinutes === undefined) throw new ParseFailure('--ttl needs a duration like 90m, 4h or 2d');
      noExtra(args, 3);
      return { verb: 'up', stack, ttlMinutes };
    },
  },
  down: stackOnly('down', 'tear down an ephemeral stack'),
  drill: {
    usage: ['drill <stack> [--latest-backup]', 'drill history [stack]'],
    summary: 'prove a backup restores: restore it into scratch namespaces, check the data, measure RTO/RPO',
    parse(args, ctx) {
      if (args[0]?.toLowerCase() === 'history') {
        noExtra(args, 2);
        return args[1] === undefined ? { verb: 'drill', action: 'history' } : { verb: 'drill', action: 'history', stack: stackArg(args, ctx, 1) };
      }
      const latest = args.includes('--latest-backup');
      const rest = args.filter((a) => a !== '--latest-backup');
      const option = rest.find((a) => a.startsWith('--'));
      if (option) throw new ParseFailure(`unknown option ${option}`);
      const stack = stackArg(rest, ctx);
      noExtra(rest, 1);
      return { verb: 'drill', action: 'run', stack, ...(latest ? { backup: 'latest' as const } : {}) };
    },
  },
  oncall: {
    usage: ['oncall [who]', 'oncall schedule [days]', 'oncall override <@person> <duration> [L1|L2|L3]', 'oncall swap <@person> <now|next|YYYY-MM-DD>', 'oncall calendar'],
    summary: 'who is on call, the schedule, overrides, swaps, calendar feeds',
    parse(args) {
      const action = (args[0] ?? 'who').toLowerCase();
      if (action === 'who') {
        noExtra(args, 1);
        return { verb: 'oncall', action: 'who' };
      }
      if (action === 'schedule') {
        const days = args[1] === undefined ? 7 : Number(args[1]);
        if (!Number.isInteger(days) || days < 1 || days > 90) throw new ParseFailure('days must be a whole number from 1 to 90');
        noExtra(args, 2);
        return { verb: 'oncall', action: 'schedule', days };
      }
      if (action === 'override') {
        const userId = args[1] === undefined ? undefined : parseUserMention(args[1]);
        if (!userId) throw new ParseFailure('who takes over? mention a person');
        const minutes = args[2] === undefined ? undefined : parseDurationMinutes(args[2]);
        if (minutes === undefined) throw new ParseFailure('for how long? a duration like 2h or 1d');
        const level = args[3] === undefined ? undefined : oneOf(args[3], PAGE_LEVELS, 'level');
        noExtra(args, 4);
        return { verb: 'oncall', action: 'override', userId, minutes, ...(level ? { level } : {}) };
      }
      if (action === 'swap') {
        const userId = args[1] === undefined ? undefined : parseUserMention(args[1]);
        if (!userId) throw new ParseFailure('swap with whom? mention a person');
        const shift = args[2]?.toLowerCase();
        if (!shift || !(shift === 'now' || shift === 'next' || /^\d{4}-\d{2}-\d{2}$/.test(shift))) throw new ParseFailure('which of your shifts? now, next, or the date it starts (2026-12-07)');
        noExtra(args, 3);
        return { verb: 'oncall', action: 'swap', userId, shift };
      }
      if (action === 'calendar') {
        noExtra(args, 1);
        return { verb: 'oncall', action: 'calendar' };
      }
      throw unknownAction('oncall', args[0], ['who', 'schedule', 'override']);
    },
  },
  page: {
    usage: ['page <L1|L2|L3|@person> <message>'],
    summary: 'page the on-call level or a person; escalates until acknowledged',
    parse(args) {
      const targetToken = args[0];
      if (targetToken === undefined) throw new ParseFailure('page whom? L1, L2, L3 or a person');
      const level = PAGE_LEVELS.find((l) => l.toLowerCase() === targetToken.toLowerCase());
      const userId = parseUserMention(targetToken);
      if (!level && !userId) throw new ParseFailure(`"${targetToken}" is neither a level (L1, L2, L3) nor a person`);
      const message = args.slice(1).join(' ').trim();
      if (message === '') throw new ParseFailure('what is the page about? add a message');
      const target: PageTarget = level ? { kind: 'level', level } : { kind: 'user', userId: userId! };
      return { verb: 'page', target, message };
    },
  },
  incident: {
    usage: [
      'incident list',
      'incident open [<SEV1-4> <title> [--public]]',
      'incident show [id]',
      'incident update [id] [investigating|identified|monitoring] <message> [--internal]',
      'incident assign [id] <commander|communications> <@person>',
      'incident severity [id] <SEV1-4>',
      'incident publish [id] <public summary>',
      'incident followup [id] <what should change>',
      'incident resolve [id] [message]',
      'incident close [id]',
    ],
    summary: 'declare, run and resolve incidents (in their channel the id may be left out; mirrored to the status forum)',
    parse(args) {
      const action = (args[0] ?? 'list').toLowerCase();
      // The id is optional after the action: in an incident's channel, that incident is meant.
      const withId = (): { id?: number; rest: string[] } => {
        const token = args[1];
        if (token !== undefined && /^(?:#|INC-)?\d{1,9}$/i.test(token)) return { id: idArg(token, 'incident'), rest: args.slice(2) };
        return { rest: args.slice(1) };
      };
      const flag = (rest: string[], name: string): { set: boolean; rest: string[] } => ({ set: rest.includes(name), rest: rest.filter((a) => a !== name) });
      const noOtherFlags = (rest: string[]) => {
        const unknown = rest.find((a) => /^--[a-z][a-z-]*$/.test(a));
        if (unknown) throw new ParseFailure(`unknown option ${unknown}`);
      };
      switch (action) {
        case 'list':
          noExtra(args, 1);
          return { verb: 'incident', action: 'list' };
        case 'open': {
          if (args.length === 1) return { verb: 'incident', action: 'form' };
          const { set: isPublic, rest } = flag(args.slice(1), '--public');
          noOtherFlags(rest);
          const severity = oneOf(rest[0], INCIDENT_SEVERITIES, 'severity');
          const title = rest.slice(1).join(' ').trim();
          if (title === '') throw new ParseFailure('give the incident a title');
          return { verb: 'incident', action: 'open', severity, title, ...(isPublic ? { public: true } : {}) };
        }
        case 'show': {
          const { id, rest } = withId();
          if (rest[0] !== undefined && id === undefined) throw new ParseFailure(`"${rest[0]}" is not an incident number`);
          noExtra(rest, 0);
          return { verb: 'incident', action: 'show', ...(id !== undefined ? { id } : {}) };
        }
        case 'update': {
          const { id, rest: afterId } = withId();
          const { set: internal, rest } = flag(afterId, '--internal');
          noOtherFlags(rest);
          const status = INCIDENT_STATUSES.slice(0, 3).find((s) => s === rest[0]?.toLowerCase());
          if (!status && (rest[0]?.toLowerCase() === 'resolved' || rest[0]?.toLowerCase() === 'closed')) {
            throw new ParseFailure(`to ${rest[0].toLowerCase() === 'resolved' ? 'resolve' : 'close'} it, use incident ${rest[0].toLowerCase() === 'resolved' ? 'resolve' : 'close'} <id>`);
          }
          const message = rest.slice(status ? 1 : 0).join(' ').trim();
          if (message === '') throw new ParseFailure('what is the update? add a message');
          return { verb: 'incident', action: 'update', ...(id !== undefined ? { id } : {}), ...(status ? { status } : {}), message, ...(internal ? { internal: true } : {}) };
        }
        case 'assign': {
          const { id, rest } = withId();
          const role = oneOf(rest[0], INCIDENT_ROLES, 'role');
          const userId = rest[1] === undefined ? undefined : parseUserMention(rest[1]);
          if (!userId) throw new ParseFailure(`who is ${role}? mention a person`);
          noExtra(rest, 2);
          return { verb: 'incident', action: 'assign', ...(id !== undefined ? { id } : {}), role, userId };
        }
        case 'severity': {
          const { id, rest } = withId();
          const severity = oneOf(rest[0], INCIDENT_SEVERITIES, 'severity');
          noExtra(rest, 1);
          return { verb: 'incident', action: 'severity', ...(id !== undefined ? { id } : {}), severity };
        }
        case 'publish': {
          const { id, rest } = withId();
          const summary = rest.join(' ').trim();
          if (summary === '') throw new ParseFailure('what do customers read? add the public summary');
          return { verb: 'incident', action: 'publish', ...(id !== undefined ? { id } : {}), summary };
        }
        case 'followup':
        case 'follow-up': {
          const { id, rest } = withId();
          const text = rest.join(' ').trim();
          if (text === '') throw new ParseFailure('what should change? add the follow-up');
          return { verb: 'incident', action: 'followup', ...(id !== undefined ? { id } : {}), text };
        }
        case 'resolve': {
          const { id, rest } = withId();
          const message = rest.join(' ').trim();
          return { verb: 'incident', action: 'resolve', ...(id !== undefined ? { id } : {}), ...(message === '' ? {} : { message }) };
        }
        case 'close': {
          const { id, rest } = withId();
          if (rest[0] !== undefined && id === undefined) throw new ParseFailure(`"${rest[0]}" is not an incident number`);
          noExtra(rest, 0);
          return { verb: 'incident', action: 'close', ...(id !== undefined ? { id } : {}) };
        }
        default:
          throw unknownAction('incident', args[0], ['list', 'open', 'show', 'update', 'resolve', 'close']);
      }
    },
  },
  ticket: {
    usage: [
      'ticket list',
      'ticket show <topic>',
      'ticket take <topic>',
      `ticket status <topic> <${TICKET_STATUSES.join('|')}> [message]`,
      'ticket escalate <topic>',
      'ticket reply <topic> <message>',
      'ticket link <topic> <incident>',
    ],
    summary: "take a customer's support ticket, escalate it, and tell them each change on the forum",
    parse(args) {
      const action = (args[0] ?? 'list').toLowerCase();
      if (action === 'list') {
        noExtra(args, 1);
        return { verb: 'ticket', action: 'list' };
      }
      const actions = ['list', 'show', 'take', 'status', 'escalate', 'reply', 'link'] as const;
      if (!(actions as readonly string[]).includes(action)) throw unknownAction('ticket', args[0], actions);
      const topicId = topicArg(args[1]);
      switch (action) {
        case 'show':
        case 'take':
        case 'escalate':
          noExtra(args, 2);
          return { verb: 'ticket', action, topicId };
        case 'status': {
          const status = oneOf(args[2], TICKET_STATUSES, 'ticket status');
          const message = args.slice(3).join(' ').trim();
          return { verb: 'ticket', action: 'status', topicId, status, ...(message === '' ? {} : { message }) };
        }
        case 'reply': {
          const message = args.slice(2).join(' ').trim();
          if (message === '') throw new ParseFailure('what do you tell the customer? add the message');
          return { verb: 'ticket', action: 'reply', topicId, message };
        }
        case 'link': {
          const incidentId = idArg(args[2], 'incident');
          noExtra(args, 3);
          return { verb: 'ticket', action: 'link', topicId, incidentId };
        }
        default:
          throw unknownAction('ticket', args[0], actions);
      }
    },
  },
  runbook: {
    usage: ['runbook [name]'],
    summary: 'list the runbooks, or show one',
    parse(args) {
      noExtra(args, 1);
      const name = args[0]?.toLowerCase();
      if (name !== undefined && !/^[a-z0-9][a-z0-9-/]{0,80}$/i.test(name)) throw new ParseFailure(`"${args[0]}" is not a runbook name`);
      return name === undefined ? { verb: 'runbook' } : { verb: 'runbook', name };
    },
  },
};

export const VERBS = Object.keys(GRAMMARS) as Verb[];

export function isVerb(word: string): word is Verb {
  return Object.hasOwn(GRAMMARS, word);
}

/** Usage for one verb, or the whole command list. */
export function usageText(verb?: Verb): string {
  const verbs = verb ? [verb] : VERBS;
  return verbs.flatMap((v) => GRAMMARS[v].usage.map((u) => `/cockpit ${u}`)).join('\n');
}

/** The usage lines of `verb` that fit what was typed: the one of its action (`incident update …`), else all of them. */
function relevantUsage(verb: Verb, args: readonly string[]): string {
  const lines = GRAMMARS[verb].usage;
  const action = args[0]?.toLowerCase();
  const fitting = lines.length > 1 && action !== undefined ? lines.filter((u) => u.split(' ')[1] === action) : [];
  return (fitting.length > 0 ? fitting : lines).map((u) => `/cockpit ${u}`).join('\n');
}

export function parseCommand(raw: string, ctx: RouterContext): ParseResult {
  const fail = (error: string, verb?: Verb, usage = verb ? relevantUsage(verb, []) : ''): ParseResult => ({ ok: false, error, usage, ...(verb ? { verb } : {}) });
  if (raw.length > MAX_INPUT_LENGTH) return fail(`the command is too long (${raw.length} characters, at most ${MAX_INPUT_LENGTH})`);
  // What phones and pastes add (zero-width characters, "—preview" for "--preview") is undone before anything else.
  const typed = normalizeTyped(raw);
  if (hasControlCharacters(typed)) return fail('the command contains control or binary characters');
  const text = typed.trim().replace(/^\/cockpit\b\s*/i, '');
  const tokens = tokenize(text);
  if (tokens === undefined) return fail('a quote is not closed');
  const [first, ...args] = tokens;
  if (first === undefined) return { ok: true, request: { verb: 'help' } };
  const verb = first.toLowerCase();
  if (!isVerb(verb)) {
    const meant = suggestion(verb, VERBS) as Verb | undefined;
    return fail(`unknown command "${first}"${meant ? `: did you mean "${meant}"?` : ''}`, undefined, meant ? relevantUsage(meant, args) : '');
  }
  try {
    return { ok: true, request: GRAMMARS[verb].parse(args, ctx) };
  } catch (err) {
    if (err instanceof ParseFailure) return fail(`${verb}: ${err.message}`, verb, relevantUsage(verb, args));
    throw err;
  }
}
