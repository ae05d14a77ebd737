/**
 * Issue #11 section 4 end to end: a grouped default-template message (two load balancers, so `instance` is not in
 * the title) opens an incident that says what is missing; a step that needs the host says so on the click; the
 * Complete labels modal offers the configured hosts only, records who gave what, and then the step runs over SSH.
 */
import type { HostConfig } from '../../../src/config/schema';
import { CHANNEL, type Harness, INTERN, ONCALL, startHarness } from '../../support/pilot-harness';
import { plain, runStep, waitForReply } from '../../support/step-helpers';
import { describeWithHosts, testHostConfig } from '../../support/test-hosts';

describeWithHosts('Complete labels', (hosts) => {
  const lb = testHostConfig(hosts);
  const lb1: HostConfig = { ...lb, name: 'lb-1', match: { instance: ['lb-1:9101'] } };
  let h: Harness;
  let threadTs: string;

  beforeAll(async () => {
    h = await startHarness({ hosts: [lb, lb1] });
    threadTs = await h.postFixture('grouped.slack-default.firing.event.json');
  });
  afterAll(async () => {
    await h.stop();
  });

  it('says which labels are missing, refuses the step on its click, and runs it once a person gave the host', async () => {
    // given the incident of a grouped notification
    const msg = await h.incidentMessage(threadTs);
    const text = plain(JSON.stringify(msg.blocks));
    expect(text).toContain('2 alerts in this notification, labels missing: `instance`');
    expect(text).toContain('incident.completeLabels');
    expect(text).toMatch(/web \/ web2/);

    // when a step that needs the host is clicked, it says so in the thread and nothing runs
    const refused = waitForReply(h, /needs the label `instance`/, 10_000);
    await h.click(threadTs, 'step.run:diagnosis-backend-state:backend-state');
    expect(plain(JSON.stringify((await refused).args))).toMatch(
      /did not run.*needs the label `instance`, which the alert message did not carry/,
    );
    expect(plain(JSON.stringify((await refused).args))).toMatch(/Complete labels/);

    // when Complete labels is clicked, the modal offers the configured hosts
    const since = h.slack.calls('views.open').length;
    await h.click(threadTs, 'incident.completeLabels', INTERN);
    const opened = await h.slack.waitFor('views.open', () => h.slack.calls('views.open').length > since, 5000);
    const view = JSON.stringify(opened.args.view);
    expect(view).toContain('lb-test (127.0.0.1:9101)');
    expect(view).toContain('lb-1 (lb-1:9101)');
    const viewId = (opened.response as { view: { id: string } }).view.id;

    // a forged value is refused in the form
    const forged = await h.slack.submitView({
      user: INTERN,
      viewId,
      values: { 'label:instance': { value: { type: 'static_select', selected_option: { value: '10.6.6.6:22' } } } },
    });
    expect(forged.status).toBe(200);
    expect(JSON.stringify(forged.body)).toContain('Pick one of the configured hosts');

    // a configured host is recorded with who gave it, and the incident now names the host
    await h.slack.submitView({
      user: INTERN,
      viewId,
      values: { 'label:instance': { value: { type: 'static_select', selected_option: { value: '127.0.0.1:9101' } } } },
    });
    await h.slack.waitFor(
      'chat.postMessage',
      (c) =>
        c.args.thread_ts === threadTs && /completed the labels `instance`=`127.0.0.1:9101`/.test(String(c.args.text)),
      10_000,
    );
    const incident = (await h.pilot.deps.store.listOpen()).find((i) => i.threadTs === threadTs);
    expect(incident?.hostName).toBe('lb-test');
    expect(incident?.alert.missingLabels).toEqual([]);
    const events = await h.pilot.deps.store.timeline(incident?.id ?? -1);
    expect(events.find((e) => e.type === 'labels.completed')).toMatchObject({
      actor: INTERN,
      details: { labels: { instance: '127.0.0.1:9101' }, host: 'lb-test' },
    });

    // then the step runs on that host
    const backend = plain(await runStep(h, threadTs, 'diagnosis-backend-state', 'backend-state', ONCALL));
    expect(backend).toMatch(/▶ web2\s+DOWN/);
    expect(CHANNEL).toBe(incident?.channel);
  });
});
