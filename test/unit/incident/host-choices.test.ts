/**
 * An alert whose rule aggregates `instance` away names no host: its binding's `hosts:` (names or groups) are the
 * choices. One choice is the host; several are the user's to pick; an alert that names a host is never re-pointed.
 */
import type { HostConfig } from '../../../src/config/schema';
import { hostChoices, hostChoicesOf } from '../../../src/incident/host-choices';
import { applyAlert } from '../../../src/incident/incident-service';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import type { Alert } from '../../../src/ingest/alert';
import { labelsFingerprint } from '../../../src/ingest/fingerprint';

const h = (name: string, group?: string, instance = `${name}:9101`): HostConfig =>
  ({ name, group, match: { instance: [instance] } }) as unknown as HostConfig;
const hosts = [h('lb-1', 'haproxy'), h('lb-2', 'haproxy'), h('db-1', 'db'), h('edge-9')];
const alert = (labels: Record<string, string>): Alert => ({
  alertname: labels.alertname,
  status: 'firing',
  labels,
  annotations: {},
  fingerprint: labelsFingerprint(labels),
  source: 'alertmanager-slack',
  missingLabels: [],
});

describe('hostChoices', () => {
  it.each([
    ['a group', { hosts: ['haproxy'] }, { alertname: 'A', backend: 'web' }, ['lb-1', 'lb-2']],
    ['a name and a group', { hosts: ['edge-9', 'db'] }, { alertname: 'A' }, ['db-1', 'edge-9']],
    ['no hosts in the binding', {}, { alertname: 'A', backend: 'web' }, []],
    [
      'an alert that names its host, even an unknown one',
      { hosts: ['haproxy'] },
      { alertname: 'A', instance: '10.9.9.9:9101' },
      [],
    ],
    [
      'a binding with another host label, which the alert has',
      { hosts: ['haproxy'], hostLabel: 'nodename' },
      { alertname: 'A', nodename: 'lb-7' },
      [],
    ],
    ['an unknown group', { hosts: ['nowhere'] }, { alertname: 'A' }, []],
  ])('%s', (_name, binding, labels, want) => {
    expect(
      hostChoices(hosts, binding, labels)
        .map((x) => x.name)
        .sort(),
    ).toEqual(want);
  });
});

describe('applyAlert with a binding that names hosts', () => {
  const setup = (bindingHosts: string[]) => {
    const store = new SqliteIncidentStore(':memory:');
    const deps = {
      store,
      hosts,
      stillFiringIntervalSec: 600,
      now: () => new Date('2026-11-25T03:00:00Z'),
      bindingOf: () => ({ alert: 'A', hosts: bindingHosts }),
    };
    return { store, deps };
  };

  it('runs on the only host of the group', async () => {
    const { deps } = setup(['db']);
    const out = await applyAlert(deps, alert({ alertname: 'A', backend: 'web' }), { channel: 'C1', threadTs: '1.1' });
    expect(out.kind === 'opened' && out.incident.hostName).toBe('db-1');
  });

  it('with several, picks none and records the choices on the timeline', async () => {
    const { store, deps } = setup(['haproxy']);
    const out = await applyAlert(deps, alert({ alertname: 'A', backend: 'web' }), { channel: 'C1', threadTs: '1.1' });
    expect(out.kind).toBe('opened');
    if (out.kind !== 'opened') return;
    expect(out.incident.hostName).toBeUndefined();
    expect((await store.timeline(out.incident.id))[0].details).toMatchObject({
      host: null,
      hostChoices: ['lb-1', 'lb-2'],
    });
  });

  it('an alert that names an unconfigured host is not moved to the group', async () => {
    const { deps } = setup(['db']);
    const out = await applyAlert(deps, alert({ alertname: 'A', instance: '10.9.9.9:9101' }), {
      channel: 'C1',
      threadTs: '1.1',
    });
    expect(out.kind === 'opened' && out.incident.hostName).toBeUndefined();
  });
});

describe('hostChoicesOf (#20: the incident → names lookup the presenter and the host decision use)', () => {
  it('reads the binding of the incident’s alert from the runbooks; no runbook, no choices', () => {
    const runbooks = { get: (name: string) => (name === 'A' ? { binding: { hosts: ['haproxy'] } } : undefined) };
    const choicesOf = hostChoicesOf(hosts, runbooks);
    expect(choicesOf({ alertname: 'A', alert: alert({ alertname: 'A' }) })).toEqual(['lb-1', 'lb-2']);
    expect(choicesOf({ alertname: 'B', alert: alert({ alertname: 'B' }) })).toEqual([]);
  });
});
