import { DiscourseClient, type DiscourseConfig } from '../../../bot/integrations/discourse/client';
import { ForumOutboxWorker, type OutboxTiming } from '../../../bot/integrations/discourse/outbox';
import { openStore, type Store } from '../../../bot/store/connect';
import { startFakeDiscourse, type FakeDiscourse, type FakeDiscourseOptions } from '../../fakes/discourse';
import { memoryLogger } from '../../helpers';
import { ManualClock } from '../../store/backends';

export const API_KEY = 'test-discourse-key-0123456789';
export const API_USERNAME = 'cockpit';

/**
 * The fake Discourse, the real client pointed at it, the store and an outbox worker, on one manual clock: the
 * client's rate limiter "sleeps" by moving the clock (and records how long), so nothing here waits in real time.
 */
export interface DiscourseHarness {
  clock: ManualClock;
  fake: FakeDiscourse;
  client: DiscourseClient;
  store: Store;
  worker: ForumOutboxWorker;
  /** Every wait the rate limiter asked for, in ms. */
  sleeps: number[];
  logs: ReturnType<typeof memoryLogger>;
  /** Runs the worker, moving the clock to each next due write, until nothing is pending (or `rounds` pass). */
  drain(rounds?: number): Promise<void>;
  close(): Promise<void>;
}

export async function discourseHarness(
  options: { fake?: FakeDiscourseOptions; client?: Partial<DiscourseConfig>; timing?: Partial<OutboxTiming>; owner?: string; storeFile?: string } = {},
): Promise<DiscourseHarness> {
  const clock = new ManualClock(new Date('2026-11-25T12:00:00.000Z'));
  const fake = await startFakeDiscourse({ apiKey: API_KEY, apiUsername: API_USERNAME, now: () => clock.now(), ...options.fake });
  const sleeps: number[] = [];
  const client = new DiscourseClient(
    { url: fake.url, apiKey: API_KEY, apiUsername: API_USERNAME, requestsPerMinute: 60, timeoutMs: 200, ...options.client },
    {
      clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
      },
    },
  );
  const logs = memoryLogger('debug');
  const store = await openStore({ kind: 'sqlite', file: options.storeFile ?? ':memory:' }, { clock });
  const worker = new ForumOutboxWorker({ outbox: store.forumOutbox, forum: client, clock, log: logs.log, owner: options.owner ?? 'worker-1', random: () => 0.5, timing: options.timing });
  return {
    clock,
    fake,
    client,
    store,
    worker,
    sleeps,
    logs,
    async drain(rounds = 50) {
      for (let i = 0; i < rounds; i++) {
        await worker.deliverDue();
        const next = await store.forumOutbox.nextDueAt();
        if (!next) return;
        if (next > clock.now()) clock.set(next);
      }
      throw new Error(`the outbox did not drain in ${rounds} rounds: ${JSON.stringify(await store.forumOutbox.totals())}`);
    },
    async close() {
      await store.close();
      await fake.close();
    },
  };
}
