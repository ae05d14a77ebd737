/**
 * Issue #12 §4 through the real bot: only alert senders are alerts. A person typing an alert's labels and "resolved"
 * into the channel no longer closes the incident (it was recorded as `alertmanager`); a person's message may open an
 * incident for a known runbook, under their name; with `slack.alertSenders`, another bot's alert-shaped message is
 * not an alert.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Incident } from '../../../src/incident/types';
import { CHANNEL, type Harness, INTERN, startHarness } from '../../support/pilot-harness';

const FIRING = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'fixtures', 'alertmanager', 'single.webhook.firing.json'), 'utf8'),
) as {
  alerts: Array<{ labels: Record<string, string> }>;
};
const LABELS = FIRING.alerts[0].labels;
const typedLabels = Object.entries(LABELS)
  .filter(([k]) => k !== 'alertname')
  .map(([k, v]) => `${k}=${v}`)
  .join(' ');

/** A person posts `text` in the channel (no bot_id, no subtype: a message typed in Slack). */
function personSays(h: Harness, user: string, text: string) {
  return h.slack.postAlertMessage(CHANNEL, {
    subtype: undefined,
    bot_id: undefined,
    username: undefined,
    app_id: undefined,
    user,
    text,
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('security: only alert senders are alerts (#12 §4)', () => {
  let h: Harness;
  afterEach(() => h.stop());

  it('a person typing the labels and "resolved" does not close the incident, and is told so', async () => {
    h = await startHarness();
    expect((await h.webhook(FIRING)).status).toBe(202);
    const incident = await until(
      'the incident',
      async () => (await h.pilot.deps.store.listOpen())[0] as Incident | undefined,
    );

    await personSays(h, INTERN, `HaproxyServerDown ${typedLabels} resolved`);
    const told = await h.slack.waitFor('chat.postEphemeral', (c) => c.args.user === INTERN, 5000);
    expect(String(told.args.text)).toMatch(/does not resolve an incident/);
    expect((await h.pilot.deps.store.get(incident.id))?.status).toBe('open');
    const types = (await h.pilot.deps.store.timeline(incident.id)).map((e) => e.type);
    expect(types).not.toContain('incident.resolved');
  });

  it('a person’s message opens an incident for a known runbook under their name, and chatter opens nothing', async () => {
    h = await startHarness();
    await personSays(h, INTERN, 'NotARunbook instance=127.0.0.1:9101');
    await personSays(h, INTERN, `HaproxyServerDown ${typedLabels}`);
    const incident = await until(
      'the incident',
      async () => (await h.pilot.deps.store.listOpen())[0] as Incident | undefined,
    );
    expect(incident.alertname).toBe('HaproxyServerDown');
    const fired = (await h.pilot.deps.store.timeline(incident.id)).find((e) => e.type === 'alert.fired');
    expect(fired?.actor).toBe(INTERN);
    expect(await h.pilot.deps.store.listOpen()).toHaveLength(1);
  });

  it('with slack.alertSenders, another bot’s Alertmanager-shaped message is not an alert; the listed one is', async () => {
    h = await startHarness({
      config: { slack: { channels: [CHANNEL], alertSenders: ['B0ALERTMGR'], postsPerSecond: 50, postBurst: 50 } },
    });
    await h.postFixture('single.slack-default.firing.event.json', {
      bot_id: 'B0IMPOSTER',
      app_id: 'A0IMPOSTER',
      username: 'alertmanager',
    });
    await h.alertBarrier();
    expect((await h.pilot.deps.store.listOpen()).filter((i) => !h.isMarker(i))).toHaveLength(0);
    const ts = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(ts);
    expect((await h.pilot.deps.store.listOpen()).filter((i) => !h.isMarker(i))).toHaveLength(1);
  });
});
