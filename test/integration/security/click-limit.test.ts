/**
 * Issue #12 §6, end to end through the real bot: the footer buttons (Timeline, Graph, Refresh) and `/incident`
 * commands count against the per-user click limit (before the fix they were unlimited: a script could make the bot
 * post timelines and call Alertmanager and Prometheus as fast as it clicked). Over the limit the user is told how long
 * to wait, and nothing is posted in the thread.
 */
import { CHANNEL, type Harness, INTERN, ONCALL, startHarness } from '../../support/pilot-harness';

describe('per-user click limit on footer buttons and /incident (end to end)', () => {
  let h: Harness;
  let threadTs: string;

  beforeAll(async () => {
    h = await startHarness({
      config: { alertmanager: { token: 'e2e-webhook-token-0123456789' }, limits: { perUser: { clicksPerMinute: 3 } } },
    });
    threadTs = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(threadTs);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const timelines = () =>
    h.slack.calls('chat.postMessage').filter((c) => /Timeline of incident/.test(String(c.args.text))).length;

  it('the fourth click of the minute, on any footer button or command, is refused with how long to wait', async () => {
    await h.click(threadTs, 'incident.timeline');
    await h.click(threadTs, 'incident.refresh');
    await h.slack.slashCommand({ command: '/incident', text: 'list', userId: ONCALL, channelId: CHANNEL });
    await h.commandBarrier();
    expect(timelines()).toBe(1);

    await h.click(threadTs, 'incident.timeline');
    const refusal = await h.slack.waitFor(
      'chat.postEphemeral',
      (c) => c.args.user === ONCALL && /actions in the last minute \(at most 3\)/.test(String(c.args.text)),
      5000,
    );
    expect(String(refusal.args.text)).toMatch(/try again in \d+ s/);
    await h.click(threadTs, 'incident.graph');
    await h.slack.slashCommand({ command: '/incident', text: 'show 1', userId: ONCALL, channelId: CHANNEL });
    await h.slack.waitFor('response_url', (c) => /at most 3/.test(String(c.args.text)), 5000);
    await h.commandBarrier();
    expect(timelines()).toBe(1);
    expect(
      h.slack
        .calls('chat.postEphemeral')
        .filter((c) => c.args.user === ONCALL && /at most 3/.test(String(c.args.text))),
    ).toHaveLength(2);

    // another user has their own minute
    await h.click(threadTs, 'incident.timeline', INTERN);
    await h.slack.waitFor('chat.postMessage', () => timelines() === 2, 5000);
  });
});
