/** How healthy the store and the services Cockpit talks to are, for /readyz and /cockpit status. */

export interface StoreHealth {
  /** `sqlite` or `postgres`. */
  dialect: string;
  reachable: boolean;
  /** 0 when the database could not be asked. */
  migrationsApplied: number;
  migrationsPending: number;
  /** Why it is unhealthy; never contains credentials. */
  error?: string;
}

/** Whether a service Cockpit works with answers now, and what was seen or why it is down (never a secret). */
export interface ServiceHealth {
  up: boolean;
  detail: string;
}
