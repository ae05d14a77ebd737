/** Slack retries are told from new events by claiming the event id, once (#15: out of the incident store). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventClaims, MemoryEventClaims, SqliteEventClaims } from '../../../src/incident/event-claims';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';

const T0 = new Date('2026-11-25T03:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'rbp-claims-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each<[string, () => EventClaims]>([
  ['SqliteEventClaims', () => new SqliteEventClaims(':memory:')],
  ['MemoryEventClaims', () => new MemoryEventClaims()],
])('%s', (_name, make) => {
  it('claims a new event id once; a retry is refused', async () => {
    const claims = make();
    expect(await claims.claim('Ev1', T0)).toBe(true);
    expect(await claims.claim('Ev1', later(1000))).toBe(false);
    expect(await claims.claim('Ev2', later(1000))).toBe(true);
    await claims.close();
  });
});

describe('SqliteEventClaims in the store file', () => {
  it('shares the file with the store and keeps its claims across a restart', async () => {
    const path = join(dir, 'pilot.db');
    const store = new SqliteIncidentStore(path);
    const first = new SqliteEventClaims(path);
    expect(await first.claim('Ev1', T0)).toBe(true);
    first.close();
    const second = new SqliteEventClaims(path);
    expect(await second.claim('Ev1', later(60_000))).toBe(false);
    second.close();
    store.close();
  });
});

describe('MemoryEventClaims', () => {
  it('forgets ids older than a day, so it stays small', async () => {
    const claims = new MemoryEventClaims();
    await claims.claim('Ev1', T0);
    await claims.claim('Ev2', later(25 * 3_600_000));
    expect(await claims.claim('Ev1', later(25 * 3_600_000 + 1))).toBe(true);
  });
});
