/**
 * Issue #18 §6 end to end: Alertmanager ≥ 0.32 keeps one Slack message per group. With `update_message: true` (a bot
 * token, chat.postMessage then chat.update; notify/slack/slack.go sends the stored `ts`), firing → resolved and
 * [FIRING:2] → [FIRING:3] arrive as `message_changed` events of the same message (Slack's documented event: the new
 * message in `message`, the old one in `previous_message`). With the thread strategy (notify/slack/slack_thread.go),
 * later notifications are replies in the first message's thread (`thread_ts`), and the summary-header parent is a
 * headline (`FIRING (2) → RESOLVED: <alertname>`) edited in place. The bodies are the ones a real Alertmanager 0.25
 * rendered (test/fixtures/templates); only the envelope is built (test/support/slack-envelope.ts), since 0.25 cannot
 * send them. Every update lands in the first message's thread, never as a new incident.
 */
import type { Incident } from '../../../src/incident/types';
import { CHANNEL, type Harness, startHarness } from '../../support/pilot-harness';
import { waitFor } from '../../support/prom-stack';
import { type SlackPayload, slackEventFromPayload } from '../../support/slack-envelope';
import type { SlackMessage } from '../../support/slack-standin';
import { templateFixtures } from '../../support/template-fixtures';

const BOT = { botId: 'B0ALERTBOT', appId: 'A0ALERTBOT', user: 'U0ALERTBOT' };

function body(template: string, scenario: string, status: 'firing' | 'resolved'): SlackPayload {
  const m = templateFixtures()
    .find((t) => t.template === template)
    ?.messages.find((x) => x.scenario === scenario && x.status === status);
  if (!m) throw new Error(`no fixture ${template} ${scenario} ${status}`);
  return m.body as SlackPayload;
}

/** chat.postMessage with a bot token: the message as Slack stores it (no subtype; bot_id, app_id, user). */
async function postWithToken(h: Harness, payload: SlackPayload, threadTs?: string): Promise<string> {
  const event = slackEventFromPayload(payload, {
    kind: 'bot-token',
    channel: CHANNEL,
    ts: '1.000100',
    ...BOT,
    botUserId: BOT.user,
  });
  const { ts: _ts, channel: _c, event_ts: _e, ...fields } = event as SlackMessage & { event_ts?: string };
  const res = await h.slack.postAlertMessage(CHANNEL, {
    ...fields,
    subtype: undefined,
    ...(threadTs ? { thread_ts: threadTs } : {}),
  });
  if (res.status !== 200) throw new Error(`the bot answered ${res.status}`);
  return res.ts;
}

/** chat.update of that message: Slack's message_changed event. */
async function edit(h: Harness, ts: string, next: SlackPayload, previous: SlackPayload): Promise<void> {
  const event = slackEventFromPayload(next, {
    kind: 'message-changed',
    channel: CHANNEL,
    ts,
    botId: BOT.botId,
    appId: BOT.appId,
    botUserId: BOT.user,
    previous,
  });
  const res = await h.slack.sendEvent(event);
  if (res.status !== 200) throw new Error(`the bot answered ${res.status}`);
}

/** Every incident of the (fresh) store, open or not: ids count up from 1. */
async function everyIncident(h: Harness): Promise<Incident[]> {
  const out: Incident[] = [];
  for (let id = 1; ; id++) {
    const i = await h.pilot.deps.store.get(id);
    if (!i) return out;
    out.push(i);
  }
}

async function incidents(h: Harness, want: (all: Incident[]) => boolean, what: string): Promise<Incident[]> {
  return waitFor(what, async () => {
    const list = await everyIncident(h);
    return want(list) ? list : undefined;
  });
}

const servers = (list: Incident[]) => list.map((i) => i.alert.labels.server ?? '?').sort();

describe('Alertmanager updating its Slack message (update_message, thread updates)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('update_message: [FIRING:2] → [FIRING:3] → resolved are one message, its incidents in its thread', async () => {
    const two = body('community', 'grouped-two', 'firing');
    const three = body('community', 'grouped-three', 'firing');
    const ts = await postWithToken(h, two);
    let open = await incidents(h, (l) => l.filter((i) => i.status === 'open').length === 2, 'two incidents');
    expect(servers(open)).toEqual(['web1', 'web2']);

    await edit(h, ts, three, two);
    open = await incidents(h, (l) => l.filter((i) => i.status === 'open').length === 3, 'three incidents');
    expect(servers(open)).toEqual(['web1', 'web2', 'web3']);
    for (const i of open) expect(i.threadTs).toBe(ts);

    await edit(h, ts, body('community', 'grouped-three', 'resolved'), three);
    const all = await incidents(h, (l) => l.length === 3 && l.every((i) => i.status === 'resolved'), 'all resolved');
    expect(all.every((i) => i.threadTs === ts)).toBe(true);
  });

  it('update_message with the default template: the edit is the same incident (labels as the title gives them)', async () => {
    const two = body('default', 'grouped-two', 'firing');
    const three = body('default', 'grouped-three', 'firing');
    const ts = await postWithToken(h, two);
    const [first] = await incidents(h, (l) => l.length === 1, 'one incident for the group');
    await edit(h, ts, three, two);
    await waitFor('the edit recorded on it', async () =>
      (await h.pilot.deps.store.timeline(first.id)).some((e) => e.type === 'alert.repeated') ? true : undefined,
    );
    await edit(h, ts, body('default', 'grouped-three', 'resolved'), three);
    const [resolved, ...more] = await incidents(h, (l) => l.every((i) => i.status === 'resolved'), 'resolved');
    expect(more).toEqual([]);
    expect(resolved.id).toBe(first.id);
    expect(resolved.threadTs).toBe(ts);
  });

  it('thread updates: replies in the first message’s thread are its updates, never a new incident', async () => {
    // The summary-header parent is a headline only; the notifications are its replies.
    const parent = await postWithToken(h, { attachments: [{ title: 'FIRING: HaproxyServerDown', color: 'danger' }] });
    await postWithToken(h, body('kube-prometheus-stack', 'grouped-two', 'firing'), parent);
    let open = await incidents(h, (l) => l.length === 2, 'two incidents');
    await edit(
      h,
      parent,
      { attachments: [{ title: 'FIRING (2): HaproxyServerDown', color: 'danger' }] },
      { attachments: [{ title: 'FIRING: HaproxyServerDown', color: 'danger' }] },
    );
    await postWithToken(h, body('kube-prometheus-stack', 'grouped-three', 'firing'), parent);
    open = await incidents(h, (l) => l.length === 3, 'three incidents');
    expect(servers(open)).toEqual(['web1', 'web2', 'web3']);
    for (const i of open) expect(i.threadTs).toBe(parent);

    // A reply read partially (the default template's title) stands for the incidents already in the thread.
    await postWithToken(h, body('default', 'grouped-three', 'firing'), parent);
    await waitFor('the partial reply applied to the three', async () => {
      const tl = await Promise.all(open.map((i) => h.pilot.deps.store.timeline(i.id)));
      return tl.every((t) => t.filter((e) => e.type === 'alert.repeated').length >= 1) ? true : undefined;
    });
    await postWithToken(h, body('kube-prometheus-stack', 'grouped-three', 'resolved'), parent);
    const all = await incidents(h, (l) => l.length === 3 && l.every((i) => i.status === 'resolved'), 'all resolved');
    expect(servers(all)).toEqual(['web1', 'web2', 'web3']);
  });
});
