/** A named, expiring lease: lets one replica at a time run a scheduled job. */
export interface Leases {
  /** Takes or renews the lease when free, expired, or already ours. */
  tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
}
