/** Remembers request deliveries so a retried one is recognised and not run twice. */
export interface DeliveryLog {
  /** True the first time a key is seen within `ttlMs`, and the key is then taken; false for a repeat. */
  firstSeen(key: string, ttlMs: number): Promise<boolean>;
  /** Remembers a key for `ttlMs` from now, whether or not it was seen (a delivery whose work is done). */
  keep(key: string, ttlMs: number): Promise<void>;
  /** Forgets a key, so the same delivery runs when it comes again (its work failed). */
  forget(key: string): Promise<void>;
}
