import type { KnownBlock, ModalView, Option, PlainTextOption } from '@slack/types';
import { z } from 'zod';
import { describeChange, labelOf, type Declared, type IncidentView, type Reminder, type StackChange, type Updated } from '../../../handlers/incident';
import {
  incidentRef,
  isMajor,
  LEVELS,
  nextUpdateDue,
  ROLE_LABELS,
  severityOf,
  statusLabel,
  type Impact,
  type IncidentRecord,
  type IncidentRole,
  type SeverityStats,
  type TimelineEntry,
  type Urgency,
} from '../../../handlers/incidentModel';
import type { ForumBacklog } from '../../../handlers/forum';
import { InputError } from '../../../handlers/errors';
import type { Team } from '../../../handlers/team';
import { ACTIONS, VIEWS } from '../ids';
import { actions, button, BLOCKS_LIMIT, context, escapeMrkdwn, fields, formatDuration, header, mention, section, type Reply } from './reply';
import { packIntoSections } from './runbook';

/**
 * Incident messages: the pinned summary of an incident's channel (edited on every change), the update posted
 * for each change, the announcement in the incidents channel, the deploys that may have caused it, the
 * handover with its "I am IC" button, the reminder, the review draft, `list` and `show`, and the declare form.
 */

const ICONS: Record<IncidentRecord['status'], string> = {
  new: ':grey_question:',
  investigating: ':mag:',
  identified: ':bulb:',
  monitoring: ':eyes:',
  resolved: ':white_check_mark:',
  closed: ':lock:',
};

const inChannel = (text: string, blocks: KnownBlock[]): Reply => ({ text, blocks: blocks.slice(0, BLOCKS_LIMIT), visibility: 'in_channel' });
const ephemeral = (text: string, blocks: KnownBlock[]): Reply => ({ text, blocks: blocks.slice(0, BLOCKS_LIMIT), visibility: 'ephemeral' });
const time = (at: Date) => `${at.toISOString().slice(11, 16)} UTC`;
const channelLink = (channelId: string | undefined) => (channelId ? `<#${channelId}>` : 'no channel');
const title = (incident: IncidentRecord) => `${incidentRef(incident.id)} ${incident.severity}: ${incident.title}`;

export interface SummaryExtras {
  now: Date;
  /** The status topic on the forum, once it exists. */
  topicUrl?: string;
  forum?: ForumBacklog;
}

/** The pinned summary: everything a person joining needs, kept up to date. */
export function summaryReply(incident: IncidentRecord, extras: SummaryExtras): Reply {
  const ref = incidentRef(incident.id);
  const freezes = isMajor(incident.severity) && incident.stacks.length > 0 && !['resolved', 'closed'].includes(incident.status);
  const commander = incident.pendingCommander ? `${mention(incident.commander)} (handing over to ${mention(incident.pendingCommander)})` : mention(incident.commander);
  const next = incident.public && incident.lastPublicUpdateAt && !['resolved', 'closed'].includes(incident.status) ? nextUpdateDue(incident.severity, incident.lastPublicUpdateAt) : undefined;
  const customers = incident.public
    ? `${extras.topicUrl ? `<${extras.topicUrl}|status topic>` : 'status topic being created'}${next ? ` · next update by ${time(next)}${next < extras.now ? ' (late)' : ''}` : ''}`
    : `not told: \`/cockpit incident publish ${incident.id} <summary>\``;
  const blocks: KnownBlock[] = [
    header(`${ref} · ${incident.severity} · ${incident.title}`),
    fields([
      ['State', `${ICONS[incident.status]} ${statusLabel(incident.status)}`],
      ['Severity', `${incident.severity}${freezes ? ` (deploys to ${incident.stacks.join(', ')} frozen)` : ''}`],
      ['Commander', commander],
      ['Communications', incident.communications ? mention(incident.communications) : 'the commander'],
      ['Stacks', incident.stacks.join(', ') || 'none named'],
      ['Components', incident.components.join(', ') || 'none named'],
      ['Customers', customers],
      ['Started', `${time(incident.startedAt)}${incident.resolvedAt ? ` · resolved ${time(incident.resolvedAt)} (${formatDuration(incident.resolvedAt.getTime() - incident.startedAt.getTime())})` : ''}`],
    ]),
  ];
  if (incident.customerImpact) blocks.push(section(`*Customer impact*\n${escapeMrkdwn(incident.customerImpact)}`));
  if (extras.forum && extras.forum.pending > 0) {
    const since = extras.forum.oldestAt ? ` since ${time(extras.forum.oldestAt)}` : '';
    blocks.push(context(`:hourglass: ${extras.forum.pending} post(s) waiting for the status forum${since}${extras.forum.lastError ? `: ${escapeMrkdwn(extras.forum.lastError)}` : ''}`));
  }
  blocks.push(
    context(
      `Update: \`/cockpit incident update ${incident.id} <investigating|identified|monitoring> "<message>" [--internal]\` · roles: \`/cockpit incident assign ${incident.id} <commander|communications> @person\` · \`/cockpit incident resolve ${incident.id} "<what happened>"\``,
    ),
  );
  return inChannel(`${title(incident)} (${statusLabel(incident.status)})`, blocks);
}

/** What the declarer is told. */
export function declaredReply(declared: Declared): Reply {
  const { incident, pages } = declared;
  const paged = pages
    .map((p) => (p.pageId ? `${p.level}${p.people.length > 0 ? ` (${p.people.map(mention).join(', ')})` : ''}` : `${p.level} not paged: ${escapeMrkdwn(p.skipped ?? '')}`))
    .join('; ');
  const lines = [
    `:rotating_light: *${incidentRef(incident.id)}* declared, *${incident.severity}*: ${escapeMrkdwn(incident.title)}`,
    `Channel: ${channelLink(incident.channelId)} · you are the incident commander.`,
    incident.public ? 'Customers: the status topic is on its way.' : `Customers are not told yet: \`/cockpit incident publish ${incident.id} <summary>\`.`,
  ];
  if (paged) lines.push(`Paged: ${paged}`);
  return ephemeral(`${incidentRef(incident.id)} declared: ${incident.title}`, [section(lines.join('\n'))]);
}

/** In the incidents channel: a new incident, and where to join it. */
export function announcementReply(incident: IncidentRecord): Reply {
  const freeze = isMajor(incident.severity) && incident.stacks.length > 0 ? ` · deploys to ${incident.stacks.join(', ')} frozen` : '';
  return inChannel(`${title(incident)}`, [
    section(`:rotating_light: *${incidentRef(incident.id)} ${incident.severity}* ${escapeMrkdwn(incident.title)}\nJoin ${channelLink(incident.channelId)} · commander ${mention(incident.commander)}${freeze}`),
  ]);
}

/** In the incidents channel: how it ended, or a change of severity everyone should know. */
export function outcomeReply(incident: IncidentRecord, what: string): Reply {
  return inChannel(`${title(incident)}: ${what}`, [section(`${ICONS[incident.status]} *${incidentRef(incident.id)}* ${escapeMrkdwn(incident.title)}: ${escapeMrkdwn(what)} · ${channelLink(incident.channelId)}`)]);
}

/** Posted in the incident's channel for each update. */
export function updateReply(updated: Updated, actorId: string): Reply {
  const { incident, from, message, customerFacing } = updated;
  const moved = from !== incident.status ? ` (was ${statusLabel(from)})` : '';
  const told = customerFacing ? ':mega: Posted to customers on the status forum.' : incident.public ? ':lock: Internal: not posted to customers.' : `:lock: Not public: \`/cockpit incident publish ${incident.id} <summary>\` tells customers.`;
  return inChannel(`${incidentRef(incident.id)} ${statusLabel(incident.status)}: ${message}`, [
    section(`${ICONS[incident.status]} *${statusLabel(incident.status)}*${moved} · ${mention(actorId)}\n${escapeMrkdwn(message)}`),
    context(told),
  ]);
}

/** A plain line in the incident's channel for changes that need no more (severity, roles, close). */
export function noticeReply(incident: IncidentRecord, text: string): Reply {
  return inChannel(`${incidentRef(incident.id)}: ${text}`, [section(`${ICONS[incident.status]} ${escapeMrkdwn(text)}`)]);
}

/** A handover waiting for the new commander's answer. */
export function handoverReply(incident: IncidentRecord, from: string, to: string): Reply {
  return inChannel(`${incidentRef(incident.id)}: command handed to ${to}`, [
    section(`:handshake: ${mention(from)} hands command of *${incidentRef(incident.id)}* to ${mention(to)}. Until ${mention(to)} accepts, ${mention(from)} is still the commander.`),
    actions('incident_handover', button('I am IC', ACTIONS.incidentAcceptCommand, String(incident.id), 'primary')),
  ]);
}

export function roleReply(incident: IncidentRecord, role: IncidentRole, userId: string): Reply {
  return noticeReply(incident, `${ROLE_LABELS[role]} of ${incidentRef(incident.id)}: ${mention(userId)}`);
}

/** Deploys and promotions of the affected stacks: the usual cause. */
export function changesReply(incident: IncidentRecord, changes: StackChange[]): Reply {
  const stacks = incident.stacks.join(', ');
  if (incident.stacks.length === 0) return inChannel('No stacks named', [context('No stack is named on this incident, so no deploys are shown. Name them when declaring.')]);
  const lines = changes.slice(0, 10).map((c) => `• ${time(c.at)}${c.at < incident.startedAt ? '' : ' _(during)_'} ${escapeMrkdwn(describeChange(c))}`);
  return inChannel(`Recent deploys of ${stacks}`, [
    section(`:package: *Deploys and promotions of ${stacks}* since 24 hours before it started${lines.length === 0 ? ': none.' : `\n${lines.join('\n')}`}`),
  ]);
}

export function reminderReply(reminder: Reminder): Reply {
  const { incident } = reminder;
  const who = [...new Set([incident.commander, incident.communications].filter((u): u is string => u !== undefined))].map(mention).join(' ');
  return inChannel(`${incidentRef(incident.id)}: a customer update is due`, [
    section(
      `:alarm_clock: ${who} No customer update on *${incidentRef(incident.id)}* for ${reminder.silentMinutes} minutes (${incident.severity}: every ${formatDuration(reminder.intervalMinutes * 60_000)}). "Still investigating" is an update.\n\`/cockpit incident update ${incident.id} ${incident.status} "<what customers see, what we do>"\``,
    ),
  ]);
}

/** The review draft, Markdown turned into Slack mrkdwn. */
export function reviewReply(incident: IncidentRecord, markdown: string): Reply {
  const blocks: KnownBlock[] = [];
  const paragraphs: string[] = [];
  for (const line of markdown.split('\n')) {
    const heading = /^#\s+(.*)$/.exec(line);
    if (heading && blocks.length === 0) {
      blocks.push(header(heading[1]!));
      continue;
    }
    paragraphs.push(markdownLineToMrkdwn(line));
  }
  for (const text of packIntoSections(paragraphs.join('\n').split(/\n{2,}/), BLOCKS_LIMIT - 2)) blocks.push(section(text));
  blocks.push(context(`Draft for the commander to complete; runbooks/templates/incident-review.md says what goes in it.`));
  return inChannel(`Post-incident review draft for ${incidentRef(incident.id)}`, blocks);
}

/** The few Markdown forms the review template uses, as Slack writes them. */
export function markdownLineToMrkdwn(line: string): string {
  const escaped = escapeMrkdwn(line);
  const heading = /^#{1,6}\s+(.*)$/.exec(escaped);
  if (heading) return `*${heading[1]}*`;
  return escaped
    .replace(/^- \[ \] /, '☐ ')
    .replace(/^- /, '• ')
    .replace(/\*\*([^*]+)\*\*/g, '*$1*');
}

export function listReply(list: { open: IncidentRecord[]; stats: SeverityStats[] }, now: Date): Reply {
  const blocks: KnownBlock[] = [header('Incidents')];
  if (list.open.length === 0) blocks.push(section('No open incidents.'));
  for (const incident of list.open.slice(0, 20)) {
    blocks.push(
      section(
        `${ICONS[incident.status]} *${incidentRef(incident.id)}* ${incident.severity} · ${statusLabel(incident.status)} · ${escapeMrkdwn(incident.title)}\n${channelLink(incident.channelId)} · commander ${mention(incident.commander)} · open ${formatDuration(now.getTime() - incident.startedAt.getTime())}${incident.public ? ' · public' : ''}`,
      ),
    );
  }
  const figure = (seconds: number | undefined) => (seconds === undefined ? '—' : formatDuration(seconds * 1000));
  blocks.push(
    fields(list.stats.map((s) => [s.severity, s.count === 0 ? 'no incidents' : `MTTA ${figure(s.mttaSeconds)} · MTTR ${figure(s.mttrSeconds)}\n${s.count} declared, ${s.resolved} resolved`])),
    context('MTTA: from the start to someone owning it. MTTR: from the start to resolved. Over the last 90 days.'),
  );
  return ephemeral(`${list.open.length} open incident(s)`, blocks);
}

export function showReply(view: IncidentView, extras: SummaryExtras): Reply {
  const summary = summaryReply(view.incident, { ...extras, forum: view.forum });
  const lines = view.timeline.slice(-25).map(timelineLine);
  const texts = packIntoSections(lines, 10);
  return { ...summary, visibility: 'ephemeral', blocks: [...summary.blocks, ...texts.map((t, i) => section(i === 0 ? `*Timeline*\n${t}` : t))].slice(0, BLOCKS_LIMIT) };
}

export function timelineLine(entry: TimelineEntry): string {
  const who = entry.kind === 'deploy' || entry.actor === 'scheduler' ? '' : ` ${mention(entry.actor)}`;
  const badge = entry.visibility === 'public' ? ' :mega:' : '';
  return `${time(entry.at)} *${labelOf(entry)}*${badge}${who}: ${escapeMrkdwn(entry.text)}`;
}

// --- the declare form ---------------------------------------------------------------------------------------

const IMPACT_TEXT: Record<Impact, string> = {
  high: 'High: most customers cannot use it, or data is at risk',
  medium: 'Medium: part of it fails for many, or all of it for a few',
  low: 'Low: one customer, a minor feature, or no customers',
};
const URGENCY_TEXT: Record<Urgency, string> = {
  high: 'High: getting worse, no workaround',
  medium: 'Medium: stable with a workaround, or high within a day',
  low: 'Low: can wait for the next business day',
};

export interface DeclareFormOptions {
  team: Team;
  /** Whether the status forum is configured: only then is "tell customers" offered. */
  forum: boolean;
  /** Where the answer goes (the channel the form was opened from). */
  channelId?: string;
  alertGroupId?: string;
  prefill?: { title?: string; impact?: Impact; urgency?: Urgency; stacks?: string[]; components?: string[]; customerImpact?: string };
}

/** What the form carries through Slack untouched; nothing in it is trusted as more than a hint. */
const metadataSchema = z.object({ channelId: z.string().optional(), alertGroupId: z.string().optional() });
export type DeclareFormMetadata = z.infer<typeof metadataSchema>;

const option = (value: string, text: string): PlainTextOption => ({ text: { type: 'plain_text', text: text.slice(0, 75), emoji: true }, value });

export function declareForm(options: DeclareFormOptions): ModalView {
  const { team, prefill = {} } = options;
  const stacks = Object.keys(team.stacks);
  const components = team.incidents?.components ?? [];
  const chosen = (values: string[] | undefined, all: string[]) => (values ?? []).filter((v) => all.includes(v)).map((v) => option(v, v));
  const levelSelect = (blockId: 'impact' | 'urgency', label: string, texts: Record<string, string>, initial?: string): KnownBlock => ({
    type: 'input',
    block_id: blockId,
    label: { type: 'plain_text', text: label },
    element: {
      type: 'static_select',
      action_id: 'value',
      options: LEVELS.map((l) => option(l, texts[l]!)),
      ...(initial ? { initial_option: option(initial, texts[initial]!) } : {}),
    },
  });
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: 'title',
      label: { type: 'plain_text', text: 'Title' },
      hint: { type: 'plain_text', text: 'What customers see, not the cause. Posted to them as it is.' },
      element: { type: 'plain_text_input', action_id: 'value', max_length: 150, ...(prefill.title ? { initial_value: prefill.title.slice(0, 150) } : {}) },
    },
    levelSelect('impact', 'Impact', IMPACT_TEXT, prefill.impact),
    levelSelect('urgency', 'Urgency', URGENCY_TEXT, prefill.urgency),
    context('Severity is impact × urgency (runbooks/incident-management.md): high × high is SEV1; SEV1 and SEV2 freeze deploys to the stacks named below.'),
    {
      type: 'input',
      block_id: 'stacks',
      optional: true,
      label: { type: 'plain_text', text: 'Affected stacks' },
      element: { type: 'multi_static_select', action_id: 'value', options: stacks.map((s) => option(s, s)), ...(chosen(prefill.stacks, stacks).length > 0 ? { initial_options: chosen(prefill.stacks, stacks) } : {}) },
    },
    components.length > 0
      ? {
          type: 'input',
          block_id: 'components',
          optional: true,
          label: { type: 'plain_text', text: 'Affected components' },
          element: { type: 'multi_static_select', action_id: 'value', options: components.map((c) => option(c, c)), ...(chosen(prefill.components, components).length > 0 ? { initial_options: chosen(prefill.components, components) } : {}) },
        }
      : {
          type: 'input',
          block_id: 'components',
          optional: true,
          label: { type: 'plain_text', text: 'Affected components' },
          hint: { type: 'plain_text', text: 'Comma-separated, as customers name them.' },
          element: { type: 'plain_text_input', action_id: 'value', ...(prefill.components?.length ? { initial_value: prefill.components.join(', ') } : {}) },
        },
    {
      type: 'input',
      block_id: 'customer_impact',
      optional: true,
      label: { type: 'plain_text', text: 'Customer impact' },
      element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 1000, ...(prefill.customerImpact ? { initial_value: prefill.customerImpact.slice(0, 1000) } : {}) },
    },
  ];
  if (options.forum) {
    blocks.push(
      {
        type: 'input',
        block_id: 'public',
        optional: true,
        label: { type: 'plain_text', text: 'Customers' },
        element: { type: 'checkboxes', action_id: 'value', options: [option('public', 'Tell customers now, on the status forum')] },
      },
      {
        type: 'input',
        block_id: 'public_summary',
        optional: true,
        label: { type: 'plain_text', text: 'Public summary' },
        hint: { type: 'plain_text', text: 'Posted word for word when customers are told: what they see, what we do.' },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 1000 },
      },
    );
  }
  const metadata: DeclareFormMetadata = { ...(options.channelId ? { channelId: options.channelId } : {}), ...(options.alertGroupId ? { alertGroupId: options.alertGroupId } : {}) };
  return {
    type: 'modal',
    callback_id: VIEWS.declareIncident,
    private_metadata: JSON.stringify(metadata),
    title: { type: 'plain_text', text: 'Declare incident' },
    submit: { type: 'plain_text', text: 'Declare' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

/** The state Slack sends with a view submission, as far as the form reads it. */
export type FormValues = Record<string, Record<string, { type?: string; value?: string | null; selected_option?: Option | null; selected_options?: Option[] | null }>>;

/** What the form asks for, as the declare action takes it (JSON between the listener and the core). */
export const declarationSchema = z.object({
  title: z.string(),
  impact: z.enum(LEVELS),
  urgency: z.enum(LEVELS),
  stacks: z.array(z.string()),
  components: z.array(z.string()),
  customerImpact: z.string().optional(),
  public: z.boolean(),
  publicSummary: z.string().optional(),
  alertGroupId: z.string().optional(),
});
export type FormDeclaration = z.infer<typeof declarationSchema>;

/** Reads a submission; errors are keyed by block id, as `response_action: errors` shows them. */
export function readDeclareForm(values: FormValues, metadata: DeclareFormMetadata): { ok: true; declaration: FormDeclaration } | { ok: false; errors: Record<string, string> } {
  const text = (block: string) => values[block]?.value?.value?.trim() ?? '';
  const one = (block: string) => values[block]?.value?.selected_option?.value;
  const many = (block: string) => (values[block]?.value?.selected_options ?? []).map((o) => o.value).filter((v): v is string => typeof v === 'string');
  const errors: Record<string, string> = {};
  const title = text('title');
  if (title === '') errors.title = 'Give the incident a title.';
  const impact = one('impact');
  const urgency = one('urgency');
  if (!(LEVELS as readonly string[]).includes(impact ?? '')) errors.impact = 'Choose the impact.';
  if (!(LEVELS as readonly string[]).includes(urgency ?? '')) errors.urgency = 'Choose the urgency.';
  const isPublic = many('public').includes('public');
  const publicSummary = text('public_summary');
  if (isPublic && publicSummary === '') errors.public_summary = 'Customers are told this word for word: write what they see and what we do.';
  const components = values.components?.value?.type === 'plain_text_input' ? text('components').split(',').map((c) => c.trim()).filter(Boolean) : many('components');
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const customerImpact = text('customer_impact');
  return {
    ok: true,
    declaration: {
      title,
      impact: impact as Impact,
      urgency: urgency as Urgency,
      stacks: many('stacks'),
      components,
      ...(customerImpact ? { customerImpact } : {}),
      public: isPublic,
      ...(publicSummary ? { publicSummary } : {}),
      ...(metadata.alertGroupId ? { alertGroupId: metadata.alertGroupId } : {}),
    },
  };
}

export function parseFormMetadata(text: string | undefined): DeclareFormMetadata {
  try {
    return metadataSchema.parse(JSON.parse(text || '{}'));
  } catch {
    return {};
  }
}

/** The declare action's value, checked: it came through Slack and the action table, as any button's does. */
export function parseFormDeclaration(value: string): FormDeclaration {
  try {
    return declarationSchema.parse(JSON.parse(value));
  } catch {
    throw new InputError('That form is from an older Cockpit; open it again with /cockpit incident open.');
  }
}

export function severityOfForm(declaration: FormDeclaration) {
  return severityOf(declaration.impact, declaration.urgency);
}

/** The form's answer needs Slack; the console and the CLI get the command instead. */
export function formNeedsSlackHint(): string {
  return 'Here: /cockpit incident open <SEV1-4> "<title>" [--public]. Severity is impact × urgency: high × high SEV1, high × medium or medium × high SEV2, …; see /cockpit runbook incident-management.';
}
