import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger, StackTarget } from '../../../handlers/ports';
import { ConflictError, InputError, NotFoundError, UnavailableError } from '../../../handlers/errors';
import { childEnvironment } from './environment';

/**
 * Where the Pulumi program comes from: a clone of the infra repo per stack, checked out at the stack's branch
 * (production), or a local directory used as is (development).
 */

export interface ProgramCheckout {
  /** The repository root; the program lives in `<root>/<programDir>`. */
  root: string;
  /** The commit checked out; absent for a local directory. */
  revision?: string;
  /** Set when the program's dependency manifests changed since the last install here; absent when managed by hand. */
  staleDependencies?: { record(): Promise<void> };
}

export interface ProgramSource {
  prepare(target: StackTarget, opts?: { revision?: string; signal?: AbortSignal }): Promise<ProgramCheckout>;
}

/** Runs `git <args>` and resolves with its stdout; rejects with `GitCommandError`. `env` adds to git's environment. */
export type GitRunner = (args: string[], options?: { cwd?: string; signal?: AbortSignal; env?: Record<string, string> }) => Promise<string>;

export class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    /** Exit status; undefined when git did not run (see `missing`) or was killed. */
    readonly exitCode: number | undefined,
    readonly stderr: string,
    /** The git binary is not installed (ENOENT). */
    readonly missing: boolean,
  ) {
    super(missing ? 'git is not installed' : `git ${args[0] ?? ''} failed: ${stderr.trim().split('\n').pop() ?? ''}`);
    this.name = 'GitCommandError';
  }
}

/**
 * `git` through `execFile`: no shell, so branch names and URLs are arguments, never code. Git sees only the
 * variables `childEnvironment(env, 'git', extraEnvNames)` lets through (its own GIT_*, ssh agent, proxies).
 */
export function execGit(
  options: { binary?: string; env?: NodeJS.ProcessEnv; extraEnvNames?: readonly string[]; timeoutMs?: number } = {},
): GitRunner {
  const env = {
    ...childEnvironment(options.env ?? process.env, 'git', options.extraEnvNames),
    // A credential prompt would hang a bot forever; fail instead. Plain C messages are the ones we match.
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
  };
  return (args, runOptions = {}) =>
    new Promise((resolve, reject) => {
      execFile(
        options.binary ?? 'git',
        args,
        {
          cwd: runOptions.cwd,
          env: { ...env, ...runOptions.env },
          signal: runOptions.signal,
          timeout: options.timeoutMs ?? 10 * 60_000,
          maxBuffer: 16 * 1024 * 1024,
        },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const errno = (err as NodeJS.ErrnoException).code;
          const exitCode = typeof err.code === 'number' ? err.code : undefined;
          reject(new GitCommandError(args, exitCode, String(stderr || err.message), errno === 'ENOENT'));
        },
      );
    });
}

const GIT_MISSING_HINT = 'Install git on the host that runs Cockpit (e.g. `apt-get install git`); it checks out the infra repo.';

/** Untracked paths kept between runs: reinstalling the program's packages on every deploy costs minutes. */
const KEPT_BETWEEN_RUNS = ['node_modules/'];

/** Files whose change means the program's dependencies must be installed again. */
const DEPENDENCY_MANIFESTS = [
  'Pulumi.yaml',
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'bun.lockb',
  'requirements.txt',
  'go.sum',
];

const STACK_DIR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const REVISION = /^[0-9a-f]{7,64}$/i;

/** The URL with any credentials in it replaced, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '[redacted]';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

function scrub(text: string, url: string): string {
  let out = text;
  try {
    const { username, password } = new URL(url);
    for (const secret of [password, username]) if (secret) out = out.split(secret).join('[redacted]');
  } catch {
    // not a URL with credentials (a path, or scp-like `git@host:repo`)
  }
  return out;
}

/** One clone per stack under `workDir`, reset to the branch tip (or a pinned commit) before every run. */
export class GitCheckout implements ProgramSource {
  constructor(
    private readonly options: { url: string; workDir: string; programDir: string; git: GitRunner; log: Logger },
  ) {
    if (options.url.startsWith('-')) throw new InputError('the infra repo URL must not start with "-"');
  }

  async prepare(target: StackTarget, opts: { revision?: string; signal?: AbortSignal } = {}): Promise<ProgramCheckout> {
    if (!STACK_DIR_NAME.test(target.stack)) throw new InputError(`"${target.stack}" cannot name a checkout directory`);
    await this.assertBranchName(target.branch);
    if (opts.revision !== undefined && !REVISION.test(opts.revision)) {
      throw new InputError(`"${opts.revision}" is not a commit id`);
    }
    const dir = join(this.options.workDir, target.stack);
    const run = (args: string[]) => this.git(args, { cwd: dir, signal: opts.signal });

    if (existsSync(join(dir, '.git'))) {
      await run(['remote', 'set-url', 'origin', this.options.url]);
    } else {
      await this.clone(dir, opts.signal);
    }
    await run(['fetch', '--quiet', '--prune', 'origin']);

    const remoteBranch = `refs/remotes/origin/${target.branch}`;
    const tip = await this.resolveCommit(dir, remoteBranch);
    if (!tip) throw new NotFoundError(`branch "${target.branch}" is not in the infra repo`, `Push it, or fix the branch of "${target.stack}" in cockpit.yml.`);

    let commit = tip;
    if (opts.revision !== undefined) {
      const pinned = await this.resolveCommit(dir, opts.revision);
      if (!pinned || !(await this.isAncestor(dir, pinned, tip))) {
        throw new ConflictError(
          `${target.branch} no longer contains ${opts.revision.slice(0, 12)}, the commit that was previewed.`,
          'The branch was rewritten since the preview; preview again.',
        );
      }
      commit = pinned;
    }

    // --force and clean leave exactly the commit's files: whatever a crashed run or a program wrote is gone.
    await run(['checkout', '--quiet', '--force', '-B', target.branch, commit, '--']);
    await run(['clean', '-ffdxq', ...KEPT_BETWEEN_RUNS.flatMap((p) => ['-e', p])]);
    const revision = (await run(['rev-parse', 'HEAD'])).trim();
    this.options.log.debug({ stack: target.stack, branch: target.branch, revision }, 'infra repo checked out');

    return { root: dir, revision, staleDependencies: await this.dependencyState(dir) };
  }

  private async clone(dir: string, signal?: AbortSignal): Promise<void> {
    // Clone beside the final place and rename, so a clone cut short never looks like a checkout.
    await rm(dir, { recursive: true, force: true });
    await mkdir(dirname(dir), { recursive: true });
    const partial = `${dir}.clone-${randomBytes(4).toString('hex')}`;
    this.options.log.info({ url: redactUrl(this.options.url), dir }, 'cloning the infra repo');
    try {
      await this.git(['clone', '--quiet', '--no-checkout', '--', this.options.url, partial], { signal });
      await rename(partial, dir);
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }

  private async resolveCommit(dir: string, rev: string): Promise<string | undefined> {
    try {
      return (await this.git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { cwd: dir })).trim();
    } catch (err) {
      if (err instanceof GitCommandError && err.exitCode !== undefined) return undefined;
      throw err;
    }
  }

  private async isAncestor(dir: string, commit: string, tip: string): Promise<boolean> {
    try {
      await this.git(['merge-base', '--is-ancestor', commit, tip], { cwd: dir });
      return true;
    } catch (err) {
      if (err instanceof GitCommandError && err.exitCode === 1) return false;
      throw err;
    }
  }

  private async assertBranchName(branch: string): Promise<void> {
    if (branch.startsWith('-')) throw new InputError(`"${branch}" is not a valid branch name`);
    try {
      await this.git(['check-ref-format', '--branch', branch], {});
    } catch (err) {
      if (err instanceof GitCommandError && err.exitCode !== undefined) throw new InputError(`"${branch}" is not a valid branch name`);
      throw err;
    }
  }

  /** Marker beside the checkout (clean -x would delete one inside): the manifests' digest at the last install. */
  private async dependencyState(dir: string): Promise<ProgramCheckout['staleDependencies']> {
    const marker = `${dir}.dependencies`;
    const programDir = join(dir, this.options.programDir);
    const hash = createHash('sha256');
    let installable = false;
    let packagesMissing: boolean | undefined;
    for (const base of new Set([programDir, dir])) {
      for (const name of DEPENDENCY_MANIFESTS) {
        const content = await readFile(join(base, name)).catch(() => undefined);
        if (content === undefined) continue;
        installable ||= name !== 'Pulumi.yaml';
        hash.update(`${base === dir ? '.' : this.options.programDir}/${name}\0`).update(content).update('\0');
      }
      // Packages deleted by hand are as stale as changed manifests; node resolves from the nearest package.json.
      if (packagesMissing === undefined && existsSync(join(base, 'package.json'))) {
        packagesMissing = !existsSync(join(base, 'node_modules'));
      }
    }
    if (!installable) return undefined;
    const digest = hash.digest('hex');
    const recorded = await readFile(marker, 'utf8').catch(() => '');
    if (recorded.trim() === digest && !packagesMissing) return undefined;
    return { record: () => writeFile(marker, `${digest}\n`) };
  }

  private async git(args: string[], options: { cwd?: string; signal?: AbortSignal }): Promise<string> {
    try {
      return await this.options.git(args, options);
    } catch (err) {
      if (err instanceof GitCommandError) {
        if (err.missing) throw new UnavailableError('git is not installed on this host', GIT_MISSING_HINT);
        if (err.exitCode === undefined && options.signal?.aborted) throw err;
        if (['rev-parse', 'merge-base', 'check-ref-format'].includes(args[0] ?? '')) throw err;
        const detail = scrub(err.stderr.trim().split('\n').filter(Boolean).pop() ?? '', this.options.url);
        throw new UnavailableError(`git ${args[0]} of the infra repo failed${detail ? `: ${detail}` : ''}`);
      }
      throw err;
    }
  }
}

/** A program directory used as is: no fetch, no reset, no installs; the developer owns it. */
export class LocalDirectory implements ProgramSource {
  constructor(private readonly dir: string) {}

  async prepare(): Promise<ProgramCheckout> {
    if (!existsSync(this.dir)) throw new NotFoundError(`the infra directory ${this.dir} does not exist`);
    return { root: this.dir };
  }
}
