import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../bot/config';
import { EXIT_CONFIG, EXIT_FAILED, loadSettings, startFailureLine } from '../../bot/main';

const root = join(__dirname, '..', '..');

describe('start-up settings', () => {
  test('COCKPIT_CONSOLE_USER must be a person of the team file', () => {
    expect(loadSettings({ COCKPIT_CONSOLE_USER: 'U0CAROL001' }).config.consoleUser).toBe('U0CAROL001');
    expect(() => loadSettings({ COCKPIT_CONSOLE_USER: 'U0NOBODY01' })).toThrow(ConfigError);
    expect(() => loadSettings({ COCKPIT_CONSOLE_USER: 'U0NOBODY01' })).toThrow(
      'COCKPIT_CONSOLE_USER: U0NOBODY01 is not a person of ./cockpit.yml (known: U0ALICE001 (Alice), U0BOB00001 (Bob), U0CAROL001 (Carol))',
    );
  });

  test('a start-up failure is one line a person can act on, with no secret in it', () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use 0.0.0.0:3000'), { code: 'EADDRINUSE', syscall: 'listen' });
    expect(startFailureLine(inUse, { port: 3000 })).toBe('port 3000 is already in use (another Cockpit?): stop it, or set PORT to a free port');
    const refused = new Error('cannot open the postgres store: connect ECONNREFUSED 10.0.0.5:5432 for postgres://cockpit:hunter2@db/x\n    at TCPConnectWrap.afterConnect');
    expect(startFailureLine(refused)).toBe('cannot open the postgres store: connect ECONNREFUSED 10.0.0.5:5432 for postgres://cockpit:[redacted]@db/x');
  });
});

/** Runs the program as `npm start` would, from the sources; a fresh process each time. */
function start(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cockpit-main-'));
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', "require('./bot/main').run()"], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, COCKPIT_DATA_DIR: dataDir, ...env },
      input: '',
      encoding: 'utf8',
      timeout: 60_000,
    });
    let log = '';
    try {
      log = readFileSync(join(dataDir, 'cockpit.log'), 'utf8');
    } catch {
      // no log file: the failure came before the logger
    }
    return { status: run.status, stderr: run.stderr, stdout: run.stdout, log };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('a start that cannot succeed', () => {
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '0.0.0.0', r));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise((r) => busy.close(r)));

  test('the port in use: exit 1, one line, the stack in the log', () => {
    const slack = { SLACK_BOT_TOKEN: 'xoxb-main-test', SLACK_SIGNING_SECRET: 'main-test-secret', SLACK_BOT_ID: 'B0MAIN', SLACK_BOT_USER_ID: 'U0MAIN', SLACK_API_URL: 'http://127.0.0.1:9/' };
    const run = start({ ...slack, PORT: String(busyPort) });
    expect(run.status).toBe(EXIT_FAILED);
    expect(run.stderr).toBe(`cockpit: cannot start: port ${busyPort} is already in use (another Cockpit?): stop it, or set PORT to a free port (details in the log)\n`);
    // Slack mode logs JSON to stdout: the whole error is there.
    expect(run.stdout).toMatch(/"msg":"failed to start"/);
    expect(run.stdout).toContain('EADDRINUSE');
  });

  test('the database refusing: exit 1, one line naming the store, the stack in the log file', () => {
    const run = start({ DATABASE_URL: 'postgres://cockpit:hunter2@127.0.0.1:1/cockpit' });
    expect(run.status).toBe(EXIT_FAILED);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^cockpit: cannot start: cannot open the postgres store: .*ECONNREFUSED.* \(details: .*cockpit\.log\)\n$/);
    expect(run.stderr).not.toContain('hunter2');
    expect(run.log).toContain('"msg":"failed to start"');
    expect(run.log).toContain('"stack"');
  });

  test('a configuration error exits 78 and says what to fix', () => {
    const run = start({ COCKPIT_CONSOLE_USER: 'U0NOBODY01' });
    expect(run.status).toBe(EXIT_CONFIG);
    expect(run.stderr).toContain('COCKPIT_CONSOLE_USER: U0NOBODY01 is not a person of ./cockpit.yml');
    expect(start({ PORT: '0' }).stderr).toContain('PORT: is 0 (a random port)');
  });
});
