import { type Kysely, type Migrator, sql } from 'kysely';
import type { StoreProbe } from '../../handlers/ports';
import type { StoreHealth } from '../../handlers/model/health';
import { type Database, type StoreDialect } from './db';

export interface ProbeOptions {
  /** A health check answers within this time even when the database hangs (a black-holed host). */
  timeoutMs: number;
  /** Strings that must never appear in a reported error (the connection password, the URL). */
  secrets: readonly string[];
}

/** Answers /readyz and `/cockpit status`: is the store there, and is its schema current. Never throws. */
export class SqlStoreProbe implements StoreProbe {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
    private readonly migrator: () => Promise<Migrator>,
    private readonly options: ProbeOptions,
  ) {}

  async health(): Promise<StoreHealth> {
    const health: StoreHealth = { dialect: this.dialect, reachable: false, migrationsApplied: 0, migrationsPending: 0 };
    try {
      await withTimeout(
        (async () => {
          await sql`select 1`.execute(this.db);
          health.reachable = true;
          const migrations = await (await this.migrator()).getMigrations();
          health.migrationsApplied = migrations.filter((m) => m.executedAt !== undefined).length;
          health.migrationsPending = migrations.length - health.migrationsApplied;
        })(),
        this.options.timeoutMs,
      );
    } catch (err) {
      // Reachable but failing later (no permission on the migration table) keeps reachable: true.
      health.error = redactCredentials(errorMessage(err), this.options.secrets);
    }
    return health;
  }
}

async function withTimeout(work: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    // node-pg surfaces "connect ECONNREFUSED" for each address tried as one AggregateError with an empty message.
    return err.errors.map(errorMessage).join('; ');
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const message = err.message || err.name;
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(err);
}

/** Removes credentials from a message: every known secret, and the userinfo of any URL in it. */
export function redactCredentials(message: string, secrets: readonly string[]): string {
  let redacted = message;
  for (const secret of secrets) {
    if (secret.length > 0) redacted = redacted.split(secret).join('***');
  }
  return redacted.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1***@');
}
