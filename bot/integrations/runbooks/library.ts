import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UnavailableError } from '../../../handlers/errors';
import type { MessageTemplateSource, RunbookLibrary } from '../../../handlers/ports';
import type { Runbook } from '../../../handlers/model/runbooks';
import { parseRunbook } from './markdown';

/**
 * The runbooks folder of the checkout Cockpit runs from. Pages change by pull request and Cockpit is redeployed
 * to pick them up, so each is read once and kept; a failed read is not kept, so the next call tries again.
 */

export const DEFAULT_RUNBOOKS_DIR = 'runbooks';
/** Message templates live beside the runbooks but are not runbooks. */
export const TEMPLATES_FOLDER = 'templates';

export interface RunbookFolderOptions {
  /** The runbooks folder, e.g. `runbooks` relative to the working directory. */
  dir: string;
  /**
   * Where people read the pages: the folder's URL on the code host, e.g.
   * `https://github.com/acme/platform/blob/master/runbooks/`. Without it links point at the files on disk,
   * which the console can open and Slack cannot.
   */
  baseUrl?: string;
}

/** `on-call` → its URL under the base, or a file:// URL when there is no base. */
export function runbookUrl(name: string, options: RunbookFolderOptions): string {
  const file = `${name}.md`;
  if (options.baseUrl) {
    const base = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
    return new URL(file.split('/').map(encodeURIComponent).join('/'), base).toString();
  }
  return pathToFileURL(join(options.dir, file)).toString();
}

/** Markdown files under `dir`, as names (`alerts/X`), without templates and README files. */
export async function runbookNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.md') && e.name.toLowerCase() !== 'readme.md')
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/').replace(/\.md$/i, ''))
    .filter((name) => !name.startsWith(`${TEMPLATES_FOLDER}/`))
    .sort();
}

export class FileRunbookLibrary implements RunbookLibrary {
  private loaded?: Promise<Runbook[]>;

  constructor(private readonly options: RunbookFolderOptions) {}

  list(): Promise<Runbook[]> {
    if (!this.loaded) {
      this.loaded = this.load();
      this.loaded.catch(() => {
        this.loaded = undefined;
      });
    }
    return this.loaded;
  }

  private async load(): Promise<Runbook[]> {
    let names: string[];
    try {
      names = await runbookNames(this.options.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // A deployment without the folder is a setup mistake a person can fix, not a crash to dig out of the logs.
      throw new UnavailableError(`There is no runbooks folder at ${this.options.dir}.`, 'Cockpit reads the runbooks from the checkout it runs in (runbooks/ by default).');
    }
    return Promise.all(
      names.map(async (name) => {
        const text = await readFile(join(this.options.dir, `${name}.md`), 'utf8');
        return parseRunbook(text, { name, url: runbookUrl(name, this.options) });
      }),
    );
  }
}

const TEMPLATE_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

export class FileMessageTemplateSource implements MessageTemplateSource {
  private readonly cache = new Map<string, Promise<string | undefined>>();

  constructor(private readonly options: Pick<RunbookFolderOptions, 'dir'>) {}

  get(name: string): Promise<string | undefined> {
    // The name becomes a path: anything but a plain file stem (`../x`, `a/b`) is simply not a template.
    if (!TEMPLATE_NAME.test(name)) return Promise.resolve(undefined);
    let text = this.cache.get(name);
    if (!text) {
      text = readTemplate(join(this.options.dir, TEMPLATES_FOLDER, `${name}.md`));
      this.cache.set(name, text);
      text.catch(() => this.cache.delete(name));
    }
    return text;
  }
}

async function readTemplate(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
