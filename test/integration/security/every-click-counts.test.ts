/**
 * Issue #19 §8 through the real bot: every click counts against the per-user limit. With `clicksPerMinute: 3`, 20
 * checklist clicks all wrote the timeline before the fix, and clicks the bot refused (a forged step button) cost
 * nothing, so a script could click without end. Now the fourth click of the minute, of any kind, runs nothing and the
 * user is told how long to wait.
 */
import { CHANNEL, type Harness, INTERN, ONCALL, startHarness } from '../../support/pilot-harness';

describe('security: every click counts against the per-user limit (#19 §8)', () => {
  let h: Harness;
  let threadTs: string;
  beforeEach(async () => {
    h = await startHarness({ config: { limits: { perUser: { clicksPerMinute: 3 } } } });
    threadTs = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(threadTs);
  });
  afterEach(() => h.stop());

  const incidentId = async () => (await h.pilot.deps.store.listOpen())[0].id;
  const refusals = (user: string) =>
    h.slack
      .calls('chat.postEphemeral')
      .filter((c) => c.args.user === user && /actions in the last minute \(at most 3\)/.test(String(c.args.text)));
  async function refusalCount(user: string, n: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (refusals(user).length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} refusals, saw ${refusals(user).length}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('20 checklist clicks: three are recorded, the other 17 are refused with how long to wait', async () => {
    for (let i = 0; i < 20; i++) await h.click(threadTs, 'step.check:mitigation-5');
    await refusalCount(ONCALL, 17);
    const done = (await h.pilot.deps.store.timeline(await incidentId())).filter((e) => e.type === 'checklist.done');
    expect(done).toHaveLength(3);
    expect(String(refusals(ONCALL)[0].args.text)).toMatch(/try again in \d+ s/);
  });

  it('refused clicks count too: three forged step buttons use up the minute, and a Timeline click is refused', async () => {
    const forged = JSON.stringify({ incidentId: 999_999, stepId: 'diagnosis-2', actionId: 'status-check' });
    for (let i = 0; i < 3; i++) await h.click(threadTs, 'step.run:diagnosis-2:status-check', ONCALL, forged);
    await h.click(threadTs, 'incident.timeline');
    await refusalCount(ONCALL, 1);
    expect(h.slack.calls('chat.postMessage').filter((c) => /Timeline of incident/.test(String(c.args.text)))).toEqual(
      [],
    );
    // a command is refused the same way, through its response_url
    await h.slack.slashCommand({ command: '/incident', text: 'list', userId: ONCALL, channelId: CHANNEL });
    await h.slack.waitFor('response_url', (c) => /at most 3/.test(String(c.args.text)), 5000);
    // another user has their own minute
    await h.click(threadTs, 'incident.timeline', INTERN);
    await h.slack.waitFor('chat.postMessage', (c) => /Timeline of incident/.test(String(c.args.text)), 5000);
  });
});
