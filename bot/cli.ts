import { userInfo } from 'node:os';
import { displayName } from '../handlers/team';
import { createCockpit } from './cockpit';
import { renderReply } from './console/render';
import { fileLogger, loadOrExit } from './main';
import { newRequestId } from './requestId';

/**
 * One-shot CLI: `npx cockpit status`. For scripts, and for the day Slack is down. Runs against the same store
 * as the bot (DATABASE_URL or the embedded file) and never starts the Slack front.
 * Exit codes: 0 done, 1 failed, 2 bad input, 3 refused (locked, not allowed, unavailable).
 */
async function cli(argv: string[]): Promise<number> {
  const { config, team } = loadOrExit();
  const { log } = fileLogger(config);
  const cockpit = await createCockpit({ ...config, slack: undefined }, team, { log });
  try {
    // The CLI acts for a team member, on the word of whoever runs it (the OS user is recorded with it).
    const actorId = config.consoleUser ?? team.people[0]?.slack ?? `cli:${userInfo().username}`;
    const requestId = newRequestId();
    const text = argv.join(' ');
    const { reply, outcome } = await cockpit.core.execute(text, {
      requestId,
      actor: { id: actorId, name: displayName(team, actorId), via: 'cli', as: userInfo().username },
      front: 'cli',
      // The core adds the command once it has parsed it.
      log: log.child({ requestId, user: actorId }),
    });
    if (reply) {
      const out = renderReply(reply, (id) => displayName(team, id)).text;
      (outcome === 'ok' ? process.stdout : process.stderr).write(`${out}\n`);
    }
    return { ok: 0, error: 1, bad_input: 2, refused: 3 }[outcome];
  } finally {
    await cockpit.close();
  }
}

cli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cockpit: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
