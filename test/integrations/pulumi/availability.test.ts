import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromConfig, locatePulumiBinary } from '../../../bot/integrations/pulumi';
import { UnavailableError } from '../../../handlers/errors';
import { STAGING, localInfraDir, tempDir } from './helpers';

/**
 * The real CLI lookup (`localAutomation`) against environments built in temp directories: no CLI at all, and
 * stand-in `pulumi` executables that only answer `pulumi version`, which is all the lookup runs.
 */

function standInCli(binDir: string, versionOutput: string): string {
  mkdirSync(binDir, { recursive: true });
  const path = join(binDir, 'pulumi');
  writeFileSync(path, `#!/bin/sh\nif [ "$1" = "version" ]; then echo "${versionOutput}"; exit 0; fi\necho "unexpected: $*" >&2\nexit 3\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('Pulumi CLI availability', () => {
  const dir = tempDir('pulumi-cli');
  const emptyPath = join(dir.path, 'empty-bin');
  const emptyHome = join(dir.path, 'empty-home');

  beforeAll(() => {
    mkdirSync(emptyPath);
    mkdirSync(emptyHome);
    localInfraDir(join(dir.path, 'repo'));
  });
  afterAll(() => dir.cleanup());

  const engineWith = (env: NodeJS.ProcessEnv) =>
    fromConfig({ infraRepo: { localDir: join(dir.path, 'repo') }, workDir: dir.path, programDir: 'infra' }, { env });

  it('says the CLI is absent, and what to install, when nothing provides it', async () => {
    const availability = await engineWith({ PATH: emptyPath, HOME: emptyHome }).availability();
    expect(availability).toEqual({
      available: false,
      reason: expect.stringContaining('not installed'),
      install: expect.stringContaining('curl -fsSL https://get.pulumi.com | sh'),
    });
  });

  it('refuses operations with an UnavailableError carrying the install hint', async () => {
    const err = (await engineWith({ PATH: emptyPath, HOME: emptyHome })
      .preview(STAGING)
      .catch((e: unknown) => e)) as UnavailableError;
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toContain('Pulumi is not available');
    expect(err.hint).toContain('https://www.pulumi.com/docs/install/');
  });

  it("finds the installer's ~/.pulumi/bin when PATH lacks it, and reports the version", async () => {
    const home = join(dir.path, 'home-with-cli');
    standInCli(join(home, '.pulumi', 'bin'), 'v3.248.0');
    expect(await engineWith({ PATH: emptyPath, HOME: home }).availability()).toEqual({ available: true, version: '3.248.0' });
  });

  it('finds $PULUMI_HOME/bin', async () => {
    const pulumiHome = join(dir.path, 'pulumi-home');
    standInCli(join(pulumiHome, 'bin'), 'v3.200.1');
    expect(await engineWith({ PATH: emptyPath, HOME: emptyHome, PULUMI_HOME: pulumiHome }).availability()).toEqual({
      available: true,
      version: '3.200.1',
    });
  });

  it('calls a CLI older than the SDK supports unavailable, with the reason', async () => {
    const home = join(dir.path, 'home-with-old-cli');
    standInCli(join(home, '.pulumi', 'bin'), 'v3.1.0');
    const availability = await engineWith({ PATH: emptyPath, HOME: home }).availability();
    expect(availability).toMatchObject({ available: false, reason: expect.stringMatching(/cannot be used: Minimum version requirement failed/) });
  });

  it('prefers PATH, skips relative entries and files that are not executable', () => {
    const first = join(dir.path, 'path-a');
    mkdirSync(first);
    writeFileSync(join(first, 'pulumi'), 'not executable');
    const second = standInCli(join(dir.path, 'path-b', 'bin'), 'v3.248.0');
    const home = join(dir.path, 'home-with-cli');
    expect(locatePulumiBinary({ PATH: ['relative/bin', first, join(dir.path, 'path-b', 'bin')].join(':'), HOME: home })).toBe(second);
    expect(locatePulumiBinary({ PATH: '', HOME: emptyHome })).toBeUndefined();
  });
});
