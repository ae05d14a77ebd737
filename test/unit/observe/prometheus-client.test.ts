import { PilotError } from '../../../src/errors';
import { PrometheusClient } from '../../../src/observe/prometheus-client';
import backend from '../../fixtures/prometheus/query-range-backend.json';
import badData from '../../fixtures/prometheus/query-range-bad-data.json';
import { deadUrl, type HttpStub, json, startHttpStub } from './http-stub';

const start = new Date('2026-01-01T11:00:00Z');
const end = new Date('2026-01-01T12:00:00Z');

describe('PrometheusClient against a local stub', () => {
  let stub: HttpStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  it('POSTs /api/v1/query_range and returns typed series in milliseconds', async () => {
    stub = await startHttpStub((_req, res) => json(res, 200, backend));
    const prom = new PrometheusClient({ url: stub.url, apiToken: 'tok', timeoutMs: 1000 });
    const series = await prom.queryRange('haproxy_server_up{backend="web"}', start, end, 15);

    const req = stub.requests[0];
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/v1/query_range');
    expect(req.headers.authorization).toBe('Bearer tok');
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      query: 'haproxy_server_up{backend="web"}',
      start: `${String(start.getTime() / 1000)}.000`,
      end: `${String(end.getTime() / 1000)}.000`,
      step: '15',
    });

    expect(series.map((s) => s.labels.server)).toEqual(['web1', 'web2']);
    const raw = backend.data.result[1].values[0] as [number, string];
    expect(series[1].points[0]).toEqual([raw[0] * 1000, Number(raw[1])]);
    expect(series[1].points.length).toBe(backend.data.result[1].values.length);
  });

  it('turns Prometheus’ NaN and +Inf into numbers', async () => {
    stub = await startHttpStub((_req, res) =>
      json(res, 200, {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: {},
              values: [
                [1, 'NaN'],
                [2, '+Inf'],
                [3, '0.5'],
                [4, '-Inf'],
              ],
            },
          ],
        },
      }),
    );
    const [s] = await new PrometheusClient({ url: stub.url, timeoutMs: 1000 }).queryRange('x', start, end, 60);
    expect(s.points).toEqual([
      [1000, NaN],
      [2000, Infinity],
      [3000, 0.5],
      [4000, -Infinity],
    ]);
  });

  it('a query Prometheus rejects (400 bad_data) is PARAM_INVALID with Prometheus’ reason', async () => {
    stub = await startHttpStub((_req, res) => json(res, 400, badData));
    await expect(
      new PrometheusClient({ url: stub.url, timeoutMs: 1000 }).queryRange(
        'haproxy_server_up{backend="web"',
        start,
        end,
        15,
      ),
    ).rejects.toMatchObject({
      code: 'PARAM_INVALID',
      message: expect.stringContaining('unexpected end of input inside braces'),
    });
  });

  it('refuses a range with too many points before asking', async () => {
    const prom = new PrometheusClient({ url: 'http://127.0.0.1:9', timeoutMs: 1000 });
    await expect(prom.queryRange('x', new Date(0), end, 1)).rejects.toMatchObject({ code: 'PARAM_INVALID' });
    await expect(prom.queryRange('x', end, start, 15)).rejects.toMatchObject({ code: 'PARAM_INVALID' });
  });

  describe('when Prometheus is down, slow or broken: EXTERNAL_UNAVAILABLE that says what to check', () => {
    const cases: Array<[string, () => Promise<{ url: string; stub?: HttpStub }>, RegExp]> = [
      ['down', async () => ({ url: await deadUrl() }), /did not answer \(connection refused\)/],
      [
        'slow',
        async () => {
          const s = await startHttpStub(() => undefined);
          return { url: s.url, stub: s };
        },
        /no answer within 200 ms/,
      ],
      [
        '500',
        async () => {
          const s = await startHttpStub((_q, r) => r.writeHead(500).end());
          return { url: s.url, stub: s };
        },
        /unusable answer \(HTTP 500\)/,
      ],
      [
        '503 with reason',
        async () => {
          const s = await startHttpStub((_q, r) =>
            json(r, 503, { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }),
          );
          return { url: s.url, stub: s };
        },
        /HTTP 503: query timed out/,
      ],
      [
        'bad JSON',
        async () => {
          const s = await startHttpStub((_q, r) => r.writeHead(200).end('<html>login</html>'));
          return { url: s.url, stub: s };
        },
        /not JSON/,
      ],
      [
        'vector instead of matrix',
        async () => {
          const s = await startHttpStub((_q, r) =>
            json(r, 200, { status: 'success', data: { resultType: 'vector', result: [] } }),
          );
          return { url: s.url, stub: s };
        },
        /not what its API returns/,
      ],
    ];
    it.each(cases)('%s', async (_name, make, message) => {
      const target = await make();
      stub = target.stub;
      const err = await new PrometheusClient({ url: target.url, timeoutMs: 200 })
        .queryRange('up', start, end, 15)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PilotError);
      expect(err).toMatchObject({ code: 'EXTERNAL_UNAVAILABLE', message: expect.stringMatching(message) });
      expect((err as PilotError).message).toContain(`Prometheus at ${target.url}`);
      expect((err as PilotError).hint).toMatch(/prometheus\.url/);
    });
  });

  it('says plainly when prometheus.url is not set', async () => {
    const prom = new PrometheusClient({ timeoutMs: 1000 });
    expect(prom.configured).toBe(false);
    await expect(prom.queryRange('up', start, end, 15)).rejects.toMatchObject({
      code: 'EXTERNAL_UNAVAILABLE',
      message: 'Prometheus is not configured: prometheus.url is not set',
    });
  });
});
