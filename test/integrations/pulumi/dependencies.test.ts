import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lockedInstall } from '../../../bot/integrations/pulumi';
import { UnavailableError } from '../../../handlers/errors';
import { tempDir } from './helpers';

/** Which frozen install a preview workspace runs, read from the files a checkout holds. */
describe('lockedInstall', () => {
  const dir = tempDir('pulumi-deps');
  afterAll(() => dir.cleanup());

  let n = 0;
  /** A repo root under the temp directory holding `files` (empty content unless given). */
  function repo(files: Record<string, string>): string {
    const root = join(dir.path, `repo-${(n += 1)}`);
    for (const [path, content] of Object.entries({ 'infra/Pulumi.yaml': 'name: infra\n', ...files })) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    return root;
  }

  it('runs npm ci where the lockfile is, the program directory or a parent in the repo', () => {
    const inProgram = repo({ 'infra/package.json': '{}', 'infra/package-lock.json': '{}' });
    expect(lockedInstall(inProgram, 'infra')).toEqual({
      dir: join(inProgram, 'infra'),
      lockfile: 'infra/package-lock.json',
      command: 'npm',
      args: ['ci', '--no-audit', '--no-fund', '--loglevel=error'],
    });
    // This repository's own layout: the program's packages come from the root package.json.
    const atRoot = repo({ 'package.json': '{}', 'package-lock.json': '{}' });
    expect(lockedInstall(atRoot, 'infra')).toMatchObject({ dir: atRoot, lockfile: 'package-lock.json', command: 'npm' });
    // An npm workspace: the program's package.json, the lockfile at the workspace root.
    const workspace = repo({ 'infra/package.json': '{}', 'package.json': '{}', 'package-lock.json': '{}' });
    expect(lockedInstall(workspace, 'infra')).toMatchObject({ dir: workspace, lockfile: 'package-lock.json' });
  });

  it('uses the frozen install of whichever package manager the lockfile belongs to', () => {
    expect(lockedInstall(repo({ 'package.json': '{}', 'pnpm-lock.yaml': '' }), 'infra')).toMatchObject({ command: 'pnpm', args: ['install', '--frozen-lockfile'] });
    expect(lockedInstall(repo({ 'package.json': '{}', 'yarn.lock': '' }), 'infra')).toMatchObject({ command: 'yarn', args: ['install', '--frozen-lockfile'] });
    expect(lockedInstall(repo({ 'package.json': '{}', 'yarn.lock': '', '.yarnrc.yml': '' }), 'infra')).toMatchObject({ command: 'yarn', args: ['install', '--immutable'] });
    expect(lockedInstall(repo({ 'package.json': '{}', 'bun.lock': '' }), 'infra')).toMatchObject({ command: 'bun', args: ['install', '--frozen-lockfile'] });
  });

  it('leaves other languages to pulumi install', () => {
    expect(lockedInstall(repo({ 'infra/requirements.txt': 'pulumi\n' }), 'infra')).toBeUndefined();
  });

  it('refuses a package.json with no lockfile, and never looks above the repo for one', () => {
    const parent = join(dir.path, 'outer');
    mkdirSync(parent, { recursive: true });
    writeFileSync(join(parent, 'package-lock.json'), '{}');
    const root = join(parent, 'repo');
    mkdirSync(join(root, 'infra'), { recursive: true });
    writeFileSync(join(root, 'infra', 'Pulumi.yaml'), 'name: infra\n');
    writeFileSync(join(root, 'package.json'), '{}');
    let err: unknown;
    try {
      lockedInstall(root, 'infra');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).message).toBe("The infra program's package.json (package.json) has no lockfile.");
  });
});
