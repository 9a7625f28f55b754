import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import pino from 'pino';
import { createCockpit } from '../bot/cockpit';
import { loadConfig } from '../bot/config';
import { createLogger } from '../bot/log';
import { loadTeamConfig } from '../bot/teamConfig';

/**
 * One app under benchmark, in its own process so the loader does not share its event loop:
 * `cockpit` (the real composition, embedded store) or `bare` (a bare Bolt app doing the same ack + respond).
 * Both answer through response_url to a sink on loopback. Prints {"port": N} when ready.
 */

export const BENCH_SIGNING_SECRET = 'bench-signing-secret';
const BOT_TOKEN = 'xoxb-bench-0000';

/** Stands in for Slack's Web API and response_url: accepts everything, answers ok. */
async function startSink(): Promise<string> {
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`;
}

async function main(kind: string): Promise<void> {
  const sinkUrl = await startSink();
  let port: number;
  if (kind === 'bare') {
    const app = new App({
      signingSecret: BENCH_SIGNING_SECRET,
      token: BOT_TOKEN,
      botId: 'B0BENCH',
      botUserId: 'U0BENCH',
      clientOptions: { slackApiUrl: sinkUrl },
    });
    app.command('/cockpit', async ({ ack, respond }) => {
      await ack();
      await respond({ response_type: 'ephemeral', text: 'Cockpit commands' });
    });
    const server = (await app.start(0)) as { address(): AddressInfo };
    port = server.address().port;
  } else if (kind === 'cockpit') {
    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: BENCH_SIGNING_SECRET,
      SLACK_API_URL: sinkUrl,
      SLACK_BOT_ID: 'B0BENCH',
      SLACK_BOT_USER_ID: 'U0BENCH',
      // bench/edges.ts signs GitHub deliveries with this; nothing here calls GitHub.
      ...(process.env.BENCH_WEBHOOK_SECRET ? { GITHUB_REPO: 'bench/infra', GITHUB_TOKEN: 'bench-token', GITHUB_WEBHOOK_SECRET: process.env.BENCH_WEBHOOK_SECRET } : {}),
    });
    // Production logging (info, JSON) into /dev/null: its cost is part of what is measured.
    const log = createLogger({ level: 'info', destination: pino.destination('/dev/null') });
    const cockpit = await createCockpit({ ...config, port: 0, store: { kind: 'sqlite', file: ':memory:' } }, loadTeamConfig('cockpit.yml'), { log });
    port = await cockpit.listen('127.0.0.1');
  } else {
    throw new Error(`unknown app kind "${kind}" (cockpit or bare)`);
  }
  process.stdout.write(`${JSON.stringify({ port, sinkUrl })}\n`);
}

if (require.main === module) {
  main(process.argv[2] ?? '').catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
