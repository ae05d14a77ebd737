/**
 * Issue #12 §7 through the real bot: a signed request dated more than five minutes ahead is refused however its
 * X-Slack-Request-Timestamp is spelled. Bolt verifies the signature over `Number(header)`, so `+<ts>` and `<ts>.0`
 * carry a valid signature for <ts>; they slipped past the bot's future check, which read only plain digits.
 */

import { CHANNEL, type Harness, ONCALL, SIGNING_SECRET, startHarness } from '../../support/pilot-harness';
import { signSlackRequest } from '../../support/slack/sign-slack-request';

describe('security: the future-timestamp check reads the header as Bolt does (#12 §7)', () => {
  let h: Harness;
  let fields: Record<string, string>;
  beforeAll(async () => {
    h = await startHarness();
    fields = (await h.slack.slashCommand({ command: '/incident', text: 'list', userId: ONCALL, channelId: CHANNEL }))
      .fields;
    await h.slack.waitFor('response_url', () => true, 5000);
  });
  afterAll(() => h.stop());

  /** Sends the slash command again with `header` as its timestamp, signed as Bolt will verify it. */
  async function send(header: string): Promise<number> {
    const body = new URLSearchParams(fields).toString();
    const res = await fetch(`${h.url}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': header,
        'x-slack-signature': signSlackRequest(SIGNING_SECRET, Number(header), body),
      },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  }

  it.each([
    ['+<ts>', (ts: number) => `+${ts}`],
    ['<ts>.0', (ts: number) => `${ts}.0`],
    ['<ts>e0', (ts: number) => `${ts}e0`],
    ['plain digits', (ts: number) => String(ts)],
  ])('refuses %s an hour ahead with 401, and answers nothing', async (_name, spell) => {
    const answered = h.slack.calls('response_url').filter((c) => !h.isMarker(c)).length;
    expect(await send(spell(Math.floor(Date.now() / 1000) + 3600))).toBe(401);
    await h.commandBarrier();
    expect(h.slack.calls('response_url').filter((c) => !h.isMarker(c))).toHaveLength(answered);
  });

  it('still answers the same request dated now, however spelled', async () => {
    const answered = h.slack.calls('response_url').length;
    expect(await send(`+${Math.floor(Date.now() / 1000)}`)).toBe(200);
    await h.slack.waitFor('response_url', () => h.slack.calls('response_url').length > answered, 5000);
  });
});
