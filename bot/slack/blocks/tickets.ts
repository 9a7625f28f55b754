import type { Button, KnownBlock } from '@slack/types';
import type { Paged, TicketView } from '../../../handlers/ticket';
import { incidentRef } from '../../../handlers/incidentModel';
import { nextLevel, ticketRef, type TicketStatus } from '../../../handlers/ticketModel';
import type { SupportPost, TicketRecord } from '../../../handlers/model/tickets';
import { ACTIONS } from '../ids';
import { actions, BLOCKS_LIMIT, button, context, escapeMrkdwn, fields, formatDuration, header, mention, section, truncate, type Reply } from './reply';

/**
 * Ticket messages: the one message per ticket in the support channel (edited on every change, its thread the
 * ticket's conversation), the notes and forum posts in that thread, and `ticket list`.
 */

const ICONS: Record<TicketStatus, string> = {
  new: ':inbox_tray:',
  'in-progress': ':hammer_and_wrench:',
  waiting: ':hourglass_flowing_sand:',
  resolved: ':white_check_mark:',
};

const inChannel = (text: string, blocks: KnownBlock[]): Reply => ({ text, blocks: blocks.slice(0, BLOCKS_LIMIT), visibility: 'in_channel' });
const time = (at: Date) => `${at.toISOString().slice(0, 10)} ${at.toISOString().slice(11, 16)} UTC`;
const customerOf = (ticket: TicketRecord) => (ticket.customer.name ? `${escapeMrkdwn(ticket.customer.name)} (@${escapeMrkdwn(ticket.customer.username)})` : `@${escapeMrkdwn(ticket.customer.username)}`);

/** "1h 5m of 2h", "late: 3h of 2h", or how long it took to take. */
export function waited(view: Pick<TicketView, 'ageMs' | 'targetMs' | 'late' | 'ticket'>): string {
  const of = `${formatDuration(view.ageMs)} of ${formatDuration(view.targetMs)}`;
  if (view.ticket.takenAt) return `taken after ${of}${view.late ? ' (late)' : ''}`;
  return view.late ? `:warning: late: waited ${of}` : `waited ${of}`;
}

/** The ticket's message: who, what, where it stands, and the buttons that move it. */
export function ticketMessage(view: TicketView, topicUrl: string): Reply {
  const { ticket } = view;
  const ref = ticketRef(ticket.topicId);
  const blocks: KnownBlock[] = [
    header(`${ref} · ${ticket.title}`),
    fields([
      ['Customer', customerOf(ticket)],
      ['Priority', `${ticket.priority} · take within ${formatDuration(view.targetMs)}`],
      ['Status', `${ICONS[ticket.status]} ${ticket.status}`],
      ['Level', ticket.level],
      ['Assignee', ticket.assignee ? mention(ticket.assignee) : 'nobody yet'],
      ['Opened', `${time(ticket.openedAt)} · ${waited(view)}`],
    ]),
  ];
  if (ticket.excerpt) blocks.push(section(quote(ticket.excerpt)));
  blocks.push(context(`<${topicUrl}|Open ${ref} on the forum>${ticket.incidentId ? ` · linked to ${incidentRef(ticket.incidentId)}` : ''}`));
  for (const incident of view.lookalikes.slice(0, 3)) {
    const why = incident.components.filter((c) => ticket.components.includes(c));
    blocks.push(
      section(`:link: Looks like *${incidentRef(incident.id)}* ${escapeMrkdwn(incident.title)}${why.length > 0 ? ` (${why.join(', ')})` : ' (the customer names it)'}`),
      actions(`ticket_link_${ticket.topicId}_${incident.id}`, button(`Link to ${incidentRef(incident.id)}`, ACTIONS.ticketLinkIncident, `${ticket.topicId}:${incident.id}`)),
    );
  }
  if (view.forum.pending > 0) {
    blocks.push(context(`:hourglass: ${view.forum.pending} change(s) waiting for the forum${view.forum.lastError ? `: ${escapeMrkdwn(truncate(view.forum.lastError, 300))}` : ''}`));
  }
  const buttons: Button[] = [];
  if (ticket.status !== 'resolved') {
    if (ticket.status === 'new' || !ticket.assignee) buttons.push(button('Take', ACTIONS.ticketTake, String(ticket.topicId), 'primary'));
    else buttons.push(button('Take over', ACTIONS.ticketTake, String(ticket.topicId)));
    const next = nextLevel(ticket.level);
    if (next) buttons.push(button(`Escalate to ${next}`, ACTIONS.ticketEscalate, String(ticket.topicId)));
  }
  if (buttons.length > 0) blocks.push(actions(`ticket_${ticket.topicId}`, ...buttons));
  // The notification text is mrkdwn too: a customer's title of "<!channel>" must not notify the channel.
  return inChannel(`Ticket ${ref} (${ticket.priority}, ${ticket.status}): ${escapeMrkdwn(ticket.title)}`, blocks);
}

/** A line in the ticket's thread: what a person (or Cockpit) did. */
export function noteReply(ticket: TicketRecord, text: string): Reply {
  return inChannel(`${ticketRef(ticket.topicId)}: ${text}`, [section(escapeMrkdwn(text))]);
}

/** Someone wrote on the topic: the customer, or someone answering on the forum. */
export function forumPostReply(ticket: TicketRecord, post: SupportPost, opts: { customer: boolean; url: string }): Reply {
  const who = opts.customer ? `${customerOf(ticket)}, the customer` : `@${escapeMrkdwn(post.username)} on the forum${post.kind === 'whisper' ? ' (a whisper: staff only)' : ''}`;
  const blocks: KnownBlock[] = [section(`:speech_balloon: *${who}* wrote:\n${quote(truncate(post.raw.replace(/<!--[\s\S]*?-->/g, '').trim(), 2500))}`), context(`<${opts.url}|Post ${post.postNumber} on the forum>`)];
  const hint = opts.customer ? hintFor(ticket) : undefined;
  if (hint) blocks.push(context(hint));
  return inChannel(`${ticketRef(ticket.topicId)}: ${opts.customer ? 'the customer' : post.username} wrote on the forum`, blocks);
}

/** What the customer's reply asks of the ticket's taker, per the runbook. */
function hintFor(ticket: TicketRecord): string | undefined {
  const owner = ticket.assignee ? `${mention(ticket.assignee)}: ` : '';
  if (ticket.status === 'waiting') return `${owner}they answered. Carry on: \`/cockpit ticket status ${ticket.topicId} in-progress\``;
  if (ticket.status === 'resolved') return `${owner}it is resolved. Within 14 days, reopen it: \`/cockpit ticket status ${ticket.topicId} in-progress\``;
  return undefined;
}

/** `/cockpit ticket list`: the open tickets, oldest first, with their wait against their target. */
export function ticketListReply(views: TicketView[], topicUrl: (topicId: number) => string): Reply {
  if (views.length === 0) return { text: 'No open tickets', visibility: 'ephemeral', blocks: [section(':tada: No open tickets.')] };
  const late = views.filter((v) => v.late && !v.ticket.takenAt).length;
  const lines = views.map((v) => {
    const t = v.ticket;
    const owner = t.assignee ? mention(t.assignee) : 'nobody';
    return `${ICONS[t.status]} *<${topicUrl(t.topicId)}|${ticketRef(t.topicId)}>* ${escapeMrkdwn(truncate(t.title, 80))} · ${t.priority} · ${t.status} · ${t.level} · ${owner} · ${waited(v)}`;
  });
  const blocks: KnownBlock[] = [header(`Open tickets (${views.length})`)];
  // Slack's sections hold 3000 characters: the list goes in as many as it needs.
  let chunk: string[] = [];
  for (const line of lines) {
    if ([...chunk, line].join('\n').length > 2900) {
      blocks.push(section(chunk.join('\n')));
      chunk = [];
    }
    chunk.push(line);
  }
  if (chunk.length > 0) blocks.push(section(chunk.join('\n')));
  if (late > 0) blocks.push(context(`:warning: ${late} not taken within their target.`));
  return { text: `${views.length} open ticket(s)`, visibility: 'ephemeral', blocks: blocks.slice(0, BLOCKS_LIMIT) };
}

/** App Home: the person's open tickets, and how the queue stands. */
export function ticketHomeBlocks(view: { mine: TicketView[]; queue: TicketView[] }, topicUrl: (topicId: number) => string): KnownBlock[] {
  const late = view.queue.filter((v) => v.late).length;
  const blocks: KnownBlock[] = [{ type: 'divider' }, header('Support tickets')];
  const mine = view.mine.slice(0, 10).map((v) => `${ICONS[v.ticket.status]} *<${topicUrl(v.ticket.topicId)}|${ticketRef(v.ticket.topicId)}>* ${escapeMrkdwn(truncate(v.ticket.title, 80))} · ${v.ticket.status} · ${v.ticket.level}`);
  blocks.push(section(`*Yours*\n${mine.length > 0 ? mine.join('\n') : '_none_'}`));
  if (view.mine.length > mine.length) blocks.push(context(`${view.mine.length - mine.length} more: /cockpit ticket list`));
  const oldest = view.queue[0];
  blocks.push(
    context(
      view.queue.length === 0
        ? 'The queue is empty.'
        : `${view.queue.length} new in the queue${late > 0 ? `, ${late} past their target` : ''}; the oldest is ${ticketRef(oldest!.ticket.topicId)} (${waited(oldest!)}).`,
    ),
  );
  return blocks;
}

/** The short answer to whoever acted, when the ticket's message and thread show the change. */
export function doneReply(text: string, message?: { channel: string }): Reply {
  const where = message ? ` (in <#${message.channel}>)` : '';
  return { text, visibility: 'ephemeral', blocks: [section(`:white_check_mark: ${escapeMrkdwn(text)}${where}`)] };
}

/** The thread note for a ticket not taken in time. */
export function pagedNote(paged: Paged): string {
  const target = paged.ticket.dueAt;
  return paged.pageId ? `Not taken by ${time(target)}: L1 is paged.` : `Not taken by ${time(target)}; nobody was paged (${paged.skipped ?? 'no pager'}).`;
}

function quote(text: string): string {
  return escapeMrkdwn(text)
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
}
