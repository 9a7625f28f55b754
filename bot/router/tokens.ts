/**
 * Small parsing helpers shared by the verb grammars. Slack sends mentions as `<@U123|name>` when the slash
 * command escapes users; people typing in the console write `U123` or the same escaped form.
 */

export const MAX_INPUT_LENGTH = 1000;

/** Splits on spaces; a phrase in double or single quotes stays one token. Undefined when a quote is left open. */
export function tokenize(text: string): string[] | undefined {
  const tokens: string[] = [];
  let current = '';
  // Phones and macOS turn straight quotes into curly ones; either closes a curly-opened phrase.
  let quote: '"' | "'" | '“' | undefined;
  let inToken = false;
  for (const ch of text) {
    if (quote) {
      if (ch === quote || (quote === '“' && (ch === '”' || ch === '"'))) quote = undefined;
      else current += ch;
    } else if (!inToken && (ch === '"' || ch === "'" || ch === '“' || ch === '”')) {
      // Only a quote that starts a word opens a phrase: "can't" is one word, not an open quote.
      quote = ch === '”' ? '“' : ch;
      inToken = true;
    } else if (/\s/.test(ch)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (quote) return undefined;
  if (inToken) tokens.push(current);
  return tokens;
}

/** `<@U123|alice>`, `<@U123>` or `U123` → `U123`. */
export function parseUserMention(token: string): string | undefined {
  const m = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(token) ?? /^([UW][A-Z0-9]{2,})$/.exec(token);
  return m?.[1];
}

/** `30m`, `4h`, `2d`, `1h30m` → minutes; undefined when malformed or zero. */
export function parseDurationMinutes(token: string): number | undefined {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/i.exec(token);
  if (!m || token === '') return undefined;
  const minutes = Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  return minutes > 0 ? minutes : undefined;
}

/** Text a person typed may carry control characters from a paste or a binary file; we refuse those. */
export function hasControlCharacters(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFD]/.test(text);
}
