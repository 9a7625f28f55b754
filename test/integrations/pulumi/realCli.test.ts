import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LocalWorkspace, PulumiCommand } from '@pulumi/pulumi/automation';
import { fromConfig, locatePulumiBinary } from '../../../bot/integrations/pulumi';
import { localInfraDir, tempDir } from './helpers';

/**
 * The one test that drives the real Pulumi CLI: a preview of a tiny YAML program (no providers, so nothing is
 * downloaded) on a local file backend in a temp directory. Skipped, with the reason printed, where there is no
 * CLI — which is expected on machines that never installed it.
 */

const binary = locatePulumiBinary(process.env);
const withCli = binary ? it : it.skip;
if (!binary) {
  console.log('Skipping the real Pulumi CLI test: no `pulumi` on PATH, in $PULUMI_HOME/bin or in ~/.pulumi/bin.');
}

describe('Pulumi engine adapter against the real CLI', () => {
  withCli(
    'previews a program on a local file backend',
    async () => {
      const dir = tempDir('pulumi-real');
      try {
        const state = join(dir.path, 'state');
        mkdirSync(state);
        const repo = localInfraDir(join(dir.path, 'repo'), 'name: cockpit-smoke\nruntime: yaml\noutputs:\n  greeting: hello\n');
        const backendUrl = `file://${state}`;
        const passphrase = 'smoke-test-passphrase';

        // The stack exists before Cockpit previews it; Cockpit never creates stacks on its own.
        const root = basename(dirname(binary!)) === 'bin' ? dirname(dirname(binary!)) : undefined;
        await LocalWorkspace.createStack(
          { stackName: 'smoke', workDir: join(repo, 'infra') },
          {
            pulumiCommand: await PulumiCommand.get(root ? { root } : undefined),
            envVars: { PULUMI_BACKEND_URL: backendUrl, PULUMI_CONFIG_PASSPHRASE: passphrase, PULUMI_SKIP_UPDATE_CHECK: 'true' },
          },
        );

        const engine = fromConfig({ infraRepo: { localDir: repo }, workDir: dir.path, programDir: 'infra', backendUrl, passphrase });
        expect(await engine.availability()).toMatchObject({ available: true });

        const preview = await engine.preview({ stack: 'smoke', pulumiStack: 'smoke', branch: 'main' });
        expect(preview.counts).toEqual({ create: 1, update: 0, replace: 0, delete: 0, same: 0 });
        expect(preview.changes).toEqual([
          { op: 'create', type: 'pulumi:pulumi:Stack', name: 'cockpit-smoke-smoke', urn: 'urn:pulumi:smoke::cockpit-smoke::pulumi:pulumi:Stack::cockpit-smoke-smoke' },
        ]);
        expect(preview.steps).toBe(1);
      } finally {
        dir.cleanup();
      }
    },
    180_000,
  );
});
