import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import { firingAlert } from '../../support/domain-fixtures';

const alert = firingAlert({ fingerprint: 'f1' });

describe('SqliteIncidentStore', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rbp-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens one incident per fingerprint while it is open, and a new one after it resolved', async () => {
    const store = new SqliteIncidentStore(':memory:');
    const at = '2026-11-25T03:00:00.000Z';
    const a = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    const b = await store.openOrGet({ alert, channel: 'C1', threadTs: '2.2', at });
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.incident.id).toBe(a.incident.id);
    await store.update(a.incident.id, { status: 'resolved', resolvedAt: at });
    const c = await store.openOrGet({ alert, channel: 'C1', threadTs: '3.3', at });
    expect(c.created).toBe(true);
    expect(c.incident.id).not.toBe(a.incident.id);
    expect((await store.listOpen()).map((i) => i.id)).toEqual([c.incident.id]);
  });

  it('keeps incidents, step states, the timeline and the audit log across a reopen of the file', async () => {
    const path = join(dir, 'pilot.db');
    const first = new SqliteIncidentStore(path);
    const { incident } = await first.openOrGet({
      alert,
      hostName: 'lb-1',
      channel: 'C1',
      threadTs: '1.1',
      at: '2026-11-25T03:00:00.000Z',
    });
    await first.update(incident.id, { messageTs: '1.2' });
    await first.setStep(incident.id, 'diagnosis-1', {
      state: 'ok',
      actionId: 'log-tail',
      by: 'U1',
      at: '2026-11-25T03:01:00.000Z',
      exitCode: 0,
      durationMs: 80,
    });
    await first.appendTimeline(
      incident.id,
      'alert.fired',
      'alertmanager',
      { labels: alert.labels },
      '2026-11-25T03:00:00.000Z',
    );
    await first.appendAudit({
      at: '2026-11-25T03:02:00.000Z',
      incidentId: incident.id,
      user: 'U1',
      host: 'lb-1',
      actionId: 'restart',
      outcome: 'refused',
      reason: 'not allowed',
    });
    await first.close();

    const second = new SqliteIncidentStore(path);
    const back = await second.get(incident.id);
    expect(back).toMatchObject({ hostName: 'lb-1', messageTs: '1.2', status: 'open', alert: { labels: alert.labels } });
    expect(back?.steps['diagnosis-1']).toMatchObject({ state: 'ok', exitCode: 0 });
    expect((await second.timeline(incident.id)).map((e) => e.type)).toEqual(['alert.fired']);
    expect(await second.audits({ host: 'lb-1', actionIds: ['restart'] })).toEqual([
      expect.objectContaining({ outcome: 'refused', reason: 'not allowed' }),
    ]);
    await second.close();
  });

  it('says what to fix when the file cannot be opened', async () => {
    expect(() => new SqliteIncidentStore(join(dir, 'missing-folder', 'pilot.db'))).toThrow(
      /cannot open the store at .*missing-folder/,
    );
  });

  it('keeps the bot’s silences of an incident, and their expiry once', async () => {
    const path = join(dir, 'pilot.db');
    const first = new SqliteIncidentStore(path);
    const { incident } = await first.openOrGet({
      alert,
      hostName: 'lb-1',
      channel: 'C1',
      threadTs: '1.1',
      at: '2026-11-25T03:00:00.000Z',
    });
    expect(incident.silences).toEqual([]);
    const silence = {
      id: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
      createdBy: 'U0ONCALL01',
      createdByName: 'Olga Oncall',
      matchers: alert.labels,
      startsAt: '2026-11-25T03:05:00.000Z',
      endsAt: '2026-11-25T03:35:00.000Z',
      comment: 'Silenced from runbook-pilot incident #1',
      keep: true,
      createdAt: '2026-11-25T03:05:00.000Z',
    };
    expect((await first.addSilence(incident.id, silence)).silences).toEqual([silence]);
    await first.close();

    const second = new SqliteIncidentStore(path);
    expect((await second.get(incident.id))?.silences).toEqual([silence]);
    expect(
      (await second.markSilenceExpired(incident.id, silence.id, 'U0ONCALL01', '2026-11-25T03:10:00.000Z'))?.silences,
    ).toEqual([{ ...silence, expiredAt: '2026-11-25T03:10:00.000Z', expiredBy: 'U0ONCALL01' }]);
    // the first expiry stands; an unknown silence or another incident's is not touched
    await second.markSilenceExpired(incident.id, silence.id, 'bot', '2026-11-25T03:20:00.000Z');
    expect((await second.get(incident.id))?.silences?.[0]).toMatchObject({
      expiredAt: '2026-11-25T03:10:00.000Z',
      expiredBy: 'U0ONCALL01',
    });
    expect(await second.markSilenceExpired(incident.id, 'nope', 'bot', '2026-11-25T03:20:00.000Z')).toBeUndefined();
    expect(
      await second.markSilenceExpired(incident.id + 1, silence.id, 'bot', '2026-11-25T03:20:00.000Z'),
    ).toBeUndefined();
    await second.close();
  });
});

describe('SqliteIncidentStore locks', () => {
  it('lets one owner hold a lock until it is released or expires', async () => {
    const store = new SqliteIncidentStore(':memory:');
    const t0 = new Date('2026-11-25T03:00:00.000Z');
    expect(await store.acquireLock('mitigation:lb-1', 'a', 60_000, t0)).toEqual({ acquired: true });
    expect(await store.acquireLock('mitigation:lb-1', 'b', 60_000, t0)).toEqual({
      acquired: false,
      owner: 'a',
      since: t0.toISOString(),
    });
    expect(await store.acquireLock('mitigation:lb-2', 'b', 60_000, t0)).toEqual({ acquired: true });
    await store.releaseLock('mitigation:lb-1', 'b'); // not the holder: no effect
    expect((await store.acquireLock('mitigation:lb-1', 'b', 60_000, t0)).acquired).toBe(false);
    await store.releaseLock('mitigation:lb-1', 'a');
    expect((await store.acquireLock('mitigation:lb-1', 'b', 60_000, t0)).acquired).toBe(true);
    expect((await store.acquireLock('mitigation:lb-1', 'c', 60_000, new Date(t0.getTime() + 61_000))).acquired).toBe(
      true,
    );
  });
});

describe('SqliteIncidentStore transactions', () => {
  const at = '2026-11-25T03:00:00.000Z';

  it('commits every write of the transaction together', async () => {
    const store = new SqliteIncidentStore(':memory:');
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    await store.transaction(async (tx) => {
      await tx.setStep(incident.id, 'diagnosis-1', { state: 'running', actionId: 'log-tail', by: 'U1', at });
      await tx.appendTimeline(incident.id, 'step.started', 'U1', { stepId: 'diagnosis-1' }, at);
    });
    expect((await store.get(incident.id))?.steps['diagnosis-1']).toMatchObject({ state: 'running' });
    expect((await store.timeline(incident.id)).map((e) => e.type)).toEqual(['step.started']);
    await store.close();
  });

  it('rolls every write back when the transaction throws, and rethrows', async () => {
    const store = new SqliteIncidentStore(':memory:');
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    await expect(
      store.transaction(async (tx) => {
        await tx.setStep(incident.id, 'diagnosis-1', { state: 'running', actionId: 'log-tail', by: 'U1', at });
        await tx.appendTimeline(incident.id, 'step.started', 'U1', {}, at);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await store.get(incident.id))?.steps).toEqual({});
    expect(await store.timeline(incident.id)).toEqual([]);
    await store.close();
  });

  it('keeps writes from outside the transaction out of it: they wait until it ends', async () => {
    const store = new SqliteIncidentStore(':memory:');
    const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at });
    let outside: Promise<unknown> | undefined;
    await expect(
      store.transaction(async (tx) => {
        await tx.appendTimeline(incident.id, 'note.added', 'U1', { text: 'inside' }, at);
        outside = store.appendTimeline(incident.id, 'note.added', 'U2', { text: 'outside' }, at);
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await outside;
    expect((await store.timeline(incident.id)).map((e) => e.details.text)).toEqual(['outside']);
    await store.close();
  });
});

describe('SqliteIncidentStore.recordStep', () => {
  const open = async () => {
    const store = new SqliteIncidentStore(':memory:');
    const { incident } = await store.openOrGet({
      alert: firingAlert(),
      hostName: 'lb-1',
      channel: 'C1',
      threadTs: '1.1',
      at: '2026-11-25T03:00:00.000Z',
    });
    return { store, id: incident.id };
  };

  it('writes the step state and its timeline event together', async () => {
    const { store, id } = await open();
    const at = '2026-11-25T03:01:00.000Z';
    const event = await store.recordStep(
      id,
      'diagnosis-2',
      { state: 'running', actionId: 'status-check', by: 'U1', at },
      { type: 'step.started', actor: 'U1', details: { host: 'lb-1' }, at },
    );
    expect(event).toMatchObject({ incidentId: id, type: 'step.started', at, details: { host: 'lb-1' } });
    expect((await store.get(id))!.steps['diagnosis-2']).toEqual({
      state: 'running',
      actionId: 'status-check',
      by: 'U1',
      at,
    });
    expect(await store.timeline(id)).toEqual([event]);
  });

  it('writes neither when the event cannot be written (one transaction)', async () => {
    const { store, id } = await open();
    const at = '2026-11-25T03:01:00.000Z';
    await store.recordStep(
      id,
      'diagnosis-2',
      { state: 'running', actionId: 'status-check', by: 'U1', at },
      { type: 'step.started', actor: 'U1', details: {}, at },
    );
    // details that cannot be serialised make the timeline insert throw after the step's upsert ran
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(
      store.recordStep(
        id,
        'diagnosis-2',
        { state: 'ok', actionId: 'status-check', by: 'U1', at, exitCode: 0, durationMs: 5 },
        { type: 'step.finished', actor: 'U1', details: circular, at },
      ),
    ).rejects.toThrow();
    expect((await store.get(id))!.steps['diagnosis-2'].state).toBe('running');
    expect((await store.timeline(id)).map((e) => e.type)).toEqual(['step.started']);
  });
});

describe('SqliteIncidentStore file mode (#12 §7)', () => {
  it('creates the file 0600 whatever the umask, and its WAL the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rbp-store-mode-'));
    const old = process.umask(0o022);
    try {
      const path = join(dir, 'pilot.db');
      const store = new SqliteIncidentStore(path);
      await store.openOrGet({ alert: firingAlert(), channel: 'C1', threadTs: '1.1', at: '2026-11-25T03:00:00.000Z' });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
      await store.close();
    } finally {
      process.umask(old);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
