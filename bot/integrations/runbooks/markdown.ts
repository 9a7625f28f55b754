import MarkdownIt from 'markdown-it';
import type { RichText, Runbook, RunbookStep, TextSpan } from '../../../handlers/model/runbooks';

/**
 * Runbook Markdown → the parsed shape the bot shows. markdown-it does the parsing (CommonMark plus GFM tables),
 * so links inside code, lists nested in lists and the like are read the way GitHub renders them, not the way a
 * regular expression guesses.
 */

type Token = MarkdownIt.Token;

// HTML is allowed so an HTML comment stays a comment instead of turning into visible text.
const markdown = new MarkdownIt({ html: true });

/** Section titles that hold the steps a person follows; the first one found wins. */
export const STEPS_HEADING = /^(?:steps|procedure|what to do)\b/i;

export function tokenize(text: string): Token[] {
  return markdown.parse(text, {});
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes (github-slugger's rule). */
export function githubSlug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Plain text of an inline token, the way GitHub reads a heading for its anchor. */
export function plainText(inline: Token | undefined): string {
  if (!inline?.children) return inline?.content ?? '';
  return inline.children
    .map((t) => (t.type === 'text' || t.type === 'code_inline' ? t.content : t.type === 'softbreak' || t.type === 'hardbreak' ? ' ' : t.type === 'image' ? plainText(t) : ''))
    .join('');
}

export interface Heading {
  level: number;
  text: string;
  /** Unique within the page, as GitHub numbers repeats: `steps`, `steps-1`. */
  slug: string;
  line: number;
}

export interface Link {
  href: string;
  line: number;
}

export interface Fence {
  /** The word after the opening fence: `mermaid`, `sh`, ''. */
  language: string;
  content: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** What the lint needs from a page: its headings, links and fenced blocks. */
export interface Outline {
  headings: Heading[];
  links: Link[];
  fences: Fence[];
}

export function outline(text: string): Outline {
  const tokens = tokenize(text);
  const headings: Heading[] = [];
  const links: Link[] = [];
  const fences: Fence[] = [];
  const seen = new Map<string, number>();
  // Table cells carry no line of their own: they take the line of the row around them.
  let line = 1;
  tokens.forEach((token, i) => {
    if (token.map) line = token.map[0] + 1;
    if (token.type === 'heading_open') {
      const headingText = plainText(tokens[i + 1]).trim();
      const base = githubSlug(headingText);
      const repeats = seen.get(base) ?? 0;
      seen.set(base, repeats + 1);
      headings.push({ level: Number(token.tag.slice(1)), text: headingText, slug: repeats === 0 ? base : `${base}-${repeats}`, line });
    } else if (token.type === 'fence') {
      fences.push({ language: token.info.trim().split(/\s+/)[0] ?? '', content: token.content, line });
    } else if (token.type === 'inline') {
      // The inline token knows only where its paragraph starts; count line breaks to place each link.
      let childLine = line;
      for (const child of token.children ?? []) {
        if (child.type === 'softbreak' || child.type === 'hardbreak') childLine++;
        const href = child.type === 'link_open' ? child.attrGet('href') : undefined;
        if (typeof href === 'string') links.push({ href, line: childLine });
      }
    }
  });
  return { headings, links, fences };
}

/** An absolute URL for a link written relative to the page, so it still works when shown in Slack. */
export function resolveHref(href: string, pageUrl: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href)) return href;
  try {
    return new URL(href, pageUrl).toString();
  } catch {
    return href;
  }
}

function richText(inline: Token | undefined, pageUrl: string): RichText {
  const spans: TextSpan[] = [];
  let strong = 0;
  let emphasis = 0;
  let href: string | undefined;
  const push = (text: string, code = false) => {
    if (text === '') return;
    const span: TextSpan = { text };
    if (code) span.code = true;
    if (strong > 0) span.strong = true;
    if (emphasis > 0) span.emphasis = true;
    if (href !== undefined) span.href = href;
    const last = spans[spans.length - 1];
    const sameStyle =
      last && !code && !last.code && last.strong === span.strong && last.emphasis === span.emphasis && last.href === span.href;
    if (sameStyle) last.text += text;
    else spans.push(span);
  };
  for (const child of inline?.children ?? []) {
    switch (child.type) {
      case 'text':
        push(child.content);
        break;
      case 'code_inline':
        push(child.content, true);
        break;
      case 'softbreak':
        push(' ');
        break;
      case 'hardbreak':
        push('\n');
        break;
      case 'strong_open':
        strong++;
        break;
      case 'strong_close':
        strong--;
        break;
      case 'em_open':
        emphasis++;
        break;
      case 'em_close':
        emphasis--;
        break;
      case 'link_open': {
        const target = child.attrGet('href');
        href = typeof target === 'string' ? resolveHref(target, pageUrl) : undefined;
        break;
      }
      case 'link_close':
        href = undefined;
        break;
      case 'image':
        push(plainText(child));
        break;
      default:
        // html_inline, strikethrough marks: nothing a chat message can show faithfully.
        break;
    }
  }
  return spans;
}

/** Index of the token that closes the block opened at `open`. */
function closing(tokens: Token[], open: number): number {
  const opener = tokens[open]!;
  for (let i = open + 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.level === opener.level && t.nesting === -1) return i;
  }
  return tokens.length - 1;
}

/** The first inline of the first paragraph directly inside the block [from, to). */
function firstParagraphInline(tokens: Token[], from: number, to: number, level: number): Token | undefined {
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    if (t.type === 'paragraph_open' && t.level === level) return tokens[i + 1];
  }
  return undefined;
}

function stepsOf(tokens: Token[], listOpen: number, pageUrl: string): RunbookStep[] {
  const list = tokens[listOpen]!;
  const listEnd = closing(tokens, listOpen);
  const steps: RunbookStep[] = [];
  for (let i = listOpen + 1; i < listEnd; i++) {
    const item = tokens[i]!;
    if (item.type !== 'list_item_open' || item.level !== list.level + 1) continue;
    const itemEnd = closing(tokens, i);
    const step: RunbookStep = { text: richText(firstParagraphInline(tokens, i + 1, itemEnd, item.level + 1), pageUrl), details: [], commands: [] };
    for (let j = i + 1; j < itemEnd; j++) {
      const inner = tokens[j]!;
      if (inner.level !== item.level + 1) continue;
      if (inner.type === 'fence' || inner.type === 'code_block') step.commands.push(inner.content.replace(/\n$/, ''));
      if (inner.type === 'bullet_list_open' || inner.type === 'ordered_list_open') {
        const nestedEnd = closing(tokens, j);
        for (let k = j + 1; k < nestedEnd; k++) {
          const nestedItem = tokens[k]!;
          if (nestedItem.type !== 'list_item_open' || nestedItem.level !== inner.level + 1) continue;
          step.details.push(richText(firstParagraphInline(tokens, k + 1, closing(tokens, k), nestedItem.level + 1), pageUrl));
        }
        j = nestedEnd;
      }
    }
    steps.push(step);
    i = itemEnd;
  }
  return steps;
}

function findStepsList(tokens: Token[]): number | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'heading_open' || !STEPS_HEADING.test(plainText(tokens[i + 1]).trim())) continue;
    const sectionLevel = Number(t.tag.slice(1));
    for (let j = i + 3; j < tokens.length; j++) {
      const u = tokens[j]!;
      if (u.type === 'heading_open' && Number(u.tag.slice(1)) <= sectionLevel) break;
      if (u.type === 'ordered_list_open') return j;
    }
  }
  const first = tokens.findIndex((t) => t.type === 'ordered_list_open');
  return first === -1 ? undefined : first;
}

/** Parses one runbook page. Never throws: a page missing a part gets an empty part, and the lint says so. */
export function parseRunbook(text: string, page: { name: string; url: string }): Runbook {
  const tokens = tokenize(text);
  const titleAt = tokens.findIndex((t) => t.type === 'heading_open' && t.tag === 'h1');
  const title = titleAt === -1 ? page.name : plainText(tokens[titleAt + 1]).trim() || page.name;

  let summary: RichText = [];
  for (let i = titleAt + 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === 'heading_open') break;
    if (t.type === 'paragraph_open' && t.level === 0) {
      summary = richText(tokens[i + 1], page.url);
      break;
    }
  }

  const stepsAt = findStepsList(tokens);
  return {
    name: page.name,
    title,
    summary,
    steps: stepsAt === undefined ? [] : stepsOf(tokens, stepsAt, page.url),
    url: page.url,
  };
}
