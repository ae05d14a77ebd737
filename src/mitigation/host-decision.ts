/**
 * Whether a mitigation may run on a host now, decided in one store transaction that holds the host against every
 * other replica: the host's lock is taken (with its expiry), then the cooldown and the hourly budget are read from the
 * audit log under it. Two confirmed restarts submitted to two replicas at once: one runs, the other is told why not.
 */
import type { Config } from '../config/schema';
import { PilotError } from '../errors';
import { type AuditReader, checkRestartBudget } from './guards';
import { acquireHostLock, hostLockName, type LockHolder, type LockStore } from './host-lock';

/** What the decision reads and writes, inside its transaction. */
export type DecisionTx = AuditReader & LockStore;

/** The store's transaction: `fn` runs holding `lockKey` against every other replica (IncidentStore.transaction). */
export interface DecisionStore extends LockStore {
  transaction<T>(fn: (tx: DecisionTx) => Promise<T>, opts: { lockKey: string }): Promise<T>;
}

export type HostDecision =
  /** The lock is taken: run, then `release()` (after the attempt's audit record is written). */
  | { go: true; release(): Promise<void> }
  /** HOST_BUSY (another mitigation holds the host), COOLDOWN or RESTART_BUDGET; the lock is not held. */
  | { go: false; error: PilotError };

/**
 * Decides one mitigation on `host`. The lock is taken before the audit log is read, and a holder writes its attempt's
 * audit record before it releases the lock: so whoever gets the lock next sees that attempt, and a restart that just
 * finished on another replica puts the next one in its cooldown instead of running twice.
 */
export async function decideHostMitigation(
  store: DecisionStore,
  settings: Config['mitigation'],
  host: string,
  holder: LockHolder,
  now: Date,
): Promise<HostDecision> {
  const decided = await store.transaction(
    async (tx): Promise<{ error: PilotError } | { owner: string }> => {
      const lock = await acquireHostLock(tx, host, holder, settings.lockTtlSec * 1000, now);
      if (!lock.acquired) return { error: hostBusy(host, lock.holder, lock.since) };
      const blocked = await checkRestartBudget(tx, settings, host, holder.actionId, now);
      if (blocked) {
        await lock.release();
        return { error: blocked };
      }
      return { owner: JSON.stringify(holder) };
    },
    { lockKey: hostLockName(host) },
  );
  if ('error' in decided) return { go: false, error: decided.error };
  // Released outside the decision's transaction (which is over by then), through the store itself.
  return { go: true, release: async () => store.releaseLock(hostLockName(host), decided.owner) };
}

function hostBusy(host: string, holder: LockHolder | undefined, since: string): PilotError {
  return new PilotError(
    'HOST_BUSY',
    `another mitigation is running on ${host}${holder ? ` (${holder.actionId} by ${holder.user} for incident #${holder.incidentId})` : ''} since ${since.slice(11, 19)} UTC; nothing was run`,
    { details: { host, holder, since } },
  );
}
