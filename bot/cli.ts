import { userInfo } from 'node:os';
import type { Writable } from 'node:stream';
import { displayName, type Team } from '../handlers/team';
import { createCockpit, type CockpitDeps } from './cockpit';
import type { Config } from './config';
import { renderReply } from './console/render';
import { fileLogger, loadOrExit } from './main';
import { newRequestId } from './requestId';

/**
 * One-shot CLI: `npx cockpit status`. For scripts, and for the day Slack is down. Runs against the same store
 * as the bot (DATABASE_URL or the embedded file) and never starts the Slack front.
 * Exit codes: 0 done, 1 failed, 2 bad input, 3 refused (locked, not allowed, unavailable).
 */
export interface CliRun {
  config: Config;
  team: Team;
  /** Tests swap the engine or the code host; the log always goes to the file beside the store. */
  deps?: Omit<Partial<CockpitDeps>, 'log'>;
  /** Who runs it, recorded with every act: `cli:<osUser> for <member>`. */
  osUser?: string;
  stdout?: Writable;
  stderr?: Writable;
}

/** Runs one command as the CLI does and answers its exit code; the process wrapper below only exits with it. */
export async function runCli(argv: string[], run: CliRun): Promise<number> {
  const { config, team } = run;
  const { log } = fileLogger(config);
  const cockpit = await createCockpit({ ...config, slack: undefined }, team, { ...run.deps, log });
  const osUser = run.osUser ?? userInfo().username;
  try {
    // The CLI acts for a team member, on the word of whoever runs it (the OS user is recorded with it).
    const actorId = config.consoleUser ?? team.people[0]?.slack ?? `cli:${osUser}`;
    const requestId = newRequestId();
    const text = argv.join(' ');
    const { reply, outcome } = await cockpit.core.execute(text, {
      requestId,
      actor: { id: actorId, name: displayName(team, actorId), via: 'cli', as: osUser },
      front: 'cli',
      // The core adds the command once it has parsed it.
      log: log.child({ requestId, user: actorId }),
    });
    if (reply) {
      const out = renderReply(reply, (id) => displayName(team, id)).text;
      (outcome === 'ok' ? (run.stdout ?? process.stdout) : (run.stderr ?? process.stderr)).write(`${out}\n`);
    }
    return { ok: 0, error: 1, bad_input: 2, refused: 3 }[outcome];
  } finally {
    await cockpit.close();
  }
}

/** The entry `npx cockpit` (bin/cockpit.js) calls. */
export function run(): void {
  const { config, team } = loadOrExit();
  runCli(process.argv.slice(2), { config, team }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`cockpit: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

if (require.main === module) run();
