/**
 * The per-host mitigation lock, kept in the store so replicas sharing it share the lock. Its holder is a typed record
 * (stored as JSON under the lock's owner column), so a refused user can be told who holds it and since when.
 */
/** Who holds a host's mitigation lock. */
export interface LockHolder {
  user: string;
  actionId: string;
  incidentId: number;
  /** ISO time the lock was taken. */
  since: string;
}

type AcquireAnswer = { acquired: true } | { acquired: false; owner: string; since: string };

/** The store's lock methods (sync or async: either store fits). */
export interface LockStore {
  acquireLock(name: string, owner: string, ttlMs: number, now: Date): AcquireAnswer | Promise<AcquireAnswer>;
  releaseLock(name: string, owner: string): void | Promise<void>;
}

export type LockResult =
  | { acquired: true; release(): Promise<void> }
  | { acquired: false; holder?: LockHolder; since: string };

/** The lock's name for a host. */
export function hostLockName(host: string): string {
  return `mitigation:${host}`;
}

/** Takes the host's lock for `holder`, or says who holds it. */
export async function acquireHostLock(
  store: LockStore,
  host: string,
  holder: LockHolder,
  ttlMs: number,
  now: Date,
): Promise<LockResult> {
  const name = hostLockName(host);
  const owner = JSON.stringify(holder);
  const lock = await store.acquireLock(name, owner, ttlMs, now);
  if (lock.acquired) return { acquired: true, release: async () => store.releaseLock(name, owner) };
  return { acquired: false, holder: parseHolder(lock.owner), since: lock.since };
}

/** Reads a holder back; undefined for an owner this version did not write (a lock taken by an older bot). */
export function parseHolder(owner: string): LockHolder | undefined {
  try {
    const v = JSON.parse(owner) as Partial<LockHolder>;
    if (
      typeof v.user === 'string' &&
      typeof v.actionId === 'string' &&
      typeof v.since === 'string' &&
      typeof v.incidentId === 'number'
    ) {
      return { user: v.user, actionId: v.actionId, incidentId: v.incidentId, since: v.since };
    }
  } catch {
    // not ours: fall through
  }
  return undefined;
}
