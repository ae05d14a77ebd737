/** Issue #12 §6: /metrics reads the open-incident count with one count query, not by loading every open incident. */
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import { Metrics } from '../../../src/metrics';
import { firingAlert } from '../../support/domain-fixtures';

describe('open incidents for /metrics', () => {
  it('countOpen counts open incidents only', async () => {
    const store = new SqliteIncidentStore(':memory:');
    const at = '2026-11-25T03:00:00.000Z';
    for (const server of ['a', 'b', 'c'])
      await store.openOrGet({
        alert: firingAlert({ fingerprint: server, labels: { alertname: 'HaproxyServerDown', server } }),
        channel: 'C1',
        threadTs: '1.1',
        at,
      });
    await store.update((await store.findOpen('b'))!.id, { status: 'resolved', resolvedAt: at });
    expect(await store.countOpen()).toBe(2);
    await store.close();
  });

  it('the gauge is read from the count at scrape time (awaited), never from a list of incidents', async () => {
    let counted = 0;
    const metrics = new Metrics();
    metrics.watch({
      openIncidents: async () => {
        counted++;
        return 4321;
      },
      hostQueues: () => ({}),
      sshStats: () => ({ connects: 0, reconnects: 0, failures: 0, open: 0 }),
      slackQueued: () => 0,
      intakeQueued: () => 0,
    });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^runbook_pilot_incidents_open 4321$/m);
    expect(counted).toBe(1);
  });
});
