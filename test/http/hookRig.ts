import type { Server } from 'node:http';
import type { DeliveryLog } from '../../bot/deliveries';
import type { Logger } from '../../handlers/ports';
import { createHttpServer, listen, type RouteHandler } from '../../bot/http/server';
import { createMetrics } from '../../bot/metrics';
import { openStore, type Store } from '../../bot/store/connect';
import { memoryLogger } from '../helpers';

/** What every signed webhook receiver takes: the secret, the delivery log, and the work it hands events to. */
export interface HookDeps<E> {
  readonly secret?: string;
  deliveries: DeliveryLog;
  log: Logger;
  handle(event: E): Promise<void>;
  track(work: Promise<void>): void;
}

/**
 * One webhook receiver on the real HTTP server over an in-memory store, for its own suite: the events it handed
 * on, a way to make the next one fail (`next`), and to take the secret away. Reset after each test.
 */
export interface HookRig<E> {
  readonly base: string;
  readonly handled: E[];
  readonly logger: ReturnType<typeof memoryLogger>;
  /** Runs after each handled event; a rejection is the event's work failing. */
  next?: () => Promise<void>;
  secret: string | undefined;
  /** Waits for the work started after the answers. */
  settle(): Promise<void>;
}

export function useHookRig<E>(path: string, secret: string, build: (deps: HookDeps<E>) => RouteHandler): HookRig<E> {
  let store: Store;
  let server: Server;
  const work = new Set<Promise<void>>();
  const rig = {
    base: '',
    handled: [] as E[],
    logger: memoryLogger('info'),
    secret: secret as string | undefined,
    next: undefined as (() => Promise<void>) | undefined,
    async settle() {
      while (work.size > 0) await Promise.all([...work]);
    },
  };

  beforeAll(async () => {
    store = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock: { now: () => new Date() }, log: rig.logger.log });
    const hook = build({
      deliveries: store.deliveries,
      log: rig.logger.log,
      handle: async (event) => {
        rig.handled.push(event);
        await rig.next?.();
      },
      track: (w) => {
        work.add(w);
        void w.finally(() => work.delete(w));
      },
      get secret() {
        return rig.secret;
      },
    });
    server = createHttpServer({ log: rig.logger.log, metrics: createMetrics(), store: store.probe, hooks: { [path]: hook } });
    rig.base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
  });
  afterEach(async () => {
    await rig.settle();
    rig.handled.length = 0;
    rig.next = undefined;
    rig.secret = secret;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await store.close();
  });
  return rig;
}
