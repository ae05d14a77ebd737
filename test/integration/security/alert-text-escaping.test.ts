/**
 * Issue #12 §5, end to end: an alert whose labels, annotations, runbook_url and generatorURL carry Slack control
 * sequences and bare mentions goes through the real bot (the Alertmanager webhook, and a community-template Slack
 * message), then through the Timeline button, `/incident list|show` and resolution. Every Web API call the Slack
 * stand-in received (message text, blocks, updates, file comments and titles, ephemerals, response_url answers) is
 * read the way Slack reads it: no ping, no channel link, no disguised link. Before the fix the runbook link carried the
 * alert's `|<!channel>` and the top-level `text` of several messages carried the labels raw.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNEL, type Harness, ONCALL, slackFixture, startHarness } from '../../support/pilot-harness';
import { callFindings } from '../../support/slack-markup-findings';

const TOKEN = 'e2e-webhook-token-0123456789';
const FIXTURES = join(__dirname, '..', '..', 'fixtures');
const PING = '<!channel> <!here|here> <@UEVIL0001> <!subteam^SEVIL0001|@sre> @everyone';

/** Alertmanager's real webhook payload (captured), with hostile text in every field the bot shows. */
function hostileWebhook(status: 'firing' | 'resolved'): Record<string, unknown> {
  const body = JSON.parse(
    readFileSync(join(FIXTURES, 'alertmanager', `by-instance.webhook.${status}.json`), 'utf8'),
  ) as {
    alerts: Array<{
      labels: Record<string, string>;
      annotations: Record<string, string>;
      generatorURL: string;
      fingerprint?: string;
    }>;
  };
  for (const a of body.alerts) {
    a.labels.server = `web2 ${PING}`;
    a.labels.severity = '<https://evil.example/login|critical>';
    a.annotations.summary = `HAProxy down ${PING} <https://evil.example|https://runbooks.example.com>`;
    a.annotations.description = `@here ${PING}`;
    a.annotations.runbook_url = 'https://evil.example/x|<!channel>';
    a.generatorURL = `http://prometheus:9090/graph?g0.expr=${encodeURIComponent(`haproxy_server_up{server="${PING}"} == 0`)}`;
    delete a.fingerprint;
  }
  return body as unknown as Record<string, unknown>;
}

describe('alert text never becomes Slack markup (end to end)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ config: { alertmanager: { token: TOKEN } } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const post = (body: unknown) =>
    fetch(`${h.url}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });

  /** Every call so far that carries text to show, checked as Slack reads it. */
  function findings(): string[] {
    return h.slack
      .calls()
      .filter((c) => /^(chat\.|files\.|views\.|response_url)/.test(c.method))
      .flatMap((c, i) => callFindings(c.args, `${c.method}#${i}`));
  }

  it('a webhook alert, its timeline, /incident and its resolution: no ping, no disguised link', async () => {
    const res = await post(hostileWebhook('firing'));
    expect(res.status).toBe(202);
    const announced = await h.slack.waitFor('chat.postMessage', (c) => !c.args.thread_ts, 5000);
    const threadTs = (announced.response as { ts: string }).ts;
    const msg = await h.incidentMessage(threadTs);
    // The hostile text is shown (escaped), not dropped; the runbook is a link only to its own host.
    const shown = JSON.stringify(msg.blocks).replace(/\u2060/g, '');
    expect(shown).toContain('web2 &lt;!channel&gt;');
    // named after the runbook, the real host right after it (#21 item 10)
    expect(shown).toContain('<https://evil.example/x%7C%3C!channel%3E|HaproxyServerDown> (evil.example)');

    await h.click(threadTs, 'incident.timeline');
    await h.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.thread_ts === threadTs && /Timeline of incident/.test(String(c.args.text)),
      5000,
    );
    await h.slack.slashCommand({ command: '/incident', text: 'list', userId: ONCALL, channelId: CHANNEL });
    await h.slack.slashCommand({ command: '/incident', text: 'show 1', userId: ONCALL, channelId: CHANNEL });
    await h.slack.slashCommand({ command: '/incident', text: `note 1 ${PING}`, userId: ONCALL, channelId: CHANNEL });
    await h.slack.waitFor('chat.postMessage', (c) => /Note by/.test(String(c.args.text)), 5000);
    await h.slack.waitFor('response_url', (c) => /Noted on #1/.test(String(c.args.text)), 5000);

    expect((await post(hostileWebhook('resolved'))).status).toBe(202);
    await h.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.thread_ts === threadTs && String(c.args.reply_broadcast) === 'true',
      5000,
    );

    const calls = h.slack.calls().filter((c) => /^(chat\.|response_url)/.test(c.method));
    expect(calls.length).toBeGreaterThanOrEqual(8);
    expect(findings()).toEqual([]);
  });

  it('a community-template Slack message with hostile labels: the incident message and its updates stay inert', async () => {
    const fixture = slackFixture('single.slack-community.firing.event.json') as unknown as {
      attachments: Array<{ text: string }>;
    };
    // The hostile server name as Alertmanager would render it: the same value in every part that shows it (the
    // Details list, the rule's LABELS map and the fallback's default title); parts that disagree show no server.
    const att = fixture.attachments[0] as { text: string; fallback: string };
    const text = att.text
      .replace('`web2`', `\`web9${PING}\``)
      .replace('server:web2]', `server:web9${PING}]`)
      .replace('HAProxy server is down', `HAProxy server is down ${PING}`);
    const fallback = att.fallback.replace(' web2 ', ` web9${PING} `);
    const threadTs = await h.postFixture('single.slack-community.firing.event.json', {
      attachments: [{ ...att, text, fallback }],
    } as never);
    const msg = await h.incidentMessage(threadTs);
    expect(JSON.stringify(msg.blocks).replace(/\u2060/g, '')).toContain('web9&lt;!channel&gt;');
    await h.click(threadTs, 'incident.refresh');
    await h.commandBarrier();
    expect(findings()).toEqual([]);
  });
});
