/**
 * Issue #4 end to end on the real haproxy: confirmed restart once and verified; refusals for the wrong people, a
 * broken config, the cooldown and a second simultaneous click; drain and ready read back from the runtime API.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { restoreWeb2, runtime, until } from '../../support/haproxy-runtime';
import { CHANNEL, type Harness, INTERN, ONCALL, startHarness } from '../../support/pilot-harness';
import type { RecordedCall } from '../../support/slack-standin';
import { plain } from '../../support/step-helpers';
import { describeWithHosts, type TestHosts, testHostConfig } from '../../support/test-hosts';

function pid(hosts: TestHosts): number {
  return Number(readFileSync(hosts.haproxy.pidFile, 'utf8').trim());
}

describeWithHosts('guarded mitigation on the real haproxy', (hosts) => {
  const lb = testHostConfig(hosts);
  let h: Harness;
  let threadTs: string;

  beforeEach(async () => {
    h = await startHarness({ hosts: [lb] });
    threadTs = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(threadTs);
  });
  afterEach(async () => {
    await h.stop();
    await restoreWeb2(hosts);
  });

  /** Clicks a mitigation button as `user`, and submits the confirmation modal it opened. */
  async function confirm(
    actionId: string,
    user: string,
    reason = 'web2 keeps flapping',
    dryRun = false,
  ): Promise<void> {
    const since = h.slack.calls('views.open').length;
    await h.click(threadTs, actionId, user);
    const opened = await h.slack.waitFor('views.open', () => h.slack.calls('views.open').length > since, 5000);
    const viewId = (opened.response as { view: { id: string } }).view.id;
    const res = await h.slack.submitView({
      user,
      viewId,
      values: {
        reason: { reason: { type: 'plain_text_input', value: reason } },
        options: {
          options: {
            type: 'checkboxes',
            selected_options: dryRun ? [{ text: { type: 'plain_text', text: 'Dry run' }, value: 'dry-run' }] : [],
          },
        },
      },
    });
    expect(res.status).toBe(200);
  }

  const replyMatching = (re: RegExp) => (c: RecordedCall) =>
    c.args.thread_ts === threadTs && re.test(String(c.args.text ?? ''));
  /** The mitigation's one reply (its output, then the verification), once it says `re`: posted or edited. */
  const reply = (re: RegExp, timeoutMs = 20_000) =>
    h.slack.waitForReply(CHANNEL, threadTs, (m) => re.test(String(m.text ?? '')), timeoutMs);

  it('restarts once for an authorised, confirmed click and verifies the new process', async () => {
    const before = pid(hosts);
    await confirm('step.run:mitigation-1:restart', ONCALL);
    const verified = await reply(/Restart HAProxy on lb-test: verified, /);
    expect(plain(JSON.stringify(verified.blocks))).toMatch(/new process pid \d+ \(was \d+\)/);
    // one reply: the command's output and its verification together
    expect(plain(JSON.stringify(verified.blocks))).toMatch(/\*Restart HAProxy\* on `lb-test` — ✅ exit 0/);
    const after = pid(hosts);
    expect(after).not.toBe(before);
    // the modal showed the pre-check first, short (#21 item 11); All commands shows every line of the exact command
    const opened = h.slack.calls('views.open')[0];
    const view = JSON.stringify(opened.args.view);
    expect(view).toContain('haproxy -c -f');
    expect(view.indexOf('"block_id":"reason"')).toBeLessThan(view.indexOf('"block_id":"commands"'));
    const viewId = (opened.response as { view: { id: string } }).view.id;
    await h.slack.clickInView({ user: ONCALL, viewId, actionId: 'mitigation.showCommands' });
    const pushed = await h.slack.waitFor('views.push', () => true, 5000);
    const all = JSON.stringify(pushed.args.view);
    expect(all).toContain('haproxy -c -f');
    expect(all).toContain(lb.haproxy.pidFile);
    // recorded: timeline and audit
    const incident = (await h.pilot.deps.store.listOpen())[0];
    const types = (await h.pilot.deps.store.timeline(incident.id)).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['mitigation.confirmed', 'step.started', 'step.finished', 'mitigation.verified']),
    );
    const audit = await h.pilot.deps.store.audits({ host: 'lb-test' });
    expect(audit).toEqual([
      expect.objectContaining({
        user: ONCALL,
        actionId: 'restart',
        outcome: 'ok',
        exitCode: 0,
        reason: 'web2 keeps flapping',
        verification: expect.stringMatching(/^verified/),
      }),
    ]);
  });

  it('refuses someone outside the allowed group and leaves the pid unchanged', async () => {
    const before = pid(hosts);
    await h.click(threadTs, 'step.run:mitigation-1:restart', INTERN);
    const refusal = await h.slack.waitFor('chat.postEphemeral', (c) => c.args.user === INTERN, 5000);
    expect(String(refusal.args.text)).toMatch(
      /you may not run Restart HAProxy on lb-test: only <!subteam\^S0123SRE> may/,
    );
    expect(h.slack.calls('views.open')).toHaveLength(0);
    expect(pid(hosts)).toBe(before);
    expect(await h.pilot.deps.store.audits({ host: 'lb-test' })).toEqual([
      expect.objectContaining({
        user: INTERN,
        outcome: 'refused',
        reason: undefined,
        details: expect.objectContaining({ code: 'NOT_ALLOWED' }),
      }),
    ]);
  });

  it('restarts once when two confirmed clicks arrive at the same moment', async () => {
    const before = pid(hosts);
    // two people open the modal, then both submit at once
    await h.click(threadTs, 'step.run:mitigation-1:restart', ONCALL);
    await h.click(threadTs, 'step.run:mitigation-1:restart', ONCALL);
    await until('two modals', () => h.slack.calls('views.open').length === 2);
    const values = {
      reason: { reason: { type: 'plain_text_input', value: 'both of us clicked' } },
      options: { options: { type: 'checkboxes', selected_options: [] } },
    };
    const ids = h.slack.calls('views.open').map((c) => (c.response as { view: { id: string } }).view.id);
    await Promise.all(ids.map((viewId) => h.slack.submitView({ user: ONCALL, viewId, values })));
    await reply(/Restart HAProxy on lb-test: verified, /);
    // the second submission is refused (told to its user), then nothing more may run
    await h.slack.waitForCall(
      (c) =>
        (c.method === 'chat.postEphemeral' || c.method === 'chat.postMessage') &&
        /another mitigation is running on lb-test|cooldown/.test(String(c.args.text ?? '')),
      { timeoutMs: 5000 },
    );
    await h.commandBarrier();
    const audit = await h.pilot.deps.store.audits({ host: 'lb-test' });
    expect(audit.filter((a) => a.outcome === 'ok')).toHaveLength(1);
    expect(audit.filter((a) => a.outcome === 'refused')).toHaveLength(1);
    const told = [...h.slack.calls('chat.postEphemeral'), ...h.slack.calls('chat.postMessage')].map((c) =>
      String(c.args.text ?? ''),
    );
    expect(told.some((t) => /another mitigation is running on lb-test|cooldown/.test(t))).toBe(true);
    expect(pid(hosts)).not.toBe(before);
    // exactly one new process: the old one is gone (this sandbox reaps exited processes slowly: wait for it)
    await until(
      'the old haproxy to exit',
      () => {
        try {
          process.kill(before, 0);
          return readFileSync(`/proc/${before}/stat`, 'utf8').split(' ')[2] === 'Z';
        } catch {
          return true;
        }
      },
      5000,
    );
  });

  it('refuses the restart when the config is broken and shows haproxy -c', async () => {
    const before = pid(hosts);
    const original = readFileSync(hosts.haproxy.config, 'utf8');
    writeFileSync(hosts.haproxy.config, `${original}\nbackend broken\n    server x 127.0.0.1:1 bogus-keyword\n`);
    try {
      await confirm('step.run:mitigation-1:restart', ONCALL);
      const blocked = await h.slack.waitFor(
        'chat.postMessage',
        replyMatching(/Restart HAProxy on lb-test blocked: the config check failed/),
        20_000,
      );
      expect(plain(JSON.stringify(blocked.args.blocks))).toMatch(/bogus-keyword/);
      expect(pid(hosts)).toBe(before);
      expect(await h.pilot.deps.store.audits({ host: 'lb-test' })).toEqual([
        expect.objectContaining({ outcome: 'refused', details: expect.objectContaining({ code: 'PRECHECK_FAILED' }) }),
      ]);
    } finally {
      writeFileSync(hosts.haproxy.config, original);
    }
  });

  it('blocks a second restart during the cooldown', async () => {
    await confirm('step.run:mitigation-1:restart', ONCALL);
    await reply(/Restart HAProxy on lb-test: verified, /);
    const afterFirst = pid(hosts);
    await confirm('step.run:mitigation-1:restart', ONCALL, 'again');
    const blocked = await h.slack.waitFor(
      'chat.postMessage',
      replyMatching(/blocked: lb-test was last restarted/),
      10_000,
    );
    expect(String(blocked.args.text)).toMatch(/cooldown of 300 s has \d+ s left/);
    expect(pid(hosts)).toBe(afterFirst);
  });

  it('drains web2 and brings it back, as read back from the runtime API', async () => {
    await confirm('step.run:mitigation-server-state:drain', ONCALL, 'take web2 out while we look');
    await reply(/Drain the server on lb-test: verified, /);
    expect(runtime(hosts, 'show servers state web')).toMatch(/web2 \S+ \d+ 8 /);
    await confirm('step.run:mitigation-server-state:ready', ONCALL, 'fixed');
    await reply(/Return the server to service on lb-test: verified, /);
    expect(runtime(hosts, 'show servers state web')).toMatch(/web2 \S+ \d+ 0 /);
  });

  it('shows the exact commands in a dry run and runs nothing', async () => {
    const before = pid(hosts);
    await confirm('step.run:mitigation-1:reload', ONCALL, 'just looking', true);
    const dry = await h.slack.waitFor('chat.postMessage', replyMatching(/Dry run of Reload HAProxy/), 10_000);
    expect(plain(JSON.stringify(dry.args.blocks))).toContain('-sf');
    expect(pid(hosts)).toBe(before);
    expect(await h.pilot.deps.store.audits({ host: 'lb-test' })).toEqual([
      expect.objectContaining({ outcome: 'dry-run' }),
    ]);
  });
});
void CHANNEL;
