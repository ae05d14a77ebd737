import { PilotError } from '../../../src/errors';
import { AlertStateTracker, alertLabels } from '../../../src/incident/alert-state';
import { createLogger } from '../../../src/logger';
import type { AlertState } from '../../../src/observe/alertmanager-client';

/** A hand-written Alertmanager: answers from a queue, counts the questions. */
class FakeAlertmanager {
  asked: Array<Record<string, string>> = [];
  constructor(
    public configured: boolean,
    private readonly answers: Array<AlertState | Error>,
  ) {}
  async getAlertState(labels: Record<string, string>): Promise<AlertState> {
    this.asked.push(labels);
    const next = this.answers.length > 1 ? this.answers.shift() : this.answers[0];
    if (next instanceof Error) throw next;
    return next as AlertState;
  }
}

const firing: AlertState = {
  firing: true,
  state: 'active',
  silencedBy: [],
  inhibitedBy: [],
  matched: 1,
  startsAt: '2026-11-25T03:00:00.000Z',
};
const silenced: AlertState = { ...firing, state: 'suppressed', silencedBy: ['0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'] };
const resolved: AlertState = { firing: false, silencedBy: [], inhibitedBy: [], matched: 0 };
const incident = {
  id: 3,
  alert: {
    alertname: 'HaproxyServerDown',
    status: 'firing' as const,
    labels: { alertname: 'HaproxyServerDown', backend: 'web', server: 'web2', instance: '', job: 'haproxy' },
    annotations: {},
    fingerprint: 'fp',
    source: 'alertmanager-slack' as const,
    missingLabels: ['job'],
  },
};

function tracker(am: FakeAlertmanager) {
  let t = Date.parse('2026-11-25T03:30:00.000Z');
  const clock = { advance: (ms: number) => (t += ms) };
  return {
    clock,
    tracker: new AlertStateTracker({
      alertmanager: am,
      now: () => new Date(t),
      logger: createLogger('silent'),
      ttlMs: 10_000,
    }),
  };
}

describe('AlertStateTracker', () => {
  it.each<[string, AlertState | Error, string, string | undefined]>([
    ['firing', firing, 'active', undefined],
    ['silenced', silenced, 'silenced', undefined],
    ['inhibited', { ...firing, inhibitedBy: ['x'] }, 'active', 'inhibited'],
    ['not held by Alertmanager', resolved, 'resolved', undefined],
    [
      'Alertmanager down',
      new PilotError('EXTERNAL_UNAVAILABLE', 'Alertmanager at http://am did not answer'),
      'unknown',
      'Alertmanager did not answer',
    ],
  ])('%s', async (_name, answer, kind, detail) => {
    const { tracker: t } = tracker(new FakeAlertmanager(true, [answer]));
    const r = await t.check(incident);
    expect(r.view).toEqual({ kind, ...(detail ? { detail } : {}), checkedAt: '2026-11-25T03:30:00.000Z' });
    expect(t.peek(incident.id)).toEqual(r.view);
  });

  it('asks only with the labels the message carried', async () => {
    const am = new FakeAlertmanager(true, [firing]);
    await tracker(am).tracker.check(incident);
    expect(am.asked).toEqual([{ alertname: 'HaproxyServerDown', backend: 'web', server: 'web2' }]);
    expect(alertLabels(incident.alert)).toEqual(am.asked[0]);
  });

  it('says unknown (not configured) without asking when no URL is set', async () => {
    const am = new FakeAlertmanager(false, [firing]);
    const r = await tracker(am).tracker.check(incident);
    expect(r.view).toEqual({ kind: 'unknown', detail: 'not configured' });
    expect(am.asked).toHaveLength(0);
  });

  it('does not ask about an incident opened by hand', async () => {
    const am = new FakeAlertmanager(true, [resolved]);
    const r = await tracker(am).tracker.check({ ...incident, alert: { ...incident.alert, source: 'manual' } });
    expect(r.view).toEqual({ kind: 'unknown', detail: 'opened by hand, no alert' });
    expect(am.asked).toHaveLength(0);
  });

  it('reuses an answer within the TTL, asks again after it or when told, and reports changes', async () => {
    const am = new FakeAlertmanager(true, [firing, firing, resolved]);
    const { tracker: t, clock } = tracker(am);
    expect((await t.check(incident)).changed).toBe(true);
    expect(t.stale(incident.id)).toBe(false);
    expect((await t.check(incident)).changed).toBe(false);
    expect(am.asked).toHaveLength(1);
    clock.advance(10_000);
    expect(t.stale(incident.id)).toBe(true);
    const same = await t.check(incident);
    expect([same.view.kind, same.changed, am.asked.length]).toEqual(['active', false, 2]);
    const fresh = await t.check(incident, { fresh: true });
    expect([fresh.view.kind, fresh.changed, am.asked.length]).toEqual(['resolved', true, 3]);
  });

  it('shares one request between concurrent checks', async () => {
    const am = new FakeAlertmanager(true, [firing]);
    const { tracker: t } = tracker(am);
    const [a, b] = await Promise.all([t.check(incident), t.check(incident, { fresh: true })]);
    expect(a).toBe(b);
    expect(am.asked).toHaveLength(1);
  });

  it.each<[string, boolean, AlertState | Error, boolean | undefined]>([
    ['firing', true, firing, true],
    ['silenced (still firing)', true, silenced, true],
    ['resolved', true, resolved, false],
    ['Alertmanager failing', true, new PilotError('EXTERNAL_UNAVAILABLE', 'HTTP 502'), undefined],
    ['not configured', false, firing, undefined],
  ])('stillFiring: %s → %s', async (_what, configured, answer, expected) => {
    const am = new FakeAlertmanager(configured, [answer]);
    const { tracker: t } = tracker(am);
    // given an answer cached earlier: stillFiring asks again (fresh)
    await t.check(incident);
    expect(await t.stillFiring(incident, 1000)).toBe(expected);
    expect(am.asked).toHaveLength(configured ? 2 : 0);
  });

  it('stillFiring: an Alertmanager that does not answer within the deadline gives undefined', async () => {
    const am = new FakeAlertmanager(true, [firing]);
    am.getAlertState = () => new Promise<AlertState>(() => undefined);
    const { tracker: t } = tracker(am);
    expect(await t.stillFiring(incident, 5)).toBeUndefined();
  });
});
