/**
 * Issue #22 end to end on real hosts: each fault on a load balancer of the test's own (a private haproxy on loopback,
 * reached over the test sshd) opens an incident, the bot triages it by itself, and the one triage message names the
 * fault's cause and the button it points to. The private haproxy is killed and broken freely: no other test uses it.
 */

import { until } from '../../support/haproxy-runtime';
import { CHANNEL, type Harness, ONCALL, startHarness } from '../../support/pilot-harness';
import { type PrivateLb, startPrivateLb } from '../../support/private-lb';
import type { SlackMessage } from '../../support/slack-standin';
import { describeWithHosts } from '../../support/test-hosts';

describeWithHosts('triage on open, one fault at a time', (hosts) => {
  let lb: PrivateLb;
  let h: Harness;

  beforeAll(async () => {
    lb = await startPrivateLb(hosts);
    h = await startHarness({
      hosts: [lb.host],
      config: { triage: { enabled: true, perHostPerMinute: 50, maxPerMinute: 50 } },
    });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    await lb?.stop();
  });

  let seq = 0;

  /** The bot's replies in a thread, as they are now (updates applied). */
  function replies(ts: string): SlackMessage[] {
    return h.slack
      .calls('chat.postMessage')
      .filter((c) => c.args.thread_ts === ts)
      .map((c) => h.slack.message(CHANNEL, (c.response as { ts: string }).ts))
      .filter((m): m is SlackMessage => m !== undefined);
  }

  /** Opens an incident for web2 (a new fingerprint each time) and waits for its triage message to finish. */
  async function triage(fault: string): Promise<{ ts: string; message: SlackMessage; text: string }> {
    seq++;
    const sent = await h.slack.sendEvent({
      type: 'message',
      channel: CHANNEL,
      user: ONCALL,
      text: `HaproxyServerDown instance=${lb.host.name}:9101 backend=web server=web2 severity=critical fault=${fault}`,
      ts: `17000${String(seq).padStart(5, '0')}.000100`,
    });
    const ts = (sent.envelope as { event: { ts: string } }).event.ts;
    const message = await until(
      `the triage of ${fault} to finish`,
      () => replies(ts).find((m) => JSON.stringify(m.blocks ?? []).includes('triage-cause')),
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; the thread: ${JSON.stringify(replies(ts)).slice(0, 3000)}`);
    });
    return { ts, message, text: JSON.stringify(message.blocks) };
  }

  function causeButton(message: SlackMessage): string | undefined {
    const block = (message.blocks as Array<{ block_id?: string; accessory?: { action_id?: string } }>).find(
      (b) => b.block_id === 'triage-cause',
    );
    return block?.accessory?.action_id;
  }

  it("web2's port closed: web2 itself is down, HAProxy is fine → Drain", async () => {
    const { ts, message, text } = await triage('refused');
    expect(text).toMatch(/web2 itself is down or not listening on port \d+; HAProxy is fine/);
    expect(causeButton(message)).toBe('step.run:mitigation-server-state:drain');
    expect(text).toMatch(/web2 DOWN — L4CON connection refused/);
    expect(text).toMatch(/LB → 127\.0\.0\.1:\d+ refused in \d+ ms/);
    expect(text).toMatch(/config valid/);
    expect(text).toMatch(/haproxy running, pid \d+/);
    // one triage message, its steps on the timeline as run by the bot, their verdicts on the incident message
    const incident = (await h.pilot.deps.store.listOpen()).find((i) => i.threadTs === ts)!;
    expect(incident.steps['diagnosis-backend-state']).toMatchObject({ by: 'bot', verdict: { level: 'problem' } });
    const timeline = await h.pilot.deps.store.timeline(incident.id);
    expect(timeline.filter((e) => e.type === 'step.started').every((e) => e.actor === 'bot')).toBe(true);
    expect(timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['triage.started', 'triage.finished']));
    expect(replies(ts).filter((m) => JSON.stringify(m.blocks ?? []).includes('Triage*'))).toHaveLength(1);
    await until('the incident message to show the verdict', () =>
      JSON.stringify(h.slack.message(CHANNEL, incident.messageTs as string)?.blocks ?? '').includes(
        'web2 DOWN — L4CON',
      ),
    );
  }, 60_000);

  it("web2's address drops packets: a timeout, not a refusal", async () => {
    const stop = await lb.web2Blackhole();
    try {
      const { message, text } = await triage('timeout');
      expect(text).toMatch(/web2's address does not answer \(packets dropped/);
      expect(text).toMatch(/timed out after 3 s/);
      expect(causeButton(message)).toBe('step.run:mitigation-server-state:drain');
    } finally {
      await stop();
    }
  }, 60_000);

  it('web2 back up before triage: recovered since the alert, no button', async () => {
    const stop = await lb.web2Up();
    try {
      const { message, text } = await triage('recovered');
      expect(text).toMatch(/web2 recovered since the alert/);
      expect(causeButton(message)).toBeUndefined();
    } finally {
      await stop();
    }
  }, 60_000);

  it('the config broken after start: a reload would fail → fix the config first', async () => {
    lb.breakConfig();
    try {
      const { text } = await triage('config');
      expect(text).toMatch(/a reload would fail: fix the config first \(line \d+: unknown keyword 'severr'/);
      // web2 is still down: said as well, not hidden
      expect(text).toMatch(/Also: web2 itself is down/);
    } finally {
      lb.restoreConfig();
    }
  }, 60_000);

  it('over the budget: "triage skipped … click to run", and the click runs it in that message', async () => {
    const strict = await startHarness({
      hosts: [lb.host],
      // One click a minute: the click on "Run triage" costs one, counted once at the door (it was counted twice).
      config: {
        triage: { enabled: true, perHostPerMinute: 50, maxPerMinute: 0 },
        limits: { perUser: { clicksPerMinute: 1 } },
      },
    });
    try {
      const sent = await strict.slack.sendEvent({
        type: 'message',
        channel: CHANNEL,
        user: ONCALL,
        text: `HaproxyServerDown instance=${lb.host.name}:9101 backend=web server=web2 fault=storm`,
        ts: '1700099999.000100',
      });
      const ts = (sent.envelope as { event: { ts: string } }).event.ts;
      const skipped = await strict.slack.waitFor(
        'chat.postMessage',
        (c) => c.args.thread_ts === ts && JSON.stringify(c.args.blocks ?? '').includes('triage-skipped'),
        15_000,
      );
      expect(String(skipped.args.text)).toMatch(
        /Triage skipped: 1 incidents this minute \(triage.maxPerMinute 0\) — click to run/,
      );
      const skippedTs = (skipped.response as { ts: string }).ts;
      const res = await strict.slack.clickButton({
        user: ONCALL,
        channel: CHANNEL,
        messageTs: skippedTs,
        actionId: 'triage.run',
      });
      expect(res.status).toBe(200);
      await until('the asked triage to finish in the same message', () =>
        JSON.stringify(strict.slack.message(CHANNEL, skippedTs)?.blocks ?? '').includes('triage-cause'),
      );
      expect(JSON.stringify(strict.slack.message(CHANNEL, skippedTs)?.blocks)).toMatch(/run by <@U0ONCALL01>/);
      const incident = (await strict.pilot.deps.store.listOpen())[0];
      const types = (await strict.pilot.deps.store.timeline(incident.id)).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['triage.skipped', 'triage.started', 'triage.finished']));
    } finally {
      await strict.stop();
    }
  }, 60_000);

  it('haproxy killed: HAProxy is not running → Restart', async () => {
    await lb.kill();
    const { message, text } = await triage('killed');
    expect(text).toMatch(/HAProxy is not running/);
    expect(causeButton(message)).toBe('step.run:mitigation-1:restart');
  }, 60_000);
});
