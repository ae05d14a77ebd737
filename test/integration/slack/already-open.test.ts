/**
 * The same alert fired again while its incident is open (#21 item 12): the new alert message gets one reply saying
 * which incident is already open and where its thread is; the incident's own thread is not touched by it.
 */
import { type Harness, startHarness } from '../../support/pilot-harness';

describe('an alert fired again while its incident is open', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('answers under the new message: already open, incident #N, with a link to its thread', async () => {
    h = await startHarness();
    const first = await h.postFixture('single.slack-default.firing.event.json');
    const message = await h.incidentMessage(first);
    const id = /incident #(\d+)/.exec(JSON.stringify(message.blocks))?.[1];
    expect(id).toBeDefined();
    // when the same alert (same labels) is posted again as a new message
    const again = await h.postFixture('single.slack-default.firing.event.json');
    expect(again).not.toBe(first);
    // then one reply under it names the open incident and links its thread
    const reply = await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === again, 5000);
    const text = String(reply.args.text);
    expect(text).toMatch(
      new RegExp(
        `^🔁 Already open: incident #${id} \\(HaproxyServerDown, since .* UTC\\)\\. The steps and the timeline are in <https://[^|]+/archives/[^|]+\\|its thread>\\.$`,
      ),
    );
    // and no second incident message was posted anywhere
    const incidentMessages = h.slack
      .calls('chat.postMessage')
      .filter((c) => JSON.stringify(c.args.blocks ?? '').includes('step.run'));
    expect(incidentMessages).toHaveLength(1);
  });
});
