import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Cockpit } from '../cockpit';
import { exitOnConfigError, failedToStart, fileLogger, loadSettings, runLocalConsole } from '../main';
import type { Logger } from '../log';
import { newRequestId } from '../requestId';
import { DemoCodeHost } from './codeHost';
import { DemoForum } from './forum';
import { demoEngine } from './engine';
import { DemoRepository } from './repository';

/**
 * `npm run demo`: the console on a throwaway embedded store, with a simulated Pulumi engine, an in-process GitHub
 * and an in-process forum, so a newcomer walks a prod deploy through its preview, risk report, Deploy, a second
 * person's Approve, progress and result in a minute, and takes a customer's ticket. Only this entry builds the
 * demo adapters; nothing falls back to them.
 *
 * The demo reads nothing from the environment that could reach a real system (no Slack tokens, no DATABASE_URL,
 * no GitHub, no Pulumi backend): only which team file to show, and whom to act as.
 */

/** How often progress is redrawn: the terminal is no rate-limited Slack channel. */
const PROGRESS_INTERVAL_MS = 700;

export async function runDemo(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cockpit-demo-'));
  let log: Logger | undefined;
  try {
    const { config, team } = loadSettings({
      COCKPIT_DATA_DIR: dir,
      ...(env.COCKPIT_CONFIG ? { COCKPIT_CONFIG: env.COCKPIT_CONFIG } : {}),
      ...(env.COCKPIT_CONSOLE_USER ? { COCKPIT_CONSOLE_USER: env.COCKPIT_CONSOLE_USER } : {}),
      ...(env.LOG_LEVEL ? { LOG_LEVEL: env.LOG_LEVEL } : {}),
    });
    const file = fileLogger(config);
    log = file.log;
    const repo = new DemoRepository();
    const forum = new DemoForum({ supportCategory: team.tickets?.categoryId, now: () => systemClock.now(), print: (line) => process.stdout.write(`DEMO · forum.invalid · ${line}\n`) });
    await runLocalConsole({
      config,
      team,
      log,
      banner: `DEMO: Cockpit on a throwaway store in ${dir} (removed when you quit; logs: ${file.logFile}).`,
      engine: demoEngine({ repo, dir, clock: systemClock, log }),
      codeHost: new DemoCodeHost(repo),
      via: 'demo',
      progressIntervalMs: PROGRESS_INTERVAL_MS,
      forum: { url: forum.url, api: forum },
      started: startDemoForum,
    });
  } catch (err) {
    // Both exits end the process at once: the throwaway store goes first.
    rmSync(dir, { recursive: true, force: true });
    exitOnConfigError(err);
    failedToStart(err, log);
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The forum's outbox delivers what the demo writes (Slack's replicas do it in production), and one sweep brings
 * the customers' waiting topics in as tickets, as the forum's webhook would have: `ticket list` shows them.
 */
export async function startDemoForum(cockpit: Cockpit): Promise<void> {
  cockpit.forumOutbox?.start();
  await cockpit.tickets?.sweep(newRequestId());
}

/** The entry `npm run demo` (bin/start.js demo) calls. */
export function run(): void {
  void runDemo();
}

if (require.main === module) run();
