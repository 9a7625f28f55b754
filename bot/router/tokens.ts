/**
 * Small parsing helpers shared by the verb grammars. Slack sends mentions as `<@U123|name>` when the slash
 * command escapes users; people typing in the console write `U123` or the same escaped form.
 */

export const MAX_INPUT_LENGTH = 1000;

/**
 * Characters that show nothing but glue to a word ("staging\u200b" is not "staging"): zero-width spaces and
 * joiners, word joiners, the BOM, soft hyphens, direction marks and embeddings a paste or a phone leaves in.
 */
const INVISIBLE = /[\u00AD\u180E\u200B\u200C\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
/** A zero-width joiner builds emoji (👩‍💻): kept between two non-ASCII characters, dropped anywhere else. */
const STRAY_JOINER = /(?<!\P{ASCII})\u200D|\u200D(?!\P{ASCII})/gu;
/** No-break and typographic spaces split words like a space. */
const ODD_SPACES = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;

/** What a person meant to type: invisible characters gone, odd spaces made spaces, composed characters composed. */
export function normalizeTyped(text: string): string {
  return text.normalize('NFC').replace(INVISIBLE, '').replace(STRAY_JOINER, '').replace(ODD_SPACES, ' ');
}

/** Hyphens and dashes other than "-": phones and macOS turn "--preview" into "—preview" (or "–preview"). */
const DASHES = '\u2010-\u2015\u2212\uFE58\uFE63\uFF0D';
const DASHED_OPTION = new RegExp(`^(?=[-${DASHES}]*[${DASHES}])[-${DASHES}]+(?=[A-Za-z][A-Za-z-]*$)`);

/** `—preview`, `–ttl`, `‐‐override-freeze` → `--preview`, …; any other word is left as it was typed. */
function asOption(word: string): string {
  return word.replace(DASHED_OPTION, '--');
}

/**
 * Splits on spaces; a phrase in double or single quotes stays one token. Undefined when a quote is left open.
 * An unquoted word shaped like an option with typographic dashes becomes the option.
 */
export function tokenize(text: string): string[] | undefined {
  const tokens: string[] = [];
  let current = '';
  // Phones and macOS turn straight quotes into curly ones; either closes a curly-opened phrase.
  let quote: '"' | "'" | '“' | undefined;
  let quoted = false;
  let inToken = false;
  const end = () => {
    tokens.push(quoted ? current : asOption(current));
    current = '';
    quoted = false;
    inToken = false;
  };
  for (const ch of text) {
    if (quote) {
      if (ch === quote || (quote === '“' && (ch === '”' || ch === '"'))) quote = undefined;
      else current += ch;
    } else if (!inToken && (ch === '"' || ch === "'" || ch === '“' || ch === '”')) {
      // Only a quote that starts a word opens a phrase: "can't" is one word, not an open quote.
      quote = ch === '”' ? '“' : ch;
      quoted = true;
      inToken = true;
    } else if (/\s/.test(ch)) {
      if (inToken) end();
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (quote) return undefined;
  if (inToken) end();
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
