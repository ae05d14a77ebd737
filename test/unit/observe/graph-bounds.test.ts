/** Issue #12 §6: a graph draws at most `prometheus.maxSeries` series (the alert's own first) and says the rest in words; the worker keeps a time budget. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PilotError } from '../../../src/errors';
import { buildAlertGraph } from '../../../src/observe/alert-graph';
import type { ChartInput } from '../../../src/observe/chart';
import { GraphWorker } from '../../../src/observe/graph-worker';
import type { PromSeries } from '../../../src/observe/prometheus-client';

const END = new Date('2026-11-25T04:00:00.000Z');
const labels = { alertname: 'HaproxyServerDown', backend: 'web', instance: 'lb-1:9101', server: 'web2' };

function series(n: number, own = 33): PromSeries[] {
  const points = (i: number): Array<[number, number]> =>
    Array.from({ length: 10 }, (_, k) => [END.getTime() - (10 - k) * 60_000, i % 4 === 0 && k > 5 ? 0 : 1]);
  return Array.from({ length: n }, (_, i) => ({
    labels: {
      __name__: 'haproxy_server_up',
      backend: 'web',
      instance: 'lb-1:9101',
      server: i === own ? 'web2' : `srv${i}`,
    },
    points: points(i),
  }));
}

describe('buildAlertGraph and maxSeries', () => {
  it('draws maxSeries series, the alert’s own first, and summarises the others in words', async () => {
    const drawn: ChartInput[] = [];
    const graph = await buildAlertGraph(
      {
        prometheus: { queryRange: async () => series(50) },
        now: () => END,
        renderChart: async (input) => {
          drawn.push(input);
          return new Uint8Array([1]);
        },
      },
      {
        alert: { alertname: 'HaproxyServerDown', labels },
        queryTemplates: ['haproxy_server_up{backend="{backend}"}'],
        maxSeries: 20,
      },
    );
    expect(drawn[0].series).toHaveLength(20);
    expect(drawn[0].series[0].name).toBe('web2');
    expect(graph.drawn).toBe(20);
    expect(graph.seriesCount).toBe(50);
    // 30 not drawn: srv0..srv49 without the 19 drawn after web2; every fourth is down in the latest sample
    expect(graph.text).toMatch(
      /30 more series are not drawn \(at most 20, `prometheus\.maxSeries`\): 22 at 1 \(up\), 8 at 0 \(down\) in the latest sample; e\.g\. srv19, srv20, srv21\.$/,
    );
  });

  it('draws every series when there are no more than maxSeries, in Prometheus’s order, with no extra words', async () => {
    const drawn: ChartInput[] = [];
    const graph = await buildAlertGraph(
      {
        prometheus: { queryRange: async () => series(5, 3) },
        now: () => END,
        renderChart: async (input) => {
          drawn.push(input);
          return new Uint8Array([1]);
        },
      },
      { alert: { alertname: 'HaproxyServerDown', labels }, queryTemplates: ['haproxy_server_up{backend="{backend}"}'] },
    );
    expect(drawn[0].series.map((s) => s.name)).toEqual(['srv0', 'srv1', 'srv2', 'web2', 'srv4']);
    expect(graph.text).not.toMatch(/not drawn/);
  });
});

describe('GraphWorker', () => {
  it('stops a graph past its time budget with GRAPH_TIMEOUT (a Prometheus that never answers)', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const worker = new GraphWorker({
      settings: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 60_000 },
      timeoutMs: 300,
    });
    try {
      const started = Date.now();
      const err = await worker
        .build({ alert: { alertname: 'HaproxyServerDown', labels }, queryTemplates: ['up'] }, END)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PilotError);
      expect((err as PilotError).code).toBe('GRAPH_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await worker.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
