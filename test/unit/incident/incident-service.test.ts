import type { HostConfig } from '../../../src/config/schema';
import { applyAlert } from '../../../src/incident/incident-service';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import type { Alert } from '../../../src/ingest/alert';
import { firingAlert } from '../../support/domain-fixtures';

const host = { name: 'lb-1', match: { instance: ['lb-1:9101'] } } as unknown as HostConfig;
const firing: Alert = firingAlert({ source: 'alertmanager-slack' });

function setup() {
  let now = new Date('2026-11-25T03:00:00.000Z');
  const store = new SqliteIncidentStore(':memory:');
  const deps = { store, hosts: [host], stillFiringIntervalSec: 600, now: () => now };
  return { store, deps, advance: (sec: number) => (now = new Date(now.getTime() + sec * 1000)) };
}

describe('applyAlert', () => {
  it('opens one incident for the host, notes repeats at most once an interval, and resolves it', async () => {
    const { store, deps, advance } = setup();
    const place = { channel: 'C1', threadTs: '1.1' };

    const opened = await applyAlert(deps, firing, place);
    expect(opened).toMatchObject({ kind: 'opened', incident: { hostName: 'lb-1', threadTs: '1.1' } });

    advance(60);
    expect(await applyAlert(deps, firing, { channel: 'C1', threadTs: '2.2' })).toMatchObject({
      kind: 'repeated',
      notify: false,
      incident: { threadTs: '1.1' },
    });
    advance(600);
    expect(await applyAlert(deps, firing, place)).toMatchObject({ kind: 'repeated', notify: true });
    advance(60);
    expect(await applyAlert(deps, firing, place)).toMatchObject({ kind: 'repeated', notify: false });

    const resolved = await applyAlert(deps, { ...firing, status: 'resolved' }, place);
    expect(resolved).toMatchObject({ kind: 'resolved', incident: { status: 'resolved', resolvedBy: 'alertmanager' } });
    expect((await applyAlert(deps, { ...firing, status: 'resolved' }, place)).kind).toBe('resolved-unknown');

    const id = opened.kind === 'opened' ? opened.incident.id : -1;
    expect((await store.timeline(id)).map((e) => e.type)).toEqual([
      'alert.fired',
      'alert.repeated',
      'alert.repeated',
      'alert.repeated',
      'alert.resolved',
      'incident.resolved',
    ]);
  });

  it('opens an incident without a host when no host matches', async () => {
    const { deps } = setup();
    const other = { ...firing, fingerprint: 'fp2', labels: { ...firing.labels, instance: 'lb-9:9101' } };
    const opened = await applyAlert(deps, other, { channel: 'C1', threadTs: '3.3' });
    expect(opened.kind === 'opened' && opened.incident.hostName).toBeUndefined();
  });

  it.each([
    ['other label values', { ...firing.labels, server: 'api-db-primary', backend: 'db' }],
    ['fewer labels', { alertname: 'HaproxyServerDown' }],
    ['more labels', { ...firing.labels, extra: 'x' }],
  ])(
    'never changes the labels of an open incident, even for a delivery under its fingerprint with %s',
    async (_name, labels) => {
      const { store, deps } = setup();
      const opened = await applyAlert(deps, firing, { channel: 'C1', threadTs: '3.3' });
      const id = opened.kind === 'opened' ? opened.incident.id : -1;
      const forged: Alert = { ...firing, labels, annotations: { summary: 'updated' }, missingLabels: ['server'] };
      const repeated = await applyAlert(deps, forged, { channel: 'C1', threadTs: '3.3' });
      expect(repeated.kind).toBe('repeated');
      expect((await store.get(id))?.alert.labels).toEqual(firing.labels);
      expect((await store.get(id))?.alert.missingLabels).toEqual(firing.missingLabels);
      // what may change, does
      expect((await store.get(id))?.alert.annotations.summary).toBe('updated');
      const resolved = await applyAlert(deps, { ...forged, status: 'resolved' }, { channel: 'C1', threadTs: '3.3' });
      expect(resolved.kind === 'resolved' && resolved.incident.alert.labels).toEqual(firing.labels);
    },
  );
});
