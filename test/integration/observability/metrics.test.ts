/**
 * Issue #6: GET /metrics of the real bot after real work — an alert from Slack and one from the webhook, clicks that
 * run on the loopback load balancer, a queue on the host, Slack failures and a 429, and an sshd that refuses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostConfig } from '../../../src/config/schema';
import { CHANNEL, type Harness, ONCALL, startHarness } from '../../support/pilot-harness';
import { type PromText, parsePromText } from '../../support/prom-text';
import { runStep } from '../../support/step-helpers';
import { describeWithHosts, stopSshd, testHostConfig } from '../../support/test-hosts';

const FIXTURES = join(__dirname, '..', '..', 'fixtures');

describeWithHosts('GET /metrics', (hosts) => {
  const lb = testHostConfig(hosts);
  const refused: HostConfig = {
    ...lb,
    name: 'lb-refused',
    match: { instance: ['lb-refused:9101'] },
    ssh: { ...lb.ssh, port: hosts.ssh.sparePort },
  };
  let h: Harness;
  let threadTs: string;

  /** METRICS_PORT's /metrics: everything, the per-host series too (PORT's has none of them, #19 §11). */
  async function scrape(): Promise<PromText> {
    const res = await fetch(`http://127.0.0.1:${h.pilot.metricsPort()}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePromText(await res.text());
  }

  async function until(
    what: string,
    check: (m: PromText) => boolean | Promise<boolean>,
    timeoutMs = 10_000,
  ): Promise<PromText> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await scrape();
      if (await check(m)) return m;
      if (Date.now() > deadline) throw new Error(`metrics never showed ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    stopSshd('spare');
    // One action at a time with a gap, so clicks in a burst wait in the host's queue.
    h = await startHarness({
      hosts: [lb, refused],
      metricsPort: 0,
      config: {
        limits: {
          perHost: { concurrency: 1, minGapMs: 400, maxQueued: 20 },
          global: { concurrency: 10 },
          perUser: { clicksPerMinute: 60 },
        },
      },
    });
    threadTs = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(threadTs);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('declares every family with its type', async () => {
    const m = await scrape();
    expect(m.types).toMatchObject({
      runbook_pilot_alerts_received_total: 'counter',
      runbook_pilot_incidents_open: 'gauge',
      runbook_pilot_actions_total: 'counter',
      runbook_pilot_action_duration_seconds: 'histogram',
      runbook_pilot_host_queue_depth: 'gauge',
      runbook_pilot_slack_api_errors_total: 'counter',
      runbook_pilot_slack_rate_limit_waits_total: 'counter',
      runbook_pilot_ssh_connection_failures_total: 'counter',
      runbook_pilot_ssh_errors_total: 'counter',
    });
    expect(m.value('runbook_pilot_process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('counts alerts by source and status, and open incidents', async () => {
    let m = await scrape();
    const fromSlack = m
      .all('runbook_pilot_alerts_received_total', { status: 'firing' })
      .filter((s) => s.labels.source !== 'webhook');
    expect(fromSlack.reduce((n, s) => n + s.value, 0)).toBe(1);
    expect(m.value('runbook_pilot_alerts_received_total', { source: 'webhook' })).toBeUndefined();

    const body = readFileSync(join(FIXTURES, 'alertmanager', 'grouped.webhook.firing.json'), 'utf8');
    const res = await h.webhook(body);
    expect(res.status).toBe(202);
    const accepted = ((await res.json()) as { accepted: number }).accepted;
    expect(accepted).toBeGreaterThan(1);
    m = await until(
      'the webhook alerts',
      (x) => x.value('runbook_pilot_alerts_received_total', { source: 'webhook', status: 'firing' }) === accepted,
    );
    await until(
      'every incident open',
      async (x) =>
        x.value('runbook_pilot_incidents_open') === (await h.pilot.deps.store.listOpen()).length &&
        (await h.pilot.deps.store.listOpen()).length >= 2,
    );
  });

  it('counts actions by id and result and times them in a histogram', async () => {
    await runStep(h, threadTs, 'diagnosis-backend-state', 'backend-state');
    await runStep(h, threadTs, 'diagnosis-3', 'connectivity-check'); // web2 refuses: exit 1
    const m = await scrape();
    expect(m.value('runbook_pilot_actions_total', { action: 'backend-state', result: 'ok' })).toBe(1);
    expect(m.value('runbook_pilot_actions_total', { action: 'connectivity-check', result: 'failed' })).toBe(1);

    const buckets = m.all('runbook_pilot_action_duration_seconds_bucket', { action: 'backend-state' });
    expect(buckets.map((b) => b.labels.le)).toEqual([
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '10',
      '30',
      '60',
      '+Inf',
    ]);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    expect(buckets[buckets.length - 1].value).toBe(1);
    expect(m.value('runbook_pilot_action_duration_seconds_count', { action: 'backend-state' })).toBe(1);
    const sum = m.value('runbook_pilot_action_duration_seconds_sum', { action: 'backend-state' }) ?? 0;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(10);
  });

  it('shows the queue on a host while clicks wait, and empties it', async () => {
    const msg = await h.incidentMessage(threadTs);
    const users = ['U0QUEUE0001', 'U0QUEUE0002', 'U0QUEUE0003', 'U0QUEUE0004'];
    const acks = await Promise.all(
      users.map((user) =>
        h.slack.clickButton({
          user,
          channel: CHANNEL,
          messageTs: msg.ts,
          actionId: 'step.run:diagnosis-4:config-check',
        }),
      ),
    );
    expect(acks.every((a) => a.status === 200)).toBe(true);
    const busy = await until(
      'a queue on lb-test',
      (x) => (x.value('runbook_pilot_host_queue_depth', { host: 'lb-test' }) ?? 0) >= 2,
      3000,
    );
    // one at a time; between two runs (the minimum gap) none runs
    expect(busy.value('runbook_pilot_host_running', { host: 'lb-test' })).toBeLessThanOrEqual(1);
    const idle = await until(
      'the queue emptied',
      (x) => x.value('runbook_pilot_actions_total', { action: 'config-check', result: 'ok' }) === 4,
      15_000,
    );
    expect(idle.value('runbook_pilot_host_queue_depth', { host: 'lb-test' })).toBe(0);
  });

  it('counts failed Slack requests of every client by method and reason', async () => {
    const msg = await h.incidentMessage(threadTs);
    // An unknown button is answered by an ephemeral through the listener's own WebClient, not app.client.
    const clickUnknown = () =>
      h.slack.clickButton({
        user: ONCALL,
        channel: CHANNEL,
        messageTs: msg.ts,
        actionId: 'legacy.button',
        message: msg,
      });
    h.slack.failNext('chat.postEphemeral', { status: 500 });
    expect((await clickUnknown()).status).toBe(200);
    await until(
      'the 500',
      (x) =>
        x.value('runbook_pilot_slack_api_errors_total', { method: 'chat.postEphemeral', reason: 'http_500' }) === 1,
    );
    // retried and delivered
    await h.slack.waitFor(
      'chat.postEphemeral',
      (c) => c.status === 200 && String(c.args.text).includes('legacy.button'),
      5000,
    );

    h.slack.failNext('chat.postEphemeral', { error: 'channel_not_found' });
    await clickUnknown();
    await until(
      'the Slack error code',
      (x) =>
        x.value('runbook_pilot_slack_api_errors_total', {
          method: 'chat.postEphemeral',
          reason: 'channel_not_found',
        }) === 1,
    );
  });

  it('counts 429 waits by method', async () => {
    const before =
      (await scrape()).value('runbook_pilot_slack_rate_limit_waits_total', { method: 'chat.postMessage' }) ?? 0;
    h.slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 1 });
    await runStep(h, threadTs, 'diagnosis-2', 'status-check');
    const m = await scrape();
    expect(m.value('runbook_pilot_slack_rate_limit_waits_total', { method: 'chat.postMessage' })).toBe(before + 1);
    expect(h.slack.calls('chat.postMessage').filter((c) => c.status === 429)).toHaveLength(1);
  });

  it('counts SSH connection failures, by host and code', async () => {
    const env = (
      await h.slack.sendEvent({
        type: 'message',
        channel: CHANNEL,
        user: ONCALL,
        text: 'HaproxyServerDown instance=lb-refused:9101 backend=web server=web2',
        ts: '1700000900.000100',
      })
    ).envelope as { event: { ts: string } };
    await h.incidentMessage(env.event.ts);
    const out = await runStep(h, env.event.ts, 'diagnosis-2', 'status-check');
    expect(out).toMatch(/refused|unreachable|not reach/i);
    const m = await scrape();
    expect(m.value('runbook_pilot_ssh_connection_failures_total')).toBeGreaterThanOrEqual(1);
    expect(m.value('runbook_pilot_ssh_errors_total', { host: 'lb-refused', code: 'SSH_UNREACHABLE' })).toBe(1);
    expect(m.value('runbook_pilot_ssh_errors_total', { host: 'lb-test' })).toBeUndefined();
    expect(m.value('runbook_pilot_actions_total', { action: 'status-check', result: 'failed' })).toBe(1);
  });
});
