/**
 * Issue #5 end to end: the store survives a restart of the bot (old buttons still work), a scripted incident yields
 * exactly the expected timeline, and /incident answers every subcommand, including bad input.
 */

import { restoreWeb2 } from '../../support/haproxy-runtime';
import { CHANNEL, type Harness, INTERN, ONCALL, startHarness } from '../../support/pilot-harness';
import { plain, runStep, waitForReply } from '../../support/step-helpers';
import { describeWithHosts, testHostConfig } from '../../support/test-hosts';

async function slash(h: Harness, text: string, user = ONCALL): Promise<string> {
  const since = h.slack.calls('response_url').length;
  const res = await h.slack.slashCommand({ command: '/incident', text, userId: user, channelId: CHANNEL });
  expect(res.status).toBe(200);
  expect(res.ackMs).toBeLessThan(3000);
  const call = await h.slack.waitFor('response_url', () => h.slack.calls('response_url').length > since, 5000);
  const last = h.slack.calls('response_url')[h.slack.calls('response_url').length - 1];
  void call;
  return plain(String(last.args.text ?? ''));
}

describeWithHosts('incident lifecycle', (hosts) => {
  const lb = testHostConfig(hosts);

  it('loses nothing when the bot restarts between a click and its check', async () => {
    const first = await startHarness({ hosts: [lb] });
    const ts = await first.postFixture('single.slack-default.firing.event.json');
    await first.incidentMessage(ts);
    await runStep(first, ts, 'diagnosis-4', 'config-check');
    await first.click(ts, 'step.check:mitigation-5');
    await first.slack.waitFor('chat.update', (c) => JSON.stringify(c.args.blocks ?? '').includes('☑️ done'), 5000);
    await first.stopBot();

    // the same store file and the same Slack: a new bot process
    const second = await startHarness({ hosts: [lb], slack: first.slack, dir: first.dir });
    try {
      const incident = (await second.pilot.deps.store.listOpen())[0];
      expect(incident.steps['diagnosis-4']).toMatchObject({ state: 'ok', exitCode: 0 });
      expect(incident.steps['mitigation-5']).toMatchObject({ state: 'done', by: ONCALL });
      // a button on the message posted by the previous process still works
      const out = plain(await runStep(second, ts, 'diagnosis-backend-state', 'backend-state'));
      expect(out).toMatch(/▶ web2\s+DOWN/);
      const types = (await second.pilot.deps.store.timeline(incident.id)).map((e) => e.type);
      expect(types.filter((t) => t === 'step.finished')).toHaveLength(2);
      expect(types).toContain('checklist.done');
      // the same alert again after the restart: still one incident
      await second.postFixture('single.slack-default.firing.event.json');
      await second.alertBarrier();
      expect((await second.pilot.deps.store.listOpen()).filter((i) => !second.isMarker(i))).toHaveLength(1);
    } finally {
      await second.stopBot();
      await first.stop();
    }
  });

  it('records a step left running by a crashed bot as interrupted when the bot starts again', async () => {
    const first = await startHarness({ hosts: [lb] });
    const ts = await first.postFixture('single.slack-default.firing.event.json');
    await first.incidentMessage(ts);
    const id = (await first.pilot.deps.store.listOpen())[0].id;
    // the process dies (kill -9) while a step runs: the store still says "running"
    await first.pilot.deps.store.setStep(id, 'diagnosis-2', {
      state: 'running',
      actionId: 'status-check',
      by: ONCALL,
      at: '2026-11-25T03:00:00.000Z',
    });
    await first.stopBot();

    const second = await startHarness({ hosts: [lb], slack: first.slack, dir: first.dir });
    try {
      const incident = (await second.pilot.deps.store.get(id))!;
      expect(incident.steps['diagnosis-2']).toMatchObject({
        state: 'failed',
        error: expect.stringMatching(/^interrupted: the bot stopped while it ran/),
      });
      expect((await second.pilot.deps.store.timeline(id)).pop()).toMatchObject({
        type: 'step.interrupted',
        actor: ONCALL,
        details: expect.objectContaining({ reason: 'the bot restarted', ran: true }),
      });
      await second.slack.waitFor(
        'chat.update',
        (c) => c.args.ts === incident.messageTs && JSON.stringify(c.args.blocks ?? '').includes('interrupted'),
        5000,
      );
    } finally {
      await second.stopBot();
      await first.stop();
    }
  });

  it('tells the story of a scripted incident exactly: fire → three diagnosis steps → restart → resolve', async () => {
    const h = await startHarness({ hosts: [lb] });
    try {
      const ts = await h.postFixture('single.slack-default.firing.event.json');
      // a copy: the model's message is updated in place as the incident moves on
      const firing = structuredClone(await h.incidentMessage(ts));
      await runStep(h, ts, 'diagnosis-1', 'log-tail');
      await runStep(h, ts, 'diagnosis-backend-state', 'backend-state');
      await runStep(h, ts, 'diagnosis-3', 'connectivity-check');
      await h.click(ts, 'step.run:mitigation-1:restart');
      const opened = await h.slack.waitFor('views.open', () => true, 5000);
      await h.slack.submitView({
        user: ONCALL,
        viewId: (opened.response as { view: { id: string } }).view.id,
        values: {
          reason: { reason: { type: 'plain_text_input', value: 'web2 down, restart to clear' } },
          options: { options: { type: 'checkboxes', selected_options: [] } },
        },
      });
      // the mitigation's one reply says verified (posted, or edited in after its output)
      await h.slack.waitForReply(
        CHANNEL,
        ts,
        (m) => /Restart HAProxy on lb-test: verified, /.test(String(m.text)),
        20_000,
      );
      await h.postFixture('single.slack-default.resolved.event.json');
      const summary = await h.slack.waitFor(
        'chat.postMessage',
        (c) => c.args.reply_broadcast === true || c.args.reply_broadcast === 'true',
        5000,
      );

      const incident = (await h.pilot.deps.store.get(1))!;
      const timeline = (await h.pilot.deps.store.timeline(incident.id)).map((e) => [
        e.type,
        e.actor,
        (e.details as { actionId?: string }).actionId ?? null,
      ]);
      expect(timeline).toEqual([
        ['alert.fired', 'alertmanager', null],
        ['step.clicked', ONCALL, 'log-tail'],
        ['step.started', ONCALL, 'log-tail'],
        ['step.finished', ONCALL, 'log-tail'],
        ['step.clicked', ONCALL, 'backend-state'],
        ['step.started', ONCALL, 'backend-state'],
        ['step.finished', ONCALL, 'backend-state'],
        ['step.clicked', ONCALL, 'connectivity-check'],
        ['step.started', ONCALL, 'connectivity-check'],
        ['step.failed', ONCALL, 'connectivity-check'],
        ['mitigation.confirmed', ONCALL, 'restart'],
        ['step.clicked', ONCALL, 'restart'],
        ['step.started', ONCALL, 'restart'],
        ['step.finished', ONCALL, 'restart'],
        ['mitigation.verified', 'bot', 'restart'],
        ['alert.resolved', 'alertmanager', null],
        ['incident.resolved', 'alertmanager', null],
      ]);
      // the summary names the steps and who ran them, the mitigation and its verification
      const text = plain(JSON.stringify(summary.args.blocks));
      expect(text).toMatch(/Steps run/);
      expect(text).toMatch(/Tail the HAProxy log \(`log-tail`, exit 0\) — <@U0ONCALL01>/); // named as its button
      expect(text).toMatch(/✅ verified: restart/);
      // mitigation buttons are gone from the resolved message (#21 item 9), and a click from the message as it was
      // (a stale client) still refuses on the closed incident; diagnosis still runs
      await h.slack.waitFor(
        'chat.update',
        (c) => c.args.ts === firing.ts && JSON.stringify(c.args.blocks ?? '').includes('resolved (incident #'),
        5000,
      );
      const resolvedMessage = await h.incidentMessage(ts);
      expect(JSON.stringify(resolvedMessage.blocks)).not.toContain('step.run:mitigation-1:restart');
      expect(JSON.stringify(resolvedMessage.blocks)).toContain('step.run:diagnosis-4:config-check');
      await h.slack.clickButton({
        user: ONCALL,
        channel: firing.channel,
        messageTs: firing.ts,
        actionId: 'step.run:mitigation-1:restart',
        message: firing,
      });
      const refusal = await h.slack.waitFor('chat.postEphemeral', (c) => /is resolved/.test(String(c.args.text)), 5000);
      expect(String(refusal.args.text)).toMatch(/incident #1 is resolved: Restart HAProxy is disabled/);
      expect(plain(await runStep(h, ts, 'diagnosis-4', 'config-check'))).toMatch(/Configuration file is valid/);

      // the Timeline button posts it in the thread, times in UTC with dates
      await h.click(ts, 'incident.timeline');
      const posted = await h.slack.waitFor(
        'chat.postMessage',
        (c) => /^Timeline of incident #1/.test(String(c.args.text)),
        5000,
      );
      expect(plain(JSON.stringify(posted.args.blocks))).toMatch(
        /`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC` <@U0ONCALL01> confirmed Restart HAProxy on lb-test: “web2 down, restart to clear”/,
      );
    } finally {
      await h.stop();
      await restoreWeb2(hosts);
    }
  });

  it('answers every /incident subcommand, and bad input with the usage', async () => {
    const h = await startHarness({ hosts: [lb] });
    try {
      expect(await slash(h, 'list')).toBe('No open incidents in this channel.');
      const ts = await h.postFixture('single.slack-default.firing.event.json');
      await h.incidentMessage(ts);
      expect(await slash(h, 'list')).toMatch(/#1\* HaproxyServerDown — web\/web2 on `lb-test`.*thread/);
      expect(await slash(h, 'show 1')).toMatch(
        /#1 HaproxyServerDown\* — open, host `lb-test`[\s\S]*diagnosis-1: Check the HAProxy logs/,
      );
      expect(await slash(h, 'note 1 web2 disk is full')).toBe('Noted on #1.');
      await h.slack.waitFor(
        'chat.postMessage',
        (c) => /Note by <@U0ONCALL01>: web2 disk is full/.test(String(c.args.text)),
        5000,
      );
      expect(await slash(h, 'timeline 1')).toBe('Posted the timeline of #1 in its thread.');
      await h.slack.waitFor('chat.postMessage', (c) => /^Timeline of incident #1/.test(String(c.args.text)), 5000);
      expect(await slash(h, 'run backend-state lb-test')).toMatch(/Running Backend state on `lb-test` for #1/);
      await waitForReply(h, /Backend state on lb-test: ok/);
      expect(await slash(h, 'help')).toMatch(/Usage:/);
      expect(await slash(h, '')).toMatch(/Usage:/);

      const bad: Array<[string, RegExp]> = [
        ['frobnicate', /Unknown subcommand `frobnicate`[\s\S]*Usage/],
        ['show', /`show` needs an incident id[\s\S]*Usage/],
        ['show abc', /`show` needs an incident id[\s\S]*Usage/],
        ['show 999', /#999 does not exist/],
        ['timeline', /`timeline` needs an incident id/],
        ['timeline 42x', /`timeline` needs an incident id/],
        ['note 1', /`note` needs an incident id and the text/],
        ['note', /`note` needs an incident id and the text/],
        ['resolve', /`resolve` needs an incident id/],
        ['resolve 999', /#999 does not exist/],
        ['run', /`run` needs a step and a host/],
        ['run backend-state', /`run` needs a step and a host/],
        ['run backend-state lb-nope', /No host named `lb-nope` is configured\.\n/],
        ['run $(touch${IFS}/tmp/pwned) lb-test', /No runbook has a step or action/],
        ['run backend-state lb-test extra', /`run` needs a step and a host/],
        ['run mitigation-4 lb-test', /is a checklist step/],
      ];
      for (const [text, expected] of bad) expect(await slash(h, text)).toMatch(expected);

      // an intern can read, but `run restart` is refused by the same access rule as the button, before anything opens
      expect(await slash(h, 'run restart lb-test', INTERN)).toMatch(/you may not run Restart HAProxy on lb-test/);

      expect(await slash(h, 'resolve 1')).toBe('Resolved #1; the summary is in its thread.');
      await h.slack.waitFor('chat.postMessage', (c) => /resolved after/.test(String(c.args.text)), 5000);
      expect(await h.pilot.deps.store.get(1)).toMatchObject({ status: 'resolved', resolvedBy: ONCALL });
      expect(await slash(h, 'resolve 1')).toBe('#1 is already resolved.');
      expect(await slash(h, 'list')).toBe('No open incidents in this channel.');
    } finally {
      await h.stop();
    }
  });

  it('opens an incident by hand for `/incident run` when none is open', async () => {
    const h = await startHarness({ hosts: [lb] });
    try {
      expect(await slash(h, 'run status-check lb-test')).toMatch(
        /Running HAProxy process and sockets on `lb-test` for #1/,
      );
      const opening = await h.slack.waitFor(
        'chat.postMessage',
        (c) => /incident opened by hand by <@U0ONCALL01>/.test(String(c.args.text)),
        5000,
      );
      const threadTs = (opening.response as { ts: string }).ts;
      await h.incidentMessage(threadTs);
      await waitForReply(h, /HAProxy process and sockets on lb-test: ok/);
      expect(await h.pilot.deps.store.get(1)).toMatchObject({ hostName: 'lb-test', alert: { source: 'manual' } });
    } finally {
      await h.stop();
    }
  });
});
