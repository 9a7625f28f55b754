import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createCockpit } from './cockpit';
import { ConfigError, loadConfig, type Config } from './config';
import { runConsole } from './console/repl';
import { createLogger } from './log';
import { loadTeamConfig, TeamConfigError, type TeamConfig } from './teamConfig';

/**
 * The composition root. With Slack tokens: the Slack front and HTTP endpoints. Without: the local console on
 * the embedded store, so `npm ci && npm start` works on a fresh machine.
 */

/** sysexits' EX_CONFIG: the configuration, not the program, is at fault. */
const EXIT_CONFIG = 78;

export function loadOrExit(): { config: Config; team: TeamConfig } {
  try {
    const config = loadConfig();
    return { config, team: loadTeamConfig(config.teamConfigPath) };
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TeamConfigError) {
      process.stderr.write(`cockpit: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const { config, team } = loadOrExit();

  if (!config.slack) {
    // The terminal is the console's: logs go to a file beside the embedded store.
    mkdirSync(config.dataDir, { recursive: true });
    const logFile = join(config.dataDir, 'cockpit.log');
    const log = createLogger({ level: config.logLevel, destination: pino.destination({ dest: logFile, sync: true }) });
    const cockpit = await createCockpit(config, team, { log });
    const actorId = config.consoleUser ?? team.people[0]?.slack ?? 'console';
    process.stdout.write(`No Slack tokens set: local console on ${config.store.kind === 'sqlite' ? config.store.file : 'PostgreSQL'} (logs: ${logFile}).\n`);
    await runConsole({ core: cockpit.core, team, log, input: process.stdin, output: process.stdout, actorId, osUser: userInfo().username });
    await cockpit.close();
    return;
  }

  const log = createLogger({ level: config.logLevel });
  const cockpit = await createCockpit(config, team, { log });
  await cockpit.listen();
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    cockpit.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`cockpit: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
