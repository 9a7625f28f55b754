import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type MigrationResultSet, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type * as Pg from 'pg';
import type { AuditLog, Clock, DeployPlans, DrillHistory, Environments, IncidentRecords, MergeQueue, Logger, StackLocks, StoreProbe } from '../../handlers/ports';
import type { DeliveryLog } from '../deliveries';
import type { Leases } from '../scheduler/leases';
import { type Config } from '../config';
import { SqlAlertStore, SqlHeartbeats } from './alerts';
import { SqlAuditLog } from './auditLog';
import { type Database, type StoreDialect } from './db';
import { DELIVERY_PURGE_EVERY, SqlDeliveryLog } from './deliveryLog';
import { SqlDeployPlans } from './deployPlans';
import { SqlDrillHistory } from './drillHistory';
import { SqlEnvironments } from './environments';
import { SqlForumOutbox } from './forumOutbox';
import { SqlIncidentRecords } from './incidentBoard';
import { SqlLeases } from './leases';
import { SqlMergeQueue } from './mergeQueue';
import { InCodeMigrationProvider, storeMigrations } from './migrations';
import { SqlOnCallAnnouncements, SqlOnCallOverrides } from './oncall';
import { SqlPageStore } from './pages';
import { SqlStoreProbe, errorMessage, redactCredentials } from './probe';
import { SqlStackLocks } from './stackLocks';
import { SqlTicketRecords } from './tickets';

export type StoreConfig = Config['store'];

export interface StoreDeps {
  clock: Clock;
  log?: Logger;
}

export interface StoreOptions {
  /** How long a new PostgreSQL connection may take before it fails; pg's own default waits forever. */
  connectTimeoutMs?: number;
  /** Largest PostgreSQL pool. */
  poolSize?: number;
  /** How long SQLite waits for another process's write lock before giving up with SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** Upper bound for `probe.health()`. */
  healthTimeoutMs?: number;
  /** How many `deliveries.firstSeen` calls between two purges of expired keys. */
  deliveryPurgeEvery?: number;
}

export interface Store {
  dialect: StoreDialect;
  db: Kysely<Database>;
  audit: AuditLog;
  locks: StackLocks;
  leases: Leases;
  plans: DeployPlans;
  drills: DrillHistory;
  /** Incidents with their timelines; `open` is the board the deploy freeze reads. */
  incidents: IncidentRecords;
  /** Writes to the status forum waiting for the worker, shared by every capability that posts there. */
  forumOutbox: SqlForumOutbox;
  /** Slack delivery keys, shared by every replica. */
  deliveries: DeliveryLog;
  /** Ephemeral and scheduled stacks: up or down, and when they are torn down. */
  environments: Environments;
  /** Merges waiting for their stack's lock. */
  merges: MergeQueue;
  /** On-call overrides and swaps, and what each level was last announced as. */
  overrides: SqlOnCallOverrides;
  announcements: SqlOnCallAnnouncements;
  /** Pages and their outbox of notifications. */
  pages: SqlPageStore;
  /** Alertmanager's alert groups and the clusters' heartbeats. */
  alerts: SqlAlertStore;
  heartbeats: SqlHeartbeats;
  /** Customer support tickets; their forum writes share the forum outbox. */
  tickets: SqlTicketRecords;
  probe: StoreProbe;
  /** Applies pending migrations; returns the names applied. openStore has already done it. */
  migrate(): Promise<string[]>;
  /** Ends the pool or closes the file. Safe to call twice. */
  close(): Promise<void>;
}

const defaults = { connectTimeoutMs: 5_000, poolSize: 10, busyTimeoutMs: 5_000, healthTimeoutMs: 5_000, deliveryPurgeEvery: DELIVERY_PURGE_EVERY };

/**
 * Opens the store and brings its schema up to date, as the process does at start-up. Several replicas may
 * start together: Kysely's Migrator serialises them with an advisory lock on PostgreSQL, and an immediate
 * transaction does it on SQLite.
 */
export async function openStore(config: StoreConfig, deps: StoreDeps, options: StoreOptions = {}): Promise<Store> {
  const store = createStore(config, deps, options);
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

/**
 * Builds the store without touching the schema (nor, for PostgreSQL, the network: the pool connects on first
 * use). Most callers want openStore; this one lets a probe report on a database that cannot be migrated.
 */
export function createStore(config: StoreConfig, deps: StoreDeps, options: StoreOptions = {}): Store {
  const opts = { ...defaults, ...options };
  const { db, secrets, describe, afterDestroy } = config.kind === 'sqlite' ? sqliteDb(config.file, opts) : postgresDb(config.url, opts, deps.log);
  const dialect: StoreDialect = config.kind;
  const redact = (err: unknown) => redactCredentials(errorMessage(err), secrets);

  let migrator: Promise<Migrator> | undefined;
  const getMigrator = (): Promise<Migrator> => {
    migrator ??= buildMigrator(db, dialect).catch((err: unknown) => {
      migrator = undefined; // a database that was down may come back: look again next time
      throw err;
    });
    return migrator;
  };

  let closed = false;
  const store: Store = {
    dialect,
    db,
    audit: new SqlAuditLog(db, deps.clock),
    locks: new SqlStackLocks(db, deps.clock),
    leases: new SqlLeases(db, deps.clock),
    plans: new SqlDeployPlans(db, deps.clock),
    drills: new SqlDrillHistory(db),
    incidents: new SqlIncidentRecords(db, deps.clock),
    forumOutbox: new SqlForumOutbox(db, deps.clock),
    deliveries: new SqlDeliveryLog(db, deps.clock, { purgeEvery: opts.deliveryPurgeEvery, log: deps.log, secrets }),
    environments: new SqlEnvironments(db, deps.clock),
    merges: new SqlMergeQueue(db),
    overrides: new SqlOnCallOverrides(db),
    announcements: new SqlOnCallAnnouncements(db),
    pages: new SqlPageStore(db, deps.clock),
    alerts: new SqlAlertStore(db),
    heartbeats: new SqlHeartbeats(db),
    tickets: new SqlTicketRecords(db, deps.clock),
    probe: new SqlStoreProbe(db, dialect, getMigrator, { timeoutMs: opts.healthTimeoutMs, secrets }),
    async migrate() {
      try {
        const applied = await migrateToLatest(db, dialect, getMigrator);
        for (const name of applied) deps.log?.info({ dialect, migration: name }, 'store migration applied');
        deps.log?.info({ dialect, ...describe, applied: applied.length }, 'store ready');
        return applied;
      } catch (err) {
        throw new Error(`cannot open the ${dialect} store: ${redact(err)}`);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      afterDestroy?.();
    },
  };
  return store;
}

function provider(dialect: StoreDialect): InCodeMigrationProvider {
  return new InCodeMigrationProvider(storeMigrations(dialect));
}

async function buildMigrator(db: Kysely<Database>, dialect: StoreDialect): Promise<Migrator> {
  let migrationTableSchema: string | undefined;
  if (dialect === 'postgres') {
    // Kysely looks for its migration table in every schema unless told which one, so a database holding another
    // Cockpit schema (a test run, a second environment) would fool it. Pin it to the schema our tables go to.
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    migrationTableSchema = rows[0]?.schema ?? undefined;
    if (!migrationTableSchema) throw new Error('the search_path names no existing schema');
  }
  return new Migrator({ db, provider: provider(dialect), migrationTableSchema });
}

async function migrateToLatest(db: Kysely<Database>, dialect: StoreDialect, getMigrator: () => Promise<Migrator>): Promise<string[]> {
  const { error, results = [] } = dialect === 'sqlite' ? await migrateSqlite(db) : await (await getMigrator()).migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error');
    throw failed ? new Error(`migration ${failed.migrationName} failed: ${errorMessage(error)}`) : error;
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Kysely's SQLite transaction is a deferred BEGIN, so two processes migrating one file both read "nothing
 * applied" and the second fails on "table already exists". BEGIN IMMEDIATE takes the write lock before that
 * read (waiting up to the busy timeout), so the second process reads the first one's finished work instead.
 */
async function migrateSqlite(db: Kysely<Database>): Promise<MigrationResultSet> {
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    let outcome: MigrationResultSet | undefined;
    try {
      outcome = await new Migrator({ db: connection, provider: provider('sqlite'), disableTransactions: true }).migrateToLatest();
    } finally {
      await sql.raw(outcome && !outcome.error ? 'commit' : 'rollback').execute(connection);
    }
    return outcome;
  });
}

type Opened = {
  db: Kysely<Database>;
  secrets: string[];
  describe: Record<string, string>;
  /** Runs after Kysely's destroy, which leaves a driver it never started alone. */
  afterDestroy?: () => void;
};

function sqliteDb(file: string, opts: typeof defaults): Opened {
  const inMemory = file === ':memory:' || file === '';
  if (!inMemory) mkdirSync(dirname(resolve(file)), { recursive: true, mode: 0o700 });
  const database = new BetterSqlite3(file, { timeout: opts.busyTimeoutMs });
  try {
    // WAL lets readers (a status command) run while a writer (an audit entry) commits; NORMAL sync is durable
    // across process crashes in WAL mode and loses at most the last commits on power loss.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
  } catch (err) {
    database.close();
    throw err;
  }
  return {
    db: new Kysely<Database>({ dialect: new SqliteDialect({ database }) }),
    secrets: [],
    describe: { file },
    afterDestroy: () => {
      if (database.open) database.close();
    },
  };
}

function postgresDb(url: string, opts: typeof defaults, log: Logger | undefined): Opened {
  const secrets = credentialsIn(url);
  // pg is loaded when the pool is first needed: the embedded store (the console, every CLI call) never needs it.
  const pool = async () => {
    const pg: typeof Pg & { default?: typeof Pg } = await import('pg');
    const created = new (pg.Pool ?? pg.default!.Pool)({
      connectionString: url,
      max: opts.poolSize,
      connectionTimeoutMillis: opts.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'cockpit',
    });
    // An idle connection dropped by the server (restart, failover) is reported here; unheard, it kills the process.
    created.on('error', (err) => log?.warn({ err: redactCredentials(errorMessage(err), secrets) }, 'idle store connection lost'));
    return created;
  };
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), secrets, describe: describePostgres(url) };
}

/** The URL itself and its password, raw and decoded, longest first so the URL is replaced whole. */
function credentialsIn(url: string): string[] {
  const secrets = [url];
  try {
    const password = new URL(url).password;
    if (password) secrets.push(password, decodeURIComponent(password));
  } catch {
    // Not a parseable URL: the whole string is still redacted.
  }
  return [...new Set(secrets)].sort((a, b) => b.length - a.length);
}

function describePostgres(url: string): Record<string, string> {
  try {
    const parsed = new URL(url);
    return { host: parsed.host, database: parsed.pathname.replace(/^\//, '') };
  } catch {
    return {};
  }
}
