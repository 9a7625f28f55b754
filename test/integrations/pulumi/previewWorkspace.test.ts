import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execGit, execInstaller, fromConfig, type PackageInstaller } from '../../../bot/integrations/pulumi';
import { ConflictError, InputError, NotFoundError, UnavailableError } from '../../../handlers/errors';
import type { PreviewCode } from '../../../handlers/model/infra';
import type { StackTarget } from '../../../handlers/model/stacks';
import { EngineEventScript, FakeAutomation } from '../../fakes/pulumiEngine';
import { localInfraDir, tempDir } from './helpers';

/**
 * Previews of other code than the stack's branch tip, against a real git and a real npm: a bare "remote" with
 * the stack's branch, a side branch, and pull requests published as GitHub does, under refs/pull/<n>/head.
 * The Pulumi CLI is the scripted fake; what it is pointed at (the directory, the files there) is what is checked.
 */

const dir = tempDir('pulumi-previews');
const remote = join(dir.path, 'infra.git');
const authoring = join(dir.path, 'authoring');
const workDir = join(dir.path, 'checkouts');
const previewsDir = join(workDir, '.previews');
const home = join(dir.path, 'home');
const hooksRan = join(dir.path, 'hook-ran');
// Neither the host's nor the user's git config may change what these tests see, but this HOME's may.
const gitEnv = {
  ...process.env,
  HOME: home,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  npm_config_update_notifier: 'false',
};

const target: StackTarget = { stack: 'staging', pulumiStack: 'staging', branch: 'staging' };

function git(args: string[], cwd = authoring): string {
  return execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
}

function write(files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(authoring, path, '..'), { recursive: true });
    writeFileSync(join(authoring, path), content);
  }
}

/** Commits `files` on `branch` (created from `from` when new) and pushes it, or publishes it as PR `pr`. */
function commit(branch: string, files: Record<string, string>, message: string, opts: { from?: string; pr?: number } = {}): string {
  const exists = git(['branch', '--list', branch]) !== '';
  git(['checkout', '--quiet', ...(exists ? [branch] : ['-b', branch, opts.from ?? 'staging'])]);
  write(files);
  git(['add', '--all']);
  git(['commit', '--quiet', '-m', message]);
  git(['push', '--quiet', '--force', 'origin', opts.pr ? `${branch}:refs/pull/${opts.pr}/head` : branch]);
  return git(['rev-parse', 'HEAD']);
}

/** A lockfile npm itself wrote for the package.json in `authoring/<at>`, local packages only: no network. */
function lock(at = '.'): void {
  execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--offline'], {
    cwd: join(authoring, at),
    env: gitEnv,
    stdio: 'ignore',
  });
}

const packageJson = (deps: Record<string, string>) => `${JSON.stringify({ name: 'infra', version: '1.0.0', private: true, dependencies: deps }, null, 2)}\n`;
const localPackage = (name: string) => ({ [`packages/${name}/package.json`]: `{"name":"${name}","version":"1.0.0"}\n`, [`packages/${name}/index.js`]: 'module.exports = 1;\n' });

let stagingTip: string;
let prHead: string;
let conflictingHead: string;
let plantingHead: string;
let unlockedHead: string;
let sideTip: string;

beforeAll(() => {
  mkdirSync(home);
  // A hook the Cockpit user's global git config would run on every merge: a preview's merge must run none.
  const hooks = join(home, 'hooks');
  mkdirSync(hooks);
  for (const hook of ['pre-merge-commit', 'post-merge', 'commit-msg', 'post-checkout']) {
    writeFileSync(join(hooks, hook), `#!/bin/sh\necho ${hook} >> "${hooksRan}"\n`);
    chmodSync(join(hooks, hook), 0o755);
  }

  git(['init', '--quiet', '--bare', remote], dir.path);
  git(['init', '--quiet', '-b', 'staging', authoring], dir.path);
  git(['remote', 'add', 'origin', remote]);
  write({
    'infra/Pulumi.yaml': 'name: infra\nruntime: nodejs\n',
    'infra/index.ts': 'export const replicas = 1;\n',
    'infra/values.ts': 'export const region = "fra1";\n',
    'package.json': packageJson({ helper: 'file:packages/helper' }),
    ...localPackage('helper'),
    '.gitignore': 'node_modules/\n',
  });
  lock();
  git(['add', '--all']);
  git(['commit', '--quiet', '-m', 'infra program']);
  git(['push', '--quiet', 'origin', 'staging']);

  prHead = commit('feature', { 'infra/index.ts': 'export const replicas = 2;\n' }, 'two replicas', { pr: 7 });
  conflictingHead = commit('clash', { 'infra/values.ts': 'export const region = "nyc3";\n' }, 'move to nyc3', { pr: 8 });
  write(localPackage('planted'));
  write({ 'package.json': packageJson({ helper: 'file:packages/helper', planted: 'file:packages/planted' }) });
  git(['checkout', '--quiet', '-b', 'plant', 'staging']);
  write(localPackage('planted'));
  write({ 'package.json': packageJson({ helper: 'file:packages/helper', planted: 'file:packages/planted' }) });
  lock();
  plantingHead = commit('plant', {}, 'a new package, lockfile and all', { pr: 9 });
  git(['checkout', '--quiet', '-b', 'unlocked', 'staging']);
  unlockedHead = commit('unlocked', { 'package.json': packageJson({ helper: 'file:packages/helper', extra: 'file:packages/helper' }) }, 'a dependency the lockfile lacks', { pr: 10 });
  sideTip = commit('side', { 'infra/index.ts': 'export const replicas = 5;\n' }, 'a branch to promote');
  // The stack's branch moves on after the PRs were opened: the preview merges into this tip, not their base.
  stagingTip = commit('staging', { 'infra/values.ts': 'export const region = "ams3";\n' }, 'move to ams3');
  // Set last: the fixture's own commits above ran without hooks.
  git(['config', '--global', 'core.hooksPath', hooks]);
});
afterAll(() => dir.cleanup());

type Seen = { workDir: string; files: Record<string, string>; packages: string[]; author: string; parents: string[] };

let automation: FakeAutomation;
let seen: Seen[];
let installs: string[];

/** The engine, with the fake CLI recording what the program directory held when the stack was selected. */
function engine(opts: { installer?: PackageInstaller } = {}) {
  const realInstall = execInstaller({ env: gitEnv });
  return fromConfig(
    { infraRepo: { url: remote }, workDir, programDir: 'infra' },
    {
      automation,
      git: execGit({ env: gitEnv }),
      installer:
        opts.installer ??
        (async (install, o) => {
          installs.push(install.dir);
          await realInstall(install, o);
        }),
    },
  );
}

beforeEach(() => {
  // The stack's own checkout runs the user's hooks as git always has; only the throwaway clones must not.
  rmSync(hooksRan, { force: true });
  seen = [];
  installs = [];
  automation = new FakeAutomation();
  automation.withStack('staging', { preview: new EngineEventScript().create('kubernetes:apps/v1:Deployment', 'web') });
  const select = automation.selectStack.bind(automation);
  automation.selectStack = async (args, options) => {
    const root = join(args.workDir, '..');
    const read = (p: string) => readFileSync(join(args.workDir, p), 'utf8');
    const modules = join(root, 'node_modules');
    seen.push({
      workDir: args.workDir,
      files: { 'index.ts': read('index.ts'), 'values.ts': read('values.ts') },
      packages: existsSync(modules) ? readdirSync(modules).filter((n) => !n.startsWith('.')).sort() : [],
      author: git(['log', '-1', '--format=%an <%ae> / %cn'], root),
      parents: git(['log', '-1', '--format=%P'], root).split(' '),
    });
    return select(args, options);
  };
  // The stack's own checkout installs through `pulumi install`; keep what it installed where node looks.
  automation.installDependencies = async (programDir) => {
    mkdirSync(join(programDir, '..', 'node_modules', 'helper'), { recursive: true });
  };
});

const leftovers = () => (existsSync(previewsDir) ? readdirSync(previewsDir) : []);
const pr = (number: number, headSha: string): PreviewCode => ({ kind: 'pull_request', number, headSha });

describe('a pull request preview', () => {
  it('previews the head merged into the tip of the stack branch, in a workspace of its own, then removes it', async () => {
    const preview = await engine().preview(target, { code: pr(7, prHead) });

    expect(seen).toHaveLength(1);
    const [run] = seen;
    expect(run!.workDir.startsWith(`${previewsDir}/staging-pr7-`)).toBe(true);
    // The PR's change and the branch's newer change, as the merge would deploy them.
    expect(run!.files).toEqual({ 'index.ts': 'export const replicas = 2;\n', 'values.ts': 'export const region = "ams3";\n' });
    expect(run!.parents).toEqual([stagingTip, prHead]);
    expect(run!.author).toBe('Cockpit preview <cockpit-preview@localhost> / Cockpit preview');
    expect(preview).toMatchObject({ baseRevision: stagingTip, headRevision: prHead, counts: { create: 1 } });
    expect(preview.revision).toMatch(/^[0-9a-f]{40}$/);
    expect([stagingTip, prHead]).not.toContain(preview.revision);
    // Installed fresh from the lockfile.
    expect(run!.packages).toEqual(['helper']);
    expect(leftovers()).toEqual([]);
    expect(existsSync(hooksRan)).toBe(false);
  }, 60_000);

  it('installs afresh on every run and leaves nothing in the checkout the stack deploys from', async () => {
    await engine().preview(target);
    const stackCheckout = join(workDir, 'staging');
    const before = { head: git(['rev-parse', 'HEAD'], stackCheckout), refs: git(['for-each-ref', '--format=%(refname)'], stackCheckout) };

    await engine().preview(target, { code: pr(9, plantingHead) });
    await engine().preview(target, { code: pr(9, plantingHead) });

    expect(installs).toHaveLength(2);
    expect(seen.map((s) => s.packages)).toEqual([['helper'], ['helper', 'planted'], ['helper', 'planted']]);
    expect(seen[1]!.workDir).not.toBe(seen[2]!.workDir);
    // The stack's checkout: same commit, no pull request refs, and none of the PR's packages.
    expect(git(['rev-parse', 'HEAD'], stackCheckout)).toBe(before.head);
    expect(git(['for-each-ref', '--format=%(refname)'], stackCheckout)).toBe(before.refs);
    expect(readdirSync(join(stackCheckout, 'node_modules'))).toEqual(['helper']);
    await engine().preview(target);
    expect(seen.at(-1)!.workDir).toBe(join(stackCheckout, 'infra'));
    expect(seen.at(-1)!.packages).toEqual(['helper']);
    expect(leftovers()).toEqual([]);
  }, 90_000);

  it('refuses a head that is not the one asked for (the PR moved on)', async () => {
    const err = (await engine()
      .preview(target, { code: pr(7, conflictingHead) })
      .catch((e: unknown) => e)) as ConflictError;
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe(`Pull request #7 has moved on: its head is ${prHead.slice(0, 7)}, not ${conflictingHead.slice(0, 7)}.`);
    expect(seen).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it('refuses a pull request that does not merge cleanly, naming the files', async () => {
    const err = (await engine()
      .preview(target, { code: pr(8, conflictingHead) })
      .catch((e: unknown) => e)) as ConflictError;
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe('Pull request #8 does not merge cleanly into staging (conflicts in infra/values.ts).');
    expect(err.hint).toContain('Merge staging into the pull request');
    expect(seen).toEqual([]);
    expect(leftovers()).toEqual([]);
    expect(existsSync(hooksRan)).toBe(false);
  });

  it('refuses a package.json the lockfile does not match, with npm’s reason', async () => {
    const err = (await engine()
      .preview(target, { code: pr(10, unlockedHead) })
      .catch((e: unknown) => e)) as UnavailableError;
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe("Installing the infra program's packages from package-lock.json failed.");
    expect(err.hint).toMatch(/in sync/);
    expect(seen).toEqual([]);
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('says so when the pull request does not exist', async () => {
    await expect(engine().preview(target, { code: pr(404, prHead) })).rejects.toThrow(new NotFoundError('Pull request #404 is not in the infra repo.'));
    expect(leftovers()).toEqual([]);
  });

  it('takes only a whole commit id and a real PR number', async () => {
    await expect(engine().preview(target, { code: pr(7, prHead.slice(0, 12)) })).rejects.toBeInstanceOf(InputError);
    await expect(engine().preview(target, { code: pr(0, prHead) })).rejects.toBeInstanceOf(InputError);
    await expect(engine().preview(target, { code: pr(7, `--upload-pack=touch /tmp/x${'0'.repeat(20)}`) })).rejects.toBeInstanceOf(InputError);
  });

  it('removes the workspace when the caller aborts, and when the program fails', async () => {
    const controller = new AbortController();
    const aborted = await engine()
      .preview(target, { code: pr(7, prHead), signal: controller.signal, onEvent: () => controller.abort() })
      .catch((e: unknown) => e);
    expect((aborted as Error).name).toBe('AbortError');
    expect(leftovers()).toEqual([]);

    automation.withStack('staging', { preview: new EngineEventScript().create('kubernetes:apps/v1:Deployment', 'web', { failWith: 'bad spec' }) });
    await expect(engine().preview(target, { code: pr(7, prHead) })).rejects.toBeInstanceOf(UnavailableError);
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('removes the workspace when aborted during the install', async () => {
    const controller = new AbortController();
    // An install that never ends by itself, like a hung registry; the caller gives up while it runs.
    const blocked: PackageInstaller = (_install, o) =>
      new Promise((_resolve, reject) => {
        o?.signal?.addEventListener('abort', () => reject(o.signal!.reason), { once: true });
        controller.abort();
      });
    const err = await engine({ installer: blocked })
      .preview(target, { code: pr(7, prHead), signal: controller.signal })
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(seen).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it('runs beside an update of the same stack, which a preview of its own branch may not', async () => {
    const stack = automation.withStack('staging', {
      preview: new EngineEventScript().create('kubernetes:apps/v1:Deployment', 'web'),
      up: new EngineEventScript().create('kubernetes:apps/v1:Deployment', 'web').pause(),
    });
    const e = engine();
    const running = e.up(target);
    await stack.paused();
    await expect(e.preview(target)).rejects.toBeInstanceOf(ConflictError);
    await expect(e.preview(target, { code: pr(7, prHead) })).resolves.toMatchObject({ headRevision: prHead });
    stack.resume();
    expect((await running).outcome).toBe('succeeded');
  }, 60_000);
});

describe('a branch preview', () => {
  it('previews the tip of another branch in its own workspace', async () => {
    const preview = await engine().preview(target, { code: { kind: 'branch', branch: 'side' } });
    expect(preview.revision).toBe(sideTip);
    expect(preview.baseRevision).toBeUndefined();
    expect(preview.headRevision).toBeUndefined();
    expect(seen[0]!.workDir.startsWith(`${previewsDir}/staging-branch-`)).toBe(true);
    expect(seen[0]!.files['index.ts']).toBe('export const replicas = 5;\n');
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('says so when the branch does not exist, and refuses names git would read as options', async () => {
    await expect(engine().preview(target, { code: { kind: 'branch', branch: 'nope' } })).rejects.toThrow(new NotFoundError('branch "nope" is not in the infra repo'));
    await expect(engine().preview(target, { code: { kind: 'branch', branch: '--upload-pack=touch /tmp/x' } })).rejects.toBeInstanceOf(InputError);
    expect(leftovers()).toEqual([]);
  });
});

describe('with a local infra directory', () => {
  it('has no other code to check out: it needs INFRA_REPO_URL', async () => {
    const local = localInfraDir(join(dir.path, 'local'));
    const e = fromConfig({ infraRepo: { localDir: local }, workDir, programDir: 'infra' }, { automation });
    const err = (await e.preview(target, { code: pr(7, prHead) }).catch((x: unknown) => x)) as UnavailableError;
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe('Previewing pull request #7 needs the infra repo as a git remote (INFRA_REPO_URL).');
    await expect(e.preview(target, { code: { kind: 'branch', branch: 'side' } })).rejects.toThrow('Previewing branch side needs');
  });
});
