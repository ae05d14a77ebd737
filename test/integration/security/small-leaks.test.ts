/**
 * Issue #19 §11 through the real bot: small leaks to whoever reaches the public port or the channel. `/metrics` on
 * PORT listed the load balancers' names (per-host series); they are served on METRICS_PORT only. `/incident run x
 * <name>` answered differently for a configured host than for any other name, so a guesser could list the hosts by
 * trying names with a step that does not exist. (Future-dated events: request-bodies.test.ts.)
 */
import { HostSchema } from '../../../src/config/schema';
import { unusedKeyFile } from '../../support/fakes';
import { CHANNEL, type Harness, ONCALL, startHarness } from '../../support/pilot-harness';
import { runStep } from '../../support/step-helpers';

const host = HostSchema.parse({
  name: 'lb-secret-name',
  match: { instance: ['lb-secret-name:9101'] },
  ssh: {
    host: '127.0.0.1',
    port: 1,
    user: 'ops',
    privateKeyPath: unusedKeyFile(),
    hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
  },
});

describe('security: small leaks (#19 §11)', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  /** Opens an incident on the host and clicks a read step there (it fails: nothing listens on port 1). */
  async function workOnHost(harness: Harness): Promise<void> {
    const sent = await harness.slack.sendEvent({
      type: 'message',
      channel: CHANNEL,
      user: ONCALL,
      text: 'HaproxyServerDown instance=lb-secret-name:9101 backend=web server=web2',
      ts: '1700000900.000100',
    });
    const ts = (sent.envelope as { event: { ts: string } }).event.ts;
    await harness.incidentMessage(ts);
    await runStep(harness, ts, 'diagnosis-2', 'status-check');
  }

  it('PORT’s /metrics names no host; METRICS_PORT’s has the per-host series', async () => {
    h = await startHarness({ hosts: [host] });
    await workOnHost(h);
    const open = await (await fetch(`${h.url}/metrics`)).text();
    expect(open).toContain('runbook_pilot_actions_total{action="status-check"');
    expect(open).not.toContain('lb-secret-name');
    expect(open).not.toContain('runbook_pilot_host_queue_depth');
    await h.stop();

    h = await startHarness({ hosts: [host], metricsPort: 0 });
    await workOnHost(h);
    const own = await (await fetch(`http://127.0.0.1:${h.pilot.metricsPort()}/metrics`)).text();
    expect(own).toContain('runbook_pilot_host_queue_depth{host="lb-secret-name"}');
    expect(own).toContain('runbook_pilot_actions_total{action="status-check"');
  });

  it('/incident run with an unknown step answers the same for a configured host and for any other name', async () => {
    h = await startHarness({ hosts: [host] });
    const answer = async (name: string) => {
      const seen = h?.slack.calls('response_url').length ?? 0;
      await h?.slack.slashCommand({
        command: '/incident',
        text: `run nosuchstep ${name}`,
        userId: ONCALL,
        channelId: CHANNEL,
      });
      const call = await h?.slack.waitFor(
        'response_url',
        () => (h?.slack.calls('response_url').length ?? 0) > seen,
        5000,
      );
      return String(call?.args.text).replace(name, '<name>');
    };
    const configured = await answer('lb-secret-name');
    const other = await answer('lb-not-a-host');
    expect(configured).toMatch(/No runbook has a step or action `nosuchstep`/);
    expect(other).toBe(configured);
  });
});
