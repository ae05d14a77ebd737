/**
 * The replica benchmark (issue #13 §4): the same alert storm and the same clicks through N real bot processes
 * (test/support/replicas.ts) on one Postgres and one Redis, behind the Slack stand-in's load balancer; run for one
 * replica and for two in the same `npm run bench`, so the figures compare on the same machine at the same moment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '../src/incident/postgres-store';
import { maxInWindow, pairedAlert } from '../test/support/alert-storm';
import { freshDatabase, redisUrl } from '../test/support/datastores';
import { CHANNEL, ONCALL } from '../test/support/pilot-harness';
import { buildBot, startReplicas } from '../test/support/replicas';
import { type RecordedCall, SlackStandIn } from '../test/support/slack-standin';
import { rssMb } from './rss';
import { quantile, round } from './ssh';

const REPO = join(__dirname, '..');

export interface ReplicaBenchSizes {
  /** Alert messages in the storm. */
  messages: number;
  /** Distinct alerts among them. */
  alerts: number;
  /** Clicks (the incident message's Refresh button) after the storm, for their ack times. */
  clicks: number;
}

/**
 * One run: `count` replicas; the storm's messages delivered 25 at a time through the balancer at the default post
 * pace (1 a second, burst 5, shared through Redis); then `clicks` clicks, 10 at a time. Figures: event and click acks,
 * time to deliver and to drain, exactly one incident and message per alert, posts in any second, start time and peak
 * memory per replica.
 */
export async function benchReplicas(count: number, sizes: ReplicaBenchSizes): Promise<Record<string, string | number>> {
  // built before the clock starts: the start figure is the processes' own
  await buildBot();
  const dir = mkdtempSync(join(tmpdir(), 'rbp-bench-replicas-'));
  const db = await freshDatabase('bench');
  const slack = new SlackStandIn({ channels: { [CHANNEL]: 'incidents' } });
  await slack.start();
  const startedAt = performance.now();
  const set = await startReplicas({
    count,
    slack,
    dir,
    config: {
      slack: { channels: [CHANNEL], stillFiringIntervalSec: 3600 },
      runbooks: join(REPO, 'runbooks'),
      store: { url: db.url },
      limits: {
        perUser: { clicksPerMinute: 100_000 },
        redis: { url: redisUrl(), prefix: `rbp-bench-${db.url.split('/').pop()}` },
      },
    },
  }).catch(async (err: unknown) => {
    await slack.stop();
    await db.drop();
    throw err;
  });
  const startMs = performance.now() - startedAt;
  const reader = await openPostgresStore(db.url, { poolSize: 2 });
  let peakRss = 0;
  const sampler = setInterval(() => {
    for (const r of set.replicas) peakRss = Math.max(peakRss, rssMb(r.child?.pid));
  }, 100);
  try {
    // the storm: every message an alert message, interleaved over the distinct alerts
    const messages = Array.from({ length: sizes.messages }, (_, i) => pairedAlert(i % sizes.alerts).slack);
    const eventAcks: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < messages.length; i += 25) {
      const batch = await Promise.all(messages.slice(i, i + 25).map((m) => slack.postAlertMessage(CHANNEL, m)));
      for (const d of batch) {
        if (d.status !== 200) throw new Error(`alert event answered ${d.status}`);
        eventAcks.push(d.ackMs);
      }
    }
    const delivered = performance.now() - t0;
    const isIncidentMessage = (c: RecordedCall) =>
      c.method === 'chat.postMessage' && c.status === 200 && JSON.stringify(c.args.blocks ?? '').includes('step.');
    await set.until(
      'every incident shown',
      async () => (await reader.listOpen()).filter((i) => i.messageTs).length >= sizes.alerts,
      (sizes.alerts + 60) * 1000,
    );
    const drained = performance.now() - t0;
    const open = await reader.listOpen();

    // clicks on the incident messages' Refresh button, spread over the replicas by the balancer
    const clickAcks: number[] = [];
    for (let i = 0; i < sizes.clicks; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, sizes.clicks - i) }, (_, j) =>
          slack.clickButton({
            user: ONCALL,
            channel: CHANNEL,
            messageTs: open[(i + j) % open.length].messageTs as string,
            actionId: 'incident.refresh',
          }),
        ),
      );
      for (const d of batch) {
        if (d.status !== 200) throw new Error(`click answered ${d.status}`);
        clickAcks.push(d.ackMs);
      }
    }
    eventAcks.sort((a, b) => a - b);
    clickAcks.sort((a, b) => a - b);
    const posts = slack.calls('chat.postMessage').filter((c) => c.status === 200);
    const shown = posts.filter(isIncidentMessage);
    return {
      replicas: count,
      start_until_all_ready_ms: round(startMs),
      incidents_opened: open.length,
      incident_messages: shown.length,
      exactly_one_per_alert: open.length === sizes.alerts && shown.length === sizes.alerts ? 'yes' : 'NO',
      messages_delivered_in_ms: round(delivered),
      event_ack_median_ms: round(quantile(eventAcks, 0.5)),
      event_ack_p99_ms: round(quantile(eventAcks, 0.99)),
      time_to_drain_s: round(drained / 1000),
      max_postMessage_in_any_1s: maxInWindow(
        posts.map((c) => c.at),
        1000,
      ),
      click_ack_median_ms: round(quantile(clickAcks, 0.5)),
      click_ack_p99_ms: round(quantile(clickAcks, 0.99)),
      rss_peak_per_replica_mb: round(peakRss),
    };
  } finally {
    clearInterval(sampler);
    await set.stop();
    await reader.close();
    await slack.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
