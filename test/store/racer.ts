/**
 * One contender in the cross-process races of the store suites. Separate processes, so the database alone decides
 * who wins. It says "ready", waits for a line on stdin, then does RACE_ACTION and prints the outcome as JSON:
 *   open     opens the store in RACE_STORE_CONFIG (migrating it) and prints the migrations it applied itself;
 *   lock     opens the store first, then tries to take stack "race" under RACE_REQUEST_ID;
 *   confirm  opens the store first, then presses Deploy on plan "race" (awaiting_confirmation -> running);
 *   deliver  opens the store first, then asks whether delivery "event:race" is seen for the first time.
 */
import { createStore, openStore, type Store, type StoreConfig } from '../../bot/store/connect';

const clock = { now: () => new Date() };

async function main(): Promise<void> {
  const config = JSON.parse(process.env.RACE_STORE_CONFIG ?? '') as StoreConfig;
  const requestId = process.env.RACE_REQUEST_ID ?? `race-${process.pid}`;
  const action = process.env.RACE_ACTION;
  let store: Store | undefined;
  try {
    if (action !== 'open') store = await openStore(config, { clock });
    process.stdout.write('ready\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));

    if (action === 'open') {
      // openStore is createStore + migrate; done in two steps here to see what this process applied itself.
      store = createStore(config, { clock });
      const applied = await store.migrate();
      const health = await store.probe.health();
      process.stdout.write(`${JSON.stringify({ requestId, applied, health })}\n`);
    } else if (action === 'lock' && store) {
      const attempt = await store.locks.acquire({ stack: 'race', holder: requestId, purpose: 'race', requestId, owner: `pid:${process.pid}` });
      const holder = attempt.acquired ? attempt.lock.requestId : attempt.heldBy.requestId;
      process.stdout.write(`${JSON.stringify({ requestId, acquired: attempt.acquired, holder })}\n`);
    } else if (action === 'confirm' && store) {
      const moved = await store.plans.transition('race', ['awaiting_confirmation'], 'running', { confirmedBy: requestId });
      process.stdout.write(`${JSON.stringify({ requestId, won: moved !== undefined })}\n`);
    } else if (action === 'deliver' && store) {
      const first = await store.deliveries.firstSeen('event:race', 60_000);
      process.stdout.write(`${JSON.stringify({ requestId, first })}\n`);
    } else {
      throw new Error(`unknown RACE_ACTION ${action}`);
    }
  } finally {
    await store?.close();
    process.stdin.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
