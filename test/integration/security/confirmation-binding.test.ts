/**
 * Issue #19 §7 through the real bot: the confirmation binds everything it showed. Two load balancers with the same
 * paths (so the same command texts): a submission of lb-a's modal whose metadata names the incident on lb-b is
 * refused and runs nothing (it ran on lb-b when the digest covered the command texts alone); a byte-identical
 * view_submission delivered again within Slack's five minutes runs once. Each refusal is in the audit log.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostSchema } from '../../../src/config/schema';
import type { Incident } from '../../../src/incident/types';
import { decodeStepValue, encodeStepValue } from '../../../src/slack/action-ids';
import { RecordingExecutor } from '../../support/fakes';
import { type Harness, ONCALL, startHarness } from '../../support/pilot-harness';
import { plain } from '../../support/step-helpers';

const FIRING = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'fixtures', 'alertmanager', 'single.webhook.firing.json'), 'utf8'),
) as { alerts: Array<{ labels: Record<string, string> }> };

/** The same alert from the exporter of another load balancer. */
function firingOn(instance: string): unknown {
  const [alert] = FIRING.alerts;
  return { ...FIRING, alerts: [{ ...alert, labels: { ...alert.labels, instance } }] };
}

// Never connected to (a recording executor runs the commands): same paths on both, so the same command texts.
const host = (name: string, instance: string) =>
  HostSchema.parse({
    name,
    match: { instance: [instance] },
    ssh: {
      host: '127.0.0.1',
      port: 9,
      user: 'ops',
      privateKeyPath: '/nonexistent',
      hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
    },
    haproxy: {
      socket: '/run/haproxy/admin.sock',
      config: '/etc/haproxy/haproxy.cfg',
      log: '/var/log/haproxy.log',
      service: 'haproxy',
      pidFile: '/run/haproxy.pid',
    },
  });

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const REASON = { reason: { reason: { type: 'plain_text_input' as const, value: 'web2 flaps' } } };
const isDrain = (c: string) => c.includes('state drain');

describe('security: the confirmation binds everything it showed (#19 §7)', () => {
  let h: Harness;
  let executor: RecordingExecutor;
  let onA: Incident;
  let onB: Incident;

  beforeEach(async () => {
    executor = new RecordingExecutor();
    h = await startHarness({
      hosts: [host('lb-a', '127.0.0.1:9101'), host('lb-b', '127.0.0.2:9101')],
      executor,
      config: { mitigation: { verifyDelayMs: 0, cooldownSec: 300, maxRestartsPerHour: 3 } },
    });
    expect((await h.webhook(firingOn('127.0.0.1:9101'))).status).toBe(202);
    expect((await h.webhook(firingOn('127.0.0.2:9101'))).status).toBe(202);
    const open = await until('both incidents posted', async () => {
      const all = (await h.pilot.deps.store.listOpen()).filter((i) => i.messageTs);
      return all.length === 2 ? all : undefined;
    });
    onA = open.find((i) => i.hostName === 'lb-a') as Incident;
    onB = open.find((i) => i.hostName === 'lb-b') as Incident;
    await h.incidentMessage(onA.threadTs);
    await h.incidentMessage(onB.threadTs);
  });
  afterEach(() => h.stop());

  /** Clicks Drain on lb-a's incident and returns the modal Slack opened. */
  async function openDrainOnA(): Promise<{ id: string; private_metadata: string }> {
    const before = h.slack.calls('views.open').length;
    await h.click(onA.threadTs, 'step.run:mitigation-server-state:drain', ONCALL);
    const opened = await h.slack.waitFor('views.open', () => h.slack.calls('views.open').length > before, 5000);
    return (opened.response as { view: { id: string; private_metadata: string } }).view;
  }

  const threadSays = (incident: Incident, re: RegExp) =>
    h.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.thread_ts === incident.threadTs && re.test(plain(JSON.stringify(c.args))),
      5000,
    );

  it('refuses lb-a’s confirmation submitted for the incident on lb-b, though the command texts are the same', async () => {
    const view = await openDrainOnA();
    const shown = JSON.parse(view.private_metadata) as { v: string; c: string; d: string };
    // the metadata names lb-b's incident; everything else (digest included) is what lb-a's modal carried
    const step = decodeStepValue(shown.v);
    if (!step) throw new Error(`not a step value: ${shown.v}`);
    const forged = { ...shown, v: encodeStepValue({ ...step, incidentId: onB.id }) };
    await h.slack.submitView({
      user: ONCALL,
      viewId: view.id,
      values: REASON,
      view: { private_metadata: JSON.stringify(forged) },
    });

    await threadSays(onB, /changed since you opened this/);
    expect(executor.commands.filter(isDrain)).toEqual([]);
    expect(await h.pilot.deps.store.audits({ host: 'lb-b' })).toEqual([
      expect.objectContaining({
        incidentId: onB.id,
        outcome: 'refused',
        details: expect.objectContaining({ code: 'CONFIRMATION_CHANGED' }),
      }),
    ]);
    expect((await h.pilot.deps.store.timeline(onB.id)).map((e) => e.type)).not.toContain('step.started');
  });

  it('runs a byte-identical view_submission delivered twice once, and records the replay', async () => {
    const view = await openDrainOnA();
    const first = await h.slack.submitView({ user: ONCALL, viewId: view.id, values: REASON });
    await until('the drain ran and was recorded', async () =>
      (await h.pilot.deps.store.audits({ host: 'lb-a' })).some((a) => a.outcome === 'ok' || a.outcome === 'failed')
        ? true
        : undefined,
    );
    expect(executor.calls.filter((c) => isDrain(c.command)).map((c) => c.target.name)).toEqual(['lb-a']);

    const replay = await h.slack.redeliver(first.payload);
    expect(replay.status).toBe(200);
    // the replay's refusal in the thread is the marker: after it, nothing else may have run
    await threadSays(onA, /already submitted/);
    expect(executor.calls.filter((c) => isDrain(c.command)).map((c) => c.target.name)).toEqual(['lb-a']);
    expect((await h.pilot.deps.store.audits({ host: 'lb-a' })).map((a) => [a.outcome, a.details?.code])).toEqual([
      [expect.stringMatching(/^(ok|failed)$/), undefined],
      ['refused', 'CONFIRMATION_REPLAYED'],
    ]);
  });
});
