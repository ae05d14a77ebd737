/**
 * Issue #14, section 5: every binding shipped in runbooks/ fired through the real bot (Alertmanager's webhook, the
 * Slack stand-in, the loopback sshd + haproxy), and every action it binds clicked: each one runs and answers in the
 * thread. Read actions by their button; change actions (drain, ready, reload, restart, restart-unit) through the
 * confirmation modal, as a user would. An action whose tool or service is missing on the loopback host (no systemd,
 * no chrony, dmesg restricted) must say so in words, never fail silently.
 *
 * The embedded-exporter (v2) runbooks share alert names with the v1 ones, which the repo's folder chooses (their
 * bindings name them with `runbook:`), so v2 is loaded as a team running that exporter would: its folder alone.
 */
import { join } from 'node:path';
import { builtinActions } from '../../../src/actions/catalog';
import { labelsFingerprint } from '../../../src/ingest/fingerprint';
import { loadRunbookCollection } from '../../../src/runbook/load-runbooks';
import type { Runbook } from '../../../src/runbook/types';
import { restoreWeb2 } from '../../support/haproxy-runtime';
import { CHANNEL, type Harness, ONCALL, startHarness } from '../../support/pilot-harness';
import { plain, runStep } from '../../support/step-helpers';
import { describeWithHosts, type TestHosts, testHostConfig } from '../../support/test-hosts';

const REPO = join(__dirname, '..', '..', '..');
const FOLDERS = [join(REPO, 'runbooks'), join(REPO, 'runbooks', 'haproxy-embedded-exporter-v2')];

/**
 * What the loopback host may lack (it differs between this machine and CI: systemd's tools installed or not, dmesg
 * restricted or not), and the words each action must then say. Each action here either exits 0 or says this; every
 * other action must exit 0.
 */
const MAY_REFUSE: Record<string, RegExp> = {
  'clock-sync': /`chronyc` is not installed on lb-test/,
  'unit-status': /systemd is not running on lb-test|`systemctl` is not installed on lb-test/,
  'unit-journal': /`journalctl` is not installed on lb-test/,
  'restart-unit':
    /systemd is not running on lb-test: cannot restart ssh\.service|`systemctl` is not installed on lb-test/,
  // The SSH user is not root; a kernel may restrict dmesg to root, and the host may have no journal.
  'oom-kills': /cannot read the kernel log on lb-test as \S+: dmesg says/,
};
/** Answers that are right on this host and are not exit 0. */
const MUST_SAY: Record<string, RegExp> = {
  // web2 is the DOWN server: its port is closed on purpose.
  'connectivity-check': /refused/,
};

/** Label values that point at the loopback load balancer and its DOWN server web2. */
function sampleLabels(rb: Runbook, hosts: TestHosts): Record<string, string> {
  const node = rb.doc.alertname.startsWith('Host');
  const values: Record<string, string> = {
    alertname: rb.doc.alertname,
    backend: 'web',
    proxy: 'web',
    frontend: 'fe_main',
    server: 'web2',
    instance: node ? '127.0.0.1:9100' : '127.0.0.1:9101',
    job: node ? 'node' : 'haproxy',
    severity: 'critical',
    // A real folder on the host, small enough for du to finish at once.
    mountpoint: hosts.stateDir,
    device: 'lo',
    fstype: 'ext4',
    nodename: 'lb-test',
    name: 'ssh.service',
    state: 'failed',
    type: 'simple',
  };
  const names = rb.binding?.labels ?? ['alertname', 'instance', 'severity'];
  return Object.fromEntries(names.map((n) => [n, values[n] ?? 'x']));
}

/** Every action the runbook binds, once, with the first step that offers it, in the order of the message. */
function boundActions(rb: Runbook): Array<{ stepId: string; actionId: string }> {
  const seen = new Set<string>();
  const out: Array<{ stepId: string; actionId: string }> = [];
  for (const step of rb.steps) {
    for (const actionId of step.actions) {
      if (seen.has(actionId)) continue;
      seen.add(actionId);
      out.push({ stepId: step.id, actionId });
    }
  }
  return out;
}

async function fire(h: Harness, labels: Record<string, string>): Promise<string> {
  const alert = {
    status: 'firing',
    labels,
    annotations: { summary: `${labels.alertname} (test)` },
    startsAt: '2026-11-29T03:00:00.000Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: '',
    fingerprint: labelsFingerprint(labels),
  };
  const body = {
    receiver: 'oncall',
    status: 'firing',
    alerts: [alert],
    groupLabels: { alertname: labels.alertname },
    commonLabels: labels,
    commonAnnotations: alert.annotations,
    externalURL: 'http://alertmanager.example.org:9093',
    version: '4',
    groupKey: `{}:{alertname="${labels.alertname}"}`,
    truncatedAlerts: 0,
  };
  const res = await h.webhook(body);
  // Accepted (202) at once; the bot posts the alert and opens the incident after.
  expect(res.status).toBe(202);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const incident = await h.pilot.deps.store.findOpen(alert.fingerprint);
    if (incident?.messageTs) return incident.threadTs;
    if (Date.now() > deadline) throw new Error(`no incident message for ${labels.alertname}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Clicks a change action, confirms it in the modal, and returns the bot's last word on it in the thread. */
async function confirmChange(h: Harness, threadTs: string, stepId: string, actionId: string): Promise<string> {
  const title = builtinActions.find((a) => a.id === actionId)?.title ?? actionId;
  const opens = h.slack.calls('views.open').length;
  await h.click(threadTs, `step.run:${stepId}:${actionId}`, ONCALL);
  const opened = await h.slack.waitFor('views.open', () => h.slack.calls('views.open').length > opens, 5000);
  const viewId = (opened.response as { view: { id: string } }).view.id;
  const res = await h.slack.submitView({
    user: ONCALL,
    viewId,
    values: {
      reason: { reason: { type: 'plain_text_input', value: 'shipped-binding test' } },
      options: { options: { type: 'checkboxes', selected_options: [] } },
    },
  });
  expect(res.status).toBe(200);
  // The mitigation's one reply: its output, then the verdict (posted or edited in).
  const verdict = new RegExp(
    `^(✅|⚠️|❌)?\\s*${title.replace(/[()]/g, '\\$&')} on lb-test(: (verified|not verified)| failed)`,
  );
  const reply = await h.slack.waitForReply(CHANNEL, threadTs, (m) => verdict.test(String(m.text ?? '')), 30_000);
  return plain(`${String(reply.text)}\n${JSON.stringify(reply.blocks ?? [])}`);
}

describeWithHosts('every shipped binding through the real bot', (hosts) => {
  // The aggregated alerts name no host: they run on the `haproxy` group, which holds only this host here.
  const lb = { ...testHostConfig(hosts), group: 'haproxy', match: { instance: ['127.0.0.1:9101', '127.0.0.1:9100'] } };
  const config = {
    limits: {
      perHost: { concurrency: 4, minGapMs: 0, maxQueued: 100 },
      global: { concurrency: 20 },
      perUser: { clicksPerMinute: 10_000 },
    },
    mitigation: { verifyDelayMs: 200, cooldownSec: 0, maxRestartsPerHour: 1000 },
  };

  describe.each(FOLDERS.map((f) => [f.slice(REPO.length + 1), f] as const))('runbooks in %s', (_name, folder) => {
    const loaded = loadRunbookCollection(folder, builtinActions);
    const bound = loaded.registry
      .list()
      .filter((rb) => rb.binding && rb.steps.some((s) => s.kind === 'action'))
      .filter((rb) => !folder.endsWith('v2') || rb.file.includes('haproxy-embedded-exporter-v2'))
      .sort((a, b) => (a.doc.alertname < b.doc.alertname ? -1 : 1));
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ hosts: [lb], config: { ...config, runbooks: folder } });
    });
    afterAll(async () => {
      await h?.stop();
      await restoreWeb2(hosts);
    });

    it('loads without a problem, every binding with automated steps', async () => {
      expect(loaded.problems).toEqual([]);
      expect(bound.length).toBeGreaterThanOrEqual(folder.endsWith('v2') ? 13 : 30);
    });

    it.each(bound.map((rb) => [rb.doc.alertname, rb] as const))(
      '%s: each bound action runs and answers',
      async (_alert, rb) => {
        const threadTs = await fire(h, sampleLabels(rb, hosts));
        for (const { stepId, actionId } of boundActions(rb)) {
          const action = h.pilot.deps.runbooks.action(rb, actionId);
          expect(action).toBeDefined();
          const text =
            action?.risk === 'change'
              ? await confirmChange(h, threadTs, stepId, actionId)
              : plain(await runStep(h, threadTs, stepId, actionId, ONCALL, 30_000));
          const ok = new RegExp(`${action?.title.replace(/[()]/g, '\\$&')} on lb-test(: ok|.*verified)`);
          const expected =
            MUST_SAY[actionId] ??
            (MAY_REFUSE[actionId] ? new RegExp(`${ok.source}|${MAY_REFUSE[actionId].source}`) : ok);
          expect({ actionId, text }).toEqual({ actionId, text: expect.stringMatching(expected) });
          // Nothing was refused before it ran (a parameter the alert's labels could not fill, a host not found).
          expect({ actionId, text }).toEqual({
            actionId,
            text: expect.not.stringMatching(/did not run|nothing was run|nothing ran/),
          });
        }
        const incident = (await h.pilot.deps.store.listOpen()).find((i) => i.threadTs === threadTs);
        expect(incident?.hostName).toBe('lb-test');
      },
    );
  });

  it('restart-unit checks its own result: verified by the command, not by reading HAProxy back', async () => {
    // The loopback host has no systemd: a host override stands in for `systemctl restart` and its check.
    const node = {
      ...lb,
      name: 'lb-test',
      commands: { 'restart-unit': 'U={unit}; echo "$U restarted on lb-test: active"' },
    };
    const h = await startHarness({ hosts: [node], config });
    try {
      const threadTs = await fire(h, {
        alertname: 'HostSystemdServiceCrashed',
        instance: '127.0.0.1:9100',
        name: 'nginx.service',
        severity: 'warning',
      });
      const text = await confirmChange(h, threadTs, 'mitigation-1', 'restart-unit');
      expect(text).toContain(
        'Restart the systemd unit on lb-test: verified, the command checked it: nginx.service restarted on lb-test: active',
      );
      const audit = (await h.pilot.deps.store.audits({ host: 'lb-test' })).find((a) => a.actionId === 'restart-unit');
      expect(audit).toMatchObject({
        outcome: 'ok',
        verification: expect.stringMatching(/^verified: the command checked it/),
      });
    } finally {
      await h.stop();
    }
  });

  it('an alert that names no host, with two hosts in its group: nothing runs until a user picks one', async () => {
    const lb2 = { ...lb, name: 'lb-test-b', match: { instance: ['lb-test-b:9101'] } };
    const h = await startHarness({ hosts: [lb, lb2], config });
    try {
      const threadTs = await fire(h, { alertname: 'HaproxyPendingRequests', backend: 'web', severity: 'warning' });
      const incident = (await h.pilot.deps.store.listOpen()).find((i) => i.threadTs === threadTs)!;
      expect(incident.hostName).toBeUndefined();
      const message = plain(JSON.stringify((await h.incidentMessage(threadTs)).blocks));
      expect(message).toContain(
        `it may be on \`lb-test\` or \`lb-test-b\`. Pick the host below (or \`/incident host ${incident.id} <name>\`)`,
      );

      // A click before the pick is refused in the thread with the way out, and nothing runs.
      const refused = plain(await runStep(h, threadTs, 'diagnosis-2', 'proxy-stats', ONCALL));
      expect(refused).toMatch(/did not run/);
      expect(refused).toContain(
        `it may be on lb-test, lb-test-b; nothing was run. Pick the host in the menu on the incident message (or with \`/incident host ${incident.id} <name>\`), then click again`,
      );
      expect((await h.pilot.deps.store.timeline(incident.id)).some((e) => e.type === 'step.started')).toBe(false);

      const slash = async (text: string): Promise<string> => {
        const before = h.slack.calls('response_url').length;
        await h.slack.slashCommand({ command: '/incident', text, userId: ONCALL, channelId: CHANNEL });
        await h.slack.waitFor('response_url', () => h.slack.calls('response_url').length > before, 5000);
        return plain(String(h.slack.calls('response_url').at(-1)?.args.text ?? ''));
      };
      expect(await slash(`host ${incident.id} db-9`)).toMatch(
        /db-9 is not a host #\d+ may run on \(its runbook lists: lb-test, lb-test-b\)/,
      );
      // The menu on the incident message offers exactly the binding's hosts; picking one sets it, once.
      await h.slack.clickButton({
        user: ONCALL,
        channel: CHANNEL,
        messageTs: (await h.incidentMessage(threadTs)).ts,
        actionId: 'incident.pickHost',
        value: JSON.stringify({ i: incident.id, h: 'lb-test-b' }),
      });
      await h.slack.waitFor(
        'chat.postMessage',
        (c) => String(c.args.text ?? '').includes('picked `lb-test-b` as the host'),
        5000,
      );
      expect((await h.pilot.deps.store.get(incident.id))?.hostName).toBe('lb-test-b');
      expect(await slash(`host ${incident.id} lb-test`)).toMatch(/already runs on lb-test-b/);
      const chosen = (await h.pilot.deps.store.timeline(incident.id)).filter((e) => e.type === 'host.chosen');
      expect(chosen).toEqual([
        expect.objectContaining({ actor: ONCALL, details: expect.objectContaining({ host: 'lb-test-b' }) }),
      ]);

      const text = plain(await runStep(h, threadTs, 'diagnosis-2', 'proxy-stats', ONCALL));
      expect(text).toMatch(/Proxy stats: sessions, queue, errors, times on lb-test-b: ok/);
      expect(text).toMatch(/web\s+web2\s+DOWN/);
    } finally {
      await h.stop();
    }
  });
});
