/**
 * A change as the SQL stores apply it, for the in-memory fakes: a key set to `null` clears the field, an
 * undefined one leaves it, anything else replaces it.
 */
export function applyPatch<T extends object>(record: T, patch: object): T {
  const next = { ...record } as Record<string, unknown>;
  for (const [key, value] of Object.entries(structuredClone(patch))) {
    if (value === null) delete next[key];
    else if (value !== undefined) next[key] = value;
  }
  return next as T;
}
