import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { AUDIT_DETAIL_MAX_BYTES, AUDIT_QUERY_DEFAULT_LIMIT, AUDIT_QUERY_MAX_LIMIT } from '../../bot/store/auditLog';
import { createStore, openStore, type Store } from '../../bot/store/connect';
import { storeMigrations } from '../../bot/store/migrations';
import { redactCredentials } from '../../bot/store/probe';
import type { StoreHealth } from '../../handlers/model/health';
import { backendsUnderTest, ManualClock, type ScratchDatabase, useScratchStore } from './backends';
import { race } from './race';

const MIGRATION_COUNT = Object.keys(storeMigrations('sqlite')).length;

const backends = backendsUnderTest();

describe.each(backends)('$name store', (backend) => {
  const fixture = useScratchStore(backend);
  let clock: ManualClock;
  let scratch: ScratchDatabase;
  let store: Store;
  const reopen = fixture.reopen;
  beforeEach(() => ({ clock, scratch, store } = fixture));

  describe('migrations', () => {
    it('applies every migration on first open and reports none pending', async () => {
      expect(await store.probe.health()).toEqual({
        dialect: backend.name,
        reachable: true,
        migrationsApplied: MIGRATION_COUNT,
        migrationsPending: 0,
      });
    });

    it('applies nothing on re-open and keeps the data', async () => {
      await store.audit.record({ requestId: 'r1', actor: 'U1', action: 'deploy.preview', target: 'staging', outcome: 'started' });
      await store.close();

      const again = await reopen();
      expect(await again.migrate()).toEqual([]);
      expect(await again.probe.health()).toMatchObject({ migrationsApplied: MIGRATION_COUNT, migrationsPending: 0 });
      expect(await again.audit.query()).toHaveLength(1);
    });

    it('reports pending migrations until they are applied', async () => {
      const fresh = await backend.scratch();
      const unmigrated = createStore(fresh.config, { clock });
      try {
        expect(await unmigrated.probe.health()).toMatchObject({
          reachable: true,
          migrationsApplied: 0,
          migrationsPending: MIGRATION_COUNT,
        });
        expect(await unmigrated.migrate()).toEqual(Object.keys(storeMigrations(backend.name)));
        expect(await unmigrated.probe.health()).toMatchObject({ migrationsApplied: MIGRATION_COUNT, migrationsPending: 0 });
      } finally {
        await unmigrated.close();
        await fresh.drop();
      }
    });

    it('lets several replicas start at once on an empty database, one of them migrating it', async () => {
      const fresh = await backend.scratch();
      try {
        const results = await race<{ applied: string[]; health: StoreHealth }>('open', fresh.config, 3);
        expect(results.flatMap((r) => r.applied)).toEqual(Object.keys(storeMigrations(backend.name)));
        for (const { health } of results) expect(health).toMatchObject({ reachable: true, migrationsApplied: MIGRATION_COUNT, migrationsPending: 0 });
      } finally {
        await fresh.drop();
      }
    }, 60_000);
  });

  describe('audit log', () => {
    it('round-trips every field, with the clock as the default time', async () => {
      const detail = { reason: 'hotfix “prod”', count: 3, nested: { ok: true, list: [1, 'two', null] } };
      await store.audit.record({ requestId: 'r1', actor: 'U1', action: 'deploy.apply', target: 'prod', outcome: 'succeeded', detail });

      expect(await store.audit.query()).toEqual([
        { at: clock.now(), requestId: 'r1', actor: 'U1', action: 'deploy.apply', target: 'prod', outcome: 'succeeded', detail },
      ]);
    });

    it('keeps an explicit time to the millisecond', async () => {
      const at = new Date('2026-02-03T04:05:06.789Z');
      await store.audit.record({ at, requestId: 'r1', actor: 'U1', action: 'a', target: '', outcome: 'requested' });
      const [entry] = await store.audit.query();
      expect(entry?.at.toISOString()).toBe('2026-02-03T04:05:06.789Z');
      expect(entry?.detail).toEqual({});
    });

    it('returns newest first by time, whatever the insertion order', async () => {
      const times = ['2026-01-01T00:00:00.100Z', '2025-12-31T23:59:59.999Z', '2026-01-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z'];
      for (const [i, iso] of times.entries()) {
        await store.audit.record({ at: new Date(iso), requestId: `r${i}`, actor: 'U1', action: 'a', target: 't', outcome: 'started' });
      }
      const got = (await store.audit.query()).map((e) => e.at.toISOString());
      expect(got).toEqual([...times].sort().reverse());
    });

    it('breaks ties within one millisecond by insertion order, newest first', async () => {
      for (const outcome of ['requested', 'started', 'succeeded'] as const) {
        await store.audit.record({ requestId: 'r1', actor: 'U1', action: 'deploy', target: 'staging', outcome });
      }
      expect((await store.audit.query()).map((e) => e.outcome)).toEqual(['succeeded', 'started', 'requested']);
    });

    it('filters by target, action and request id, alone and together', async () => {
      const rows = [
        { requestId: 'r1', action: 'deploy.preview', target: 'staging' },
        { requestId: 'r1', action: 'deploy.apply', target: 'staging' },
        { requestId: 'r2', action: 'deploy.preview', target: 'prod' },
        { requestId: 'r3', action: 'lock.break', target: 'staging' },
      ];
      for (const row of rows) {
        clock.advance(1000);
        await store.audit.record({ ...row, actor: 'U1', outcome: 'succeeded' });
      }
      const ids = async (q: Parameters<Store['audit']['query']>[0]) =>
        (await store.audit.query(q)).map((e) => `${e.requestId}:${e.action}:${e.target}`);

      expect(await ids({ target: 'staging' })).toEqual(['r3:lock.break:staging', 'r1:deploy.apply:staging', 'r1:deploy.preview:staging']);
      expect(await ids({ action: 'deploy.preview' })).toEqual(['r2:deploy.preview:prod', 'r1:deploy.preview:staging']);
      expect(await ids({ requestId: 'r1' })).toEqual(['r1:deploy.apply:staging', 'r1:deploy.preview:staging']);
      expect(await ids({ target: 'staging', action: 'deploy.preview', requestId: 'r1' })).toEqual(['r1:deploy.preview:staging']);
      expect(await ids({ target: 'nowhere' })).toEqual([]);
      expect(await ids({ target: 'staging', limit: 2 })).toEqual(['r3:lock.break:staging', 'r1:deploy.apply:staging']);
    });

    it('caps the number of entries returned', async () => {
      await store.db
        .insertInto('audit_log')
        .values(
          Array.from({ length: AUDIT_QUERY_MAX_LIMIT + 5 }, (_, i) => ({
            at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(),
            request_id: `r${i}`,
            actor: 'U1',
            action: 'a',
            target: 't',
            outcome: 'started',
            detail: '{}',
          })),
        )
        .execute();
      expect(await store.audit.query()).toHaveLength(AUDIT_QUERY_DEFAULT_LIMIT);
      expect(await store.audit.query({ limit: 10_000 })).toHaveLength(AUDIT_QUERY_MAX_LIMIT);
      expect(await store.audit.query({ limit: 0 })).toHaveLength(1);
      expect((await store.audit.query({ limit: 3 }))[0]?.requestId).toBe(`r${AUDIT_QUERY_MAX_LIMIT + 4}`);
    });

    it('still records an entry whose detail is too big or not JSON, with a marker instead', async () => {
      await store.audit.record({ requestId: 'big', actor: 'U1', action: 'a', target: 't', outcome: 'failed', detail: { log: 'x'.repeat(AUDIT_DETAIL_MAX_BYTES) } });
      await store.audit.record({ requestId: 'odd', actor: 'U1', action: 'a', target: 't', outcome: 'failed', detail: { n: 1n } });

      const [big] = await store.audit.query({ requestId: 'big' });
      expect(big?.detail).toEqual({ truncated: true, bytes: expect.any(Number), keys: ['log'] });
      const [odd] = await store.audit.query({ requestId: 'odd' });
      expect(odd?.detail).toMatchObject({ unserializable: true, reason: expect.stringMatching(/BigInt/) });
    });
  });

  describe('stack locks', () => {
    const deploy = { stack: 'staging', holder: 'U1', purpose: 'deploy', requestId: 'r1', owner: 'replica-a' };
    const drill = { stack: 'staging', holder: 'U2', purpose: 'drill', requestId: 'r2', owner: 'replica-b' };

    it('gives a free stack to the first request and refuses the next, naming the holder', async () => {
      const first = await store.locks.acquire(deploy);
      expect(first).toEqual({ acquired: true, lock: { ...deploy, acquiredAt: clock.now(), heartbeatAt: clock.now() } });

      clock.advance(5000);
      const second = await store.locks.acquire(drill);
      expect(second).toEqual({ acquired: false, heldBy: { ...deploy, acquiredAt: expect.any(Date), heartbeatAt: expect.any(Date) } });
      expect(await store.locks.get('staging')).toMatchObject({ requestId: 'r1', purpose: 'deploy' });
    });

    it('lets the same request acquire again without losing its original time', async () => {
      const first = await store.locks.acquire(deploy);
      clock.advance(1000);
      const again = await store.locks.acquire(deploy);
      expect(again).toEqual(first);
    });

    it('keeps stacks independent', async () => {
      expect((await store.locks.acquire(deploy)).acquired).toBe(true);
      expect((await store.locks.acquire({ ...drill, stack: 'prod' })).acquired).toBe(true);
      expect((await store.locks.list()).map((l) => `${l.stack}:${l.requestId}`)).toEqual(['prod:r2', 'staging:r1']);
    });

    it('renews the heartbeat for the holder only', async () => {
      await store.locks.acquire(deploy);
      const acquiredAt = clock.now();
      clock.advance(30_000);

      expect(await store.locks.heartbeat('staging', 'r1')).toBe(true);
      expect(await store.locks.get('staging')).toMatchObject({ acquiredAt, heartbeatAt: clock.now() });

      clock.advance(30_000);
      expect(await store.locks.heartbeat('staging', 'r2')).toBe(false);
      expect(await store.locks.heartbeat('prod', 'r1')).toBe(false);
      expect((await store.locks.get('staging'))?.heartbeatAt).toEqual(new Date(acquiredAt.getTime() + 30_000));
    });

    it('is released only by the request that holds it', async () => {
      await store.locks.acquire(deploy);

      expect(await store.locks.release('staging', 'r2')).toBe(false);
      expect(await store.locks.get('staging')).toBeDefined();

      expect(await store.locks.release('staging', 'r1')).toBe(true);
      expect(await store.locks.get('staging')).toBeUndefined();
      expect(await store.locks.release('staging', 'r1')).toBe(false);
      expect((await store.locks.acquire(drill)).acquired).toBe(true);
    });

    it('can be broken by anyone, reporting what was removed, after which the old holder notices', async () => {
      await store.locks.acquire(deploy);

      expect(await store.locks.forceRelease('staging')).toMatchObject({ requestId: 'r1', holder: 'U1', owner: 'replica-a' });
      expect(await store.locks.forceRelease('staging')).toBeUndefined();
      expect(await store.locks.heartbeat('staging', 'r1')).toBe(false);
      expect((await store.locks.acquire(drill)).acquired).toBe(true);
      expect(await store.locks.release('staging', 'r1')).toBe(false);
    });

    it('lists nothing when no stack is locked', async () => {
      expect(await store.locks.list()).toEqual([]);
      expect(await store.locks.get('staging')).toBeUndefined();
    });

    it('gives a stack to exactly one of many concurrent requests across replicas', async () => {
      const replicas = [store, await reopen(), await reopen()];
      const attempts = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          replicas[i % replicas.length]!.locks.acquire({ ...deploy, holder: `U${i}`, requestId: `r${i}`, owner: `replica-${i % 3}` }),
        ),
      );
      const winners = attempts.flatMap((a) => (a.acquired ? [a.lock.requestId] : []));
      expect(winners).toHaveLength(1);
      for (const attempt of attempts) {
        if (!attempt.acquired) expect(attempt.heldBy.requestId).toBe(winners[0]);
      }
      expect((await store.locks.get('staging'))?.requestId).toBe(winners[0]);
    });

    it('gives a stack to exactly one of several racing processes', async () => {
      const results = await race<{ acquired: boolean; holder: string }>('lock', scratch.config, 4);
      expect(results.filter((r) => r.acquired)).toHaveLength(1);
      const winner = results.find((r) => r.acquired)!.requestId;
      expect(results.every((r) => r.holder === winner)).toBe(true);
      expect((await store.locks.get('race'))?.requestId).toBe(winner);
    }, 60_000);
  });

  describe('leases', () => {
    it('is taken when free and refused to another owner until it expires', async () => {
      expect(await store.leases.tryAcquire('cron', 'replica-a', 10_000)).toBe(true);
      expect(await store.leases.tryAcquire('cron', 'replica-b', 10_000)).toBe(false);

      clock.advance(9_999);
      expect(await store.leases.tryAcquire('cron', 'replica-b', 10_000)).toBe(false);
      clock.advance(1);
      expect(await store.leases.tryAcquire('cron', 'replica-b', 10_000)).toBe(true);
      expect(await store.leases.tryAcquire('cron', 'replica-a', 10_000)).toBe(false);
    });

    it('is extended by its owner from now, not from the old expiry', async () => {
      expect(await store.leases.tryAcquire('cron', 'replica-a', 10_000)).toBe(true);
      clock.advance(8_000);
      expect(await store.leases.tryAcquire('cron', 'replica-a', 10_000)).toBe(true);

      clock.advance(8_000); // past the first expiry, within the renewed one
      expect(await store.leases.tryAcquire('cron', 'replica-b', 10_000)).toBe(false);
      clock.advance(2_000);
      expect(await store.leases.tryAcquire('cron', 'replica-b', 10_000)).toBe(true);
    });

    it('is released only by its owner', async () => {
      await store.leases.tryAcquire('cron', 'replica-a', 60_000);
      await store.leases.release('cron', 'replica-b');
      expect(await store.leases.tryAcquire('cron', 'replica-b', 60_000)).toBe(false);

      await store.leases.release('cron', 'replica-a');
      expect(await store.leases.tryAcquire('cron', 'replica-b', 60_000)).toBe(true);
    });

    it('keeps names independent', async () => {
      expect(await store.leases.tryAcquire('cron', 'replica-a', 60_000)).toBe(true);
      expect(await store.leases.tryAcquire('digest', 'replica-b', 60_000)).toBe(true);
    });

    it('goes to exactly one of many concurrent owners', async () => {
      const replicas = [store, await reopen(), await reopen()];
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => replicas[i % replicas.length]!.leases.tryAcquire('cron', `replica-${i}`, 60_000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('refuses a ttl that is not a positive number', async () => {
      await expect(store.leases.tryAcquire('cron', 'replica-a', 0)).rejects.toThrow(RangeError);
      await expect(store.leases.tryAcquire('cron', 'replica-a', Number.NaN)).rejects.toThrow(RangeError);
    });
  });

  describe('health', () => {
    it('reports unreachable instead of throwing once the store is closed', async () => {
      await store.close();
      const health = await store.probe.health();
      expect(health).toMatchObject({ dialect: backend.name, reachable: false, error: expect.any(String) });
    });
  });
});

describe('sqlite specifics', () => {
  const clock = new ManualClock();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cockpit-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the directory of the database file and uses WAL with a busy timeout', async () => {
    const file = join(dir, 'nested', 'data', 'cockpit.db');
    const store = await openStore({ kind: 'sqlite', file }, { clock }, { busyTimeoutMs: 7000 });
    try {
      expect(existsSync(file)).toBe(true);
      const { rows: journal } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
      expect(journal[0]?.journal_mode).toBe('wal');
      const { rows: busy } = await sql<{ timeout: number }>`pragma busy_timeout`.execute(store.db);
      expect(busy[0]?.timeout).toBe(7000);
    } finally {
      await store.close();
    }
  });

  it('works in memory, each store its own database', async () => {
    const a = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
    const b = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
    try {
      expect((await a.locks.acquire({ stack: 's', holder: 'U1', purpose: 'deploy', requestId: 'r1', owner: 'o' })).acquired).toBe(true);
      expect((await b.locks.acquire({ stack: 's', holder: 'U2', purpose: 'deploy', requestId: 'r2', owner: 'o' })).acquired).toBe(true);
      expect(await a.probe.health()).toMatchObject({ dialect: 'sqlite', reachable: true, migrationsPending: 0 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('closes a store that never ran a query, and closing twice is harmless', async () => {
    const store = createStore({ kind: 'sqlite', file: join(dir, 'cockpit.db') }, { clock });
    await store.close();
    await store.close();
    expect(await store.probe.health()).toMatchObject({ reachable: false });
  });
});

describe('postgres that cannot be reached', () => {
  const clock = new ManualClock();
  const password = 'hunter2-s3cret';
  const servers: Server[] = [];
  const sockets = new Set<Socket>();

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** A port on which nothing listens. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  /** A port that accepts connections and never says a word, like a black-holed database host. */
  async function silentPort(): Promise<number> {
    const server = createServer((socket) => sockets.add(socket));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }

  it('reports unreachable with the reason and no credentials', async () => {
    const url = `postgres://cockpit:${password}@127.0.0.1:${await closedPort()}/cockpit`;
    const store = createStore({ kind: 'postgres', url }, { clock });
    try {
      const health = await store.probe.health();
      expect(health).toEqual({ dialect: 'postgres', reachable: false, migrationsApplied: 0, migrationsPending: 0, error: expect.stringMatching(/ECONNREFUSED/) });
      expect(health.error).not.toContain(password);
    } finally {
      await store.close();
    }
  });

  it('answers within its timeout when the server never replies', async () => {
    const url = `postgres://cockpit:${password}@127.0.0.1:${await silentPort()}/cockpit`;
    const store = createStore({ kind: 'postgres', url }, { clock }, { healthTimeoutMs: 300, connectTimeoutMs: 1500 });
    try {
      const started = Date.now();
      const health = await store.probe.health();
      expect(Date.now() - started).toBeLessThan(1500);
      expect(health).toMatchObject({ reachable: false, error: 'no answer within 300 ms' });
    } finally {
      await store.close();
    }
  });

  it('fails to open with a message that names the problem and not the password', async () => {
    const url = `postgres://cockpit:${password}@127.0.0.1:${await closedPort()}/cockpit`;
    const opening = openStore({ kind: 'postgres', url }, { clock });
    await expect(opening).rejects.toThrow(/^cannot open the postgres store: .*ECONNREFUSED/);
    await opening.catch((err: Error) => expect(err.message).not.toContain(password));
  });
});

describe('redactCredentials', () => {
  it('removes known secrets and the userinfo of any URL', () => {
    expect(redactCredentials('auth failed for p@ss and tok', ['p@ss'])).toBe('auth failed for *** and tok');
    expect(redactCredentials('cannot reach postgresql://admin:pw@db.internal:5432/x', [])).toBe('cannot reach postgresql://***@db.internal:5432/x');
    expect(redactCredentials('nothing here', ['', 'absent'])).toBe('nothing here');
  });
});
