/**
 * Step leases (#13 §2): a dead replica's queued or running step is recorded interrupted by another replica once its
 * lease expired, once, and never a live replica's. The real store in memory (shared, as Postgres is, or not, as
 * SQLite is), several StepLeases as replicas, and a fake clock.
 */

import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import { StepLeases, type SweepReason } from '../../../src/incident/step-leases';
import type { IncidentStore, StepLease } from '../../../src/incident/store';
import type { StepState } from '../../../src/incident/types';
import { createLogger } from '../../../src/logger';
import { firingAlert } from '../../support/domain-fixtures';

const T0 = Date.parse('2026-11-25T03:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

async function world(opts: { shared: boolean }) {
  const sqlite = new SqliteIncidentStore(':memory:');
  // The same store seen as one several replicas share (Postgres), or as one process's (SQLite).
  const store = (opts.shared ? Object.assign(Object.create(sqlite), { shared: true }) : sqlite) as IncidentStore;
  const clock = { t: T0 };
  const counted: SweepReason[] = [];
  const replica = (id: string) =>
    new StepLeases({
      store,
      replicaId: id,
      leaseMs: 30_000,
      heartbeatMs: 5_000,
      now: () => new Date(clock.t),
      logger: createLogger('silent'),
      counted: (r) => void counted.push(r),
    });
  const { incident } = await sqlite.openOrGet({ alert: firingAlert(), channel: 'C1', threadTs: '1.1', at: iso(T0) });
  /** A step as a replica's run-step records it: queued or running, with that replica's lease from now. */
  const begin = (stepId: string, state: 'queued' | 'running', lease?: StepLease) => {
    const s: StepState =
      state === 'running'
        ? { state, actionId: 'status-check', by: 'U1', at: iso(clock.t) }
        : { state, actionId: 'log-tail', by: 'U2', at: iso(clock.t), ahead: 1 };
    return sqlite.recordStep(
      incident.id,
      stepId,
      s,
      {
        type: state === 'running' ? 'step.started' : 'step.queued',
        actor: 'U1',
        details: { stepId },
        at: iso(clock.t),
      },
      lease,
    );
  };
  const leaseOf = (owner: string) => ({ owner, until: iso(clock.t + 30_000) });
  const interrupted = async () =>
    (await sqlite.timeline(incident.id))
      .filter((e) => e.type === 'step.interrupted')
      .map((e) => [e.details.stepId, e.details.ran, e.details.reason]);
  return { sqlite, store, clock, counted, replica, incident, begin, leaseOf, interrupted };
}

describe('StepLeases (#13 §2)', () => {
  it('records a dead replica’s running step interrupted once its lease expired, never while it renews', async () => {
    const w = await world({ shared: true });
    const [a, b, c] = [w.replica('A'), w.replica('B'), w.replica('C')];
    await w.begin('diagnosis-2', 'running', w.leaseOf('A'));

    // A is alive: it renews on its heartbeat; B's sweeps find nothing, well past the first lease's end
    for (let sec = 5; sec <= 60; sec += 5) {
      w.clock.t = T0 + sec * 1000;
      await a.tick();
      expect(await b.tick()).toEqual([]);
    }
    expect(await w.interrupted()).toEqual([]);

    // A dies at 60 s (no more heartbeats): its lease holds until 90 s
    w.clock.t = T0 + 89_000;
    expect(await b.tick()).toEqual([]);
    w.clock.t = T0 + 91_000;
    // B and C sweep at once: one records it
    const [byB, byC] = await Promise.all([b.tick(), c.tick()]);
    const swept = [...byB, ...byC];
    expect(swept).toHaveLength(1);
    expect(swept[0]).toMatchObject({ reason: 'lease-expired', ran: true, step: { stepId: 'diagnosis-2', owner: 'A' } });
    expect(await w.interrupted()).toEqual([['diagnosis-2', true, 'its replica stopped renewing its lease']]);
    const event = (await w.sqlite.timeline(w.incident.id)).at(-1);
    expect(event?.details).toMatchObject({
      owner: 'A',
      leaseUntil: iso(T0 + 90_000),
      recordedBy: byB.length ? 'B' : 'C',
    });
    expect((await w.sqlite.get(w.incident.id))?.steps['diagnosis-2']).toMatchObject({
      state: 'failed',
      error: 'interrupted: the bot stopped while it ran; its outcome is unknown',
    });
    expect(w.counted).toEqual(['lease-expired']);
    // and never again
    w.clock.t += 60_000;
    expect([...(await b.tick()), ...(await c.tick())]).toEqual([]);
  });

  it('a queued step of a dead replica: nothing ran', async () => {
    const w = await world({ shared: true });
    await w.begin('diagnosis-1', 'queued', w.leaseOf('A'));
    w.clock.t += 31_000;
    expect((await w.replica('B').tick()).map((s) => [s.step.stepId, s.ran])).toEqual([['diagnosis-1', false]]);
    expect((await w.sqlite.get(w.incident.id))?.steps['diagnosis-1']).toMatchObject({
      error: 'interrupted: the bot stopped before it ran; nothing ran',
    });
  });

  it('does not record a step its owner renewed or ended after the sweep read it', async () => {
    const w = await world({ shared: true });
    await w.begin('diagnosis-2', 'running', w.leaseOf('A'));
    w.clock.t += 31_000;
    const [stale] = await w.store.staleSteps(iso(w.clock.t), 'expired');
    // A was only late: its heartbeat lands between B's read and B's write
    await w.replica('A').renew();
    const failed: StepState = { state: 'failed', actionId: 'status-check', by: 'U1', at: iso(w.clock.t), error: 'x' };
    const event = { type: 'step.interrupted' as const, actor: 'U1', details: {}, at: iso(w.clock.t) };
    expect(await w.store.endStaleStep(stale, failed, event)).toBe(false);
    expect(await w.interrupted()).toEqual([]);
    expect((await w.sqlite.get(w.incident.id))?.steps['diagnosis-2'].state).toBe('running');
  });

  it('at start-up on a shared store: the expired leases and the unleased steps, not the live replicas’ steps', async () => {
    const w = await world({ shared: true });
    await w.begin('diagnosis-1', 'running', w.leaseOf('dead'));
    await w.begin('diagnosis-2', 'running', w.leaseOf('alive'));
    await w.begin('diagnosis-3', 'queued'); // an older bot's, without a lease
    w.clock.t += 20_000;
    await w.replica('alive').renew();
    w.clock.t += 15_000; // the dead one's lease ended 5 s ago; the live one's holds
    const swept = await w.replica('new').recover();
    expect(swept.map((s) => [s.step.stepId, s.reason])).toEqual([
      ['diagnosis-1', 'lease-expired'],
      ['diagnosis-3', 'restart'],
    ]);
    expect((await w.sqlite.get(w.incident.id))?.steps['diagnosis-2'].state).toBe('running');
  });

  it('at start-up on SQLite (one process): every step left queued or running, whatever its lease', async () => {
    const w = await world({ shared: false });
    await w.begin('diagnosis-2', 'running', w.leaseOf('previous-run'));
    await w.begin('diagnosis-3', 'queued');
    const swept = await w.replica('new').recover();
    expect(swept.map((s) => [s.step.stepId, s.reason, s.ran])).toEqual([
      ['diagnosis-2', 'restart', true],
      ['diagnosis-3', 'restart', false],
    ]);
    expect(await w.interrupted()).toEqual([
      ['diagnosis-2', true, 'the bot restarted'],
      ['diagnosis-3', false, 'the bot restarted'],
    ]);
    expect(w.counted).toEqual(['restart', 'restart']);
  });

  it('heartbeats on a timer until stopped', async () => {
    jest.useFakeTimers();
    try {
      const w = await world({ shared: true });
      const a = w.replica('A');
      const renew = jest.spyOn(a, 'tick');
      a.start(() => undefined);
      await jest.advanceTimersByTimeAsync(16_000);
      expect(renew).toHaveBeenCalledTimes(3);
      await a.stop();
      await jest.advanceTimersByTimeAsync(20_000);
      expect(renew).toHaveBeenCalledTimes(3);
    } finally {
      jest.useRealTimers();
    }
  });
  it('reports each heartbeat that ended, and whether it failed (the store down)', async () => {
    jest.useFakeTimers();
    try {
      const w = await world({ shared: true });
      const beats: boolean[] = [];
      let down = false;
      const store = Object.assign(Object.create(w.store), {
        renewStepLeases: (owner: string, until: string) =>
          down ? Promise.reject(new Error('connection refused')) : w.store.renewStepLeases(owner, until),
      }) as IncidentStore;
      const a = new StepLeases({
        store,
        replicaId: 'A',
        leaseMs: 30_000,
        heartbeatMs: 5_000,
        now: () => new Date(w.clock.t),
        logger: createLogger('silent'),
        beat: (ok) => void beats.push(ok),
      });
      a.start(() => undefined);
      await jest.advanceTimersByTimeAsync(11_000);
      down = true;
      await jest.advanceTimersByTimeAsync(5_000);
      await a.stop();
      expect(beats).toEqual([true, true, false]);
    } finally {
      jest.useRealTimers();
    }
  });
});
