/**
 * Issue #3 end to end on real hosts: each diagnosis button runs on the loopback load balancer over SSH and answers
 * in the thread, right about web2; SSH failures are answers; hostile labels run nothing; a burst keeps its limits.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { HostConfig } from '../../../src/config/schema';
import { CHANNEL, type Harness, ONCALL, startHarness } from '../../support/pilot-harness';
import { plain, runStep } from '../../support/step-helpers';
import { describeWithHosts, startSshd, stopSshd, testHostConfig } from '../../support/test-hosts';

describeWithHosts('diagnosis steps over SSH', (hosts) => {
  const lb = testHostConfig(hosts);
  const badKey: HostConfig = {
    ...lb,
    name: 'lb-badkey',
    match: { instance: ['lb-badkey:9101'] },
    ssh: { ...lb.ssh, hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s' },
  };
  const spare: HostConfig = {
    ...lb,
    name: 'lb-spare',
    match: { instance: ['lb-spare:9101'] },
    ssh: { ...lb.ssh, port: hosts.ssh.sparePort },
  };
  const lb1: HostConfig = { ...lb, name: 'lb-1', match: { instance: ['lb-1:9101'] } };
  // A per-host override: this host's version check prints far more than a message can hold.
  const big: HostConfig = {
    ...lb,
    name: 'lb-big',
    match: { instance: ['lb-big:9101'] },
    commands: { 'version-check': 'seq -f "line %g of a long answer" 1 3000' },
  };
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      hosts: [lb, badKey, spare, lb1, big],
      config: {
        limits: {
          perHost: { concurrency: 2, minGapMs: 100, maxQueued: 100 },
          global: { concurrency: 20 },
          perUser: { clicksPerMinute: 30 },
        },
      },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers every diagnosis step about web2 correctly', async () => {
    const ts = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(ts);

    const backend = plain(await runStep(h, ts, 'diagnosis-backend-state', 'backend-state'));
    expect(backend).toMatch(/▶ web2\s+DOWN/);
    expect(backend).toMatch(/web1\s+UP/);

    const conn = plain(await runStep(h, ts, 'diagnosis-3', 'connectivity-check'));
    expect(conn).toMatch(/refused/);
    expect(conn).toContain(`127.0.0.1`);
    expect(conn).toContain(String(hosts.haproxy.web2Port));

    const log = plain(await runStep(h, ts, 'diagnosis-1', 'log-tail'));
    expect(log).toMatch(/web\/web2 is DOWN/);

    const config = plain(await runStep(h, ts, 'diagnosis-4', 'config-check'));
    expect(config).toMatch(/Configuration file is valid/);
    expect(config).toMatch(/exit 0/);

    const status = plain(await runStep(h, ts, 'diagnosis-2', 'status-check'));
    expect(status).toMatch(/Pid: \d+/);
    expect(status).toMatch(/Uptime/);

    const changes = plain(await runStep(h, ts, 'diagnosis-5', 'recent-changes'));
    expect(changes).toContain(String(hosts.haproxy.web2Port));

    // the incident message shows each step's state, kept current with chat.update
    const incident = (await h.pilot.deps.store.listOpen())[0];
    expect(incident.steps['diagnosis-backend-state']).toMatchObject({ state: 'ok', by: ONCALL, exitCode: 0 });
    expect(incident.steps['diagnosis-3']).toMatchObject({ state: 'failed', exitCode: 1 });
    const update = h.slack
      .calls('chat.update')
      .filter((c) => c.args.ts === incident.messageTs)
      .pop();
    expect(JSON.stringify(update?.args.blocks)).toContain('✅ ok `backend-state`');
  });

  it('attaches output too long for a message as a file, its head inline (a host command override)', async () => {
    const env = (
      await h.slack.sendEvent({
        type: 'message',
        channel: CHANNEL,
        user: ONCALL,
        text: 'HaproxyServerDown instance=lb-big:9101 backend=web server=web2',
        ts: '1700000050.000100',
      })
    ).envelope as { event: { ts: string } };
    await h.incidentMessage(env.event.ts);
    const out = plain(await runStep(h, env.event.ts, 'mitigation-3', 'version-check'));
    expect(out).toContain('line 1 of a long answer');
    expect(out).not.toContain('line 3000 of a long answer');
    expect(out).toMatch(/the full output is attached as a file/);
    await h.slack.waitFor('files.completeUploadExternal', (c) => JSON.stringify(c.args).includes(env.event.ts), 10_000);
    const file = h.slack.files().find((f) => f.filename === 'version-check-lb-big.txt');
    expect(file).toMatchObject({ channel_id: CHANNEL, thread_ts: env.event.ts });
    expect(file!.bytes.toString('utf8')).toContain('line 3000 of a long answer');
  });

  it('refuses a wrong pinned host key and says what to check; nothing runs', async () => {
    const ts = (
      await h.slack.sendEvent({
        type: 'message',
        channel: CHANNEL,
        user: ONCALL,
        text: 'HaproxyServerDown instance=lb-badkey:9101 backend=web server=web2',
        ts: '1700000100.000100',
      })
    ).envelope as { event: { ts: string } };
    const threadTs = ts.event.ts;
    await h.incidentMessage(threadTs);
    const out = plain(await runStep(h, threadTs, 'diagnosis-2', 'status-check'));
    expect(out).toMatch(/did not run|failed/);
    expect(out).toMatch(/host key/i);
    expect(out).toMatch(/verify the host, then update ssh\.hostKey/);
  });

  it('says clearly when sshd is down', async () => {
    stopSshd('spare');
    const env = (
      await h.slack.sendEvent({
        type: 'message',
        channel: CHANNEL,
        user: ONCALL,
        text: 'HaproxyServerDown instance=lb-spare:9101 backend=web server=web2',
        ts: '1700000200.000100',
      })
    ).envelope as { event: { ts: string } };
    await h.incidentMessage(env.event.ts);
    const out = plain(await runStep(h, env.event.ts, 'diagnosis-2', 'status-check'));
    expect(out).toMatch(/refused|unreachable|not reach/i);
    expect(out).toMatch(/sshd listens on the configured port/);
    expect(out).toContain(String(hosts.ssh.sparePort));
    startSshd('spare');
  });

  it('runs nothing for labels carrying shell metacharacters (webhook path)', async () => {
    rmSync('/tmp/pwned', { force: true });
    const body = readFileSync(`${__dirname}/../../fixtures/alertmanager/metachar.webhook.firing.json`, 'utf8');
    const res = await h.webhook(body);
    expect(res.status).toBe(202);
    const alertPost = await h.slack.waitFor(
      'chat.postMessage',
      (c) => String(c.args.text).includes('[FIRING] HaproxyServerDown') && !c.args.thread_ts,
      5000,
    );
    const threadTs = (alertPost.response as { ts: string }).ts;
    await h.incidentMessage(threadTs);
    const incident = (await h.pilot.deps.store.listOpen()).find((i) => i.threadTs === threadTs);
    expect(incident?.hostName).toBe('lb-1');
    for (const [step, action] of [
      ['diagnosis-backend-state', 'backend-state'],
      ['diagnosis-3', 'connectivity-check'],
      ['diagnosis-1', 'log-tail'],
    ]) {
      const out = plain(await runStep(h, threadTs, step, action));
      expect(out).toMatch(/did not run/);
      expect(out).toMatch(/nothing was run/);
    }
    const types = (await h.pilot.deps.store.timeline(incident!.id)).map((e) => e.type);
    expect(types).not.toContain('step.started');
    expect(types.filter((t) => t === 'step.refused')).toHaveLength(3);
    expect(existsSync('/tmp/pwned')).toBe(false);
  });

  it('keeps a burst of 30 clicks on one host within its limits, in order, nothing dropped', async () => {
    const env = (
      await h.slack.sendEvent({
        type: 'message',
        channel: CHANNEL,
        user: ONCALL,
        text: 'HaproxyServerDown instance=lb-test:9101 backend=web server=web1',
        ts: '1700000300.000100',
      })
    ).envelope as { event: { ts: string } };
    const threadTs = env.event.ts;
    const msg = await h.incidentMessage(threadTs);
    const users = Array.from({ length: 30 }, (_, i) => `U0BURST${String(i).padStart(3, '0')}`);
    const acks = await Promise.all(
      users.map((u) =>
        h.slack.clickButton({
          user: u,
          channel: CHANNEL,
          messageTs: msg.ts,
          actionId: 'step.run:diagnosis-4:config-check',
        }),
      ),
    );
    expect(acks.every((a) => a.status === 200)).toBe(true);
    const incident = (await h.pilot.deps.store.listOpen()).find((i) => i.threadTs === threadTs)!;
    const deadline = Date.now() + 30_000;
    while (
      (await h.pilot.deps.store.timeline(incident.id)).filter(
        (e) => e.type === 'step.finished' || e.type === 'step.failed',
      ).length < 30 &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const timeline = await h.pilot.deps.store.timeline(incident.id);
    expect(timeline.filter((e) => e.type === 'step.finished')).toHaveLength(30);
    // at most 2 at once: never more than 2 started-but-not-finished
    let running = 0;
    let peak = 0;
    for (const e of timeline) {
      if (e.type === 'step.started') peak = Math.max(peak, ++running);
      if (e.type === 'step.finished') running--;
    }
    expect(peak).toBeLessThanOrEqual(2);
    // starts keep the minimum gap (100 ms): the k-th at least k gaps after the first, less half a gap for the first
    // start's own lateness (measured from the one before, a late start made the next gap look 47 ms under load)
    const starts = timeline.filter((e) => e.type === 'step.started').map((e) => Date.parse(e.at));
    for (let k = 1; k < starts.length; k++) expect(starts[k] - starts[0]).toBeGreaterThanOrEqual(k * 100 - 50);
    // waiting clicks were told so
    expect(timeline.filter((e) => e.type === 'step.queued').length).toBeGreaterThan(0);
    expect(h.slack.calls().some((c) => /queued, \d+ ahead/.test(String(c.args.text ?? '')))).toBe(true);
  }, 60_000);
});
