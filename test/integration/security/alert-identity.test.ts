/**
 * Issue #12 §2 through the real bot: an alert's identity comes from its labels, never from the payload. A webhook
 * payload that carries an open incident's `fingerprint` with other labels must not rewrite that incident, so the
 * mitigation the on-call confirmed runs on the server that was shown (web2), not on the one the payload names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Incident } from '../../../src/incident/types';
import { type Harness, ONCALL, startHarness } from '../../support/pilot-harness';
import { plain } from '../../support/step-helpers';
import { describeWithHosts, testHostConfig } from '../../support/test-hosts';

const FIRING = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'fixtures', 'alertmanager', 'single.webhook.firing.json'), 'utf8'),
) as {
  alerts: Array<{ labels: Record<string, string>; fingerprint: string }>;
};

/** The real payload with other labels under the same `fingerprint` field, as an attacker (or a bug) would send it. */
function forged(): unknown {
  const [alert] = FIRING.alerts;
  return { ...FIRING, alerts: [{ ...alert, labels: { ...alert.labels, server: 'api-db-primary', backend: 'db' } }] };
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWithHosts('security: alert identity from labels (#12 §2)', (hosts) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({
      hosts: [testHostConfig(hosts)],
      config: { mitigation: { dryRun: true, verifyDelayMs: 300 } },
    });
  });
  afterEach(() => h.stop());

  it('a payload reusing an open incident’s fingerprint with other labels does not change what the confirmed command runs on', async () => {
    expect((await h.webhook(FIRING)).status).toBe(202);
    const incident = await until('the incident', async () =>
      (await h.pilot.deps.store.listOpen()).find((i) => i.messageTs),
    );
    await h.incidentMessage(incident.threadTs);

    // the on-call opens the drain confirmation for web2 …
    await h.click(incident.threadTs, 'step.run:mitigation-server-state:drain', ONCALL);
    const opened = await h.slack.waitFor('views.open', () => true, 5000);
    expect(plain(JSON.stringify(opened.args.view))).toContain("SV='web2'");

    // … a payload with the incident's fingerprint and other labels arrives in between …
    expect((await h.webhook(forged())).status).toBe(202);
    await until('the forged alert handled', async () =>
      (await h.pilot.deps.store.listOpen()).length === 2 ? true : undefined,
    );

    // … and the submission runs (here: shows, dry run) the command for web2
    const viewId = (opened.response as { view: { id: string } }).view.id;
    await h.slack.submitView({
      user: ONCALL,
      viewId,
      values: { reason: { reason: { type: 'plain_text_input', value: 'web2 flaps' } } },
    });
    const dry = await h.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.thread_ts === incident.threadTs && /Dry run of/.test(String(c.args.text)),
      5000,
    );
    const shown = plain(JSON.stringify(dry.args.blocks));
    expect(shown).toContain("SV='web2'");
    expect(shown).not.toContain('api-db-primary');

    // the incident keeps its labels; the forged payload is another alert, with the fingerprint of its own labels
    const after = (await h.pilot.deps.store.get(incident.id)) as Incident;
    expect(after.alert.labels).toEqual(FIRING.alerts[0].labels);
    expect(after.fingerprint).toBe(FIRING.alerts[0].fingerprint);
    const other = (await h.pilot.deps.store.listOpen()).find((i) => i.id !== incident.id) as Incident;
    expect(other.alert.labels.server).toBe('api-db-primary');
    expect(other.fingerprint).not.toBe(FIRING.alerts[0].fingerprint);
  });
});

describeWithHosts('security: a confirmation is bound to what it showed (#12 §2)', (hosts) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ hosts: [testHostConfig(hosts)] });
  });
  afterEach(() => h.stop());

  it('refuses a submission whose commands changed since the modal opened, and runs nothing', async () => {
    expect((await h.webhook(FIRING)).status).toBe(202);
    const incident = await until('the incident', async () =>
      (await h.pilot.deps.store.listOpen()).find((i) => i.messageTs),
    );
    await h.incidentMessage(incident.threadTs);
    await h.click(incident.threadTs, 'step.run:mitigation-server-state:drain', ONCALL);
    const opened = await h.slack.waitFor('views.open', () => true, 5000);
    expect(plain(JSON.stringify(opened.args.view))).toContain("SV='web2'");

    // whatever path changes the incident's labels between the click and the submission (the finding: a payload that
    // rewrote them; the store is changed directly here, as any remaining path would), the shown commands no longer hold
    const current = (await h.pilot.deps.store.get(incident.id)) as Incident;
    await h.pilot.deps.store.update(incident.id, {
      alert: { ...current.alert, labels: { ...current.alert.labels, server: 'api-db-primary' } },
    });

    const viewId = (opened.response as { view: { id: string } }).view.id;
    await h.slack.submitView({
      user: ONCALL,
      viewId,
      values: { reason: { reason: { type: 'plain_text_input', value: 'web2 flaps' } } },
    });
    const refused = await h.slack.waitFor(
      'chat.postMessage',
      (c) =>
        c.args.thread_ts === incident.threadTs && /changed since you opened this/.test(plain(JSON.stringify(c.args))),
      5000,
    );
    expect(plain(JSON.stringify(refused.args))).toContain('the incident changed since you opened this; open it again');
    const types = (await h.pilot.deps.store.timeline(incident.id)).map((e) => e.type);
    expect(types).not.toContain('step.started');
    expect(types).toContain('mitigation.refused');
    expect(await h.pilot.deps.store.audits({ host: 'lb-test' })).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        details: expect.objectContaining({ code: 'CONFIRMATION_CHANGED' }),
      }),
    ]);
  });
});
