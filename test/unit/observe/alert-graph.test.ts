import { buildAlertGraph } from '../../../src/observe/alert-graph';
import type { ChartInput } from '../../../src/observe/chart';
import type { PromSeries } from '../../../src/observe/prometheus-client';
import firing from '../../fixtures/prometheus/alertmanager-alerts-firing.json';

const now = new Date('2026-01-01T12:00:00Z');
const T0 = now.getTime() - 3_600_000;
const alert = {
  alertname: firing[0].labels.alertname,
  labels: firing[0].labels,
  startsAt: '2026-01-01T11:45:00Z',
  generatorURL: firing[0].generatorURL,
};

/** A hand-written Prometheus that records the queries and answers from a table. */
function fakePrometheus(answers: Record<string, PromSeries[]>) {
  const calls: Array<{ expr: string; start: Date; end: Date; stepSec: number }> = [];
  return {
    calls,
    async queryRange(expr: string, start: Date, end: Date, stepSec: number): Promise<PromSeries[]> {
      calls.push({ expr, start, end, stepSec });
      return answers[expr] ?? [];
    },
  };
}

function upDown(server: string, downFromMinute: number, extra: Record<string, string> = {}): PromSeries {
  const points = Array.from({ length: 240 }, (_, i): [number, number] => [
    T0 + i * 15_000,
    i * 15_000 >= downFromMinute * 60_000 ? 0 : 1,
  ]);
  return {
    labels: {
      __name__: 'haproxy_server_up',
      backend: 'web',
      instance: '127.0.0.1:19101',
      job: 'haproxy',
      server,
      ...extra,
    },
    points,
  };
}

describe('buildAlertGraph', () => {
  const charts: ChartInput[] = [];
  const renderChart = async (input: ChartInput) => {
    charts.push(input);
    return new Uint8Array([0x89, 0x50]);
  };
  beforeEach(() => (charts.length = 0));

  it('queries the binding’s template for the last hour and says what it shows', async () => {
    const prometheus = fakePrometheus({
      'haproxy_server_up{backend="web"}': [upDown('web1', 999), upDown('web2', 45)],
    });
    const graph = await buildAlertGraph(
      { prometheus, now: () => now, renderChart },
      { alert, queryTemplates: ['haproxy_server_up{backend="{backend}"}'] },
    );

    expect(prometheus.calls).toEqual([
      { expr: 'haproxy_server_up{backend="web"}', start: new Date(T0), end: now, stepSec: 15 },
    ]);
    expect(graph.source).toBe('binding');
    expect(graph.text).toBe(
      'web2 is down since 11:45 UTC (15 min). It went down once in the last hour. 1 of 2 servers of backend web is up.',
    );
    expect(charts[0]).toMatchObject({
      title: 'haproxy_server_up{backend="web"}',
      markAt: new Date('2026-01-01T11:45:00Z'),
      start: new Date(T0),
      end: now,
    });
    expect(charts[0].series.map((s) => s.name)).toEqual(['web1', 'web2']);
  });

  it('falls back to the rule’s expression from generatorURL, keeping this alert’s series', async () => {
    const mine = upDown('web2', 45);
    const prometheus = fakePrometheus({ 'haproxy_server_up == 0': [upDown('web9', 30, { backend: 'api' }), mine] });
    const graph = await buildAlertGraph({ prometheus, now: () => now, renderChart }, { alert });
    expect(graph.source).toBe('generatorURL');
    expect(graph.exprs).toEqual(['haproxy_server_up == 0']);
    expect(graph.series).toEqual([mine]);
    expect(graph.summary).toBeUndefined();
    expect(graph.text).toBe('`haproxy_server_up == 0` over the last 60 min (1 series).');
  });

  it('escapes label values into the template', async () => {
    const prometheus = fakePrometheus({});
    await buildAlertGraph(
      { prometheus, now: () => now, renderChart },
      {
        alert: { ...alert, labels: { ...alert.labels, backend: 'web"} or vector(1) #' } },
        queryTemplates: ['haproxy_server_up{backend="{backend}"}'],
      },
    );
    expect(prometheus.calls[0].expr).toBe('haproxy_server_up{backend="web\\"} or vector(1) #"}');
  });

  it('says when Prometheus has no data', async () => {
    const graph = await buildAlertGraph(
      { prometheus: fakePrometheus({}), now: () => now, renderChart },
      { alert, queryTemplates: ['up{job="{job}"}'] },
    );
    expect(graph.text).toBe('Prometheus returned no data for `up{job="haproxy"}` in the last 60 min.');
  });

  it('without a binding query or a Prometheus generatorURL there is nothing to graph', async () => {
    await expect(
      buildAlertGraph(
        { prometheus: fakePrometheus({}), now: () => now, renderChart },
        { alert: { ...alert, generatorURL: 'https://grafana.example/alerting/x' } },
      ),
    ).rejects.toMatchObject({ code: 'PARAM_INVALID', hint: expect.stringContaining('query:') });
  });
});
