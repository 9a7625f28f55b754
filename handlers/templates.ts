import type { MessageTemplateSource } from './ports';
import type { TicketStatus } from './ticketModel';

/**
 * Messages Cockpit writes for people to read (to customers, and the review draft) are Markdown files in
 * runbooks/templates/, so the wording changes without a code change. The code owns only which values each
 * template may use: this registry. A template that names a
 * placeholder outside its entry is refused (and the runbook lint fails on it before it ships), because a typo
 * there would otherwise reach a customer as literal `{{incident.titel}}`.
 *
 * Syntax: `{{ name }}`. A line whose placeholders are all optional and empty is left out, which is how a
 * template says "only when there is one" without a conditional. HTML comments are notes for whoever edits
 * the file and never reach the customer.
 */

type TemplateSpec = {
  /** When Cockpit posts it; shown in the lint's messages and the runbooks. */
  postedWhen: string;
  required: readonly string[];
  optional: readonly string[];
};

export const TEMPLATES = {
  'incident-opened': {
    postedWhen: '`/cockpit incident open`: the first post of the incident topic in the status category',
    required: ['incident.id', 'incident.title', 'incident.severity', 'incident.status', 'incident.startedAt'],
    optional: ['incident.stack', 'incident.components', 'message', 'nextUpdateBy'],
  },
  'incident-updated': {
    postedWhen: '`/cockpit incident update`: a reply on the incident topic',
    required: ['incident.id', 'incident.title', 'incident.severity', 'incident.status', 'message'],
    optional: ['incident.stack', 'incident.components', 'nextUpdateBy'],
  },
  'incident-resolved': {
    postedWhen: '`/cockpit incident resolve`: the last customer-facing reply on the incident topic',
    required: ['incident.id', 'incident.title', 'incident.severity', 'incident.startedAt', 'incident.resolvedAt', 'incident.duration'],
    optional: ['incident.stack', 'incident.components', 'message', 'incident.reviewDueBy'],
  },
  'incident-review': {
    postedWhen: '`/cockpit incident resolve`: the draft post-incident review, in the incident channel only (never to customers)',
    required: ['incident.id', 'incident.title', 'incident.severity', 'incident.startedAt', 'incident.resolvedAt', 'incident.timeToAcknowledge', 'incident.timeToResolve', 'incident.commander', 'timeline', 'deploys'],
    optional: ['incident.communications', 'incident.stack', 'incident.components', 'incident.customerImpact', 'incident.reviewDueBy', 'message', 'followUps'],
  },
  'ticket-taken': {
    postedWhen: '`/cockpit ticket take` (Take), or `ticket status <topic> in-progress` when work resumes: a reply on the ticket topic',
    required: ['ticket.id', 'ticket.title', 'assignee.name'],
    optional: ['customer.name', 'message'],
  },
  'ticket-waiting': {
    postedWhen: '`/cockpit ticket status <topic> waiting <what we need>`',
    required: ['ticket.id', 'ticket.title', 'assignee.name', 'message'],
    optional: ['customer.name'],
  },
  'ticket-resolved': {
    postedWhen: '`/cockpit ticket status <topic> resolved`',
    required: ['ticket.id', 'ticket.title', 'assignee.name'],
    optional: ['customer.name', 'message'],
  },
  'ticket-reopened': {
    postedWhen: '`/cockpit ticket status <topic> new`: the ticket goes back to the queue',
    required: ['ticket.id', 'ticket.title'],
    optional: ['customer.name', 'message'],
  },
  'ticket-escalated': {
    postedWhen: '`/cockpit ticket escalate <topic>` (Escalate): L1 → L2 → L3',
    required: ['ticket.id', 'ticket.title', 'escalation.level'],
    optional: ['customer.name', 'assignee.name'],
  },
  'ticket-reply': {
    postedWhen: '`/cockpit ticket reply <topic> <message>`: a person writes to the customer from Slack',
    required: ['ticket.id', 'ticket.title', 'assignee.name', 'message'],
    optional: ['customer.name'],
  },
  'ticket-linked': {
    postedWhen: 'Link pressed (or `/cockpit ticket link <topic> <incident>`): the ticket is an open public incident',
    required: ['ticket.id', 'ticket.title', 'incident.id', 'incident.title', 'incident.url'],
    optional: ['customer.name', 'assignee.name'],
  },
  'ticket-incident-resolved': {
    postedWhen: '`/cockpit incident resolve` of an incident linked to the ticket: the ticket is resolved with it',
    required: ['ticket.id', 'ticket.title', 'incident.id', 'incident.title', 'incident.url'],
    optional: ['customer.name', 'message'],
  },
} as const satisfies Record<string, TemplateSpec>;

export type TemplateName = keyof typeof TEMPLATES;
export const TEMPLATE_NAMES = Object.keys(TEMPLATES) as TemplateName[];

type RequiredKey<N extends TemplateName> = (typeof TEMPLATES)[N]['required'][number];
type OptionalKey<N extends TemplateName> = (typeof TEMPLATES)[N]['optional'][number];
export type TemplateValue = string | number;
/** The values a template may use; the compiler holds callers to the registry. */
export type TemplateVars<N extends TemplateName> = { [K in RequiredKey<N>]: TemplateValue } & {
  [K in OptionalKey<N>]?: TemplateValue | undefined;
};

/** A ticket status change tells the customer something different for each status, so each has its own file. */
export const TICKET_STATUS_TEMPLATES = {
  new: 'ticket-reopened',
  'in-progress': 'ticket-taken',
  waiting: 'ticket-waiting',
  resolved: 'ticket-resolved',
} as const satisfies Record<TicketStatus, TemplateName>;

export function isTemplateName(name: string): name is TemplateName {
  return Object.hasOwn(TEMPLATES, name);
}

/** Every placeholder a template may use, required first. */
export function allowedPlaceholders(name: TemplateName): string[] {
  const spec: TemplateSpec = TEMPLATES[name];
  return [...spec.required, ...spec.optional];
}

/** A template file that names what its registry entry does not, or a render missing a required value. */
export class TemplateError extends Error {
  constructor(
    readonly template: string,
    readonly problems: string[],
    /** Required values the caller did not give; a handler may turn these into a question to the person. */
    readonly missing: string[] = [],
  ) {
    super(`message template "${template}": ${problems.join('; ')}`);
    this.name = 'TemplateError';
  }
}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const PLACEHOLDER_NAME = /^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*$/;
const HTML_COMMENT = /<!--[\s\S]*?-->\n?/g;

export interface PlaceholderUse {
  /** The name inside the braces, trimmed; may be malformed (see `valid`). */
  name: string;
  /** 1-based line in the file as written, comments included. */
  line: number;
  valid: boolean;
}

/** Blank out comments but keep their newlines, so line numbers still point into the file as written. */
function withoutComments(text: string): string {
  return text.replace(HTML_COMMENT, (comment) => comment.replace(/[^\n]/g, ''));
}

/** The placeholders a template uses, outside comments, in order of appearance. */
export function placeholdersIn(text: string): PlaceholderUse[] {
  const uses: PlaceholderUse[] = [];
  withoutComments(text)
    .split('\n')
    .forEach((lineText, index) => {
      for (const match of lineText.matchAll(PLACEHOLDER)) {
        const name = match[1]!.trim();
        uses.push({ name, line: index + 1, valid: PLACEHOLDER_NAME.test(name) });
      }
    });
  return uses;
}

/** What is wrong with a template file against its registry entry: malformed or unknown placeholders. */
export function templateProblems(name: TemplateName, text: string): string[] {
  const allowed = new Set(allowedPlaceholders(name));
  const problems: string[] = [];
  for (const use of placeholdersIn(text)) {
    if (!use.valid) problems.push(`line ${use.line}: "{{${use.name}}}" is not a placeholder name`);
    else if (!allowed.has(use.name)) problems.push(`line ${use.line}: unknown placeholder {{${use.name}}} (allowed: ${[...allowed].join(', ')})`);
  }
  if (text.includes('{{') || text.includes('}}')) {
    const unbalanced = withoutComments(text).replace(PLACEHOLDER, '');
    if (unbalanced.includes('{{') || unbalanced.includes('}}')) problems.push('unbalanced "{{" or "}}"');
  }
  return problems;
}

/** Required values absent or blank in `vars`. */
export function missingValues(name: TemplateName, vars: Partial<Record<string, TemplateValue | undefined>>): string[] {
  const spec: TemplateSpec = TEMPLATES[name];
  return spec.required.filter((key) => isBlank(vars[key]));
}

const isBlank = (value: TemplateValue | undefined): boolean => value === undefined || String(value).trim() === '';

// Values come from people (titles, messages): control characters would corrupt the post, and a value is never
// expanded again, so a message containing "{{x}}" stays literal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/**
 * Fills a template. Refuses (TemplateError) a template that uses a placeholder outside its registry entry and
 * a call that lacks a required value; never returns text with a `{{` left in it.
 */
export function renderTemplate<N extends TemplateName>(name: N, text: string, vars: TemplateVars<N>): string {
  const problems = templateProblems(name, text);
  if (problems.length > 0) throw new TemplateError(name, problems);
  const values = vars as Partial<Record<string, TemplateValue | undefined>>;
  const missing = missingValues(name, values);
  if (missing.length > 0) throw new TemplateError(name, [`no value for ${missing.map((m) => `{{${m}}}`).join(', ')}`], missing);

  const required = new Set<string>(TEMPLATES[name].required);
  const lines: string[] = [];
  for (const line of withoutComments(text).split('\n')) {
    const names = [...line.matchAll(PLACEHOLDER)].map((m) => m[1]!.trim());
    const allOptionalAndEmpty = names.length > 0 && names.every((n) => !required.has(n) && isBlank(values[n]));
    if (allOptionalAndEmpty) continue;
    lines.push(line.replace(PLACEHOLDER, (_, raw: string) => format(values[raw.trim()])));
  }
  return lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function format(value: TemplateValue | undefined): string {
  if (value === undefined) return '';
  return String(value).replace(CONTROL, '').replace(/\r\n?/g, '\n');
}

/** Loads the team's file for `name` and fills it; a missing file is a TemplateError naming it. */
export async function renderMessage<N extends TemplateName>(
  source: MessageTemplateSource,
  name: N,
  vars: TemplateVars<N>,
): Promise<string> {
  const text = await source.get(name);
  if (text === undefined) throw new TemplateError(name, [`no file runbooks/templates/${name}.md`]);
  return renderTemplate(name, text, vars);
}
