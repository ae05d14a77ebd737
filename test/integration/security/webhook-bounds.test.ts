/**
 * Issue #12 §6, end to end through the real bot: the webhook answers 202 only for alerts its bounded queue took, 503
 * with Retry-After once the queue is full (before the fix every request got 202 and waited in memory), 413 for a
 * batch that could never fit; every alert answered 202 becomes an incident, and one Alertmanager sends again after a
 * 503 does too. A 100 KB label value is cut at ingest and the incident message says so.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Harness, startHarness } from '../../support/pilot-harness';

const TOKEN = 'e2e-webhook-token-0123456789';
const FIXTURES = join(__dirname, '..', '..', 'fixtures');

/** The captured webhook payload, one alert per server name given. */
function webhook(
  servers: string[],
  patch: (labels: Record<string, string>) => void = () => undefined,
): Record<string, unknown> {
  const body = JSON.parse(readFileSync(join(FIXTURES, 'alertmanager', 'by-instance.webhook.firing.json'), 'utf8')) as {
    alerts: Array<Record<string, unknown>>;
  };
  const template = body.alerts[0];
  body.alerts = servers.map((server) => {
    const labels = { ...(template.labels as Record<string, string>), server };
    patch(labels);
    const { fingerprint: _f, ...rest } = template;
    return { ...rest, labels };
  });
  return body as unknown as Record<string, unknown>;
}

describe('webhook bounds (end to end)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      config: {
        alertmanager: { token: TOKEN },
        // One post a second and one alert at a time: the queue of three fills while the first alerts are posted.
        slack: { channels: ['C0123ALERTS'], stillFiringIntervalSec: 600, postsPerSecond: 1, postBurst: 1 },
        ingest: { maxQueuedAlerts: 3, concurrency: 1, retryAfterSec: 7, maxValueChars: 256, maxAlertChars: 4096 },
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const post = (body: unknown) =>
    fetch(`${h.url}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
  const incidents = () => h.pilot.deps.store.listOpen();

  it('202 only for what the queue took, 503 with Retry-After when full, 413 for a batch that never fits', async () => {
    const answers: Array<{ server: string; status: number; retryAfter: string | null }> = [];
    for (const server of ['s1', 's2', 's3', 's4', 's5', 's6']) {
      const res = await post(webhook([server]));
      answers.push({ server, status: res.status, retryAfter: res.headers.get('retry-after') });
    }
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers.slice(3)).toEqual(['s4', 's5', 's6'].map((server) => ({ server, status: 503, retryAfter: '7' })));
    const tooMany = await post(webhook(['b1', 'b2', 'b3', 'b4']));
    expect(tooMany.status).toBe(413);
    expect(((await tooMany.json()) as { error: string }).error).toMatch(/max_alerts/);

    // Every alert answered 202 becomes an incident; the refused ones do not, until Alertmanager sends them again.
    const deadline = Date.now() + 20_000;
    while ((await incidents()).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await incidents()).map((i) => i.alert.labels.server).sort()).toEqual(['s1', 's2', 's3']);
    expect((await post(webhook(['s4']))).status).toBe(202);
    while ((await incidents()).length < 4 && Date.now() < deadline + 10_000)
      await new Promise((r) => setTimeout(r, 100));
    expect((await incidents()).map((i) => i.alert.labels.server).sort()).toEqual(['s1', 's2', 's3', 's4']);

    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/runbook_pilot_alerts_refused_total\{reason="queue_full"\} 3/);
    expect(metrics).toMatch(/runbook_pilot_alerts_refused_total\{reason="too_large"\} 4/);
  }, 60_000);

  it('a 100 KB label value is cut at ingest, and the incident message says what was cut', async () => {
    const res = await post(webhook(['huge'], (labels) => (labels.job = 'j'.repeat(100_000))));
    expect(res.status).toBe(202);
    const deadline = Date.now() + 20_000;
    let incident = (await incidents()).find((i) => i.alert.labels.server === 'huge');
    while (!incident?.messageTs && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      incident = (await incidents()).find((i) => i.alert.labels.server === 'huge');
    }
    expect(incident?.alert.labels.job.length).toBeLessThan(300);
    expect(incident?.alert.truncated).toEqual(['labels.job']);
    const msg = h.slack.message('C0123ALERTS', incident?.messageTs as string);
    expect(JSON.stringify(msg?.blocks)).toContain('The alert was larger than the bot keeps: cut `labels.job`');
  }, 40_000);
});
