/**
 * Issue #6, host faults through the real bot on the loopback hosts: sshd dies in the middle of a command, a command
 * hangs past its timeout, the stats socket is missing. Each ends as a clear answer in the thread, never "running".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostConfig } from '../../../src/config/schema';
import type { Incident } from '../../../src/incident/types';
import { FaultSteps, faultReadActions, HANG_SLEEP, SLOW_DONE, writeFaultRunbooks } from '../../support/fault-runbooks';
import { CHANNEL, type Harness, ONCALL, startHarness } from '../../support/pilot-harness';
import type { RecordedCall } from '../../support/slack-standin';
import { plain, runStep } from '../../support/step-helpers';
import { describeWithHosts, killSshd, remoteProcesses, startSshd, testHostConfig } from '../../support/test-hosts';

async function until<T>(
  what: string,
  get: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describeWithHosts('host faults through the bot', (hosts) => {
  const lb = testHostConfig(hosts);
  const spare: HostConfig = {
    ...lb,
    name: 'lb-spare',
    match: { instance: ['lb-spare:9101'] },
    ssh: { ...lb.ssh, port: hosts.ssh.sparePort },
  };
  const noSocket: HostConfig = {
    ...lb,
    name: 'lb-nosock',
    match: { instance: ['lb-nosock:9101'] },
    haproxy: { ...lb.haproxy, socket: '/run/rbp-missing/admin.sock' },
  };
  let dir: string;
  let h: Harness;
  let n = 0;

  /** Opens an incident for `instance` and returns it once its message is posted. */
  async function openIncident(instance: string): Promise<Incident> {
    n++;
    const sent = await h.slack.sendEvent({
      type: 'message',
      channel: CHANNEL,
      user: ONCALL,
      text: `HaproxyServerDown instance=${instance} backend=web server=web2`,
      ts: `1700001${n}00.000100`,
    });
    const threadTs = (sent.envelope as { event: { ts: string } }).event.ts;
    await h.incidentMessage(threadTs);
    return until('the incident message ts', async () =>
      (await h.pilot.deps.store.listOpen()).find((i) => i.threadTs === threadTs && i.messageTs),
    );
  }

  /** The step's result reply (the "running" reply replaced), once it arrives after call number `since`. */
  function result(since: number, title: string, timeoutMs = 15_000): Promise<RecordedCall> {
    return until(
      `the result of ${title}`,
      () =>
        h.slack
          .calls()
          .slice(since)
          .find(
            (c) =>
              (c.method === 'chat.update' || c.method === 'chat.postMessage') &&
              String(c.args.text ?? '').startsWith(title) &&
              /: ok$|: failed$| failed: | did not run: /.test(String(c.args.text)),
          ),
      timeoutMs,
    );
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rbp-faults-'));
    startSshd('spare');
    h = await startHarness({
      hosts: [lb, spare, noSocket],
      config: {
        runbooks: writeFaultRunbooks(dir, { slowSec: 4 }),
        mitigation: { verifyDelayMs: 300, readActions: faultReadActions({ slowSec: 4 }) },
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
    startSshd('spare');
    rmSync(dir, { recursive: true, force: true });
  });

  it('sshd killed in the middle of a command: the step fails with a clear message, the next click reconnects', async () => {
    const incident = await openIncident('lb-spare:9101');
    const since = h.slack.calls().length;
    const msg = h.slack.message(CHANNEL, incident.messageTs!)!;
    // (slow steps a previous file left on the host are not this one)
    const stale = new Set(remoteProcesses(hosts.ssh.user, SLOW_DONE));
    await h.slack.clickButton({
      user: ONCALL,
      channel: CHANNEL,
      messageTs: msg.ts,
      actionId: `step.run:${FaultSteps.slow.stepId}:${FaultSteps.slow.actionId}`,
    });
    await until('the slow step to start', async () =>
      (await h.pilot.deps.store.timeline(incident.id)).some((e) => e.type === 'step.started'),
    );
    // killed while its command runs on the host
    await until('the slow step’s command on the host', () =>
      remoteProcesses(hosts.ssh.user, SLOW_DONE).some((pid) => !stale.has(pid)),
    );

    killSshd('spare');

    const failed = await result(since, 'Slow step');
    expect(String(failed.args.text)).toMatch(
      /Slow step failed: the connection to lb-spare .* dropped while the command ran; its outcome is unknown/,
    );
    expect(String(failed.args.text)).toMatch(/check sshd on the host, then run the step again/i);
    expect((await h.pilot.deps.store.get(incident.id))?.steps[FaultSteps.slow.stepId]).toMatchObject({
      state: 'failed',
    });

    startSshd('spare');
    const status = plain(await runStep(h, incident.threadTs, 'diagnosis-2', 'status-check'));
    expect(status).toMatch(/^HAProxy process and sockets on lb-spare: ok\n/);
    expect((await h.pilot.deps.store.get(incident.id))?.steps['diagnosis-2']).toMatchObject({ state: 'ok' });
  }, 40_000);

  it('a command that hangs is ended at its timeout, reported, and leaves no process on the host', async () => {
    const incident = await openIncident('lb-test:9101');
    const since = h.slack.calls().length;
    const msg = h.slack.message(CHANNEL, incident.messageTs!)!;
    const clicked = Date.now();
    await h.slack.clickButton({
      user: ONCALL,
      channel: CHANNEL,
      messageTs: msg.ts,
      actionId: `step.run:${FaultSteps.hang.stepId}:${FaultSteps.hang.actionId}`,
    });
    await until('the hanging command on the host', () => remoteProcesses(hosts.ssh.user, HANG_SLEEP).length > 0, 5000);

    const res = await result(since, 'Hanging step');
    const elapsed = Date.now() - clicked;
    const text = plain(JSON.stringify(res.args.blocks));
    expect(String(res.args.text)).toMatch(/Hanging step on lb-test: failed$/);
    // The reply gives the measured time: at least the 1.5 s limit, more on a loaded machine (2.0 s seen in CI), then
    // TERM; nowhere near the 86 s the command wanted
    expect(text).toMatch(/timed out after (1\.[5-9]|[2-7]\.\d) s \(the command was ended/);
    expect(elapsed).toBeLessThan(8000);
    const timeline = await h.pilot.deps.store.timeline(incident.id);
    expect(timeline.find((e) => e.type === 'step.failed')?.details).toMatchObject({
      timedOut: true,
      error: 'timed out after 2 s',
    });
    await until('the remote sleep to be gone', () => remoteProcesses(hosts.ssh.user, HANG_SLEEP).length === 0, 5000);
  }, 30_000);

  it('a missing stats socket: the backend-state step says which socket and what to check', async () => {
    const incident = await openIncident('lb-nosock:9101');
    const out = plain(await runStep(h, incident.threadTs, 'diagnosis-backend-state', 'backend-state'));
    expect(out).toMatch(
      /stats socket \/run\/rbp-missing\/admin\.sock does not exist on \S+ \(is haproxy running, with 'stats socket \/run\/rbp-missing\/admin\.sock level admin'\?\)/,
    );
    expect(out).toMatch(/exit 1/);
    expect((await h.pilot.deps.store.get(incident.id))?.steps['diagnosis-backend-state']).toMatchObject({
      state: 'failed',
      exitCode: 1,
    });
  });
});
