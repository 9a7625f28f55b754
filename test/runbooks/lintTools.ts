import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { outline } from '../../bot/integrations/runbooks';

/** The checks behind the runbooks lint, kept apart from the test so each can be shown to fail on bad input. */

export interface MermaidBlock {
  /** `file:line`, for the failure message. */
  id: string;
  text: string;
}

export type MermaidResult = { id: string; ok: true; type: string } | { id: string; ok: false; error: string };

const MERMAID_SCRIPT = join(__dirname, 'mermaidParse.mjs');

/** Parses every block with mermaid itself, in one child process. */
export function parseMermaid(blocks: MermaidBlock[]): MermaidResult[] {
  if (blocks.length === 0) return [];
  const run = spawnSync(process.execPath, [MERMAID_SCRIPT], {
    input: JSON.stringify(blocks),
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`mermaid parser exited with ${run.status ?? run.signal}:\n${run.stderr}`);
  return JSON.parse(run.stdout) as MermaidResult[];
}

/** Every file under `dir` whose name ends with `.md`, as absolute paths, sorted. */
export function markdownFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<{ name: string; parentPath: string; isFile(): boolean }>)
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

export function mermaidBlocks(files: string[], root: string): MermaidBlock[] {
  return files.flatMap((file) =>
    outline(readFileSync(file, 'utf8'))
      .fences.filter((f) => f.language === 'mermaid')
      .map((f) => ({ id: `${relative(root, file)}:${f.line}`, text: f.content })),
  );
}

/** The anchors a page offers: GitHub's heading slugs. */
function anchorsOf(file: string): Set<string> {
  return new Set(outline(readFileSync(file, 'utf8')).headings.map((h) => h.slug));
}

/**
 * Links inside `files` that go nowhere: a relative path to a missing file, or a `#anchor` that no heading of
 * the target page makes. Links to other sites are not fetched (no network in tests); a link out of the
 * repository is reported, since it cannot resolve where the pages are browsed.
 */
export function brokenLinks(files: string[], repositoryRoot: string): string[] {
  const problems: string[] = [];
  const anchors = new Map<string, Set<string>>();
  const anchorsFor = (file: string) => {
    let set = anchors.get(file);
    if (!set) {
      set = anchorsOf(file);
      anchors.set(file, set);
    }
    return set;
  };
  for (const file of files) {
    const where = relative(repositoryRoot, file);
    for (const link of outline(readFileSync(file, 'utf8')).links) {
      const href = link.href;
      if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.includes('{{')) continue;
      const [pathPart = '', anchor] = href.split('#', 2) as [string, string | undefined];
      const target = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
      if (!(target + sep).startsWith(repositoryRoot + sep) && target !== repositoryRoot) {
        problems.push(`${where}:${link.line}: "${href}" points outside the repository`);
        continue;
      }
      if (!existsSync(target)) {
        problems.push(`${where}:${link.line}: "${href}": no such file ${relative(repositoryRoot, target)}`);
        continue;
      }
      if (anchor !== undefined && anchor !== '') {
        if (!target.endsWith('.md') || statSync(target).isDirectory()) continue;
        if (!anchorsFor(target).has(decodeURIComponent(anchor))) {
          problems.push(`${where}:${link.line}: "${href}": ${relative(repositoryRoot, target)} has no heading #${anchor}`);
        }
      }
    }
  }
  return problems;
}
