import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createCockpit, systemClock, type Cockpit } from '../../bot/cockpit';
import { loadConfig } from '../../bot/config';
import { runConsole } from '../../bot/console/repl';
import { DemoCodeHost } from '../../bot/demo/codeHost';
import { DemoForum } from '../../bot/demo/forum';
import { startDemoForum } from '../../bot/demo/main';
import { DEMO_ENGINE_VERSION, demoEngine } from '../../bot/demo/engine';
import { DemoRepository } from '../../bot/demo/repository';
import { exampleTeam, memoryLogger } from '../helpers';
import { Teardown } from '../teardown';

const root = join(__dirname, '..', '..');

/** The demo's console, driven line by line; `pace: 0` runs the simulated engine as fast as its events fold. */
async function demoConsole(opened: Teardown) {
  const dir = mkdtempSync(join(tmpdir(), 'cockpit-demo-test-'));
  opened.defer(() => rmSync(dir, { recursive: true, force: true }));
  const repo = new DemoRepository();
  const codeHost = new DemoCodeHost(repo);
  const log = memoryLogger('warn').log;
  const config = { ...loadConfig({ COCKPIT_DATA_DIR: dir }), store: { kind: 'sqlite' as const, file: ':memory:' } };
  const forumLines: string[] = [];
  const forum = new DemoForum({ supportCategory: exampleTeam().tickets?.categoryId, now: () => systemClock.now(), print: (line) => forumLines.push(line) });
  const cockpit: Cockpit = opened.add(
    await createCockpit(config, exampleTeam(), { log, engine: demoEngine({ repo, dir, clock: systemClock, log, pace: 0 }), codeHost, progressIntervalMs: 0, forum: { url: forum.url, api: forum }, outboxTiming: { idleMs: 20 } }),
  );
  await startDemoForum(cockpit);
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (c: Buffer) => (text += c.toString()));
  const done = runConsole({ core: cockpit.core, team: cockpit.team, log, input, output, actorId: 'U0ALICE001', osUser: 'newcomer', via: 'demo' });
  opened.defer(async () => {
    input.end();
    await done;
  });
  const type = async (line: string, until: string | RegExp) => {
    const from = text.length;
    input.write(`${line}\n`);
    const deadline = Date.now() + 10_000;
    const seen = () => (typeof until === 'string' ? text.slice(from).includes(until) : until.test(text.slice(from)));
    while (!seen()) {
      if (Date.now() > deadline) throw new Error(`"${line}" never showed ${until}; got:\n${text.slice(from)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return text.slice(from);
  };
  /** Waits until the forum has shown a line matching `what`. */
  const forumShows = async (what: RegExp) => {
    const deadline = Date.now() + 10_000;
    while (!forumLines.some((l) => what.test(l))) {
      if (Date.now() > deadline) throw new Error(`the demo forum never showed ${what}; it showed:\n${forumLines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { cockpit, codeHost, type, text: () => text, forumLines, forumShows };
}

describe('the demo', () => {
  const opened = new Teardown();
  afterEach(() => opened.run());

  test('a prod deploy from preview to result, approved by a second person, every message marked DEMO', async () => {
    const demo = await demoConsole(opened);
    expect(demo.text()).toContain('"as <person>" stands in for a second person pressing Approve in Slack');
    const report = await demo.type('deploy prod', '[1] Deploy prod');
    // The risk report comes from the real adapter folding the simulated engine's events.
    expect(report).toContain('1 to create · 1 to update · 0 to replace · 0 to delete · 7 unchanged');
    expect(report).toContain('update Deployment (kubernetes) web');
    expect(report).toContain('create PodDisruptionBudget (kubernetes) web');
    await demo.type('1', 'A second person must approve: Alice, Carol.');
    await demo.type('as carol', 'now acting as Carol (U0CAROL001).');
    const result = await demo.type('1', 'prod deployed');
    expect(result).toMatch(/Deploying prod .* \d+\/10 steps/);
    expect(result).toContain('asked by @Alice  ·  approved by @Carol');
    expect(result).toContain('dbPassword: [secret]');

    // Every message shown (a post, or an edit shown again) starts with DEMO; the rest are the console's own words.
    const shown = demo
      .text()
      .split(/cockpit> | *\(message \d+ updated\)\n/)
      .slice(1)
      .filter((piece) => piece.trim() !== '' && !piece.startsWith('now acting as'));
    expect(shown.length).toBeGreaterThan(5);
    for (const piece of shown) expect(piece).toMatch(/^DEMO · /);

    const audit = await demo.cockpit.store.audit.query({ target: 'prod' });
    expect(audit.find((e) => e.action === 'deploy.approve')).toMatchObject({ actor: 'demo:U0CAROL001', outcome: 'succeeded' });
    // Once deployed, the stack is in its new state: the next preview has nothing to change.
    await demo.type('as alice', 'now acting as Alice');
    expect(await demo.type('deploy prod --preview', 'Preview only')).toContain('0 to create · 0 to update · 0 to replace · 0 to delete · 9 unchanged');
  });

  test('staging: the replaced data volume makes a high-risk report', async () => {
    const demo = await demoConsole(opened);
    const report = await demo.type('deploy staging', '[1] Deploy staging');
    expect(report).toContain('High risk');
    expect(report).toMatch(/replace PersistentVolumeClaim \(kubernetes\) pg-data/);
  });

  test('promote staging opens a pull request on the demo GitHub, and asked again refreshes it', async () => {
    const demo = await demoConsole(opened);
    const reply = await demo.type('promote staging', 'github.invalid');
    expect(reply).toMatch(/DEMO · .*integration → staging/);
    expect(reply).toContain('https://github.invalid/demo/infra/pull/1');
    const body = demo.codeHost.bodyOf(1);
    expect(body).toContain('Raise staging to 3 web replicas');
    expect(body).toContain('| `cockpit:webReplicas` | changed | `2` | `3` |');
    expect(body).toMatch(/`cockpit:dbPassword` \| added \| _secret_/);
    await demo.type('promote staging', 'github.invalid');
    expect(await demo.codeHost.findOpenPullRequest('master', 'staging')).toBeUndefined();
    expect((await demo.codeHost.findOpenPullRequest('staging', 'integration'))?.number).toBe(1);
  });

  test('two customers’ tickets wait on the demo forum: taking and escalating one replies and tags it there', async () => {
    const demo = await demoConsole(opened);
    // The outbox delivers on its own time: wait for it rather than race it.
    await demo.forumShows(/^#101 is tagged high, new$/);
    await demo.forumShows(/^#102 is tagged new$/);
    expect(demo.forumLines).toEqual(expect.arrayContaining(['#101 is tagged high, new', '#102 is tagged new']));
    const list = await demo.type('ticket list', 'Open tickets (2)');
    expect(list).toContain('#101 (https://forum.invalid/t/101) CSV exports of the api time out · high · new');
    await demo.type('ticket take 101', 'You have #101; the customer is told.');
    await demo.forumShows(/^#101 is assigned to @alice$/);
    expect(demo.forumLines).toContain('reply on #101 (Discourse emails it to whoever watches the topic): Alice from our team is working on "CSV exports of the api time out".');
    expect(demo.forumLines).toContain('#101 is tagged high, in-progress');
    await demo.type('ticket escalate 101', '#101 is at L2.');
    await demo.forumShows(/^#101 is tagged high, in-progress, escalated-l2$/);
    // A public incident gets its status topic on the same forum.
    await demo.type('incident open SEV2 "Exports fail for some customers" --public', 'INC-1 declared');
    await demo.forumShows(/^new topic #103 "INC-1: Exports fail for some customers"/);
  });

  test('an ephemeral stack comes up and goes down through the same engine', async () => {
    const demo = await demoConsole(opened);
    expect(await demo.type('up dev --ttl 2h', 'dev is up')).toBeTruthy();
    await demo.type('down dev', '[1] Tear down dev');
    expect(await demo.type('1', 'dev torn down')).toContain('9 resources deleted');
    expect(await demo.type('status', 'Deploy engine')).toContain(DEMO_ENGINE_VERSION);
  });
});

describe('npm run demo', () => {
  test('runs on a throwaway store it removes when the person quits', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', "require('./bot/demo/main').run()"], {
      cwd: root,
      // Nothing real may be reached even when the environment names it: these must be ignored.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x', SLACK_BOT_TOKEN: 'xoxb-must-not-be-used', SLACK_SIGNING_SECRET: 'x' },
      input: 'status\nquit\n',
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const dir = /throwaway store in (\S+) /.exec(run.stdout)?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir!)).toBe(false);
    expect(run.stdout).toContain('DEMO · Cockpit status');
    expect(run.stdout).toContain('Store: sqlite');
  });
});
