/**
 * Issue #2 end to end: a signed Slack event carrying a real Alertmanager message → the incident message in the
 * alert's thread with a button for every step; forged and stale requests refused; retries and repeats deduplicated.
 */
import type { Harness } from '../../support/pilot-harness';
import { CHANNEL, INTERN, startHarness } from '../../support/pilot-harness';

describe('alert → incident thread', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('answers the alert in its thread with one button per runbook step', async () => {
    // given a real Alertmanager default-template message, delivered as Slack delivers it
    const ts = await h.postFixture('single.slack-default.firing.event.json');
    // then the bot replies in that thread with the incident message
    const msg = await h.incidentMessage(ts);
    expect(msg.thread_ts).toBe(ts);
    const ids = (msg.blocks ?? [])
      .flatMap((b) => [...(b.elements ?? []), ...(b.accessory ? [b.accessory] : [])])
      .map((e) => e.action_id);
    const runbook = h.pilot.deps.runbooks.get('HaproxyServerDown');
    for (const step of runbook?.steps ?? []) {
      if (step.kind === 'checklist') expect(ids).toContain(`step.check:${step.id}`);
      else for (const a of step.actions) expect(ids).toContain(`step.run:${step.id}:${a}`);
    }
    const text = JSON.stringify(msg.blocks);
    expect(text).toContain('HaproxyServerDown');
    expect(text).toContain('web / web2');
    expect(text).toContain('critical');
    // the host 127.0.0.1:9101 is not configured in this test: the message says how to add it
    expect(text).toContain('Host not configured');
  });

  it('refuses a wrong signature and a stale timestamp with 401 and posts nothing', async () => {
    const forged = await h.slack.sendEvent(
      {
        type: 'message',
        channel: CHANNEL,
        text: 'HaproxyServerDown instance=a backend=b server=c',
        user: INTERN,
        ts: '1.1',
      },
      { signatureOverride: 'v0=deadbeef' },
    );
    const stale = await h.slack.sendEvent(
      {
        type: 'message',
        channel: CHANNEL,
        text: 'HaproxyServerDown instance=a backend=b server=c',
        user: INTERN,
        ts: '1.2',
      },
      { timestampSkewSec: -301 },
    );
    expect(forged.status).toBe(401);
    expect(stale.status).toBe(401);
    await h.alertBarrier();
    expect(h.slack.calls('chat.postMessage').filter((c) => !h.isMarker(c))).toHaveLength(0);
  });

  it('opens one incident for a retried event and a repeated alert', async () => {
    const ts = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(ts);
    // Slack retries the same event (same event_id)…
    const event = h.slack.message(CHANNEL, ts) as Record<string, unknown>;
    const first = h.slack.calls().length;
    const eventId = 'Ev0RETRY01';
    await h.slack.sendEvent({ ...event, channel: CHANNEL }, { eventId });
    await h.slack.sendEvent({ ...event, channel: CHANNEL }, { eventId, retryNum: 1, retryReason: 'http_timeout' });
    // …and Alertmanager repeats the alert as a new message
    await h.postFixture('single.slack-default.firing.event.json');
    await h.alertBarrier();
    expect((await h.pilot.deps.store.listOpen()).filter((i) => !h.isMarker(i))).toHaveLength(1);
    const incidentPosts = h.slack
      .calls('chat.postMessage')
      .filter((c) => !h.isMarker(c) && JSON.stringify(c.args.blocks ?? '').includes('step.run'));
    expect(incidentPosts).toHaveLength(1);
    expect(h.slack.callsSince(first).filter((c) => !h.isMarker(c)).length).toBeLessThanOrEqual(3);
  });

  it('marks the incident resolved when the resolved message comes, with a summary broadcast to the channel', async () => {
    const ts = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(ts);
    await h.postFixture('single.slack-default.resolved.event.json');
    const summary = await h.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.reply_broadcast === true || c.args.reply_broadcast === 'true',
      5000,
    );
    expect(summary.args.thread_ts).toBe(ts);
    expect(String(summary.args.text)).toMatch(/HaproxyServerDown resolved after/);
    await h.slack.waitFor('chat.update', (c) => JSON.stringify(c.args.blocks ?? '').includes('resolved'), 5000);
    expect(await h.pilot.deps.store.listOpen()).toHaveLength(0);
  });

  it('ignores chatter, unwatched channels and the bot itself', async () => {
    await h.slack.sendEvent({
      type: 'message',
      channel: CHANNEL,
      user: INTERN,
      text: 'is web2 down again?',
      ts: '1700000000.000100',
    });
    await h.slack.sendEvent({
      type: 'message',
      channel: 'C0OTHER001',
      user: INTERN,
      text: 'HaproxyServerDown instance=127.0.0.1:9101 backend=web server=web2',
      ts: '1700000000.000200',
    });
    await h.slack.sendEvent({
      type: 'message',
      channel: CHANNEL,
      bot_id: h.slack.workspace.botId,
      text: 'HaproxyServerDown instance=x backend=web server=web2',
      ts: '1700000000.000300',
      attachments: [{ title: '[FIRING:1] HaproxyServerDown (web x haproxy web2 critical)' }],
    });
    await h.alertBarrier();
    expect(h.slack.calls('chat.postMessage').filter((c) => !h.isMarker(c))).toHaveLength(0);
  });

  it('takes a plain typed alert and the healthz route', async () => {
    await h.slack.sendEvent({
      type: 'message',
      channel: CHANNEL,
      user: INTERN,
      text: 'HaproxyServerDown instance=lb-9:9101 backend=web server=web2',
      ts: '1700000001.000100',
    });
    const post = await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === '1700000001.000100', 5000);
    expect(JSON.stringify(post.args.blocks)).toContain('lb-9:9101');
    const health = await fetch(`${h.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
