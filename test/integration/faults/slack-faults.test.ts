/**
 * Issue #6, Slack faults through the real bot: a 429 with Retry-After is waited out and nothing is lost, 500s are
 * retried, a hung call times out and is retried, and a call that fails past every retry is counted, logged and made
 * good at the alert's next repeat.
 */

import { defaultTemplateAlert } from '../../support/alert-storm';
import { CHANNEL, type Harness, startHarness } from '../../support/pilot-harness';
import type { RecordedCall } from '../../support/slack-standin';

const slackConfig = (extra: Record<string, unknown> = {}) => ({
  slack: { channels: [CHANNEL], stillFiringIntervalSec: 600, postsPerSecond: 50, postBurst: 50, ...extra },
});

/** Waits until the incident message was delivered (answered 200) in the thread. */
function delivered(h: Harness, threadTs: string, timeoutMs = 8000): Promise<RecordedCall> {
  return h.slack.waitFor(
    'chat.postMessage',
    (c) => c.status === 200 && c.args.thread_ts === threadTs && JSON.stringify(c.args.blocks ?? '').includes('step.'),
    timeoutMs,
  );
}

async function postAlert(h: Harness, backend: string, server: string): Promise<string> {
  return (await h.slack.postAlertMessage(CHANNEL, defaultTemplateAlert(backend, server))).ts;
}

/** Polls until `check` holds (the bot records a post's ts just after Slack answered it). */
async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return check();
}

/** The bot's posts into one thread (the incident message), in arrival order. */
function postsInThread(h: Harness, threadTs: string): RecordedCall[] {
  return h.slack.calls('chat.postMessage').filter((c) => c.args.thread_ts === threadTs);
}

async function counterValue(
  h: Harness,
  name: 'slackErrors' | 'slackRateLimited',
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await h.pilot.metrics[name].get();
  return values
    .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
    .reduce((n, v) => n + v.value, 0);
}

describe('Slack faults', () => {
  let h: Harness;

  afterEach(async () => {
    await h?.stop();
  });

  it('waits out a 429 with Retry-After and then delivers: nothing lost, nothing doubled', async () => {
    // given: Slack rate-limits the first post, and the bot has seen the 429 (the metric is counted as the answer
    // arrives, before WebClient pauses its queue; the next alerts need an HTTP round trip to reach the bot)
    h = await startHarness({ config: slackConfig() });
    h.slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 1 });
    const first = await postAlert(h, 'web', 'web1');
    expect(await eventually(async () => (await counterValue(h, 'slackRateLimited')) === 1, 8000)).toBe(true);

    // when: two more alerts arrive during the wait
    const later = await Promise.all([postAlert(h, 'web', 'web2'), postAlert(h, 'api', 'api1')]);
    const threads = [first, ...later];

    // then: every incident message is posted exactly once, the first only after the wait
    for (const ts of threads) await delivered(h, ts);
    const all = h.slack.calls('chat.postMessage');
    const limited = all.filter((c) => c.status === 429);
    expect(limited).toHaveLength(1);
    expect(limited[0].args.thread_ts).toBe(first);
    const retried = all.filter((c) => c.status === 200 && c.args.thread_ts === first);
    expect(retried).toHaveLength(1);
    expect(retried[0].at - limited[0].at).toBeGreaterThanOrEqual(1000);
    for (const ts of threads) expect(postsInThread(h, ts).filter((c) => c.status === 200)).toHaveLength(1);
    // WebClient pauses its whole queue for the Retry-After: the posts asked for during the wait went out after it
    for (const ts of later)
      for (const c of postsInThread(h, ts)) expect(c.at - limited[0].at).toBeGreaterThanOrEqual(1000);
    expect(await eventually(async () => (await h.pilot.deps.store.listOpen()).every((i) => i.messageTs))).toBe(true);
    expect(await h.pilot.deps.store.listOpen()).toHaveLength(3);
    expect(await counterValue(h, 'slackRateLimited')).toBe(1);
  });

  it('retries 500s and delivers', async () => {
    h = await startHarness({ config: slackConfig() });
    h.slack.failNext('chat.postMessage', { status: 500 }, 2);

    const ts = await h.postFixture('single.slack-default.firing.event.json');
    await delivered(h, ts);

    const posts = postsInThread(h, ts);
    expect(posts.map((c) => c.status)).toEqual([500, 500, 200]);
    // backoff: 0.5 s, then 1 s
    expect(posts[1].at - posts[0].at).toBeGreaterThanOrEqual(450);
    expect(posts[2].at - posts[1].at).toBeGreaterThanOrEqual(950);
    // each failed attempt is counted, with its reason, though the call itself succeeded in the end
    expect(await counterValue(h, 'slackErrors', { method: 'chat.postMessage', reason: 'http_500' })).toBe(2);
  });

  it('abandons a hung call after slack.requestTimeoutMs, retries it, and keeps working', async () => {
    h = await startHarness({ config: slackConfig({ requestTimeoutMs: 800 }) });
    h.slack.failNext('chat.postMessage', { hang: true });

    const ts = await h.postFixture('single.slack-default.firing.event.json');
    await delivered(h, ts);
    const posts = postsInThread(h, ts);
    expect(posts).toHaveLength(2);
    expect(posts[0].fault).toEqual({ hang: true });
    expect(posts[1].status).toBe(200);
    expect(posts[1].at - posts[0].at).toBeGreaterThanOrEqual(800);

    // the bot goes on: the next alert is answered at once
    const started = Date.now();
    const next = await postAlert(h, 'api', 'api1');
    await delivered(h, next);
    expect(Date.now() - started).toBeLessThan(800);
  });

  it('counts a post that fails past every retry, and posts the incident at the alert’s next repeat', async () => {
    h = await startHarness({ config: slackConfig({ retries: 1 }) });
    h.slack.failNext('chat.postMessage', { status: 500 }, 2);

    const ts = await h.postFixture('single.slack-default.firing.event.json');
    const deadline = Date.now() + 5000;
    while ((await counterValue(h, 'slackErrors', { method: 'chat.postMessage' })) < 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await counterValue(h, 'slackErrors', { method: 'chat.postMessage' })).toBe(1);
    const [incident] = await h.pilot.deps.store.listOpen();
    expect(incident.messageTs).toBeUndefined();

    // Alertmanager sends the alert again (same labels, in the same thread's channel): the incident is shown now
    await h.postFixture('single.slack-default.firing.event.json');
    const posted = await delivered(h, ts);
    expect(JSON.stringify(posted.args.blocks)).toContain('step.');
    expect(await h.pilot.deps.store.listOpen()).toHaveLength(1);
    const postedTs = (posted.response as { ts: string }).ts;
    expect(await eventually(async () => (await h.pilot.deps.store.get(incident.id))?.messageTs === postedTs)).toBe(
      true,
    );
  });
});
