/** Through the real bot: the timeline names a step as its button does (#15). */
import { type Harness, startHarness } from '../../support/pilot-harness';
import { runStep } from '../../support/step-helpers';
import { describeWithHosts, testHostConfig } from '../../support/test-hosts';

describeWithHosts('the timeline names steps as their buttons', (hosts) => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('says "asked for Tail the HAProxy log" after a click on "Tail the HAProxy log"', async () => {
    h = await startHarness({ hosts: [testHostConfig(hosts)] });
    const threadTs = await h.postFixture('single.slack-default.firing.event.json');
    const message = await h.incidentMessage(threadTs);
    expect(JSON.stringify(message.blocks)).toContain('Tail the HAProxy log');
    await runStep(h, threadTs, 'diagnosis-1', 'log-tail');
    await h.click(threadTs, 'incident.timeline');
    const timeline = await h.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.thread_ts === threadTs && /^Timeline of incident/.test(String(c.args.text ?? '')),
      5000,
    );
    const text = JSON.stringify(timeline.args.blocks);
    expect(text).toContain('asked for Tail the HAProxy log');
    expect(text).toContain('Tail the HAProxy log finished: exit 0');
  });
});
