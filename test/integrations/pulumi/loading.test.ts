import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The Automation API takes about a second to load; the console and the CLI must start without it. Checked in a
 * fresh Node process (jest's module registry is not Node's), by what is in `require.cache`, not by a clock.
 */
describe('loading the Pulumi adapter', () => {
  it('does not load the Automation API until a stack is touched', () => {
    const root = join(__dirname, '..', '..', '..');
    const script = `
      const adapter = require(${JSON.stringify(join(root, 'bot', 'integrations', 'pulumi'))});
      const sdkLoaded = () => Object.keys(require.cache).some((k) => k.includes('@pulumi/pulumi/automation'));
      const before = sdkLoaded();
      adapter.fromConfig({ infraRepo: { localDir: '.' }, workDir: '.', programDir: 'infra' }, { env: { PATH: '' } });
      console.log(JSON.stringify({ before, afterBuild: sdkLoaded() }));
    `;
    const out = execFileSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ before: false, afterBuild: false });
  });
});
