import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { CodeHost, InfraEngine } from '../handlers/ports';
import { personById } from '../handlers/team';
import { createCockpit, type Cockpit, type CockpitDeps } from './cockpit';
import { ConfigError, loadConfig, type Config } from './config';
import { runConsole } from './console/repl';
import { createLogger, scrubSecrets, type Logger } from './log';
import { loadTeamConfig, TeamConfigError, type TeamConfig } from './teamConfig';

/**
 * The composition root. With Slack tokens: the Slack front and HTTP endpoints. Without: the local console on
 * the embedded store, so `npm ci && npm start` works on a fresh machine.
 *
 * Exit codes: 78 (sysexits' EX_CONFIG) when the environment or the team file is wrong, 1 when start-up
 * failed otherwise (database refused, port in use), 0 on a clean shutdown.
 */

export const EXIT_CONFIG = 78;
export const EXIT_FAILED = 1;

/** The environment and the team file, checked against each other; ConfigError or TeamConfigError otherwise. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): { config: Config; team: TeamConfig } {
  const config = loadConfig(env);
  const team = loadTeamConfig(config.teamConfigPath);
  if (config.consoleUser !== undefined && !personById(team, config.consoleUser)) {
    const known = team.people.map((p) => `${p.slack} (${p.name})`).join(', ') || 'nobody';
    throw new ConfigError([`COCKPIT_CONSOLE_USER: ${config.consoleUser} is not a person of ${config.teamConfigPath} (known: ${known})`]);
  }
  return { config, team };
}

export function loadOrExit(env: NodeJS.ProcessEnv = process.env): { config: Config; team: TeamConfig } {
  try {
    return loadSettings(env);
  } catch (err) {
    exitOnConfigError(err);
    throw err;
  }
}

/** A configuration error ends the process with its message and EX_CONFIG; anything else is left to the caller. */
export function exitOnConfigError(err: unknown): void {
  if (err instanceof ConfigError || err instanceof TeamConfigError) {
    process.stderr.write(`cockpit: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}

/** One line a person can act on; the stack trace goes to the log, not the terminal. */
export function startFailureLine(err: unknown, config?: Pick<Config, 'port'>): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return `port ${config?.port ?? '?'} is already in use (another Cockpit?): stop it, or set PORT to a free port`;
  if (code === 'EACCES' && (err as { syscall?: string }).syscall === 'listen') return `not allowed to listen on port ${config?.port ?? '?'}: use a port above 1023`;
  const message = err instanceof Error ? err.message : String(err);
  return scrubSecrets(message.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error');
}

/** The console's logs go to a file beside the embedded store: the terminal is the console's. */
export function fileLogger(config: Config): { log: Logger; logFile: string } {
  mkdirSync(config.dataDir, { recursive: true });
  const logFile = join(config.dataDir, 'cockpit.log');
  return { log: createLogger({ level: config.logLevel, destination: pino.destination({ dest: logFile, sync: true }) }), logFile };
}

export interface ConsoleRun {
  config: Config;
  team: TeamConfig;
  log: Logger;
  /** The first line, saying where the console runs. */
  banner: string;
  engine?: InfraEngine;
  codeHost?: CodeHost;
  /** The demo's throwaway store and simulated adapters: `as <person>` may then stand in for Slack's second person. */
  via?: 'console' | 'demo';
  progressIntervalMs?: number;
  /** The customers' forum, in place of Discourse (the demo's). */
  forum?: CockpitDeps['forum'];
  /** Runs once Cockpit is built, before the prompt (the demo starts its forum's outbox and sweeps its tickets). */
  started?(cockpit: Cockpit): Promise<void>;
}

/** The local console over a Cockpit built from `run`; resolves when the person quits. */
export async function runLocalConsole(run: ConsoleRun): Promise<void> {
  const { config, team, log } = run;
  const cockpit = await createCockpit(config, team, { log, engine: run.engine, codeHost: run.codeHost, progressIntervalMs: run.progressIntervalMs, ...(run.forum ? { forum: run.forum } : {}) });
  try {
    await run.started?.(cockpit);
    const actorId = config.consoleUser ?? team.people[0]?.slack ?? 'console';
    process.stdout.write(`${run.banner}\n`);
    await runConsole({ core: cockpit.core, team, log, input: process.stdin, output: process.stdout, actorId, osUser: userInfo().username, via: run.via });
  } finally {
    await cockpit.close();
  }
}

/** Ends the process on a start-up failure: one line on stderr, the whole error in the log. */
export function failedToStart(err: unknown, log: Logger | undefined, config?: Config): never {
  log?.fatal({ err }, 'failed to start');
  const where = log ? (config && !config.slack ? ` (details: ${join(config.dataDir, 'cockpit.log')})` : ' (details in the log)') : '';
  process.stderr.write(`cockpit: cannot start: ${startFailureLine(err, config)}${where}\n`);
  if (!log && err instanceof Error && err.stack) process.stderr.write(`${scrubSecrets(err.stack)}\n`);
  process.exit(EXIT_FAILED);
}

async function main(): Promise<void> {
  const { config, team } = loadOrExit();
  let log: Logger | undefined;
  try {
    if (!config.slack) {
      const file = fileLogger(config);
      log = file.log;
      const where = config.store.kind === 'sqlite' ? config.store.file : 'PostgreSQL';
      await runLocalConsole({ config, team, log, banner: `No Slack tokens set: local console on ${where} (logs: ${file.logFile}).` });
      return;
    }

    log = createLogger({ level: config.logLevel });
    const running = log;
    const cockpit = await createCockpit(config, team, { log });
    try {
      await cockpit.listen();
    } catch (err) {
      await cockpit.close().catch(() => undefined);
      throw err;
    }
    const shutdown = (signal: string) => {
      running.info({ signal }, 'shutting down');
      cockpit.close().then(
        () => process.exit(0),
        (err: unknown) => {
          running.error({ err }, 'unclean shutdown');
          process.exit(EXIT_FAILED);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  } catch (err) {
    failedToStart(err, log, config);
  }
}

/** The entry `npm start` (bin/start.js) calls. */
export function run(): void {
  main().catch((err: unknown) => failedToStart(err, undefined));
}

if (require.main === module) run();
