/**
 * Issue #12 §7 through the real bot: with METRICS_PORT, /metrics is served on its own port (which need not be public)
 * and no longer on the bot's public port, where Slack and Alertmanager call.
 */
import { startHarness } from '../../support/pilot-harness';

describe('security: METRICS_PORT (#12 §7)', () => {
  it('serves /metrics on its own port only', async () => {
    const h = await startHarness({ metricsPort: 0 });
    try {
      const port = h.pilot.metricsPort();
      expect(port).toEqual(expect.any(Number));
      expect(port).not.toBe(Number(new URL(h.url).port));
      const own = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(own.status).toBe(200);
      expect(await own.text()).toContain('runbook_pilot_incidents_open');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(404);
      const publicPort = await fetch(`${h.url}/metrics`);
      await publicPort.arrayBuffer();
      expect(publicPort.status).toBe(404);
      expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    } finally {
      await h.stop();
    }
  });

  it('keeps /metrics on the public port without it', async () => {
    const h = await startHarness();
    try {
      expect(h.pilot.metricsPort()).toBeUndefined();
      expect((await fetch(`${h.url}/metrics`)).status).toBe(200);
    } finally {
      await h.stop();
    }
  });
});
