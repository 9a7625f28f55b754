import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCockpit } from '../../bot/cockpit';
import { loadConfig, type Config } from '../../bot/config';
import { FakeInfraEngine } from '../fakes/pulumiEngine';
import { exampleTeam, memoryLogger } from '../helpers';

/** The files under `dir` this process holds open (Linux: /proc/self/fd). */
function openFilesUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return []; // closed while we looked
    }
  });
}

const procFs = existsSync('/proc/self/fd');
if (!procFs) console.warn('cockpit start-up suite: SKIPPED: needs Linux /proc/self/fd to see which files are open');

(procFs ? describe : describe.skip)('building Cockpit', () => {
  let dir: string;
  let config: Config;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cockpit-start-'));
    config = { ...loadConfig({}), store: { kind: 'sqlite', file: join(dir, 'cockpit.db') } };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('close() lets go of the store file', async () => {
    const cockpit = await createCockpit(config, exampleTeam(), { log: memoryLogger('fatal').log, engine: new FakeInfraEngine() });
    expect(openFilesUnder(dir)).not.toEqual([]);
    await cockpit.close();
    expect(openFilesUnder(dir)).toEqual([]);
  });

  test('a start that fails halfway closes the store it had opened', async () => {
    // Slack over HTTP without a signing secret: Bolt refuses to build its receiver, after the store is open.
    const broken: Config = { ...config, slack: { botToken: 'xoxb-start-test', apiUrl: 'http://127.0.0.1:9/' } };
    await expect(createCockpit(broken, exampleTeam(), { log: memoryLogger('fatal').log, engine: new FakeInfraEngine() })).rejects.toThrow(/signingSecret/);
    expect(openFilesUnder(dir)).toEqual([]);
  });
});
