import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UnavailableError } from '../../../handlers/errors';
import { childEnvironment } from './environment';

/**
 * Installing a throwaway checkout's packages exactly as its lockfile pins them, as CI does. `pulumi install`
 * is not that: for Node it runs `npm install`, which resolves anew whatever package.json asks for that the
 * lockfile lacks (and rewrites the lockfile), so a pull request could bring in packages nobody reviewed in
 * the lockfile diff.
 */

/** The command that installs a Node program's packages from its lockfile, and where it runs. */
export interface LockedInstall {
  /** Where the lockfile is: the program's directory or a parent inside the repo (a workspace root). */
  dir: string;
  lockfile: string;
  command: string;
  args: string[];
}

/** Lockfiles in the order a directory holding several is read; each with its package manager's frozen install. */
const LOCKFILES: Array<{ file: string; command: string; args: (dir: string) => string[] }> = [
  { file: 'package-lock.json', command: 'npm', args: () => ['ci', '--no-audit', '--no-fund', '--loglevel=error'] },
  { file: 'npm-shrinkwrap.json', command: 'npm', args: () => ['ci', '--no-audit', '--no-fund', '--loglevel=error'] },
  { file: 'pnpm-lock.yaml', command: 'pnpm', args: () => ['install', '--frozen-lockfile'] },
  // Yarn 2+ (configured by .yarnrc.yml) spells it --immutable; Yarn 1 only knows --frozen-lockfile.
  { file: 'yarn.lock', command: 'yarn', args: (dir) => ['install', existsSync(join(dir, '.yarnrc.yml')) ? '--immutable' : '--frozen-lockfile'] },
  { file: 'bun.lock', command: 'bun', args: () => ['install', '--frozen-lockfile'] },
  { file: 'bun.lockb', command: 'bun', args: () => ['install', '--frozen-lockfile'] },
];

/** `dir` and its parents up to `root`, nearest first. */
function upTo(root: string, dir: string): string[] {
  const top = resolve(root);
  const dirs: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    const rel = relative(top, at);
    if (rel === '..' || rel.startsWith(`..${sep}`)) break;
    dirs.push(at);
    if (at === top) break;
  }
  return dirs;
}

/**
 * How to install the program in `<root>/<programDir>` from its lockfile; undefined when it has no package.json
 * in the repo (another language: `pulumi install` does, and those pin through their own files). Throws when a
 * package.json has no lockfile beside it or above it: there is nothing exact to install from.
 */
export function lockedInstall(root: string, programDir: string): LockedInstall | undefined {
  const dirs = upTo(root, join(root, programDir));
  const manifestAt = dirs.findIndex((d) => existsSync(join(d, 'package.json')));
  if (manifestAt === -1) return undefined;
  for (const dir of dirs.slice(manifestAt)) {
    const found = LOCKFILES.find((l) => existsSync(join(dir, l.file)));
    if (found) return { dir, lockfile: relative(root, join(dir, found.file)), command: found.command, args: found.args(dir) };
  }
  throw new UnavailableError(
    `The infra program's package.json (${relative(root, join(dirs[manifestAt]!, 'package.json'))}) has no lockfile.`,
    'Commit package-lock.json (or pnpm-lock.yaml, yarn.lock, bun.lock): previews install exactly what it pins.',
  );
}

/** Lines of a package manager's stderr that say nothing about this failure. */
const NOISE = /^(Run "npm help|A complete log of this run|code E[A-Z0-9_]+$|info Visit https:)/;

/** The package manager's own first few words on why it failed, without its prefixes and pointers to logs. */
function installFailureText(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\s*(npm (error|ERR!)|error|ERR_PNPM_\w+)\s*/, '').trim())
    .filter((l) => l !== '' && !NOISE.test(l));
  const text = lines.slice(0, 3).join('\n');
  return text === '' ? undefined : text.slice(0, 600);
}

/** Runs a `LockedInstall`; rejects with UnavailableError saying what failed. */
export type PackageInstaller = (install: LockedInstall, opts?: { signal?: AbortSignal }) => Promise<void>;

/** The real installer: the package manager on PATH, with only the variables an install needs (no cloud credentials). */
export function execInstaller(options: { env: NodeJS.ProcessEnv; extraEnvNames?: readonly string[]; timeoutMs?: number }): PackageInstaller {
  return (install, opts = {}) =>
    new Promise((resolvePromise, reject) => {
      execFile(
        install.command,
        install.args,
        {
          cwd: install.dir,
          env: childEnvironment(options.env, 'install', options.extraEnvNames),
          signal: opts.signal,
          timeout: options.timeoutMs ?? 15 * 60_000,
          maxBuffer: 16 * 1024 * 1024,
        },
        (err, _stdout, stderr) => {
          if (!err) return resolvePromise();
          if (opts.signal?.aborted) return reject(err);
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            return reject(new UnavailableError(`${install.command} is not installed on this host`, `The infra repo's ${install.lockfile} needs it.`));
          }
          reject(new UnavailableError(`Installing the infra program's packages from ${install.lockfile} failed.`, installFailureText(String(stderr))));
        },
      );
    });
}
