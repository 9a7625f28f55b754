import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../bot/cli';
import { loadConfig } from '../../bot/config';
import { openStore } from '../../bot/store/connect';
import { FakeInfraEngine } from '../fakes/pulumiEngine';
import { exampleTeam } from '../helpers';

/**
 * The CLI is a path that changes stacks too: it acts for a team member on the word of whoever runs it, through
 * the same policy, and its exit code says what happened (0 done, 1 failed, 2 bad input, 3 refused).
 */
describe('the one-shot CLI', () => {
  let dir: string;
  let engine: FakeInfraEngine;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cockpit-cli-'));
    engine = new FakeInfraEngine();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(argv: string, as?: string): Promise<{ code: number; out: string; err: string }> {
    const config = loadConfig({ COCKPIT_DATA_DIR: dir, ...(as ? { COCKPIT_CONSOLE_USER: as } : {}) });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await runCli(argv.split(' '), { config, team: exampleTeam(), deps: { engine }, osUser: 'deploy-bot', stdout, stderr });
    return { code, out, err };
  }

  test('brings an ephemeral stack up for its member (Slack being down stops nothing that needs no second person)', async () => {
    const { code, out } = await cli('up dev --ttl 2h');
    expect(code).toBe(0);
    expect(out).toContain('dev is up until');
    expect(engine.calls.map((c) => `${c.method}:${c.stack}`)).toEqual(['up:dev']);
  });

  test('refuses what only a verified identity may do, and what the member may not, with exit code 3; both audited', async () => {
    const store = await openStore({ kind: 'sqlite', file: join(dir, 'cockpit.db') }, { clock: { now: () => new Date() } });
    await store.locks.acquire({ stack: 'staging', holder: 'U0BOB00001', purpose: 'deploy', requestId: 'r-stale', owner: 'gone' });
    await store.close();
    const unlock = await cli('unlock staging the replica died', 'U0CAROL001');
    expect(unlock.code).toBe(3);
    expect(unlock.err).toContain('From the cli, you act for Carol on your word alone');
    const prod = await cli('deploy prod', 'U0CAROL001');
    expect(prod).toMatchObject({ code: 3, err: expect.stringContaining('You may not deploy prod: it needs the role sre') });
    expect(engine.calls).toEqual([]);

    const audit = await openStore({ kind: 'sqlite', file: join(dir, 'cockpit.db') }, { clock: { now: () => new Date() } });
    try {
      const refused = (await audit.audit.query({ outcomes: ['refused'] })).filter((e) => e.action.startsWith('policy.')).map((e) => `${e.action} ${e.actor}`);
      expect(refused.sort()).toEqual(['policy.break_lock cli:deploy-bot for U0CAROL001', 'policy.preview cli:deploy-bot for U0CAROL001']);
    } finally {
      await audit.close();
    }
  });

  test('bad input is exit code 2 with the usage line', async () => {
    const { code, err } = await cli('deploy qa');
    expect(code).toBe(2);
    expect(err).toContain('unknown stack "qa"');
  });
});
