/**
 * Issue #13 §2, step leases, through two real bots on one Postgres (in one process; the kill -9 of a real bot process
 * is in the multi-process tests): a step running on a live replica is never taken for dead however long it runs,
 * and a step whose replica stopped renewing its lease is recorded `interrupted` by a replica within the lease and a
 * heartbeat, once, with a line in its thread.
 */
import { Client } from 'pg';
import { HostSchema } from '../../../src/config/schema';
import type { ExecResult, Executor } from '../../../src/exec/types';
import { describeWithDatastores, freshDatabase } from '../../support/datastores';
import { unusedKeyFile } from '../../support/fakes';
import { CHANNEL, type Harness, SIGNING_SECRET, startHarness } from '../../support/pilot-harness';

/** An executor whose commands run until the test lets them end. */
class HangingExecutor implements Executor {
  private readonly waiting: Array<(r: ExecResult) => void> = [];
  run(): Promise<ExecResult> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  get running(): number {
    return this.waiting.length;
  }
  release(): void {
    for (const r of this.waiting.splice(0))
      r({
        exitCode: 0,
        stdout: { text: 'ok', bytes: 2, truncatedBytes: 0 },
        stderr: { text: '', bytes: 0, truncatedBytes: 0 },
        durationMs: 1,
        timedOut: false,
      });
  }
  async close(): Promise<void> {
    this.release();
  }
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How many step-lease heartbeats a replica has ended (runbook_pilot_step_lease_heartbeats_total, ok or failed). */
async function heartbeats(h: Harness): Promise<number> {
  const text = await h.pilot.metrics.registry.getSingleMetricAsString('runbook_pilot_step_lease_heartbeats_total');
  return [...text.matchAll(/^runbook_pilot_step_lease_heartbeats_total\{[^}]*\} (\S+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

const host = HostSchema.parse({
  name: 'lb-1',
  match: { instance: ['127.0.0.1:9101'] },
  ssh: {
    host: '10.0.0.5',
    user: 'pilot',
    privateKeyPath: unusedKeyFile(),
    hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
  },
  haproxy: { socket: '/run/haproxy/admin.sock', config: '/etc/haproxy/haproxy.cfg', log: '/var/log/haproxy.log' },
});
// The shortest lease and heartbeat the config allows: the waits below are counted in them.
const LEASE_SEC = 1;
const HEARTBEAT_SEC = 0.2;

describeWithDatastores('step leases across two replicas on one Postgres (#13 §2)', () => {
  let db: { url: string; drop(): Promise<void> };
  let a: Harness;
  let b: Harness;
  const hanging = new HangingExecutor();
  beforeAll(async () => {
    db = await freshDatabase('leases');
    const config = {
      store: { path: '/nonexistent-dir/unused.db', url: db.url },
      replicas: { leaseSec: LEASE_SEC, heartbeatSec: HEARTBEAT_SEC },
    };
    a = await startHarness({ config, hosts: [host], executor: hanging });
    b = await startHarness({ slack: a.slack, config, hosts: [host] });
  });
  afterAll(async () => {
    hanging.release();
    await b?.stop().catch(() => undefined);
    await a?.stop().catch(() => undefined);
    await db?.drop();
  });

  it('never sweeps a live replica’s running step; records a dead one’s interrupted within the lease and a heartbeat', async () => {
    const store = b.pilot.deps.store;
    const threadTs = await b.postFixture('single.slack-default.firing.event.json');
    await b.incidentMessage(threadTs);
    // the click reaches replica A, which runs the step (its command hangs)
    a.slack.configureBot({ url: `${a.url}/slack/events`, signingSecret: SIGNING_SECRET });
    await a.click(threadTs, 'step.run:diagnosis-2:status-check');
    await until('the step running on A', () => (hanging.running === 1 ? true : undefined));
    const incident = await until('the running step recorded', async () => {
      const [i] = await store.listOpen();
      return i?.steps['diagnosis-2']?.state === 'running' ? i : undefined;
    });

    // while A lives it renews its lease: once A has renewed it past three lease periods (B sweeping on every
    // heartbeat meanwhile), nobody has taken the step for dead
    const sql = new Client({ connectionString: db.url });
    await sql.connect();
    const leaseUntil = async () =>
      Date.parse(
        (await sql.query(`SELECT lease_until FROM steps WHERE step_id = 'diagnosis-2'`)).rows[0]?.lease_until ?? '',
      );
    const firstLease = await leaseUntil();
    expect(firstLease).toBeGreaterThan(Date.now() - LEASE_SEC * 1000);
    await until('A to renew its lease for three lease periods', async () =>
      (await leaseUntil()) >= firstLease + 3 * LEASE_SEC * 1000 ? true : undefined,
    );
    expect((await store.get(incident.id))?.steps['diagnosis-2'].state).toBe('running');
    expect((await store.timeline(incident.id)).map((e) => e.type)).not.toContain('step.interrupted');

    // when A stops renewing (as if killed: its lease now names a process that is gone)
    const diedAt = Date.now();
    try {
      const res = await sql.query(`UPDATE steps SET owner = 'gone-replica' WHERE step_id = 'diagnosis-2'`);
      expect(res.rowCount).toBe(1);
    } finally {
      await sql.end();
    }

    // then a replica records it interrupted within the lease and a heartbeat (and a margin for a slow machine)
    const ended = await until('the step recorded interrupted', async () => {
      const events = await store.timeline(incident.id);
      return events.find((e) => e.type === 'step.interrupted');
    });
    const tookMs = Date.now() - diedAt;
    expect(tookMs).toBeLessThan((LEASE_SEC + HEARTBEAT_SEC) * 1000 + 5000);
    expect(ended.details).toMatchObject({
      stepId: 'diagnosis-2',
      ran: true,
      owner: 'gone-replica',
      reason: 'its replica stopped renewing its lease',
    });
    expect((await store.get(incident.id))?.steps['diagnosis-2']).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(/^interrupted/),
    });
    // the thread is told, once
    const told = await a.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.thread_ts === threadTs && /status-check was interrupted/.test(String(c.args.text)),
      5000,
    );
    expect(String(told.args.text)).toMatch(/outcome is unknown/);
    // a second sweep would come on a later heartbeat: both replicas have each ended two heartbeats since (the first may
    // have begun before the message), so every sweep that could record it again has run
    const marks = await Promise.all([a, b].map(heartbeats));
    await until('two more heartbeats on each replica', async () =>
      (await Promise.all([a, b].map(heartbeats))).every((n, i) => n >= marks[i] + 2) ? true : undefined,
    );
    expect(a.slack.calls('chat.postMessage').filter((c) => /was interrupted/.test(String(c.args.text)))).toHaveLength(
      1,
    );
    expect((await store.timeline(incident.id)).filter((e) => e.type === 'step.interrupted')).toHaveLength(1);
    // and counted on the replica that recorded it
    const counts = await Promise.all(
      [a, b].map(async (h) =>
        (await h.pilot.metrics.registry.getSingleMetricAsString('runbook_pilot_steps_interrupted_total')).includes(
          'reason="lease_expired"} 1',
        ),
      ),
    );
    expect(counts.filter(Boolean)).toHaveLength(1);
    expect(a.slack.thread(CHANNEL, threadTs).length).toBeGreaterThan(1);
  }, 40_000);
});
