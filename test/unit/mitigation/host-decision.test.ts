/**
 * The host decision (#13 §2): the lock, the cooldown and the budget decided in one transaction that holds the host
 * against every other replica. A hand-written fake store (locks, an audit log, a per-key transaction mutex, every call
 * yielding so calls interleave as over a network) and a fake clock.
 */
import type { Config } from '../../../src/config/schema';
import type { AuditRecord } from '../../../src/incident/types';
import { type DecisionStore, type DecisionTx, decideHostMitigation } from '../../../src/mitigation/host-decision';
import { hostLockName, type LockHolder } from '../../../src/mitigation/host-lock';

const settings: Config['mitigation'] = {
  dryRun: false,
  cooldownSec: 300,
  maxRestartsPerHour: 3,
  verifyDelayMs: 0,
  restartActions: ['restart', 'reload'],
  lockTtlSec: 600,
};
const T0 = Date.parse('2026-11-25T03:00:00.000Z');
const holder = (user: string, at: number, actionId = 'restart'): LockHolder => ({
  user,
  actionId,
  incidentId: 1,
  since: new Date(at).toISOString(),
});
const turn = () => new Promise<void>((r) => setImmediate(r));

/** A shared store: what several replicas see. `serialize: false` drops the transaction's hold on the key. */
function fakeStore(opts: { serialize?: boolean; afterAuditRead?: () => void | Promise<void> } = {}) {
  const locks = new Map<string, { owner: string; since: string; until: number }>();
  const audit: AuditRecord[] = [];
  const keys = new Map<string, Promise<unknown>>();
  const ops: DecisionTx = {
    audits: async (f) => {
      await turn();
      const read = audit.filter(
        (a) =>
          (!f.host || a.host === f.host) &&
          (!f.since || a.at >= f.since) &&
          (!f.actionIds || f.actionIds.includes(a.actionId)),
      );
      await opts.afterAuditRead?.();
      return read;
    },
    acquireLock: async (name, owner, ttlMs, now) => {
      await turn();
      const held = locks.get(name);
      if (held && held.until > now.getTime()) return { acquired: false, owner: held.owner, since: held.since };
      locks.set(name, { owner, since: now.toISOString(), until: now.getTime() + ttlMs });
      return { acquired: true };
    },
    releaseLock: async (name, owner) => {
      await turn();
      if (locks.get(name)?.owner === owner) locks.delete(name);
    },
  };
  const store: DecisionStore = {
    ...ops,
    transaction: async (fn, { lockKey }) => {
      if (opts.serialize === false) return fn(ops);
      const prev = keys.get(lockKey) ?? Promise.resolve();
      const run = prev.then(() => fn(ops));
      keys.set(
        lockKey,
        run.catch(() => undefined),
      );
      return run;
    },
  };
  return { store, locks, audit };
}

describe('decideHostMitigation (#13 §2)', () => {
  it('takes the host’s lock when the cooldown and the budget allow, and releases it after', async () => {
    const { store, locks } = fakeStore();
    const d = await decideHostMitigation(store, settings, 'lb-1', holder('U1', T0), new Date(T0));
    expect(d.go).toBe(true);
    expect(JSON.parse(locks.get(hostLockName('lb-1'))?.owner ?? '{}')).toMatchObject({ user: 'U1' });
    if (d.go) await d.release();
    expect(locks.size).toBe(0);
  });

  it('runs one of ten restarts submitted at once (five to each of two replicas); the others are told who holds the host', async () => {
    const { store } = fakeStore();
    const decisions = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        decideHostMitigation(store, settings, 'lb-1', holder(`U${i}`, T0), new Date(T0)),
      ),
    );
    const winners = decisions.filter((d) => d.go);
    expect(winners).toHaveLength(1);
    for (const d of decisions.filter((d) => !d.go))
      expect(!d.go && d.error).toMatchObject({ code: 'HOST_BUSY', details: { holder: { actionId: 'restart' } } });
  });

  it('puts a restart submitted as another replica finishes one in its cooldown, never a second restart', async () => {
    // the other replica's restart ran and finishes now: its audit record, then its release (as the service does) —
    // interleaved with our decision at every point
    for (let delay = 0; delay < 6; delay++) {
      const { store, audit } = fakeStore();
      const other = holder('U-other', T0);
      const taken = await decideHostMitigation(store, settings, 'lb-1', other, new Date(T0));
      if (!taken.go) throw new Error('setup: the other replica should hold the host');
      const finishing = (async () => {
        for (let i = 0; i < delay; i++) await turn();
        audit.push({
          at: new Date(T0 + 5_000).toISOString(),
          user: 'U-other',
          host: 'lb-1',
          actionId: 'restart',
          outcome: 'ok',
        });
        await taken.release();
      })();
      const mine = await decideHostMitigation(
        store,
        settings,
        'lb-1',
        holder('U-me', T0 + 5_000),
        new Date(T0 + 5_000),
      );
      await finishing;
      expect(mine.go).toBe(false);
      expect(!mine.go && ['HOST_BUSY', 'COOLDOWN'].includes(mine.error.code)).toBe(true);
    }
  });

  it('reads the audit log only once it holds the lock: a restart finishing right after the read cannot slip through', async () => {
    // the other replica's restart finishes (audit record, then release) exactly between our read of the audit log and
    // what comes after it: had we read before taking the lock, the lock would now be free and the log read empty
    let other: { go: true; release(): Promise<void> } | undefined;
    let finished = false;
    const { store, audit } = fakeStore({
      afterAuditRead: async () => {
        if (finished || !other) return;
        finished = true;
        audit.push({
          at: new Date(T0).toISOString(),
          user: 'U-other',
          host: 'lb-1',
          actionId: 'restart',
          outcome: 'ok',
        });
        await other.release();
      },
    });
    const taken = await decideHostMitigation(store, settings, 'lb-1', holder('U-other', T0), new Date(T0));
    if (!taken.go) throw new Error('setup: the other replica should hold the host');
    other = taken;
    const mine = await decideHostMitigation(store, settings, 'lb-1', holder('U-me', T0), new Date(T0 + 1000));
    expect(mine.go).toBe(false);
    // the loser is told why: another mitigation holds the host, naming it
    expect(!mine.go && mine.error).toMatchObject({ code: 'HOST_BUSY', details: { holder: { user: 'U-other' } } });
  });

  it('gives the cooldown (with the time left) and the budget as the reason, and leaves the host unlocked', async () => {
    const { store, audit, locks } = fakeStore();
    audit.push({
      at: new Date(T0 - 60_000).toISOString(),
      user: 'U2',
      host: 'lb-1',
      actionId: 'reload',
      outcome: 'ok',
    });
    const cooling = await decideHostMitigation(store, settings, 'lb-1', holder('U1', T0), new Date(T0));
    expect(!cooling.go && cooling.error).toMatchObject({ code: 'COOLDOWN', details: { waitSec: 240 } });
    expect(locks.size).toBe(0);

    // a drain is not restart-like: neither rule applies to it
    expect((await decideHostMitigation(store, settings, 'lb-1', holder('U1', T0, 'drain'), new Date(T0))).go).toBe(
      true,
    );
    locks.clear();

    const busy = { ...settings, cooldownSec: 0, maxRestartsPerHour: 2 };
    audit.push({
      at: new Date(T0 - 30_000).toISOString(),
      user: 'U2',
      host: 'lb-1',
      actionId: 'restart',
      outcome: 'failed',
    });
    const spent = await decideHostMitigation(store, busy, 'lb-1', holder('U1', T0), new Date(T0));
    expect(!spent.go && spent.error.code).toBe('RESTART_BUDGET');
    // an hour later the budget is back
    expect((await decideHostMitigation(store, busy, 'lb-1', holder('U1', T0), new Date(T0 + 3_600_000))).go).toBe(true);
  });

  it('takes over a lock whose holder died (past its TTL), not before', async () => {
    const { store } = fakeStore();
    const dead = await decideHostMitigation(store, settings, 'lb-1', holder('U-dead', T0, 'drain'), new Date(T0));
    expect(dead.go).toBe(true);
    const early = await decideHostMitigation(
      store,
      settings,
      'lb-1',
      holder('U1', T0, 'drain'),
      new Date(T0 + 599_000),
    );
    expect(!early.go && early.error.code).toBe('HOST_BUSY');
    const late = await decideHostMitigation(store, settings, 'lb-1', holder('U1', T0, 'drain'), new Date(T0 + 600_000));
    expect(late.go).toBe(true);
  });
});
