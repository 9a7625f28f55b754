/**
 * A Cockpit replica reduced to its forum outbox, for the crash test: opens the store in OUTBOX_STORE_FILE, runs
 * the worker against the Discourse at OUTBOX_DISCOURSE_URL on the real clock, says "ready", and keeps delivering
 * until it is killed (the test sends SIGKILL mid-delivery) or told to stop (SIGTERM).
 */
import { DiscourseClient } from '../../../bot/integrations/discourse/client';
import { ForumOutboxWorker } from '../../../bot/integrations/discourse/outbox';
import { createLogger } from '../../../bot/log';
import { openStore } from '../../../bot/store/connect';

async function main(): Promise<void> {
  const clock = { now: () => new Date() };
  const store = await openStore({ kind: 'sqlite', file: process.env.OUTBOX_STORE_FILE ?? '' }, { clock });
  const client = new DiscourseClient(
    { url: process.env.OUTBOX_DISCOURSE_URL ?? '', apiKey: process.env.OUTBOX_API_KEY ?? '', apiUsername: process.env.OUTBOX_API_USERNAME ?? '', requestsPerMinute: 600, timeoutMs: 5_000 },
    { clock },
  );
  const log = createLogger({ level: 'warn', destination: { write: (line: string) => void process.stderr.write(line) } });
  const worker = new ForumOutboxWorker({
    outbox: store.forumOutbox,
    forum: client,
    clock,
    log,
    owner: process.env.OUTBOX_OWNER ?? `pid-${process.pid}`,
    leases: store.leases,
    timing: { claimMs: Number(process.env.OUTBOX_CLAIM_MS ?? 1000), baseBackoffMs: 50, idleMs: 50, leaseMs: 1000 },
  });
  worker.start();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void worker
      .stop()
      .then(() => store.close())
      .then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
