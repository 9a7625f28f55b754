import type { ActionsBlock, Button, ContextBlock, HeaderBlock, KnownBlock, SectionBlock } from '@slack/types';

/**
 * A message as every front sees it: Block Kit blocks plus the plain `text` Slack uses for notifications and
 * screen readers. The console renders the same blocks as text, so builders here never know the front.
 */
export interface Reply {
  text: string;
  blocks: KnownBlock[];
  /** Ephemeral: only the asker sees it (errors, help). In channel: the team sees it (deploys, incidents). */
  visibility: 'ephemeral' | 'in_channel';
}

/** Slack refuses a section text over 3000 characters; cut with a marker a person notices. */
export const SECTION_TEXT_LIMIT = 3000;
export const BLOCKS_LIMIT = 50;

export function truncate(text: string, limit = SECTION_TEXT_LIMIT, marker = '…'): string {
  return text.length <= limit ? text : `${text.slice(0, limit - marker.length)}${marker}`;
}

export const header = (text: string): HeaderBlock => ({ type: 'header', text: { type: 'plain_text', text: truncate(text, 150), emoji: true } });

export const section = (markdown: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text: truncate(markdown) } });

export const fields = (pairs: Array<[string, string]>): SectionBlock => ({
  type: 'section',
  // Slack allows at most 10 fields of 2000 characters each.
  fields: pairs.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: truncate(`*${k}*\n${v}`, 2000) })),
});

export const context = (...markdown: string[]): ContextBlock => ({
  type: 'context',
  elements: markdown.slice(0, 10).map((m) => ({ type: 'mrkdwn', text: truncate(m, 2000) })),
});

export const button = (
  text: string,
  actionId: string,
  value: string,
  style?: 'primary' | 'danger',
): Button => ({ type: 'button', text: { type: 'plain_text', text, emoji: true }, action_id: actionId, value, ...(style ? { style } : {}) });

export const actions = (blockId: string, ...elements: Button[]): ActionsBlock => ({ type: 'actions', block_id: blockId, elements });

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The domain formats durations for customer posts too: one way to write one, shared. */
export { formatDuration } from '../../../handlers/duration';

export const mention = (userId: string): string => (/^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : userId);
