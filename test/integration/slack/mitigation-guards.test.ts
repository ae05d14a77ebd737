/**
 * Issue #15, section 1, through the real bot on the loopback haproxy: the cooldown holds past an hour, a stale pid
 * file signals nobody, a refusal takes no lock, and every refusal keeps the typed reason and is told by one rule
 * (a click is answered privately, a confirmed submission in the thread).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { restoreWeb2, until } from '../../support/haproxy-runtime';
import { CHANNEL, type Harness, INTERN, ONCALL, SRE_GROUP, startHarness } from '../../support/pilot-harness';
import type { RecordedCall } from '../../support/slack-standin';
import { plain } from '../../support/step-helpers';
import { describeWithHosts, type TestHosts, testHostConfig } from '../../support/test-hosts';

const MITIGATION = { verifyDelayMs: 300, cooldownSec: 300, maxRestartsPerHour: 3 };

function pidOf(hosts: TestHosts): number {
  return Number(readFileSync(hosts.haproxy.pidFile, 'utf8').trim());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls an async condition (the store may answer asynchronously). */
async function eventually(what: string, fn: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWithHosts('mitigation guards through the real bot', (hosts) => {
  const lb = testHostConfig(hosts);
  let h: Harness;
  let threadTs: string;
  /** The bot's clock runs this far ahead of the real one: a test moves time on instead of waiting for it. */
  let aheadMs = 0;

  async function start(config: Record<string, unknown> = {}): Promise<void> {
    aheadMs = 0;
    h = await startHarness({
      hosts: [lb],
      config: { mitigation: MITIGATION, ...config },
      now: () => new Date(Date.now() + aheadMs),
    });
    threadTs = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(threadTs);
  }
  afterEach(async () => {
    await h?.stop();
    await restoreWeb2(hosts);
  });

  /** Clicks a mitigation button as `user` and returns the id of the confirmation modal it opened. */
  async function open(actionId: string, user = ONCALL): Promise<string> {
    const since = h.slack.calls('views.open').length;
    await h.click(threadTs, actionId, user);
    const opened = await h.slack.waitFor('views.open', () => h.slack.calls('views.open').length > since, 5000);
    return (opened.response as { view: { id: string } }).view.id;
  }

  async function submit(viewId: string, reason: string, user = ONCALL): Promise<void> {
    const values = {
      reason: { reason: { type: 'plain_text_input', value: reason } },
      options: { options: { type: 'checkboxes', selected_options: [] } },
    };
    const res = await h.slack.submitView({ user, viewId, values });
    expect(res.status).toBe(200);
  }

  const inThread = (re: RegExp) => (c: RecordedCall) =>
    c.args.thread_ts === threadTs && re.test(String(c.args.text ?? ''));
  const incidentId = async () => (await h.pilot.deps.store.listOpen())[0].id;
  const audits = async () => h.pilot.deps.store.audits({ host: 'lb-test' });

  it('keeps a cooldown longer than an hour: a restart 90 minutes ago blocks one with a 2-hour cooldown', async () => {
    await start({ mitigation: { ...MITIGATION, cooldownSec: 7200 } });
    const before = pidOf(hosts);
    const at = new Date(Date.now() - 90 * 60_000).toISOString();
    await h.pilot.deps.store.appendAudit({
      at,
      incidentId: await incidentId(),
      user: ONCALL,
      host: 'lb-test',
      actionId: 'restart',
      outcome: 'ok',
      exitCode: 0,
      reason: 'earlier',
    });
    await submit(await open('step.run:mitigation-1:restart'), 'still flapping');
    await h.slack.waitFor('chat.postMessage', inThread(/Restart HAProxy on lb-test blocked/), 10_000);
    expect(pidOf(hosts)).toBe(before);
    const refused = (await audits()).filter((a) => a.outcome === 'refused');
    expect(refused).toEqual([
      expect.objectContaining({ reason: 'still flapping', details: expect.objectContaining({ code: 'COOLDOWN' }) }),
    ]);
    expect(refused[0].details?.waitSec).toBeGreaterThan(1700);
  });

  it('signals nothing when the pid file names a process that is not haproxy, says so, and a later cooldown says the attempt failed', async () => {
    await start();
    const haproxyPid = pidOf(hosts);
    const original = readFileSync(hosts.haproxy.pidFile, 'utf8');
    const uid = Number(
      readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${hosts.ssh.user}:`))
        ?.split(':')[2],
    );
    // A process of the ssh user, as a stale pid file would name once haproxy is gone and the pid is reused.
    const sleeper: ChildProcess = spawn('sleep', ['300'], { uid, gid: uid, stdio: 'ignore' });
    try {
      await until('the sleeper', () => alive(sleeper.pid as number));
      writeFileSync(hosts.haproxy.pidFile, `${sleeper.pid}\n`);
      await submit(await open('step.run:mitigation-1:restart'), 'web2 keeps flapping');
      // one reply: the command's output, then why nothing was verified
      await h.slack.waitForReply(
        CHANNEL,
        threadTs,
        (m) => /Restart HAProxy on lb-test failed/.test(String(m.text)),
        20_000,
      );
      expect(plain(h.threadText(threadTs))).toContain(
        `stale pid file ${hosts.haproxy.pidFile}: pid ${sleeper.pid} is not haproxy`,
      );
      expect(alive(sleeper.pid as number)).toBe(true);
      expect(alive(haproxyPid)).toBe(true);
      expect(await audits()).toEqual([
        expect.objectContaining({ outcome: 'failed', exitCode: 1, reason: 'web2 keeps flapping' }),
      ]);

      // The next attempt is in the cooldown, which says what happened last: a failed attempt, not a restart.
      await submit(await open('step.run:mitigation-1:restart'), 'try again');
      const blocked = await h.slack.waitFor('chat.postMessage', inThread(/blocked/), 10_000);
      expect(String(blocked.args.text)).not.toMatch(/was last restarted/);
      const refused = (await audits()).find((a) => a.outcome === 'refused');
      expect(refused?.details).toMatchObject({ code: 'COOLDOWN', lastOutcome: 'failed' });
    } finally {
      writeFileSync(hosts.haproxy.pidFile, original);
      sleeper.kill('SIGKILL');
    }
  });

  it('refuses two submissions in the cooldown both for the cooldown: a refusal holds no lock', async () => {
    await start();
    const at = new Date(Date.now() - 60_000).toISOString();
    await h.pilot.deps.store.appendAudit({
      at,
      incidentId: await incidentId(),
      user: ONCALL,
      host: 'lb-test',
      actionId: 'restart',
      outcome: 'ok',
      exitCode: 0,
      reason: 'earlier',
    });
    const views = [await open('step.run:mitigation-1:restart'), await open('step.run:mitigation-1:restart')];
    await Promise.all(views.map((v, i) => submit(v, `second try ${i}`)));
    await eventually('two refusals', async () => (await audits()).filter((a) => a.outcome === 'refused').length === 2);
    const codes = (await audits()).filter((a) => a.outcome === 'refused').map((a) => a.details?.code);
    expect(codes).toEqual(['COOLDOWN', 'COOLDOWN']);
  });

  it('keeps the typed reason of a refused submission and says the refusal in the thread; a refused click stays private', async () => {
    await start({ access: { mitigate: [SRE_GROUP], groupCacheSec: 1 } });
    const viewId = await open('step.run:mitigation-1:restart');
    // Access is checked again on submission: the on-call engineer left the group after opening the modal.
    // The group's members are cached for groupCacheSec (1 s) on the bot's clock: move it past that, no waiting.
    h.slack.setUsergroup(SRE_GROUP, []);
    aheadMs += 1100;
    await submit(viewId, 'web2 keeps flapping');
    await h.slack.waitFor('chat.postMessage', inThread(/Restart HAProxy on lb-test blocked/), 10_000);
    expect(await audits()).toEqual([
      expect.objectContaining({
        user: ONCALL,
        outcome: 'refused',
        reason: 'web2 keeps flapping',
        details: expect.objectContaining({ code: 'NOT_ALLOWED' }),
      }),
    ]);

    // A click refused before any modal opens is told to the clicker alone.
    const posts = h.slack.calls('chat.postMessage').length;
    await h.click(threadTs, 'step.run:mitigation-1:restart', INTERN);
    await h.slack.waitFor('chat.postEphemeral', (c) => c.args.user === INTERN, 5000);
    await h.commandBarrier();
    expect(
      h.slack
        .calls('chat.postMessage')
        .slice(posts)
        .filter((c) => /blocked|may not/.test(String(c.args.text ?? ''))),
    ).toEqual([]);
  });

  it("shows the intern's refused restart plainly on the timeline: no mention escaped into literal text", async () => {
    await start();
    await h.click(threadTs, 'step.run:mitigation-1:restart', INTERN);
    const refusal = await h.slack.waitFor('chat.postEphemeral', (c) => c.args.user === INTERN, 5000);
    // Told privately, with who may as a real mention.
    expect(String(refusal.args.text)).toContain(`only <!subteam^${SRE_GROUP}> may`);
    await h.click(threadTs, 'incident.timeline');
    const timeline = await h.slack.waitFor('chat.postMessage', inThread(/^Timeline of incident/), 5000);
    const text = JSON.stringify(timeline.args.blocks);
    expect(text).toContain('refused (NOT_ALLOWED): you may not run Restart HAProxy on lb-test');
    expect(text).not.toMatch(/&lt;[@!]|<!subteam/);
    expect(
      (await h.pilot.deps.store.timeline(await incidentId())).find((e) => e.type === 'mitigation.refused')?.details,
    ).toMatchObject({ code: 'NOT_ALLOWED', grantees: [SRE_GROUP] });
  });
});
