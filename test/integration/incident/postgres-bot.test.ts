/**
 * Issue #13 §1 end to end: the real bot with `store.url` keeps its incidents, timeline and Slack event claims in a
 * real Postgres; a second bot process on the same database (another replica, or the same one restarted with a new
 * disk) finds them there.
 */
import { openPostgresStore } from '../../../src/incident/postgres-store';
import { describeWithDatastores, freshDatabase } from '../../support/datastores';
import { CHANNEL, type Harness, startHarness } from '../../support/pilot-harness';

describeWithDatastores('the bot on a Postgres store', () => {
  let db: { url: string; drop(): Promise<void> };
  const harnesses: Harness[] = [];
  beforeAll(async () => {
    db = await freshDatabase('bot');
  });
  afterAll(async () => {
    // the second bot first: the first harness owns the stand-in both use
    for (const h of [...harnesses].reverse()) await h.stop().catch(() => undefined);
    await db.drop();
  });

  it('keeps the incident in Postgres, where a second bot on the same database finds it', async () => {
    // given a bot whose config names the database
    const first = await startHarness({ config: { store: { path: '/nonexistent-dir/unused.db', url: db.url } } });
    harnesses.push(first);
    const ts = await first.postFixture('single.slack-default.firing.event.json');
    await first.incidentMessage(ts);

    // then the incident and its timeline are in Postgres (read by a store of our own)
    const reader = await openPostgresStore(db.url, { poolSize: 1 });
    try {
      const open = await reader.listOpen();
      expect(open).toHaveLength(1);
      expect(open[0]).toMatchObject({ channel: CHANNEL, threadTs: ts, status: 'open' });
      expect(open[0].messageTs).toBeDefined();
      expect((await reader.timeline(open[0].id)).map((e) => e.type)).toContain('alert.fired');
    } finally {
      await reader.close();
    }

    // when a second bot process starts on the same database (another replica, or this one on a new disk)
    // (only the bot: the stand-in, Slack, stays up for the second one)
    await first.stopBot();
    const second = await startHarness({
      slack: first.slack,
      config: { store: { path: '/nonexistent-dir/unused.db', url: db.url } },
    });
    harnesses.push(second);

    // then it has the incident, with the message the first one posted
    const open = await second.pilot.deps.store.listOpen();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ threadTs: ts, messageTs: expect.any(String) });
  });
});
