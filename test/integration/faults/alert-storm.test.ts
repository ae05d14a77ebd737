/**
 * Issue #6, an alert storm at a small scale through the real bot: 100 alert messages for 10 distinct alerts make
 * exactly 10 incidents; chat.postMessage keeps the per-channel pace (a burst, then one per interval), queued not
 * dropped; repeats that change nothing send no chat.update. Each repeated message gets one "Already open" answer under
 * it (#21 item 12), low-priority: after the incident messages, in the same pace.
 */
import { maxInWindow, stormMessages } from '../../support/alert-storm';
import { CHANNEL, type Harness, startHarness } from '../../support/pilot-harness';

const PER_SECOND = 25;
const BURST = 3;

describe('alert storm (small scale)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: {
        slack: { channels: [CHANNEL], stillFiringIntervalSec: 3600, postsPerSecond: PER_SECOND, postBurst: BURST },
      },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('opens exactly one incident per alert and paces the posts', async () => {
    // given: 100 messages, 10 distinct alerts, interleaved, delivered 20 at a time
    const messages = stormMessages(100, 10);
    const statuses: number[] = [];
    for (let i = 0; i < messages.length; i += 20) {
      const batch = await Promise.all(
        messages.slice(i, i + 20).map((m) => h.slack.postAlertMessage(CHANNEL, m.fields)),
      );
      statuses.push(...batch.map((d) => d.status));
    }
    expect(statuses.every((s) => s === 200)).toBe(true);

    // then: 10 incidents, each shown once
    const deadline = Date.now() + 15_000;
    while ((await h.pilot.deps.store.listOpen()).filter((i) => i.messageTs).length < 10 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const open = await h.pilot.deps.store.listOpen();
    expect(open).toHaveLength(10);
    expect(new Set(open.map((i) => `${i.alert.labels.backend}/${i.alert.labels.server}`)).size).toBe(10);
    const incidentTs = new Set(open.map((i) => i.messageTs));
    const isIncidentMessage = (c: { response?: unknown }) =>
      incidentTs.has((c.response as { ts?: string } | undefined)?.ts);
    const posts = h.slack.calls('chat.postMessage').filter((c) => c.status === 200 && isIncidentMessage(c));
    expect(posts).toHaveLength(10);
    expect(new Set(posts.map((c) => c.args.thread_ts)).size).toBe(10);

    // each of the 90 repeated messages gets one answer under it, queued not dropped (#21 item 12); waiting for all of
    // them is also the barrier before the next test, whose counts must not meet this storm's tail
    const isAnswer = (c: { args: Record<string, unknown> }) => String(c.args.text).startsWith('🔁 Already open:');
    await h.slack.waitFor(
      'chat.postMessage',
      () => h.slack.calls('chat.postMessage').filter((c) => c.status === 200 && isAnswer(c)).length >= 90,
      20_000,
    );
    const all = h.slack.calls('chat.postMessage').filter((c) => c.status === 200);
    const answers = all.filter(isAnswer);
    expect(answers).toHaveLength(90);
    expect(new Set(answers.map((c) => c.args.thread_ts)).size).toBe(90);
    expect(all).toHaveLength(100);
    // repeats change nothing visible in the incidents: no chat.update at all
    expect(h.slack.calls('chat.update')).toHaveLength(0);

    // the pace, a token bucket, over every post (incident messages and answers share the channel): in any window, at
    // most the burst plus one a tick (the exact rule with a fake clock is post-pacer.test.ts; here a post's time is
    // its arrival at Slack, so one may arrive early by its trip: +1)
    const tick = 1000 / PER_SECOND;
    for (const ticks of [3, 5, 10])
      expect(
        maxInWindow(
          all.map((c) => c.at),
          ticks * tick,
        ),
      ).toBeLessThanOrEqual(BURST + ticks + 1);
    // and paced, not all at once: the ten incident messages went out over at least (10 - burst - 1) ticks
    const times = posts.map((c) => c.at);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual((10 - BURST - 1) * tick);
  }, 30_000);

  it('paces the alert messages the bot posts itself for webhook alerts, with their incident messages', async () => {
    // given: 8 distinct alerts in one Alertmanager webhook (version 4)
    h.slack.reset();
    const alerts = Array.from({ length: 8 }, (_, i) => ({
      status: 'firing',
      labels: {
        alertname: 'HaproxyServerDown',
        backend: 'api',
        instance: 'lb-9:9101',
        job: 'haproxy',
        server: `api${i}`,
        severity: 'critical',
      },
      annotations: { summary: `api${i} down` },
      startsAt: '2026-11-25T03:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: `f00d${String(i).padStart(12, '0')}`,
    }));
    const body = {
      version: '4',
      groupKey: '{}:{}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'runbook-pilot',
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://alertmanager:9093',
      alerts,
    };
    const res = await h.webhook(body);
    expect(res.status).toBe(202);

    // then: 8 alert messages and 8 incident messages, all under the same per-channel pace
    const deadline = Date.now() + 15_000;
    while (h.slack.calls('chat.postMessage').length < 16 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const posts = h.slack.calls('chat.postMessage').filter((c) => c.status === 200);
    expect(posts.filter((c) => !c.args.thread_ts)).toHaveLength(8);
    expect(posts.filter((c) => c.args.thread_ts)).toHaveLength(8);
    expect(
      maxInWindow(
        posts.map((c) => c.at),
        1000,
      ),
    ).toBeLessThanOrEqual(BURST + PER_SECOND);
  }, 30_000);
});
