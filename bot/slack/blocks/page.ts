import type { ActionsBlock, KnownBlock } from '@slack/types';
import type { Page, PageNotification } from '../../../handlers/model/oncall';
import { ACTIONS } from '../ids';
import { actions, button, context, escapeMrkdwn, formatDuration, mention, section, type Reply } from './reply';

/**
 * A page as people see it: one message in its channel and a DM to each person paged, all edited as the page
 * moves (acknowledged by whom and when, escalated, resolved). The buttons carry the page id.
 */

const targetText = (page: Page) => (page.target.kind === 'level' ? page.target.level : mention(page.target.userId));

export function pageStateLine(page: Page, now: Date): string {
  switch (page.status) {
    case 'triggered': {
      const due = page.nextAt ? ` · next step in ${formatDuration(page.nextAt.getTime() - now.getTime())}` : page.everyone ? ' · everyone was asked: phone the on-call people' : '';
      return `:hourglass_flowing_sand: Waiting for an acknowledgement (${formatDuration(now.getTime() - page.createdAt.getTime())})${due}`;
    }
    case 'acknowledged':
      return `:eyes: Acknowledged by ${mention(page.acknowledgedBy ?? '?')} at ${time(page.acknowledgedAt)} UTC, after ${formatDuration((page.acknowledgedAt?.getTime() ?? 0) - page.createdAt.getTime())}`;
    case 'resolved':
      return `:white_check_mark: Resolved by ${page.resolvedBy && /^[UW]/.test(page.resolvedBy) ? mention(page.resolvedBy) : (page.resolvedBy ?? '?')} at ${time(page.resolvedAt)} UTC${page.acknowledgedBy ? `; acknowledged by ${mention(page.acknowledgedBy)}` : ''}`;
  }
}

const time = (d?: Date) => (d ? d.toISOString().slice(11, 16) : '?');

export function pageActions(page: Page): ActionsBlock | undefined {
  if (page.status === 'resolved') return undefined;
  const buttons = [
    ...(page.status === 'triggered' ? [button('Acknowledge', ACTIONS.pageAcknowledge, page.id, 'primary')] : []),
    button('Escalate', ACTIONS.pageEscalate, page.id),
    button('Resolve', ACTIONS.pageResolve, page.id),
  ];
  return actions(`page_${page.id}`, ...buttons);
}

const REASON: Record<PageNotification['reason'], string> = {
  raised: 'You are paged',
  escalated: 'Escalated to you',
  repeat: 'Still not acknowledged',
  reminder: 'Still open, and yours',
  everyone: 'Nobody acknowledged this page',
  changed: 'Page',
};

/** The page's message: in its channel (`reason` absent), a DM, or the `@here` call to everyone. */
export function pageReply(page: Page, now: Date, reason?: PageNotification['reason']): Reply {
  const lead = reason === 'everyone' ? '<!here> Nobody acknowledged this page: anyone who sees it acts as L1.' : reason && reason !== 'raised' && reason !== 'changed' ? `${REASON[reason]}.` : '';
  const blocks: KnownBlock[] = [
    section(`:pager: *Page for ${targetText(page)}* ${lead}\n${escapeMrkdwn(page.summary)}`),
    context(pageStateLine(page, now)),
  ];
  if (page.responders.length > 0) blocks.push(context(`Paged: ${page.responders.map(mention).join(', ')}${page.everyone ? ' · and everyone' : ''} · ${page.id} · raised by ${/^[UW]/.test(page.raisedBy) ? mention(page.raisedBy) : page.raisedBy}`));
  else blocks.push(context(`Nobody is on call to page${page.everyone ? ' · everyone was asked' : ''} · ${page.id}`));
  const buttons = pageActions(page);
  if (buttons) blocks.push(buttons);
  const status = page.status === 'triggered' ? 'PAGE' : page.status === 'acknowledged' ? 'Acknowledged' : 'Resolved';
  return { text: `${reason === 'everyone' ? '@here ' : ''}${status}: ${escapeMrkdwn(page.summary)}`, visibility: 'in_channel', blocks };
}

export function pageRaisedReply(page: Page, created: boolean): Reply {
  return {
    text: created ? `Paged ${page.target.kind === 'level' ? page.target.level : page.target.userId}` : 'Already paged',
    visibility: 'ephemeral',
    blocks: [section(created ? `:pager: Paged ${targetText(page)} (${page.id}). It escalates until someone acknowledges.` : `This is already paged: ${page.id} (${page.status}).`)],
  };
}

export function pageDoneReply(page: Page, what: 'acknowledged' | 'escalated' | 'resolved', already: boolean, now: Date): Reply {
  return {
    text: already ? `Already ${what}` : `Page ${what}`,
    visibility: 'ephemeral',
    blocks: [section(already ? `You ${what} ${page.id} already.` : `:ok_hand: ${page.id} ${what}.`), context(pageStateLine(page, now))],
  };
}
