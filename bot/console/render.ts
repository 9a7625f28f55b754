import type { KnownBlock } from '@slack/types';
import iamcalShortcodes from 'emojibase-data/en/shortcodes/iamcal.json';
import type { Reply } from '../slack/blocks/reply';

/**
 * Renders Block Kit as terminal text, so the console shows exactly what Slack would: sections, fields and
 * context as lines, buttons as numbered choices a person picks by typing the number.
 */

export interface Choice {
  label: string;
  actionId: string;
  value: string;
}

export interface RenderedReply {
  text: string;
  choices: Choice[];
}

/**
 * Slack's shortcodes are iamcal's emoji-data names (`:octagonal_sign:`, `:large_green_circle:`), which other
 * sets name differently; emojibase keeps that exact set. Keyed by codepoints (`1F6D1`, `0023-FE0F-20E3`).
 */
const SLACK_EMOJI: ReadonlyMap<string, string> = new Map(
  Object.entries(iamcalShortcodes as Record<string, string | string[]>).flatMap(([hex, names]) => {
    const emoji = String.fromCodePoint(...hex.split('-').map((h) => parseInt(h, 16)));
    return (Array.isArray(names) ? names : [names]).map((name) => [name, emoji] as const);
  }),
);

/** `:name:` as its emoji; a name Slack would not know (a workspace's custom emoji) stays as typed. */
export function emojify(text: string): string {
  return text.replace(/:([a-z0-9_+-]+):/g, (m, name: string) => SLACK_EMOJI.get(name) ?? m);
}

/** Slack mrkdwn → plain text: links as "label (url)", mentions by name, emoji drawn, entities unescaped. */
export function mrkdwnToText(text: string, nameOf: (userId: string) => string = (id) => id): string {
  return emojify(text)
    .replace(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g, (_m, id: string) => `@${nameOf(id)}`)
    .replace(/<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `#${name ?? id}`)
    .replace(/<(https?:\/\/[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:\/\/[^>]+)>/g, '$1')
    .replace(/```/g, '')
    .replace(/`([^`\n]+)`/g, '$1')
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, '$1$2')
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, '$1$2')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export function renderReply(reply: Reply, nameOf?: (userId: string) => string): RenderedReply {
  return renderBlocks(reply.blocks, nameOf, reply.text);
}

export function renderBlocks(blocks: KnownBlock[], nameOf?: (userId: string) => string, fallback = ''): RenderedReply {
  const lines: string[] = [];
  const choices: Choice[] = [];
  const text = (t: string) => mrkdwnToText(t, nameOf);
  const addButton = (el: { type: string; text?: { text: string }; action_id?: string; value?: string }) => {
    if (el.type !== 'button' || !el.action_id) return;
    choices.push({ label: el.text?.text ?? el.action_id, actionId: el.action_id, value: el.value ?? '' });
  };
  for (const block of blocks) {
    switch (block.type) {
      case 'header':
        lines.push(block.text.text, '='.repeat(Math.min(block.text.text.length, 60)));
        break;
      case 'section':
        if (block.text) lines.push(text(block.text.text));
        for (const f of block.fields ?? []) lines.push(text(f.text).replace('\n', ': '));
        if (block.accessory) addButton(block.accessory as Parameters<typeof addButton>[0]);
        break;
      case 'context':
        lines.push(
          block.elements
            .map((e) => ('text' in e ? text(e.text) : ''))
            .filter(Boolean)
            .join('  ·  '),
        );
        break;
      case 'divider':
        lines.push('─'.repeat(40));
        break;
      case 'actions':
        for (const el of block.elements) addButton(el as Parameters<typeof addButton>[0]);
        break;
      default:
        break;
    }
  }
  if (choices.length > 0) lines.push(choices.map((c, i) => `[${i + 1}] ${c.label}`).join('   '));
  return { text: lines.length > 0 ? lines.join('\n') : text(fallback), choices };
}
