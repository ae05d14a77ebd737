/**
 * Issue #12 §1 through the real bot: the Alertmanager webhook is closed by default. A bot without credentials does
 * not start unless the operator chose that explicitly; with credentials, a request without them changes nothing, and
 * Alertmanager's bearer token and basic auth are both accepted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PilotError } from '../../../src/errors';
import { AM_TOKEN, type Harness, startHarness } from '../../support/pilot-harness';

const FIRING = readFileSync(
  join(__dirname, '..', '..', 'fixtures', 'alertmanager', 'single.webhook.firing.json'),
  'utf8',
);
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function post(h: Harness, authorization?: string): Promise<number> {
  const res = await fetch(`${h.url}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: FIRING,
  });
  await res.arrayBuffer();
  return res.status;
}

/** The open incidents once every webhook alert the bot accepted has been handled (a refused request has none). */
async function openedIncidents(h: Harness): Promise<number> {
  await h.webhookDrained();
  return (await h.pilot.deps.store.listOpen()).length;
}

describe('security: the Alertmanager webhook is closed by default (#12 §1)', () => {
  it('does not start with no credentials, saying how to close it or open it on purpose', async () => {
    const started = startHarness({ config: { alertmanager: { token: '' } } });
    await expect(started).rejects.toBeInstanceOf(PilotError);
    await expect(started).rejects.toThrow(/alertmanager\.token is empty .* would accept alerts from anyone/);
  });

  describe('with a bearer token and basic auth', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({
        config: { alertmanager: { token: AM_TOKEN, basicAuth: { username: 'alertmanager', password: 'b4sic-p4ss' } } },
      });
    });
    afterAll(() => h.stop());

    it('refuses anyone without them and opens nothing', async () => {
      for (const auth of [
        undefined,
        'Bearer wrong',
        `Bearer ${AM_TOKEN}x`,
        basic('alertmanager', 'wrong'),
        basic('someone', 'b4sic-p4ss'),
        AM_TOKEN,
      ]) {
        expect(await post(h, auth)).toBe(401);
      }
      expect(await openedIncidents(h)).toBe(0);
      // and accepted none (counted as it is queued, before the 202)
      expect(await h.pilot.metrics.registry.getSingleMetricAsString('runbook_pilot_alerts_received_total')).not.toMatch(
        /source="webhook"/,
      );
      expect(h.slack.calls('chat.postMessage')).toHaveLength(0);
    });

    it("accepts Alertmanager's http_config basic_auth", async () => {
      expect(await post(h, basic('alertmanager', 'b4sic-p4ss'))).toBe(202);
      expect(await openedIncidents(h)).toBe(1);
    });

    it("accepts Alertmanager's http_config authorization (bearer)", async () => {
      expect(await post(h, `Bearer ${AM_TOKEN}`)).toBe(202);
    });
  });

  it('runs open only when the operator said so explicitly', async () => {
    const h = await startHarness({ config: { alertmanager: { token: '', allowUnauthenticated: true } } });
    try {
      expect(await post(h)).toBe(202);
      expect(await openedIncidents(h)).toBe(1);
    } finally {
      await h.stop();
    }
  });
});
