import type { KnownBlock } from '@slack/types';
import type { RichText, Runbook, RunbookStep } from '../../../handlers/model/runbooks';
import type { RunbookLookup } from '../../../handlers/runbook';
import { BLOCKS_LIMIT, context, escapeMrkdwn, header, section, SECTION_TEXT_LIMIT, type Reply } from './reply';

/**
 * `/cockpit runbook`: the list, or one page as title, summary and numbered steps with a link to the whole
 * page. The link is a mrkdwn link, not a link button: Slack sends a block action for every button press,
 * and the only thing a press here could do is open the page, which the link already does.
 */

export const SEE_FULL_PAGE = '… see the full page';
/**
 * A runbook in chat is the short version; past this many characters, the page is the better read (and Slack
 * folds long messages behind "Show more" anyway).
 */
export const MESSAGE_TEXT_BUDGET = 12_000;

/** `*bold*`, `_italic_`, `` `code` ``, `<url|text>`, with Slack's three control characters escaped. */
export function toMrkdwn(text: RichText): string {
  return text
    .map((span) => {
      let out = span.code ? `\`${escapeMrkdwn(span.text).replace(/`/g, 'ˋ')}\`` : escapeMrkdwn(span.text);
      if (!span.code) {
        if (span.emphasis) out = wrapKeepingSpaces(out, '_');
        if (span.strong) out = wrapKeepingSpaces(out, '*');
      }
      // Slack links only web and mail addresses; a file:// page (no base URL configured) keeps its text.
      if (span.href && isLinkable(span.href)) out = `<${linkTarget(span.href)}|${out}>`;
      return out;
    })
    .join('');
}

/** Slack ignores `* bold*`: the markers must touch the words, so surrounding spaces move outside. */
function wrapKeepingSpaces(text: string, marker: string): string {
  const m = /^(\s*)([\s\S]*?)(\s*)$/.exec(text)!;
  return m[2] === '' ? text : `${m[1]}${marker}${m[2]}${marker}${m[3]}`;
}

const isLinkable = (url: string) => /^(?:https?|mailto):/i.test(url);

/** A URL cannot carry the characters that end a Slack link. */
function linkTarget(url: string): string {
  return url.replace(/\|/g, '%7C').replace(/>/g, '%3E').replace(/</g, '%3C').replace(/ /g, '%20');
}

export function stepMrkdwn(step: RunbookStep, index: number): string {
  const lines = [`${index + 1}. ${toMrkdwn(step.text)}`];
  for (const detail of step.details) lines.push(`      • ${toMrkdwn(detail)}`);
  for (const command of step.commands) lines.push(`\`\`\`${escapeMrkdwn(command).replace(/```/g, 'ˋˋˋ')}\`\`\``);
  return lines.join('\n');
}

/** Cuts at a line or word end, never inside a `<url|text>` link, and says there is more. */
export function truncateMrkdwn(text: string, limit: number, marker = SEE_FULL_PAGE): string {
  if (text.length <= limit) return text;
  const room = limit - marker.length - 1;
  let cut = text.slice(0, Math.max(0, room));
  const lastBreak = Math.max(cut.lastIndexOf('\n'), cut.lastIndexOf(' '));
  if (lastBreak > room / 2) cut = cut.slice(0, lastBreak);
  if (cut.lastIndexOf('<') > cut.lastIndexOf('>')) cut = cut.slice(0, cut.lastIndexOf('<'));
  // An odd number of ``` leaves a code block open, which would swallow the marker.
  if ((cut.match(/```/g) ?? []).length % 2 === 1) cut = cut.slice(0, cut.lastIndexOf('```'));
  return `${cut.trimEnd()}\n${marker}`;
}

/**
 * Packs whole entries into as few section texts as fit Slack's limit, in order. Stops (and marks the cut)
 * when `maxSections` or `budget` characters are used up.
 */
export function packIntoSections(entries: string[], maxSections: number, budget = Number.POSITIVE_INFINITY): string[] {
  const texts: string[] = [];
  let current = '';
  let used = 0;
  let cutShort = false;
  for (const entry of entries) {
    const piece = entry.length > SECTION_TEXT_LIMIT ? truncateMrkdwn(entry, SECTION_TEXT_LIMIT) : entry;
    if (used + piece.length > budget) {
      cutShort = true;
      break;
    }
    const joined = current === '' ? piece : `${current}\n${piece}`;
    if (joined.length <= SECTION_TEXT_LIMIT) {
      current = joined;
    } else {
      if (texts.length + 1 >= maxSections) {
        cutShort = true;
        break;
      }
      texts.push(current);
      current = piece;
    }
    used += piece.length;
  }
  if (current !== '') texts.push(current);
  if (cutShort && texts.length > 0) {
    const last = texts.length - 1;
    texts[last] = `${texts[last]}\n${SEE_FULL_PAGE}`.length <= SECTION_TEXT_LIMIT
      ? `${texts[last]}\n${SEE_FULL_PAGE}`
      : truncateMrkdwn(texts[last]!, SECTION_TEXT_LIMIT);
  }
  return texts;
}

const pageLink = (runbook: Runbook, label: string) =>
  isLinkable(runbook.url) ? `<${linkTarget(runbook.url)}|${escapeMrkdwn(label)}>` : `${escapeMrkdwn(label)}: ${escapeMrkdwn(runbook.url)}`;

/** One runbook: what it is for, then what to do. Posted in channel so everyone follows the same steps. */
export function runbookReply(runbook: Runbook): Reply {
  const blocks: KnownBlock[] = [header(runbook.title)];
  const summary = toMrkdwn(runbook.summary);
  if (summary !== '') blocks.push(section(truncateMrkdwn(summary, SECTION_TEXT_LIMIT)));
  const footer = context(`${pageLink(runbook, 'Read the full runbook')} · \`/cockpit runbook ${runbook.name}\``);
  if (runbook.steps.length === 0) {
    blocks.push(section(`This page has no numbered steps; ${pageLink(runbook, 'read it in full')}.`));
  } else {
    const room = BLOCKS_LIMIT - blocks.length - 1;
    const entries = ['*Steps*', ...runbook.steps.map(stepMrkdwn)];
    blocks.push(...packIntoSections(entries, room, MESSAGE_TEXT_BUDGET).map((text) => section(text)));
  }
  blocks.push(footer);
  return {
    text: `Runbook: ${runbook.title} — ${runbook.url}`,
    visibility: 'in_channel',
    blocks,
  };
}

const GROUP_TITLES: Record<string, string> = { '': 'Process', alerts: 'Alert pages' };

function groupOf(runbook: Runbook): string {
  const slash = runbook.name.lastIndexOf('/');
  return slash === -1 ? '' : runbook.name.slice(0, slash);
}

const listLine = (runbook: Runbook) => `• ${pageLink(runbook, runbook.name)} — ${escapeMrkdwn(runbook.title)}`;

function listBlocks(runbooks: Runbook[], room: number): KnownBlock[] {
  if (runbooks.length === 0) return [section('No runbooks yet: add Markdown pages to `runbooks/`.')];
  const groups = new Map<string, Runbook[]>();
  for (const r of runbooks) groups.set(groupOf(r), [...(groups.get(groupOf(r)) ?? []), r]);
  const entries: string[] = [];
  for (const [group, members] of groups) {
    entries.push(`*${escapeMrkdwn(GROUP_TITLES[group] ?? group)}*`);
    entries.push(...members.map(listLine));
  }
  return packIntoSections(entries, room, MESSAGE_TEXT_BUDGET).map((text) => section(text));
}

/** The answer to `/cockpit runbook [name]`, whichever way the lookup went. */
export function runbookLookupReply(lookup: RunbookLookup): Reply {
  if (lookup.kind === 'found') return runbookReply(lookup.runbook);
  const blocks: KnownBlock[] = [header('Runbooks')];
  let text = `Runbooks: ${lookup.runbooks.map((r) => r.name).join(', ')}`;
  if (lookup.kind === 'unknown') {
    const requested = escapeMrkdwn(lookup.requested);
    const suggestions = lookup.suggestions.map((r) => `\`${escapeMrkdwn(r.name)}\``);
    const didYouMean = suggestions.length > 0 ? ` Did you mean ${suggestions.join(', ')}?` : '';
    blocks.push(section(truncateMrkdwn(`:mag: No runbook named \`${requested}\`.${didYouMean}`, SECTION_TEXT_LIMIT)));
    text = `No runbook named "${lookup.requested}". ${text}`;
  }
  blocks.push(...listBlocks(lookup.runbooks, BLOCKS_LIMIT - blocks.length - 1));
  blocks.push(context('`/cockpit runbook <name>` shows one: its summary and steps.'));
  return { text: truncateMrkdwn(text, SECTION_TEXT_LIMIT, '…'), visibility: 'ephemeral', blocks };
}
