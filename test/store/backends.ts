import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { openStore, type Store, type StoreConfig } from '../../bot/store/connect';

/** A database of its own for one test: created empty, dropped afterwards. */
export interface ScratchDatabase {
  config: StoreConfig;
  drop(): Promise<void>;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  scratch(): Promise<ScratchDatabase>;
  /** Ends what the backend itself holds open (the admin pool). */
  shutdown(): Promise<void>;
}

export type Unavailable = { name: string; reason: string; required: boolean };

export const sqliteBackend: Backend = {
  name: 'sqlite',
  // A file rather than :memory:, so a test can close the store and open the same database again.
  async scratch() {
    const dir = mkdtempSync(join(tmpdir(), 'cockpit-store-'));
    return {
      config: { kind: 'sqlite', file: join(dir, 'cockpit.db') },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  async shutdown() {},
};

/**
 * PostgreSQL from TEST_DATABASE_URL (`.ci/run` starts a server and sets it). Each scratch database is a fresh
 * schema that the store reaches through the URL's `options=-c search_path=…`, the same way an operator would
 * point Cockpit at a non-public schema, and that is dropped with everything in it afterwards.
 */
export function postgresBackend(env: NodeJS.ProcessEnv = process.env): Backend | Unavailable {
  const baseUrl = env.TEST_DATABASE_URL;
  if (!baseUrl) {
    return {
      name: 'postgres',
      reason: 'TEST_DATABASE_URL is not set (bash .ci/postgres.sh npx jest test/store runs it against a local server)',
      // CI must exercise PostgreSQL: there a missing URL is a broken .ci/run, not a reason to skip.
      required: env.CI === 'true',
    };
  }
  const admin = new Pool({ connectionString: baseUrl, max: 2 });
  return {
    name: 'postgres',
    async scratch() {
      const schema = `cockpit_test_${process.pid}_${randomBytes(4).toString('hex')}`;
      await admin.query(`create schema "${schema}"`);
      const url = new URL(baseUrl);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return {
        config: { kind: 'postgres', url: url.toString() },
        async drop() {
          await admin.query(`drop schema "${schema}" cascade`);
        },
      };
    },
    async shutdown() {
      await admin.end();
    },
  };
}

export function isUnavailable(backend: Backend | Unavailable): backend is Unavailable {
  return 'reason' in backend;
}

/**
 * The backends a store suite runs over: SQLite always, PostgreSQL when it is available. When it is not, a
 * skipped test says why (a failing one under CI), so a green run never hides a dialect that did not run.
 */
export function backendsUnderTest(env: NodeJS.ProcessEnv = process.env): Backend[] {
  const postgres = postgresBackend(env);
  if (!isUnavailable(postgres)) return [sqliteBackend, postgres];
  if (postgres.required) {
    describe('postgres store', () => {
      it('runs under CI', () => {
        throw new Error(`the PostgreSQL suite cannot run: ${postgres.reason}`);
      });
    });
  } else {
    console.warn(`store suite: PostgreSQL variant SKIPPED: ${postgres.reason}`);
    describe('postgres store', () => {
      it.skip(`SKIPPED: ${postgres.reason}`, () => undefined);
    });
  }
  return [sqliteBackend];
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(private current = new Date('2026-05-20T09:00:00.000Z')) {}

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }

  set(date: Date): void {
    this.current = new Date(date);
  }
}

/**
 * The fixture every store suite shares, registered in the calling `describe`: a fresh database per test on
 * `backend`, a manual clock, and `reopen()` for another handle on the same database, as a second replica holds.
 * Read its fields inside tests and hooks (they change per test).
 */
export function useScratchStore(backend: Backend): { clock: ManualClock; scratch: ScratchDatabase; store: Store; reopen(config?: StoreConfig): Promise<Store> } {
  const opened: Store[] = [];
  const fixture = {
    reopen: async (config: StoreConfig = fixture.scratch.config): Promise<Store> => {
      const other = await openStore(config, { clock: fixture.clock });
      opened.push(other);
      return other;
    },
  } as { clock: ManualClock; scratch: ScratchDatabase; store: Store; reopen(config?: StoreConfig): Promise<Store> };
  beforeEach(async () => {
    fixture.clock = new ManualClock();
    fixture.scratch = await backend.scratch();
    fixture.store = await fixture.reopen();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await fixture.scratch.drop();
  });
  afterAll(() => backend.shutdown());
  return fixture;
}
