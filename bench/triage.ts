/**
 * Triage benchmarks (issue #22), through the real bot on the Slack stand-in and the loopback test hosts:
 *
 *   1. Alert → triage message complete: one alert at a time (each a new incident), from the alert event sent to the
 *      triage message that names the likely cause, five read steps over SSH (goal: median and p95 under 2 s).
 *   2. A 50-alert storm over six load balancers (all the loopback host): how many incidents are triaged (at most
 *      `triage.maxPerMinute`, default 10; the rest say "triage skipped") and a person's click during it, against the
 *      same click with nothing else going on: the click must not wait for the storm's triage.
 */
import { performance } from 'node:perf_hooks';
import type { HostConfig } from '../src/config/schema';
import { CHANNEL, type Harness, ONCALL, startHarness } from '../test/support/pilot-harness';
import type { RecordedCall } from '../test/support/slack-standin';
import { type TestHosts, testHostConfig } from '../test/support/test-hosts';
import { quantile, round } from './ssh';

const limits = {
  perHost: { concurrency: 2, minGapMs: 100, maxQueued: 1000 },
  global: { concurrency: 20 },
  perUser: { clicksPerMinute: 100_000 },
};

function spread(name: string, values: number[]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  return { [`${name}_median_ms`]: round(quantile(sorted, 0.5)), [`${name}_p95_ms`]: round(quantile(sorted, 0.95)) };
}

/** Median, p90 and max of a sorted sample: ten clicks, so p90 and max are the slowest two, the tail a click can hit. */
function tail(name: string, sorted: number[]): Record<string, number> {
  return {
    [`${name}_p50_ms`]: round(quantile(sorted, 0.5)),
    [`${name}_p90_ms`]: round(quantile(sorted, 0.9)),
    [`${name}_max_ms`]: round(sorted[sorted.length - 1] ?? Number.NaN),
  };
}

/** Sends an alert message for `host` (a new fingerprint per `tag`); resolves with the thread ts and the send time. */
let seq = 0;
async function alert(h: Harness, host: string, tag: string): Promise<{ ts: string; t0: number }> {
  seq++;
  const t0 = performance.now();
  const sent = await h.slack.sendEvent({
    type: 'message',
    channel: CHANNEL,
    user: ONCALL,
    text: `HaproxyServerDown instance=${host}:9101 backend=web server=web2 bench=${tag}`,
    ts: `${1_800_000_000 + seq}.000100`,
  });
  return { ts: (sent.envelope as { event: { ts: string } }).event.ts, t0 };
}

const isCause = (ts: string) => (c: RecordedCall) =>
  c.method === 'chat.update' && JSON.stringify(c.args.blocks ?? '').includes('triage-cause') && replyOf(c) !== ts;
function replyOf(c: RecordedCall): string {
  return String(c.args.ts ?? '');
}

/** The ts of the bot's triage message in a thread, once posted. */
async function triageMessageTs(h: Harness, threadTs: string): Promise<string> {
  const post = await h.slack.waitFor(
    'chat.postMessage',
    (c) => c.args.thread_ts === threadTs && JSON.stringify(c.args.blocks ?? '').includes('Triage*'),
    30_000,
  );
  return (post.response as { ts: string }).ts;
}

/** Alert → triage message complete, `count` times, one at a time. */
export async function benchTriageLatency(hosts: TestHosts, count: number): Promise<Record<string, number | string>> {
  const lb = testHostConfig(hosts);
  const h = await startHarness({
    hosts: [lb],
    config: { limits, triage: { enabled: true, perHostPerMinute: 1000, maxPerMinute: 10_000 } },
  });
  try {
    const times: number[] = [];
    let steps = 0;
    for (let i = 0; i < count + 1; i++) {
      const { ts, t0 } = await alert(h, lb.name, `latency-${i}`);
      const msgTs = await triageMessageTs(h, ts);
      const done = await h.slack.waitFor('chat.update', (c) => c.args.ts === msgTs && isCause(ts)(c), 30_000);
      const blocks = done.args.blocks as Array<{ block_id?: string; text?: { text?: string } }>;
      steps = (blocks.find((b) => b.block_id === 'triage-steps')?.text?.text ?? '').split('\n').length;
      if (i > 0) times.push(done.t - t0); // the first opens the SSH connection
    }
    return { alerts: count, steps_per_triage: steps, ...spread('alert_to_triage_complete', times), goal_ms: 2000 };
  } finally {
    await h.stop();
  }
}

/** A storm of `alerts` incidents over five host names, and clicks during it vs clicks with nothing else running. */
export async function benchTriageStorm(
  hosts: TestHosts,
  alerts: number,
  triageOn = true,
): Promise<Record<string, number | string>> {
  const base = testHostConfig(hosts);
  const lbs: HostConfig[] = ['lb-a', 'lb-b', 'lb-c', 'lb-d', 'lb-e'].map((name) => ({
    ...base,
    name,
    match: { instance: [`${name}:9101`] },
  }));
  const h = await startHarness({
    hosts: [base, ...lbs],
    // The default budgets: 10 a minute, 6 per host. Off: the same storm without triage, to compare the clicks.
    config: { limits, triage: { enabled: triageOn } },
  });
  try {
    // The incident a person works on, opened and triaged before the storm (its triage is not part of the storm).
    const first = await alert(h, base.name, 'worked-on');
    const incidentTs = (await h.incidentMessage(first.ts)).ts;
    if (triageOn) {
      const firstTriage = await triageMessageTs(h, first.ts);
      await h.slack.waitFor('chat.update', (c) => c.args.ts === firstTriage && isCause(first.ts)(c), 30_000);
    }
    const incidentId = (await h.pilot.deps.store.listOpen())[0].id;
    /** Click → result in Slack, and click → the command finished on the host (the store's step.finished). */
    const click = async (): Promise<{ slack: number; command: number }> => {
      const seen = h.slack.calls().length;
      const wall = Date.now();
      const t0 = performance.now();
      await h.slack.clickButton({
        user: ONCALL,
        channel: CHANNEL,
        messageTs: incidentTs,
        actionId: 'step.run:diagnosis-2:status-check',
      });
      const result = await h.slack.waitFor(
        'chat.postMessage',
        (c) =>
          h.slack.calls().indexOf(c) >= seen &&
          String(c.args.text ?? '').startsWith('HAProxy process and sockets on lb-test'),
        30_000,
      );
      const finished = (await h.pilot.deps.store.timeline(incidentId)).find(
        (e) => e.type === 'step.finished' && e.actor === ONCALL && Date.parse(e.at) >= wall,
      );
      return { slack: result.t - t0, command: finished ? Date.parse(finished.at) - wall : Number.NaN };
    };
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const quiet: Array<{ slack: number; command: number }> = [];
    for (let i = 0; i < 10; i++) {
      quiet.push(await click());
      await pause(250);
    }
    // The storm: every alert at once, spread over the five names; clicks go on while it is triaged.
    // lb-test itself is among them: its triage steps compete with the clicks for the same host's slots.
    const names = [base.name, ...lbs.map((l) => l.name)];
    const sent = Promise.all(Array.from({ length: alerts }, (_, i) => alert(h, names[i % names.length], `storm-${i}`)));
    const during: Array<{ slack: number; command: number }> = [];
    for (let i = 0; i < 10; i++) {
      during.push(await click());
      await pause(250);
    }
    const threads = await sent;
    // Every storm incident ends with a triage message: complete, or skipped.
    const settled = async () => {
      for (const t of threads) {
        const msgTs = await triageMessageTs(h, t.ts).catch(() => undefined);
        if (msgTs) await h.slack.waitFor('chat.update', (c) => c.args.ts === msgTs && isCause(t.ts)(c), 60_000);
      }
    };
    const skippedPosts = () =>
      h.slack.calls('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks ?? '').includes('triage-skipped'));
    if (triageOn) await Promise.race([settled(), pause(60_000)]);
    const events = (
      await Promise.all((await h.pilot.deps.store.listOpen()).map((i) => h.pilot.deps.store.timeline(i.id)))
    ).flat();
    const triaged = Math.max(0, events.filter((e) => e.type === 'triage.started').length - 1); // less the worked-on one
    // A click that had to wait for a slot on its host is recorded step.queued: none may be.
    const clicksQueued = (await h.pilot.deps.store.timeline(incidentId)).filter(
      (e) => e.type === 'step.queued' && e.actor === ONCALL,
    ).length;
    const skipped = events.filter((e) => e.type === 'triage.skipped').length;
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const q = sorted(quiet.map((x) => x.slack));
    const d = sorted(during.map((x) => x.slack));
    const qc = sorted(quiet.map((x) => x.command));
    const dc = sorted(during.map((x) => x.command));
    return {
      storm_alerts: alerts,
      triaged,
      skipped,
      skipped_messages: skippedPosts().length,
      budget_per_minute: 10,
      within_budget: triaged <= 10 ? 'yes' : 'NO',
      clicks_queued_behind_triage: clicksQueued,
      // Click → the command done on the host: what the triage could delay (its steps hold one host slot at most).
      ...tail('click_to_command_done_quiet', qc),
      ...tail('click_to_command_done_storm', dc),
      // Click → its result in Slack: the result post shares the channel's post pace with the storm's own messages.
      ...tail('click_quiet', q),
      ...tail('click_during_storm', d),
    };
  } finally {
    await h.stop();
  }
}
