import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../../../handlers/ports';
import type { PreviewCode } from '../../../handlers/model/infra';
import type { StackTarget } from '../../../handlers/model/stacks';
import { ConflictError, InputError, NotFoundError, UnavailableError } from '../../../handlers/errors';
import { childEnvironment } from './environment';

/**
 * Where the Pulumi program comes from: a clone of the infra repo per stack, checked out at the stack's branch
 * (production), or a local directory used as is (development). Other code (a branch, a pull request) is
 * previewed in a throwaway clone of its own, so nothing it brings reaches the checkout deploys run in.
 */

export interface ProgramCheckout {
  /** The repository root; the program lives in `<root>/<programDir>`. */
  root: string;
  /** The commit checked out (for a pull request, the merge made here); absent for a local directory. */
  revision?: string;
  /** For a pull request: the tip of the stack's branch its head was merged into. */
  baseRevision?: string;
  /** For a pull request: its head commit. */
  headRevision?: string;
  /** Set when the program's dependency manifests changed since the last install here; absent when managed by hand. */
  staleDependencies?: { record(): Promise<void> };
}

/** A throwaway checkout: its packages are installed from the lockfile, and `dispose` removes it all. */
export interface ProgramWorkspace extends ProgramCheckout {
  revision: string;
  dispose(): Promise<void>;
}

export interface ProgramSource {
  /** The stack's own checkout, at the tip of its branch or at `revision` (a commit the branch contains). */
  prepare(target: StackTarget, opts?: { revision?: string; signal?: AbortSignal }): Promise<ProgramCheckout>;
  /** A new workspace holding `code` for a preview of `target`; the caller disposes of it. */
  prepareWorkspace(target: StackTarget, code: PreviewCode, opts?: { signal?: AbortSignal }): Promise<ProgramWorkspace>;
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
/** A whole commit id (SHA-1 or SHA-256): a pull request's head is compared exactly, never by prefix. */
const FULL_COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;
/** Beside the stacks' checkouts; a stack's directory cannot start with a dot, so no stack is ever called this. */
const WORKSPACES_DIR = '.previews';
/** The merge a pull request preview makes is nobody's commit: a fixed identity, and no hooks or signing. */
const MERGE_IDENTITY = {
  GIT_AUTHOR_NAME: 'Cockpit preview',
  GIT_AUTHOR_EMAIL: 'cockpit-preview@localhost',
  GIT_COMMITTER_NAME: 'Cockpit preview',
  GIT_COMMITTER_EMAIL: 'cockpit-preview@localhost',
};
const NO_HOOKS = ['-c', 'core.hooksPath=/dev/null'];
const MERGE_CONFIG = ['-c', 'commit.gpgSign=false', '-c', 'merge.verifySignatures=false'];

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

/**
 * One clone per stack under `workDir`, reset to the branch tip (or a pinned commit) before every run; and a
 * throwaway clone per preview of other code under `<workDir>/.previews/`.
 */
export class GitCheckout implements ProgramSource {
  constructor(
    private readonly options: { url: string; workDir: string; programDir: string; git: GitRunner; log: Logger },
  ) {
    if (options.url.startsWith('-')) throw new InputError('the infra repo URL must not start with "-"');
  }

  async prepare(target: StackTarget, opts: { revision?: string; signal?: AbortSignal } = {}): Promise<ProgramCheckout> {
    this.assertStackName(target.stack);
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
    if (!tip) throw this.branchNotFound(target, target.branch);

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

  /**
   * A fresh clone holding `code`. A pull request is fetched from `refs/pull/<n>/head`, checked against the head
   * asked for, and merged here into the tip of the stack's branch: the base is the tip fetched now, whereas
   * GitHub's `refs/pull/<n>/merge` is recomputed in the background and may still be built on an older base,
   * or be missing while GitHub works out mergeability.
   */
  async prepareWorkspace(target: StackTarget, code: PreviewCode, opts: { signal?: AbortSignal } = {}): Promise<ProgramWorkspace> {
    this.assertStackName(target.stack);
    const branch = code.kind === 'branch' ? code.branch : target.branch;
    await this.assertBranchName(branch);
    if (code.kind === 'pull_request') {
      if (!Number.isSafeInteger(code.number) || code.number <= 0) throw new InputError(`"${code.number}" is not a pull request number`);
      if (!FULL_COMMIT.test(code.headSha)) throw new InputError(`"${code.headSha}" is not a whole commit id`);
    }

    const label = code.kind === 'branch' ? 'branch' : `pr${code.number}`;
    const dir = join(this.options.workDir, WORKSPACES_DIR, `${target.stack}-${label}-${randomBytes(4).toString('hex')}`);
    const dispose = () => rm(dir, { recursive: true, force: true, maxRetries: 3 });
    // No hooks at all here: the Cockpit user's config may name some, and none is meant for this throwaway clone.
    const raw = (args: string[], env?: Record<string, string>) => this.options.git([...NO_HOOKS, ...args], { cwd: dir, signal: opts.signal, env });
    const run = (args: string[]) => raw(args).catch((err: unknown) => Promise.reject(this.failure(err, args[0] ?? 'git', opts.signal)));
    try {
      await mkdir(dirname(dir), { recursive: true });
      // Only the branch needed, borrowing objects the stack's clone already has (--reference-if-able: none yet
      // is fine) and copying them in (--dissociate), so the stack's clone is only read, and only during the clone.
      const stackClone = join(this.options.workDir, target.stack);
      await this.options
        .git(
          [...NO_HOOKS, 'clone', '--quiet', '--no-checkout', '--no-tags', '--single-branch', '--branch', branch, '--reference-if-able', stackClone, '--dissociate', '--', this.options.url, dir],
          { signal: opts.signal },
        )
        .catch((err: unknown) => {
          throw /Remote branch .* not found/i.test(errorText(err)) ? this.branchNotFound(target, branch) : this.failure(err, 'clone', opts.signal);
        });
      const tip = (await run(['rev-parse', '--verify', 'HEAD^{commit}'])).trim();

      if (code.kind === 'branch') {
        await run(['checkout', '--quiet', '--force', '--detach', tip, '--']);
        this.options.log.debug({ stack: target.stack, branch, revision: tip, dir }, 'branch checked out for a preview');
        return { root: dir, revision: tip, dispose };
      }

      const pullRef = `refs/remotes/origin/pull/${code.number}`;
      await raw(['fetch', '--quiet', '--no-tags', 'origin', `+refs/pull/${code.number}/head:${pullRef}`]).catch((err: unknown) => {
        throw /couldn't find remote ref/i.test(errorText(err))
          ? new NotFoundError(`Pull request #${code.number} is not in the infra repo.`)
          : this.failure(err, 'fetch', opts.signal);
      });
      const head = (await run(['rev-parse', '--verify', `${pullRef}^{commit}`])).trim();
      if (head.toLowerCase() !== code.headSha.toLowerCase()) {
        throw new ConflictError(
          `Pull request #${code.number} has moved on: its head is ${head.slice(0, 7)}, not ${code.headSha.slice(0, 7)}.`,
          'Preview its new head.',
        );
      }

      await run(['checkout', '--quiet', '--force', '--detach', tip, '--']);
      await this.merge(raw, { number: code.number, head, branch }, opts.signal);
      const revision = (await run(['rev-parse', 'HEAD'])).trim();
      this.options.log.debug({ stack: target.stack, pullRequest: code.number, head, base: tip, revision, dir }, 'pull request merged for a preview');
      return { root: dir, revision, baseRevision: tip, headRevision: head, dispose };
    } catch (err) {
      await dispose();
      throw err;
    }
  }

  private async merge(
    run: (args: string[], env?: Record<string, string>) => Promise<string>,
    pr: { number: number; head: string; branch: string },
    signal?: AbortSignal,
  ): Promise<void> {
    const message = `Preview of #${pr.number} (${pr.head.slice(0, 12)}) merged into ${pr.branch}`;
    try {
      // --no-ff: always a merge commit, so the preview's revision is never mistaken for the head or the base.
      await run([...MERGE_CONFIG, 'merge', '--quiet', '--no-ff', '--no-edit', '--no-verify', '--no-rerere-autoupdate', '-m', message, pr.head], MERGE_IDENTITY);
    } catch (err) {
      if (!(err instanceof GitCommandError) || err.exitCode === undefined || err.missing) throw this.failure(err, 'merge', signal);
      const conflicted = (await run(['diff', '--name-only', '--diff-filter=U']).catch(() => '')).split('\n').filter(Boolean);
      const where = conflicted.length ? ` (conflicts in ${conflicted.slice(0, 5).join(', ')}${conflicted.length > 5 ? ', …' : ''})` : '';
      const unrelated = /unrelated histories/i.test(err.stderr);
      throw new ConflictError(
        `Pull request #${pr.number} does not merge cleanly into ${pr.branch}${unrelated ? ': no common history' : where}.`,
        `Merge ${pr.branch} into the pull request (or rebase it), then preview again.`,
      );
    }
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
      return (await this.options.git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { cwd: dir })).trim();
    } catch (err) {
      if (err instanceof GitCommandError && err.exitCode !== undefined) return undefined;
      throw this.failure(err, 'rev-parse');
    }
  }

  private async isAncestor(dir: string, commit: string, tip: string): Promise<boolean> {
    try {
      await this.options.git(['merge-base', '--is-ancestor', commit, tip], { cwd: dir });
      return true;
    } catch (err) {
      if (err instanceof GitCommandError && err.exitCode === 1) return false;
      throw this.failure(err, 'merge-base');
    }
  }

  private assertStackName(stack: string): void {
    if (!STACK_DIR_NAME.test(stack)) throw new InputError(`"${stack}" cannot name a checkout directory`);
  }

  private async assertBranchName(branch: string): Promise<void> {
    if (branch.startsWith('-')) throw new InputError(`"${branch}" is not a valid branch name`);
    try {
      await this.options.git(['check-ref-format', '--branch', branch], {});
    } catch (err) {
      if (err instanceof GitCommandError && err.exitCode !== undefined) throw new InputError(`"${branch}" is not a valid branch name`);
      throw this.failure(err, 'check-ref-format');
    }
  }

  private branchNotFound(target: StackTarget, branch: string): NotFoundError {
    return branch === target.branch
      ? new NotFoundError(`branch "${branch}" is not in the infra repo`, `Push it, or fix the branch of "${target.stack}" in cockpit.yml.`)
      : new NotFoundError(`branch "${branch}" is not in the infra repo`);
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
      throw this.failure(err, args[0] ?? 'git', options.signal);
    }
  }

  /** A failed git call as the caller should see it: git missing, an abort as it is, else the repo's trouble. */
  private failure(err: unknown, command: string, signal?: AbortSignal): unknown {
    if (!(err instanceof GitCommandError)) return err;
    if (err.missing) return new UnavailableError('git is not installed on this host', GIT_MISSING_HINT);
    if (err.exitCode === undefined && signal?.aborted) return err;
    const detail = scrub(err.stderr.trim().split('\n').filter(Boolean).pop() ?? '', this.options.url);
    return new UnavailableError(`git ${command} of the infra repo failed${detail ? `: ${detail}` : ''}`);
  }
}

function errorText(err: unknown): string {
  return err instanceof GitCommandError ? err.stderr : '';
}

const LOCAL_DIRECTORY_HINT = 'Set INFRA_REPO_URL to the infra repo; INFRA_DIR is a directory used as it is, with no other code to check out.';

/** A program directory used as is: no fetch, no reset, no installs; the developer owns it. */
export class LocalDirectory implements ProgramSource {
  constructor(private readonly dir: string) {}

  async prepare(): Promise<ProgramCheckout> {
    if (!existsSync(this.dir)) throw new NotFoundError(`the infra directory ${this.dir} does not exist`);
    return { root: this.dir };
  }

  async prepareWorkspace(_target: StackTarget, code: PreviewCode): Promise<ProgramWorkspace> {
    const what = code.kind === 'branch' ? `branch ${code.branch}` : `pull request #${code.number}`;
    throw new UnavailableError(`Previewing ${what} needs the infra repo as a git remote (INFRA_REPO_URL).`, LOCAL_DIRECTORY_HINT);
  }
}
