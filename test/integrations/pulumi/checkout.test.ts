import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GitCheckout, execGit, fromConfig } from '../../../bot/integrations/pulumi';
import { ConflictError, NotFoundError, UnavailableError } from '../../../handlers/errors';
import { EngineEventScript, FakeAutomation } from '../../fakes/pulumiEngine';
import { STAGING, recordingLogger, tempDir } from './helpers';

/**
 * The checkout against a real git: a bare "remote" in a temp directory, reached by file path, with `main` and
 * `staging` branches and a side branch that never merged.
 */

const dir = tempDir('pulumi-git');
const remote = join(dir.path, 'infra.git');
const authoring = join(dir.path, 'authoring');
const workDir = join(dir.path, 'checkouts');
// Neither the host's nor the user's git config may change what these tests see.
const gitEnv = {
  ...process.env,
  HOME: dir.path,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

function git(args: string[], cwd = authoring): string {
  return execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
}

function commit(branch: string, files: Record<string, string>, message: string): string {
  if (git(['symbolic-ref', '--short', 'HEAD']) !== branch) git(['checkout', '--quiet', branch]);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(authoring, path, '..'), { recursive: true });
    writeFileSync(join(authoring, path), content);
  }
  git(['add', '--all']);
  git(['commit', '--quiet', '-m', message]);
  git(['push', '--quiet', 'origin', branch]);
  return git(['rev-parse', 'HEAD']);
}

const log = recordingLogger();
const checkout = () => new GitCheckout({ url: remote, workDir, programDir: 'infra', git: execGit({ env: gitEnv }), log });

let mainFirst: string;
let stagingFirst: string;
let sideCommit: string;

beforeAll(() => {
  git(['init', '--quiet', '--bare', remote], dir.path);
  git(['init', '--quiet', '-b', 'main', authoring], dir.path);
  git(['remote', 'add', 'origin', remote]);
  mainFirst = commit(
    'main',
    {
      'infra/Pulumi.yaml': 'name: infra\nruntime: nodejs\n',
      'infra/index.ts': 'export const replicas = 1;\n',
      'infra/package.json': '{"name":"infra","dependencies":{"@pulumi/pulumi":"3.248.0"}}\n',
      'infra/package-lock.json': '{"lockfileVersion":3}\n',
      '.gitignore': 'node_modules/\n*.log\n',
    },
    'infra program',
  );
  git(['branch', 'staging']);
  git(['branch', 'side']);
  stagingFirst = commit('staging', { 'infra/index.ts': 'export const replicas = 2;\n' }, 'staging: two replicas');
  sideCommit = commit('side', { 'infra/index.ts': 'export const replicas = 99;\n' }, 'an experiment never merged');
});
afterAll(() => dir.cleanup());

describe('infra repo checkout', () => {
  it("clones once and checks out the stack's branch into <workDir>/<stack>", async () => {
    const result = await checkout().prepare(STAGING);
    expect(result.root).toBe(join(workDir, 'staging'));
    expect(result.revision).toBe(stagingFirst);
    expect(readFileSync(join(workDir, 'staging', 'infra', 'index.ts'), 'utf8')).toBe('export const replicas = 2;\n');
    expect(git(['rev-parse', '--abbrev-ref', 'HEAD'], result.root)).toBe('staging');
  });

  it('follows the branch, and throws away local edits and stray files but keeps installed packages', async () => {
    const root = join(workDir, 'staging');
    writeFileSync(join(root, 'infra', 'index.ts'), 'export const replicas = 1000; // edited in place\n');
    writeFileSync(join(root, 'stray.txt'), 'left by a crashed run');
    writeFileSync(join(root, 'pulumi.log'), 'ignored file');
    mkdirSync(join(root, 'infra', 'node_modules', '@pulumi'), { recursive: true });
    const next = commit('staging', { 'infra/index.ts': 'export const replicas = 3;\n' }, 'staging: three replicas');

    const result = await checkout().prepare(STAGING);

    expect(result.revision).toBe(next);
    expect(readFileSync(join(root, 'infra', 'index.ts'), 'utf8')).toBe('export const replicas = 3;\n');
    expect(existsSync(join(root, 'stray.txt'))).toBe(false);
    expect(existsSync(join(root, 'pulumi.log'))).toBe(false);
    expect(existsSync(join(root, 'infra', 'node_modules', '@pulumi'))).toBe(true);
  });

  it('checks out a pinned commit the branch contains (the one a preview ran at)', async () => {
    const result = await checkout().prepare(STAGING, { revision: stagingFirst });
    expect(result.revision).toBe(stagingFirst);
    expect(readFileSync(join(result.root, 'infra', 'index.ts'), 'utf8')).toBe('export const replicas = 2;\n');
    expect(git(['rev-parse', '--abbrev-ref', 'HEAD'], result.root)).toBe('staging');
  });

  it('refuses a pinned commit the branch does not contain', async () => {
    await expect(checkout().prepare(STAGING, { revision: sideCommit })).rejects.toBeInstanceOf(ConflictError);
    await expect(checkout().prepare(STAGING, { revision: 'deadbeefdeadbeef' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('reports a branch the remote does not have as not found', async () => {
    await expect(checkout().prepare({ ...STAGING, branch: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses names that git would read as options or paths', async () => {
    await expect(checkout().prepare({ ...STAGING, branch: '--upload-pack=touch /tmp/x' })).rejects.toThrow('not a valid branch name');
    await expect(checkout().prepare({ ...STAGING, branch: 'a..b' })).rejects.toThrow('not a valid branch name');
    await expect(checkout().prepare({ ...STAGING, stack: '../escape' })).rejects.toThrow('cannot name a checkout directory');
  });

  it('says git is missing when it is', async () => {
    const noGit = new GitCheckout({ url: remote, workDir, programDir: 'infra', git: execGit({ env: { PATH: join(dir.path, 'no-bin') } }), log });
    const err = (await noGit.prepare(STAGING).catch((e: unknown) => e)) as UnavailableError;
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe('git is not installed on this host');
    expect(err.hint).toContain('install git');
  });

  it('reports an unreachable remote without the credentials in its URL', async () => {
    const url = 'https://x-access-token:ghs_supersecret@127.0.0.1:1/org/infra.git';
    const broken = new GitCheckout({ url, workDir: join(dir.path, 'broken'), programDir: 'infra', git: execGit({ env: gitEnv }), log });
    const err = (await broken.prepare(STAGING).catch((e: unknown) => e)) as UnavailableError;
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toMatch(/^git clone of the infra repo failed/);
    expect(JSON.stringify([err.message, err.hint, log.records])).not.toContain('ghs_supersecret');
  });
});

describe('engine over the checkout', () => {
  const target = { stack: 'integration', pulumiStack: 'integration', branch: 'staging' };
  let automation: FakeAutomation;

  beforeEach(() => {
    automation = new FakeAutomation();
    automation.withStack('integration', { preview: new EngineEventScript().create('kubernetes:apps/v1:Deployment', 'web'), up: new EngineEventScript().create('kubernetes:apps/v1:Deployment', 'web') });
    // `pulumi install` leaves the packages where node resolves them.
    const install = automation.installDependencies.bind(automation);
    automation.installDependencies = async (programDir, options) => {
      await install(programDir, options);
      mkdirSync(join(programDir, 'node_modules'), { recursive: true });
    };
  });

  const engine = () =>
    fromConfig(
      { infraRepo: { url: remote }, workDir, programDir: 'infra', backendUrl: 's3://state-bucket', passphrase: 'pass-phrase', secretsProvider: 'passphrase' },
      { automation, git: execGit({ env: gitEnv }) },
    );

  it('previews the program of the checkout at the branch tip and says which commit it ran', async () => {
    const preview = await engine().preview(target);
    expect(preview.revision).toBe(git(['rev-parse', 'origin/staging']));
    expect(automation.selected).toEqual([
      {
        stackName: 'integration',
        workDir: join(workDir, 'integration', 'infra'),
        options: {
          envVars: { PULUMI_SKIP_UPDATE_CHECK: 'true', PULUMI_BACKEND_URL: 's3://state-bucket', PULUMI_CONFIG_PASSPHRASE: 'pass-phrase' },
          secretsProvider: 'passphrase',
        },
      },
    ]);
  });

  it('installs the program dependencies only when their manifests change or the packages are gone', async () => {
    rmSync(join(workDir, 'integration', 'infra', 'node_modules'), { recursive: true, force: true });
    await engine().preview(target);
    expect(automation.installs.map((i) => i.workDir)).toEqual([join(workDir, 'integration', 'infra')]);
    await engine().preview(target);
    expect(automation.installs).toHaveLength(1);

    commit('staging', { 'infra/package-lock.json': '{"lockfileVersion":3,"packages":{}}\n' }, 'bump the lockfile');
    await engine().preview(target);
    expect(automation.installs).toHaveLength(2);
    await engine().preview(target);
    expect(automation.installs).toHaveLength(2);
  });

  it('runs the update at the previewed commit even when the branch has moved on', async () => {
    const preview = await engine().preview(target);
    const moved = commit('staging', { 'infra/index.ts': 'export const replicas = 4;\n' }, 'pushed after the preview');
    const result = await engine().up(target, { revision: preview.revision });
    expect(result.outcome).toBe('succeeded');
    expect(result.revision).toBe(preview.revision);
    expect(result.revision).not.toBe(moved);
    expect(readFileSync(join(workDir, 'integration', 'infra', 'index.ts'), 'utf8')).not.toBe('export const replicas = 4;\n');
  });

  it('tells when the program directory is missing at that commit', async () => {
    const noProgram = fromConfig({ infraRepo: { url: remote }, workDir, programDir: 'deploy' }, { automation, git: execGit({ env: gitEnv }) });
    await expect(noProgram.preview(target)).rejects.toThrow('There is no Pulumi program in deploy/');
  });

  it('keeps mainFirst reachable from staging (the fixture is what the tests assume)', () => {
    expect(() => git(['merge-base', '--is-ancestor', mainFirst, 'origin/staging'])).not.toThrow();
  });
});
