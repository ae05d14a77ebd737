/**
 * Issue #13 §2 through two real bots (two createApp instances, one Postgres, one Slack stand-in): the same
 * Alertmanager notifications reaching both replicas at once (Alertmanager in HA sends from each peer) open one
 * incident per alert and post one alert message, one incident message and one resolution summary per incident.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithDatastores, freshDatabase } from '../../support/datastores';
import { type Harness, startHarness } from '../../support/pilot-harness';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'alertmanager', name), 'utf8')) as {
    alerts: unknown[];
  };

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWithDatastores('two replicas on one Postgres: one incident message per alert (#13 §2)', () => {
  let db: { url: string; drop(): Promise<void> };
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    db = await freshDatabase('once');
    const config = { store: { path: '/nonexistent-dir/unused.db', url: db.url } };
    a = await startHarness({ config });
    b = await startHarness({ slack: a.slack, config });
  });
  afterAll(async () => {
    // the second bot first: the first harness owns the stand-in both use
    await b?.stop().catch(() => undefined);
    await a?.stop().catch(() => undefined);
    await db?.drop();
  });

  it('posts each grouped alert once though every notification reached both replicas, twice', async () => {
    const firing = fixture('grouped-three.webhook.firing.json');
    const resolved = fixture('grouped-three.webhook.resolved.json');
    const n = firing.alerts.length;
    expect(n).toBeGreaterThan(1);

    // when the same notification reaches both replicas, twice each, at once
    const answers = await Promise.all([a, b, a, b].map((h) => h.webhook(firing)));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202]);

    // then one incident per alert, each with its message posted
    const store = a.pilot.deps.store;
    const open = await until('every incident posted', async () => {
      const list = await store.listOpen();
      return list.length === n && list.every((i) => i.messageTs) ? list : undefined;
    });
    // (every delivery handled by both, so a second post would have been sent, before counting)
    await Promise.all([a.webhookDrained(), b.webhookDrained()]);
    const posts = a.slack.calls('chat.postMessage');
    const announced = posts.filter((c) => !c.args.thread_ts);
    const incidentMessages = posts.filter((c) => JSON.stringify(c.args.blocks ?? '').includes('step.'));
    expect(announced).toHaveLength(n);
    expect(incidentMessages).toHaveLength(n);
    expect(new Set(incidentMessages.map((c) => c.args.thread_ts))).toEqual(new Set(open.map((i) => i.threadTs)));

    // when the resolve reaches both replicas at once: one summary per incident
    await Promise.all([a, b].map((h) => h.webhook(resolved)));
    await until('every incident resolved', async () => ((await store.listOpen()).length === 0 ? true : undefined));
    await Promise.all([a.webhookDrained(), b.webhookDrained()]);
    const summaries = a.slack.calls('chat.postMessage').filter((c) => String(c.args.reply_broadcast) === 'true');
    expect(summaries).toHaveLength(n);
    for (const incident of open) {
      const types = (await store.timeline(incident.id)).map((e) => e.type);
      expect(types.filter((t) => t === 'alert.fired')).toHaveLength(1);
      expect(types.filter((t) => t === 'incident.resolved')).toHaveLength(1);
    }
  });
});
