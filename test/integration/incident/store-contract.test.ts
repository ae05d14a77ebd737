/**
 * One contract, two stores: every test here runs against the SQLite store and against a real Postgres 15. The
 * Postgres-only part then checks what only a shared store must do: two replicas (two stores, two pools) racing for
 * the same incident or lock get exactly one winner, and replicas migrating at once migrate once.
 */
import { Client } from 'pg';
import type { Config } from '../../../src/config/schema';
import { openPostgresStore, PG_MIGRATIONS, type PostgresIncidentStore } from '../../../src/incident/postgres-store';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import type { IncidentStore } from '../../../src/incident/store';
import type { StepState } from '../../../src/incident/types';
import { decideHostMitigation, type HostDecision } from '../../../src/mitigation/host-decision';
import { describeWithDatastores, freshDatabase } from '../../support/datastores';
import { firingAlert } from '../../support/domain-fixtures';

const at = '2026-11-25T03:00:00.000Z';
const later = (sec: number) => new Date(Date.parse(at) + sec * 1000).toISOString();
const alert = firingAlert({ fingerprint: 'f1' });

type Make = () => Promise<IncidentStore>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mitigation: Config['mitigation'] = {
  dryRun: false,
  cooldownSec: 300,
  maxRestartsPerHour: 3,
  verifyDelayMs: 0,
  restartActions: ['restart', 'reload'],
  lockTtlSec: 600,
};
const holder = (user: string) => ({ user, actionId: 'restart', incidentId: 1, since: at });

/**
 * Whether a transaction is seen waiting for a lock key: each store's own sign of it (Postgres: an advisory lock not
 * granted in this database; SQLite: see `sqliteWaits`).
 */
type LockWaiting = () => Promise<boolean>;

/**
 * SQLite (better-sqlite3, in this process, synchronous): a transaction that could go in has gone in within the turn
 * that started it; once the event loop has gone round, the second is in or it waits.
 */
const sqliteWaits: LockWaiting = () => new Promise((r) => setImmediate(() => r(true)));

/** Postgres: a session of this database waits for an advisory lock (pg_advisory_xact_lock not granted yet). */
function postgresWaits(url: () => string): LockWaiting {
  return async () => {
    const c = new Client({ connectionString: url() });
    await c.connect();
    try {
      const { rows } = await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_locks
          WHERE locktype = 'advisory' AND NOT granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      return Number(rows[0].n) > 0;
    } finally {
      await c.end();
    }
  };
}

/**
 * Two transactions asking for one key (or two keys): the first holds its key until the second went in (then the keys
 * do not exclude each other) or is seen waiting for it (`waiting`); at most 5 s, after which the order shows what
 * happened. Returns the order of events.
 */
async function keyedOrder(
  first: IncidentStore,
  second: IncidentStore,
  keys: [string, string],
  waiting: LockWaiting,
): Promise<string[]> {
  const order: string[] = [];
  let entered!: () => void;
  const firstIn = new Promise<void>((r) => (entered = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const slow = first.transaction(
    async (tx) => {
      order.push('first in');
      await tx.countOpen();
      entered();
      await released;
      order.push('first out');
    },
    { lockKey: keys[0] },
  );
  await firstIn;
  let wentIn!: () => void;
  const secondIn = new Promise<void>((r) => (wentIn = r));
  const fast = second.transaction(
    async (tx) => {
      await tx.countOpen();
      order.push('second in');
      wentIn();
    },
    { lockKey: keys[1] },
  );
  let settled = false;
  const seenWaiting = (async () => {
    for (const deadline = Date.now() + 5000; !settled && !(await waiting()) && Date.now() < deadline; )
      await new Promise((r) => setTimeout(r, 10));
  })();
  await Promise.race([secondIn, seenWaiting]);
  settled = true;
  release();
  await Promise.all([slow, fast, seenWaiting]);
  return order;
}

/** The behaviour both stores share. `make` returns a store over one shared, initially empty database. */
function contract(make: Make, waiting: LockWaiting): void {
  let store: IncidentStore;
  beforeEach(async () => {
    store = await make();
  });
  afterEach(async () => {
    await store.close();
  });

  it('opens one incident per fingerprint while it is open, and a new one after it resolved', async () => {
    const a = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    const b = await store.openOrGet({ alert, channel: 'C1', threadTs: '2.2', at });
    expect(a.created).toBe(true);
    expect(b).toMatchObject({ created: false, incident: { id: a.incident.id, threadTs: '1.1' } });
    await store.update(a.incident.id, { status: 'resolved', resolvedAt: at, resolvedBy: 'alertmanager' });
    const c = await store.openOrGet({ alert, channel: 'C1', threadTs: '3.3', at });
    expect(c.created).toBe(true);
    expect(c.incident.id).toBeGreaterThan(a.incident.id);
    expect((await store.listOpen()).map((i) => i.id)).toEqual([c.incident.id]);
    expect((await store.findLatest('f1'))?.id).toBe(c.incident.id);
    expect((await store.findOpen('f1'))?.threadTs).toBe('3.3');
    expect(await store.findOpen('nope')).toBeUndefined();
    expect(await store.get(9999)).toBeUndefined();
  });

  it('keeps an incident as written: alert, host, message, steps, silences', async () => {
    const { incident } = await store.openOrGet({ alert, hostName: 'lb-1', channel: 'C1', threadTs: '1.1', at });
    expect(incident).toMatchObject({
      fingerprint: 'f1',
      alertname: alert.alertname,
      status: 'open',
      hostName: 'lb-1',
      openedAt: at,
      steps: {},
      silences: [],
    });
    expect(incident.alert).toEqual(alert);
    await store.update(incident.id, { messageTs: '1.2', lastRepeatAt: later(60) });
    const ok: StepState = { state: 'ok', actionId: 'log-tail', by: 'U1', at: later(61), exitCode: 0, durationMs: 80 };
    const after = await store.setStep(incident.id, 'diagnosis-1', ok);
    expect(after).toMatchObject({ messageTs: '1.2', lastRepeatAt: later(60), steps: { 'diagnosis-1': ok } });
    await store.setStep(incident.id, 'diagnosis-1', { state: 'done', by: 'U2', at: later(62) });
    expect((await store.get(incident.id))?.steps['diagnosis-1']).toEqual({ state: 'done', by: 'U2', at: later(62) });
  });

  it('keeps the timeline in order, with its details', async () => {
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    const e1 = await store.appendTimeline(incident.id, 'alert.fired', 'alertmanager', { labels: alert.labels }, at);
    await store.appendTimeline(incident.id, 'note.added', 'U1', { text: 'ünïcode ✓ and "quotes"' }, later(1));
    expect(e1).toMatchObject({ incidentId: incident.id, type: 'alert.fired', actor: 'alertmanager', at });
    const events = await store.timeline(incident.id);
    expect(events.map((e) => [e.type, e.actor, e.at])).toEqual([
      ['alert.fired', 'alertmanager', at],
      ['note.added', 'U1', later(1)],
    ]);
    expect(events[0].id).toBe(e1.id);
    expect(events[1].details).toEqual({ text: 'ünïcode ✓ and "quotes"' });
  });

  it('filters the audit log by host, actions, time and outcome', async () => {
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    await store.appendAudit({
      at,
      incidentId: incident.id,
      user: 'U1',
      host: 'lb-1',
      actionId: 'restart',
      outcome: 'ok',
      command: 'x',
      exitCode: 0,
      verification: 'verified',
    });
    await store.appendAudit({
      at: later(10),
      user: 'U1',
      host: 'lb-1',
      actionId: 'reload',
      outcome: 'refused',
      reason: 'cooldown',
      details: { code: 'COOLDOWN' },
    });
    await store.appendAudit({
      at: later(20),
      user: 'U2',
      host: 'lb-2',
      actionId: 'restart',
      outcome: 'failed',
      exitCode: 1,
    });
    expect((await store.audits({ host: 'lb-1' })).map((a) => a.actionId)).toEqual(['restart', 'reload']);
    expect((await store.audits({ actionIds: ['restart'] })).map((a) => a.host)).toEqual(['lb-1', 'lb-2']);
    expect((await store.audits({ since: later(5) })).map((a) => a.at)).toEqual([later(10), later(20)]);
    expect(await store.audits({ outcome: 'refused' })).toEqual([
      expect.objectContaining({ user: 'U1', reason: 'cooldown', details: { code: 'COOLDOWN' }, incidentId: undefined }),
    ]);
    const [first] = await store.audits({ host: 'lb-1', actionIds: ['restart', 'reload'], since: at, outcome: 'ok' });
    expect(first).toMatchObject({ incidentId: incident.id, command: 'x', exitCode: 0, verification: 'verified' });
  });

  it('keeps the bot’s silences of an incident, and their first expiry', async () => {
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    const silence = {
      id: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
      createdBy: 'U0ONCALL01',
      createdByName: 'Olga Oncall',
      matchers: alert.labels,
      startsAt: later(300),
      endsAt: later(2100),
      comment: 'Silenced from runbook-pilot incident #1',
      keep: true,
      createdAt: later(300),
    };
    expect((await store.addSilence(incident.id, silence)).silences).toEqual([silence]);
    expect((await store.markSilenceExpired(incident.id, silence.id, 'U0ONCALL01', later(600)))?.silences).toEqual([
      { ...silence, expiredAt: later(600), expiredBy: 'U0ONCALL01' },
    ]);
    await store.markSilenceExpired(incident.id, silence.id, 'bot', later(900));
    expect((await store.get(incident.id))?.silences?.[0]).toMatchObject({
      expiredAt: later(600),
      expiredBy: 'U0ONCALL01',
    });
    expect(await store.markSilenceExpired(incident.id, 'nope', 'bot', later(900))).toBeUndefined();
  });

  it('lets one owner hold a lock until it is released or expires', async () => {
    const t0 = new Date(at);
    expect(await store.acquireLock('mitigation:lb-1', 'a', 60_000, t0)).toEqual({ acquired: true });
    expect(await store.acquireLock('mitigation:lb-1', 'b', 60_000, t0)).toEqual({
      acquired: false,
      owner: 'a',
      since: at,
    });
    expect(await store.acquireLock('mitigation:lb-2', 'b', 60_000, t0)).toEqual({ acquired: true });
    await store.releaseLock('mitigation:lb-1', 'b'); // not the holder: no effect
    expect((await store.acquireLock('mitigation:lb-1', 'b', 60_000, t0)).acquired).toBe(false);
    await store.releaseLock('mitigation:lb-1', 'a');
    expect((await store.acquireLock('mitigation:lb-1', 'b', 60_000, t0)).acquired).toBe(true);
    expect((await store.acquireLock('mitigation:lb-1', 'c', 60_000, new Date(t0.getTime() + 59_000))).acquired).toBe(
      false,
    );
    expect((await store.acquireLock('mitigation:lb-1', 'c', 60_000, new Date(t0.getTime() + 61_000))).acquired).toBe(
      true,
    );
  });

  it('commits a transaction’s writes together, and rolls them all back when it throws', async () => {
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    await store.transaction(async (tx) => {
      await tx.setStep(incident.id, 'diagnosis-1', { state: 'running', actionId: 'log-tail', by: 'U1', at });
      await tx.appendTimeline(incident.id, 'step.started', 'U1', { stepId: 'diagnosis-1' }, at);
    });
    await expect(
      store.transaction(async (tx) => {
        await tx.setStep(incident.id, 'diagnosis-1', {
          state: 'ok',
          actionId: 'log-tail',
          by: 'U1',
          at: later(1),
          exitCode: 0,
          durationMs: 5,
        });
        await tx.appendTimeline(incident.id, 'step.finished', 'U1', {}, later(1));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await store.get(incident.id))?.steps['diagnosis-1']).toMatchObject({ state: 'running' });
    expect((await store.timeline(incident.id)).map((e) => e.type)).toEqual(['step.started']);
    // a read inside the transaction sees its own writes
    const seen = await store.transaction(async (tx) => {
      await tx.appendTimeline(incident.id, 'note.added', 'U1', { text: 'inside' }, later(2));
      return (await tx.timeline(incident.id)).length;
    });
    expect(seen).toBe(2);
  });

  it('records a step’s state with its timeline event, both or neither', async () => {
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    const event = await store.recordStep(
      incident.id,
      'diagnosis-2',
      { state: 'running', actionId: 'status-check', by: 'U1', at },
      { type: 'step.started', actor: 'U1', details: { host: 'lb-1' }, at },
    );
    expect(event).toMatchObject({ incidentId: incident.id, type: 'step.started', at, details: { host: 'lb-1' } });
    expect(await store.timeline(incident.id)).toEqual([event]);
    // details that cannot be serialised make the event's insert throw after the step's upsert ran
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(
      store.recordStep(
        incident.id,
        'diagnosis-2',
        { state: 'ok', actionId: 'status-check', by: 'U1', at, exitCode: 0, durationMs: 5 },
        { type: 'step.finished', actor: 'U1', details: circular, at },
      ),
    ).rejects.toThrow();
    expect((await store.get(incident.id))?.steps['diagnosis-2']).toMatchObject({ state: 'running' });
    expect((await store.timeline(incident.id)).map((e) => e.type)).toEqual(['step.started']);
  });

  it('triages an incident once: one claim of many at once, a skipped triage taken over once by a person’s run (#22)', async () => {
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    const claims = await Promise.all(
      ['A', 'B', 'C'].map((owner) => store.claimTriage(incident.id, { owner, at, state: 'run' })),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    // run: never again, not even "after a skip"
    expect(await store.claimTriage(incident.id, { owner: 'D', at: later(5), state: 'run' }, { afterSkip: true })).toBe(
      false,
    );
    const other = await store.openOrGet({
      alert: firingAlert({ fingerprint: 'f-triage' }),
      channel: 'C1',
      threadTs: '2.2',
      at,
    });
    expect(await store.claimTriage(other.incident.id, { owner: 'A', at, state: 'skip' })).toBe(true);
    expect(await store.claimTriage(other.incident.id, { owner: 'B', at, state: 'run' })).toBe(false);
    const runs = await Promise.all(
      ['B', 'C'].map((owner) =>
        store.claimTriage(other.incident.id, { owner, at: later(9), state: 'run' }, { afterSkip: true }),
      ),
    );
    expect(runs.filter(Boolean)).toHaveLength(1);
    expect(
      await store.claimTriage(other.incident.id, { owner: 'D', at: later(9), state: 'run' }, { afterSkip: true }),
    ).toBe(false);
  });

  it('lets one replica post an incident’s message: the opener’s claim, until it expires or the message is posted', async () => {
    const { incident } = await store.openOrGet({
      alert,
      channel: 'C1',
      threadTs: '',
      at,
      postClaim: { owner: 'A', until: later(60) },
    });
    expect(await store.claimPost(incident.id, { owner: 'B', until: later(70) }, later(10))).toBe(false);
    // unposted, but claimed: not for a sweep to post yet
    expect(await store.unpostedIncidents(later(10))).toEqual([]);
    expect((await store.unpostedIncidents(later(60))).map((i) => i.id)).toEqual([incident.id]);
    // the opener may claim again (its own post failed; the next delivery retries)
    expect(await store.claimPost(incident.id, { owner: 'A', until: later(80) }, later(20))).toBe(true);
    expect(await store.claimPost(incident.id, { owner: 'B', until: later(90) }, later(79))).toBe(false);
    // expired: another replica takes it over
    expect(await store.claimPost(incident.id, { owner: 'B', until: later(140) }, later(80))).toBe(true);
    expect(await store.claimPost(incident.id, { owner: 'A', until: later(150) }, later(90))).toBe(false);
    // posted: nobody claims it again, however late
    await store.update(incident.id, { threadTs: '5.5', messageTs: '5.6' });
    expect(await store.claimPost(incident.id, { owner: 'B', until: later(999) }, later(900))).toBe(false);
    expect(await store.unpostedIncidents(later(900))).toEqual([]);
    expect(await store.get(incident.id)).toMatchObject({ threadTs: '5.5', messageTs: '5.6' });
    // an incident opened without a claim may be claimed at once
    const other = await store.openOrGet({ alert: firingAlert({ fingerprint: 'f2' }), channel: 'C1', threadTs: '', at });
    expect(await store.claimPost(other.incident.id, { owner: 'B', until: later(60) }, at)).toBe(true);
  });

  it('resolves an open incident once, and says when it was not open any more', async () => {
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    const resolved = await store.resolveOpen(incident.id, {
      resolvedAt: later(5),
      resolvedBy: 'U1',
      alert: { ...alert, status: 'resolved' },
    });
    expect(resolved).toMatchObject({ status: 'resolved', resolvedAt: later(5), resolvedBy: 'U1' });
    expect(resolved?.alert.status).toBe('resolved');
    expect(await store.resolveOpen(incident.id, { resolvedAt: later(6), resolvedBy: 'alertmanager' })).toBeUndefined();
    expect(await store.get(incident.id)).toMatchObject({ resolvedAt: later(5), resolvedBy: 'U1' });
  });

  it('marks a "still firing" reply once per interval', async () => {
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    // not before the interval (600 s here) since it opened
    expect(await store.markRepeatNotified(incident.id, later(300), later(-300))).toBe(false);
    expect(await store.markRepeatNotified(incident.id, later(600), later(0))).toBe(true);
    // the same repeat twice: the second is told not to post
    expect(await store.markRepeatNotified(incident.id, later(600), later(0))).toBe(false);
    expect(await store.markRepeatNotified(incident.id, later(1199), later(599))).toBe(false);
    expect(await store.markRepeatNotified(incident.id, later(1200), later(600))).toBe(true);
    expect((await store.get(incident.id))?.lastRepeatAt).toBe(later(1200));
  });

  it('holds a transaction’s lock key until it ends', async () => {
    expect(await keyedOrder(store, store, ['mitigation:lb-1', 'mitigation:lb-1'], waiting)).toEqual([
      'first in',
      'first out',
      'second in',
    ]);
  });

  it('decides a host’s mitigation in one transaction: the lock, then the cooldown read under it', async () => {
    const now = new Date(at);
    const decisions = await Promise.all(
      Array.from({ length: 6 }, (_, i) => decideHostMitigation(store, mitigation, 'lb-1', holder(`U${i}`), now)),
    );
    expect(decisions.filter((d) => d.go)).toHaveLength(1);
    expect(decisions.filter((d) => !d.go).map((d) => !d.go && d.error.code)).toEqual(Array(5).fill('HOST_BUSY'));
    const winner = decisions.find((d) => d.go);
    // the winner's attempt is audited before its lock is released: the next one is in the cooldown, unlocked
    await store.appendAudit({ at, user: 'U0', host: 'lb-1', actionId: 'restart', outcome: 'ok' });
    if (winner?.go) await winner.release();
    const next = await decideHostMitigation(store, mitigation, 'lb-1', holder('U9'), new Date(Date.parse(at) + 1000));
    expect(!next.go && next.error.code).toBe('COOLDOWN');
    expect(await store.acquireLock('mitigation:lb-1', 'probe', 1000, now)).toEqual({ acquired: true });
  });

  it('keeps a queued or running step’s lease, renews its owner’s, and ends a stale step once', async () => {
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    const running: StepState = { state: 'running', actionId: 'log-tail', by: 'U1', at };
    const queued: StepState = { state: 'queued', actionId: 'config-check', by: 'U2', at, ahead: 1 };
    const event = (type: 'step.started' | 'step.queued' | 'step.interrupted') => ({
      type,
      actor: 'U1',
      details: {},
      at,
    });
    await store.recordStep(incident.id, 'diagnosis-1', running, event('step.started'), {
      owner: 'A',
      until: later(30),
    });
    await store.recordStep(incident.id, 'diagnosis-4', queued, event('step.queued'), { owner: 'B', until: later(30) });
    await store.recordStep(incident.id, 'diagnosis-5', running, event('step.started')); // no lease (an older bot)
    await store.setStep(incident.id, 'mitigation-4', { state: 'done', by: 'U1', at });
    const ids = (steps: { stepId: string }[]) => steps.map((x) => x.stepId);
    expect(ids(await store.staleSteps(later(29), 'expired'))).toEqual([]);
    expect(ids(await store.staleSteps(later(29), 'unleased'))).toEqual(['diagnosis-5']);
    expect(ids(await store.staleSteps(later(29), 'all'))).toEqual(['diagnosis-1', 'diagnosis-4', 'diagnosis-5']);

    // A renews (its heartbeat); B does not
    expect(await store.renewStepLeases('A', later(60))).toBe(1);
    const stale = await store.staleSteps(later(31), 'expired');
    expect(stale).toEqual([
      {
        incidentId: incident.id,
        stepId: 'diagnosis-4',
        state: queued,
        owner: 'B',
        leaseUntil: later(30),
      },
    ]);
    const failed: StepState = { state: 'failed', actionId: 'config-check', by: 'U2', at: later(31), error: 'gone' };
    expect(await store.endStaleStep(stale[0], failed, event('step.interrupted'))).toBe(true);
    // a second sweep of the same read changes nothing, and writes no second event
    expect(await store.endStaleStep(stale[0], failed, event('step.interrupted'))).toBe(false);
    expect((await store.timeline(incident.id)).filter((e) => e.type === 'step.interrupted')).toHaveLength(1);
    expect((await store.get(incident.id))?.steps['diagnosis-4']).toEqual(failed);
    // a step read stale whose owner renewed meanwhile is not ended
    const [aStale] = await store.staleSteps(later(61), 'expired');
    expect(aStale).toMatchObject({ stepId: 'diagnosis-1', owner: 'A', leaseUntil: later(60) });
    await store.renewStepLeases('A', later(90));
    expect(await store.endStaleStep(aStale, failed, event('step.interrupted'))).toBe(false);
    // the unleased step can be ended as read (no lease on either side)
    const [legacy] = await store.staleSteps(later(61), 'unleased');
    expect(await store.endStaleStep(legacy, failed, event('step.interrupted'))).toBe(true);
    // an ended step holds no lease: renewing touches nothing
    const ok: StepState = { state: 'ok', actionId: 'log-tail', by: 'U1', at, exitCode: 0, durationMs: 5 };
    await store.recordStep(incident.id, 'diagnosis-1', ok, event('step.started'), { owner: 'A', until: later(99) });
    expect(await store.renewStepLeases('A', later(120))).toBe(0);
    expect(await store.staleSteps(later(999), 'all')).toEqual([]);
  });

  it('counts the open incidents', async () => {
    for (const fp of ['a', 'b', 'c'])
      await store.openOrGet({ alert: firingAlert({ fingerprint: fp }), channel: 'C1', threadTs: '1.1', at });
    await store.update((await store.findOpen('b'))!.id, { status: 'resolved', resolvedAt: at });
    expect(await store.countOpen()).toBe(2);
  });
}

describe('IncidentStore contract: SQLite', () => {
  // One file per test, shared by the stores a test opens (as replicas of one process would share it).
  let n = 0;
  const dir = require('node:fs').mkdtempSync(
    require('node:path').join(require('node:os').tmpdir(), 'rbp-contract-'),
  ) as string;
  let path = '';
  beforeEach(() => {
    path = `${dir}/store-${++n}.db`;
  });
  afterAll(() => require('node:fs').rmSync(dir, { recursive: true, force: true }));
  contract(async () => new SqliteIncidentStore(path), sqliteWaits);
});

describeWithDatastores('IncidentStore contract: Postgres', () => {
  let db: { url: string; drop(): Promise<void> };
  beforeEach(async () => {
    db = await freshDatabase('contract');
  });
  afterEach(async () => {
    await db.drop();
  });
  contract(
    () => openPostgresStore(db.url, { poolSize: 4 }),
    postgresWaits(() => db.url),
  );

  describe('between replicas (two stores on one database)', () => {
    let a: PostgresIncidentStore;
    let b: PostgresIncidentStore;
    beforeEach(async () => {
      [a, b] = await Promise.all([
        openPostgresStore(db.url, { poolSize: 6 }),
        openPostgresStore(db.url, { poolSize: 6 }),
      ]);
    });
    afterEach(async () => {
      await Promise.all([a.close(), b.close()]);
    });

    it('migrates once when several replicas start at once', async () => {
      const more = await Promise.all([1, 2, 3].map(() => openPostgresStore(db.url, { poolSize: 1 })));
      await Promise.all(more.map((s) => s.close()));
      const c = new Client({ connectionString: db.url });
      await c.connect();
      try {
        const { rows } = await c.query<{ version: number; n: string }>(
          'SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version',
        );
        expect(rows.map((r) => [r.version, Number(r.n)])).toEqual(PG_MIGRATIONS.map((m) => [m.version, 1]));
      } finally {
        await c.end();
      }
    });

    it('opens one incident when the same alert reaches both at once', async () => {
      const tries = Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).openOrGet({ alert, channel: 'C1', threadTs: `${i}.1`, at }),
      );
      const results = await Promise.all(tries);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.incident.id)).size).toBe(1);
      expect(await a.listOpen()).toHaveLength(1);
    });

    it('gives a lock to one of two replicas asking at once', async () => {
      const now = new Date(at);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).acquireLock('mitigation:lb-1', `owner-${i}`, 60_000, now)),
      );
      expect(results.filter((r) => r.acquired)).toHaveLength(1);
      const holder = results.find((r) => !r.acquired) as { owner: string };
      expect(results.filter((r) => !r.acquired).every((r) => !r.acquired && r.owner === holder.owner)).toBe(true);
    });

    it('lets one of two replicas post, resolve and say "still firing" when they race for the same incident', async () => {
      const { incident } = await a.openOrGet({ alert, channel: 'C1', threadTs: '', at });
      const race = <T>(fn: (s: PostgresIncidentStore, i: number) => Promise<T>) =>
        Promise.all(Array.from({ length: 10 }, (_, i) => fn(i % 2 ? a : b, i)));
      const claims = await race((s, i) => s.claimPost(incident.id, { owner: `r${i}`, until: later(60) }, at));
      expect(claims.filter(Boolean)).toHaveLength(1);
      const repeats = await race((s) => s.markRepeatNotified(incident.id, later(600), later(0)));
      expect(repeats.filter(Boolean)).toHaveLength(1);
      const resolves = await race((s, i) =>
        s.resolveOpen(incident.id, { resolvedAt: later(700), resolvedBy: `r${i}` }),
      );
      expect(resolves.filter((r) => r !== undefined)).toHaveLength(1);
    });

    it('holds a transaction’s lock key against the other replica, and only that key', async () => {
      expect(
        await keyedOrder(
          a,
          b,
          ['mitigation:lb-1', 'mitigation:lb-1'],
          postgresWaits(() => db.url),
        ),
      ).toEqual(['first in', 'first out', 'second in']);
      expect(
        await keyedOrder(
          a,
          b,
          ['mitigation:lb-1', 'mitigation:lb-2'],
          postgresWaits(() => db.url),
        ),
      ).toEqual(['first in', 'second in', 'first out']);
    });

    it('restarts once when two replicas decide the same host at once, and never as the other finishes', async () => {
      const now = new Date(at);
      const decisions = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          decideHostMitigation(i % 2 ? a : b, mitigation, 'lb-1', holder(`U${i}`), now),
        ),
      );
      expect(decisions.filter((d) => d.go)).toHaveLength(1);
      for (const d of decisions) if (!d.go) expect(d.error).toMatchObject({ code: 'HOST_BUSY' });
      // another replica finishes its restart (audit, then release) while this one decides: at every interleaving the
      // decision is "busy" or "cooldown", never a second restart
      let held: HostDecision | undefined = decisions.find((d) => d.go);
      for (let round = 0; round < 8; round++) {
        const when = new Date(Date.parse(at) + round * 1000);
        const finishing = (async () => {
          await sleep(round % 4);
          await b.appendAudit({ at: when.toISOString(), user: 'U0', host: 'lb-1', actionId: 'restart', outcome: 'ok' });
          if (held?.go) await held.release();
        })();
        const mine = await decideHostMitigation(a, mitigation, 'lb-1', holder('U-me'), when);
        await finishing;
        expect(mine.go).toBe(false);
        // the next round: the other replica holds the host again (a drain, to which no cooldown applies)
        held = await decideHostMitigation(b, mitigation, 'lb-1', { ...holder('U0'), actionId: 'drain' }, when);
        expect(held?.go).toBe(true);
      }
    });

    it('lets one of several replicas sweeping at once record a dead replica’s step interrupted', async () => {
      const { incident } = await a.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
      const running: StepState = { state: 'running', actionId: 'log-tail', by: 'U1', at };
      await a.recordStep(
        incident.id,
        'diagnosis-1',
        running,
        { type: 'step.started', actor: 'U1', details: {}, at },
        { owner: 'dead', until: later(30) },
      );
      const failed: StepState = { state: 'failed', actionId: 'log-tail', by: 'U1', at: later(31), error: 'gone' };
      const results = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const s = i % 2 ? a : b;
          const [stale] = await s.staleSteps(later(31), 'expired');
          return stale
            ? s.endStaleStep(stale, failed, {
                type: 'step.interrupted',
                actor: 'U1',
                details: { by: i },
                at: later(31),
              })
            : false;
        }),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await b.timeline(incident.id)).filter((e) => e.type === 'step.interrupted')).toHaveLength(1);
    });

    it('hands a Slack event id to one replica (the event claims of the message listener)', async () => {
      const at = new Date();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).eventClaims().claim('Ev42', at)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await a.eventClaims().claim('Ev43', at)).toBe(true);
      expect(await b.eventClaims().claim('Ev43', at)).toBe(false);
    });

    it('says which database it could not open, without the password', async () => {
      const bad = db.url.replace('pilot@', 'pilot:secret@').replace(/\/[^/]+$/, '/no_such_db');
      await expect(openPostgresStore(bad)).rejects.toThrow(
        /cannot open the Postgres store at postgres:\/\/pilot:\*\*\*@127\.0\.0\.1:\d+\/no_such_db/,
      );
    });
  });
});
