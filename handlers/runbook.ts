import type { RunbookLibrary } from './ports';
import type { Runbook } from './model/runbooks';

/**
 * `/cockpit runbook [name]`: the written process, at hand in the channel where it is needed. A name that matches
 * nothing is not an error: the person gets the list, with the closest names first, because at 3 a.m. the next
 * thing they need is the right name, not a refusal.
 */

export type RunbookLookup =
  | { kind: 'list'; runbooks: Runbook[] }
  | { kind: 'found'; runbook: Runbook }
  | { kind: 'unknown'; requested: string; suggestions: Runbook[]; runbooks: Runbook[] };

/** Alert pages live in this folder; their bare name (`KubePodCrashLooping`) finds them too. */
export const ALERT_RUNBOOK_FOLDER = 'alerts';

const MAX_SUGGESTIONS = 3;

/** Process runbooks first, then each folder (alert pages), each group in name order. */
export function sortRunbooks(runbooks: readonly Runbook[]): Runbook[] {
  const folder = (r: Runbook) => (r.name.includes('/') ? r.name.slice(0, r.name.lastIndexOf('/')) : '');
  return [...runbooks].sort((a, b) => {
    const fa = folder(a);
    const fb = folder(b);
    if (fa !== fb) return fa === '' ? -1 : fb === '' ? 1 : fa.localeCompare(fb);
    return a.name.localeCompare(b.name, 'en', { sensitivity: 'base' });
  });
}

/** What people type: `On-Call`, `runbooks/on-call.md`, `alerts/kubepodcrashlooping`. */
export function normaliseRunbookName(raw: string): string {
  return raw
    .trim()
    .replace(/^\/+/, '')
    .replace(/^runbooks\//i, '')
    .replace(/\.md$/i, '')
    .toLowerCase();
}

const baseName = (name: string) => name.slice(name.lastIndexOf('/') + 1);

/** Exact name (any case), else a bare name that matches exactly one page in a folder. */
export function findRunbook(runbooks: readonly Runbook[], raw: string): Runbook | undefined {
  const wanted = normaliseRunbookName(raw);
  if (wanted === '') return undefined;
  const exact = runbooks.find((r) => r.name.toLowerCase() === wanted);
  if (exact) return exact;
  if (wanted.includes('/')) return undefined;
  const byBase = runbooks.filter((r) => baseName(r.name).toLowerCase() === wanted);
  return byBase.length === 1 ? byBase[0] : undefined;
}

/** Names that contain what was typed, or are a couple of typos away from it, closest first. */
export function suggestRunbooks(runbooks: readonly Runbook[], raw: string, max = MAX_SUGGESTIONS): Runbook[] {
  const wanted = normaliseRunbookName(raw);
  if (wanted === '') return [];
  const scored: Array<{ runbook: Runbook; score: number }> = [];
  for (const runbook of runbooks) {
    const name = runbook.name.toLowerCase();
    const base = baseName(name);
    const contains = name.includes(wanted) || (wanted.length >= 3 && base.startsWith(wanted));
    const distance = Math.min(editDistance(wanted, name), editDistance(wanted, base));
    // Allow more typos in longer names, but never so many that everything matches a short word.
    const tolerance = wanted.length <= 3 ? 1 : Math.max(2, Math.floor(wanted.length / 3));
    if (contains) scored.push({ runbook, score: 0 });
    else if (distance <= tolerance) scored.push({ runbook, score: distance });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.runbook.name.localeCompare(b.runbook.name))
    .slice(0, max)
    .map((s) => s.runbook);
}

/** Levenshtein distance; names are short, so the plain two-row version is enough. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}

export async function listRunbooks(library: RunbookLibrary): Promise<Runbook[]> {
  return sortRunbooks(await library.list());
}

/** The whole command: no name lists, a known name shows the page, anything else lists with suggestions. */
export async function lookUpRunbook(library: RunbookLibrary, name?: string): Promise<RunbookLookup> {
  const runbooks = await listRunbooks(library);
  if (name === undefined || name.trim() === '') return { kind: 'list', runbooks };
  const runbook = findRunbook(runbooks, name);
  if (runbook) return { kind: 'found', runbook };
  return { kind: 'unknown', requested: name.trim(), suggestions: suggestRunbooks(runbooks, name), runbooks };
}
