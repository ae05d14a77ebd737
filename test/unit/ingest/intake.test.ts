/**
 * Issue #20 §3: both doors (a Slack message's alerts, a webhook batch) go through one intake that caps, counts and
 * learns; the metrics' names and labels are an interface and stay as they were.
 */
import type { Alert } from '../../../src/ingest/alert';
import { AlertIntake, teachesLabels } from '../../../src/ingest/intake';
import type { OfferResult } from '../../../src/ingest/intake-queue';
import { LabelMemory } from '../../../src/ingest/label-memory';
import { createLogger } from '../../../src/logger';
import { Metrics } from '../../../src/metrics';
import { firingAlert as fixture } from '../../support/domain-fixtures';

/** The fixture's alert, its alertname the one its labels name. */
const firingAlert = (o: Partial<Alert> = {}): Alert =>
  fixture({ ...(o.labels ? { alertname: o.labels.alertname } : {}), ...o });

const limits = { maxValueChars: 100, maxAlertChars: 1000 };

/** An intake over a real registry and label memory, and a queue that answers what the test says. */
function setup(answer: OfferResult = 'queued') {
  const metrics = new Metrics();
  const labelMemory = new LabelMemory();
  const offered: Alert[][] = [];
  const queue = {
    offer: (batch: readonly Alert[]) => {
      offered.push([...batch]);
      return answer;
    },
    depth: () => 3,
    drain: async () => false,
  };
  const warnings: string[] = [];
  const logger = createLogger('silent');
  logger.warn = ((_obj: unknown, msg: string) => void warnings.push(msg)) as typeof logger.warn;
  const intake = new AlertIntake({ limits, metrics, labelMemory, queue, logger });
  return { intake, metrics, labelMemory, offered, warnings };
}

/** The counter's values by their labels, as /metrics shows them. */
async function counts(metrics: Metrics, name: 'alertsReceived' | 'alertsRefused'): Promise<Record<string, number>> {
  const { values } = await metrics[name].get();
  return Object.fromEntries(values.map((v) => [JSON.stringify(v.labels), v.value]));
}

const template = (labels: Record<string, string>, missingLabels: string[] = []) =>
  firingAlert({ labels, source: 'alertmanager-template', missingLabels });

describe('AlertIntake.acceptAlerts', () => {
  it('slack: returns the alerts capped, counts each by its source and status, learns from a complete template', async () => {
    // given a template alert naming every label, one with a label missing, a default title read by inference
    const { intake, metrics, labelMemory } = setup();
    const complete = template({ alertname: 'A', backend: 'web', server: 'web2' });
    const partial = template({ alertname: 'B', backend: 'web' }, ['server']);
    const inferred = firingAlert({ labels: { alertname: 'C', server: 'web9' }, source: 'alertmanager-slack' });
    const long = firingAlert({
      labels: { alertname: 'D' },
      annotations: { description: 'd'.repeat(500) },
      source: 'alertmanager-slack',
      status: 'resolved',
    });
    // when
    const accepted = intake.acceptAlerts('slack', [complete, partial, inferred, long]);
    // then: capped, in order
    expect(accepted.map((a) => a.alertname)).toEqual(['A', 'B', 'C', 'D']);
    expect(accepted[3].truncated).toEqual(['annotations.description']);
    expect(accepted[3].annotations.description.length).toBeLessThan(200);
    // counted under the metric's own labels
    expect(await counts(metrics, 'alertsReceived')).toEqual({
      '{"source":"alertmanager-template","status":"firing"}': 2,
      '{"source":"alertmanager-slack","status":"firing"}': 1,
      '{"source":"alertmanager-slack","status":"resolved"}': 1,
    });
    // only the complete template taught its label set
    expect(labelMemory.nameSets('A')).toEqual([['alertname', 'backend', 'server']]);
    expect(labelMemory.nameSets('B')).toEqual([]);
    expect(labelMemory.nameSets('C')).toEqual([]);
  });

  it('webhook: offers the capped batch whole; queued, it is counted as received and learned from', async () => {
    const { intake, metrics, labelMemory, offered } = setup('queued');
    const alerts = [
      firingAlert({ labels: { alertname: 'A', server: 'web1' } }),
      firingAlert({ labels: { alertname: 'A', server: 's'.repeat(500) }, status: 'resolved' }),
    ];
    // when
    expect(intake.acceptAlerts('webhook', alerts)).toBe('queued');
    // then the queue got the capped alerts (nothing uncapped is ever held)
    expect(offered).toHaveLength(1);
    expect(offered[0][1].labels.server).toBe(`${'s'.repeat(100)}… [cut: 500 chars]`);
    expect(await counts(metrics, 'alertsReceived')).toEqual({
      '{"source":"webhook","status":"firing"}': 1,
      '{"source":"webhook","status":"resolved"}': 1,
    });
    expect(await counts(metrics, 'alertsRefused')).toEqual({});
    // the whole label set teaches; the cut value is not learned as if Alertmanager had sent it
    expect(labelMemory.values('A', 'server')).toEqual(new Set(['web1']));
  });

  it.each([
    ['full', 'queue_full'],
    ['too-large', 'too_large'],
  ] as const)(
    'webhook: a batch the queue refuses (%s) is counted as refused (%s), not received, not learned',
    async (answer, reason) => {
      const { intake, metrics, labelMemory } = setup(answer);
      const alerts = [firingAlert({ labels: { alertname: 'A' } }), firingAlert({ labels: { alertname: 'A' } })];
      // when
      expect(intake.acceptAlerts('webhook', alerts)).toBe(answer);
      // then
      expect(await counts(metrics, 'alertsRefused')).toEqual({ [JSON.stringify({ reason })]: 2 });
      expect(await counts(metrics, 'alertsReceived')).toEqual({});
      expect(labelMemory.nameSets('A')).toEqual([]);
    },
  );
});

describe('teachesLabels', () => {
  it.each([
    ['a webhook alert', firingAlert(), true],
    ['a template naming every label', template({ alertname: 'A' }), true],
    ['a template missing a label', template({ alertname: 'A' }, ['server']), false],
    ['a default title (labels inferred)', firingAlert({ source: 'alertmanager-slack' }), false],
    ['Grafana', firingAlert({ source: 'grafana' }), false],
    ['a person’s message', firingAlert({ source: 'plain' }), false],
    ['a webhook alert whose label was cut', firingAlert({ truncated: ['labels.server'] }), false],
    ['a webhook alert whose annotation was cut', firingAlert({ truncated: ['annotations.description'] }), true],
  ])('%s → %s', (_what, alert, teaches) => {
    expect(teachesLabels(alert)).toBe(teaches);
  });
});

describe('AlertIntake.drain', () => {
  it('says how many webhook alerts were left when the queue did not empty in time', async () => {
    const { intake, warnings } = setup();
    expect(await intake.drain(10)).toBe(false);
    expect(warnings).toEqual(['webhook alerts still queued at stop were not handled (Alertmanager sends them again)']);
    expect(intake.depth()).toBe(3);
  });
});
