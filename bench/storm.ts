/**
 * The alert storm (issues #6 and #20): `count` alert messages for `distinct` alerts at the default post pace (1 a
 * second, burst 5) through ONE REAL BOT PROCESS (the compiled entry point, SQLite store, the repo's runbooks: the
 * process the README sizes at 256 MB), its resident memory (VmRSS) sampled every 20 ms from /proc.
 *
 * Until issue #20 this ran the bot inside the benchmark's own process (ts-node with the TypeScript compiler, the
 * Slack stand-in and the benchmark itself) and reported that process's memory: 229 MB before the first message and
 * a peak of 354–373 MB, most of which was never the bot's.
 *
 * Drained: every alert's incident message posted and the bot's own gauges (`/metrics`, scraped every 50 ms once every
 * incident message is posted) say no Slack post is waiting and nothing is left in the intake queue; the open incidents
 * are counted by the same scrape.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { maxInWindow, stormMessages } from '../test/support/alert-storm';
import { CHANNEL } from '../test/support/pilot-harness';
import { buildBot } from '../test/support/replicas';
import type { RecordedCall } from '../test/support/slack-standin';
import { startOneBot } from './one-bot';
import { rssMb } from './rss';
import { quantile, round } from './ssh';

/** The value of one unlabelled gauge in a Prometheus text exposition (undefined when absent). */
export function gauge(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** The storm through a real bot process; figures for the report (and `exactly_one_per_alert`). */
export async function benchStorm(count: number, distinct: number): Promise<Record<string, string | number>> {
  await buildBot(); // before the clock starts
  const { dir, slack, set, pid } = await startOneBot('storm', 'warn');
  const bot = set.replicas[0];
  const baseline = rssMb(pid);
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 20);
  try {
    const messages = stormMessages(count, distinct);
    const acks: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < messages.length; i += 25) {
      const batch = await Promise.all(messages.slice(i, i + 25).map((m) => slack.postAlertMessage(CHANNEL, m.fields)));
      for (const d of batch) {
        if (d.status !== 200) throw new Error(`alert event answered ${d.status}`);
        acks.push(d.ackMs);
      }
    }
    const delivered = performance.now() - t0;
    const isIncidentMessage = (c: RecordedCall) =>
      c.method === 'chat.postMessage' && c.status === 200 && JSON.stringify(c.args.blocks ?? '').includes('step.');
    let incidents = 0;
    await set.until(
      'every incident shown and no Slack post waiting',
      async () => {
        if (slack.calls('chat.postMessage').filter(isIncidentMessage).length < distinct) return false;
        const text = await (await fetch(`${bot.url}/metrics`)).text();
        incidents = gauge(text, 'runbook_pilot_incidents_open') ?? 0;
        return (
          gauge(text, 'runbook_pilot_slack_posts_queued') === 0 && gauge(text, 'runbook_pilot_alerts_queued') === 0
        );
      },
      // repeats are answered in the thread at the channel's pace (1 a second), after the incident messages
      (count + 60) * 1000,
    );
    const drained = performance.now() - t0;
    clearInterval(sampler);
    set.assertNoCrash();

    const calls = slack.calls();
    const byMethod: Record<string, number> = {};
    for (const c of calls) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
    const posts = calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.at);
    acks.sort((a, b) => a - b);
    return {
      incidents_opened: incidents,
      incident_messages: calls.filter(isIncidentMessage).length,
      exactly_one_per_alert:
        incidents === distinct && calls.filter(isIncidentMessage).length === distinct ? 'yes' : 'NO',
      slack_calls_total: calls.length,
      ...Object.fromEntries(Object.entries(byMethod).map(([m, n]) => [`calls_${m}`, n])),
      max_postMessage_in_any_1s: maxInWindow(posts, 1000),
      max_postMessage_in_any_1s_after_burst: maxInWindow(posts.slice(5), 1000),
      max_postMessage_in_any_10s: maxInWindow(posts, 10_000),
      messages_delivered_in_ms: round(delivered),
      event_ack_p99_ms: round(quantile(acks, 0.99)),
      time_to_drain_s: round(drained / 1000),
      bot_rss_before_mb: round(baseline),
      bot_rss_peak_mb: round(peak),
      within_256mb: peak <= 256 ? 'yes' : 'NO',
    };
  } finally {
    clearInterval(sampler);
    await set.stop();
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
