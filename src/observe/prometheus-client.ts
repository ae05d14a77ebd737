/** Prometheus' HTTP API, as the graph needs it: a range query returning typed series. */
import { z } from 'zod';
import { PilotError } from '../errors';
import { ExternalService, errorText, type ServiceSettings } from './external-service';

/** One series of a range query: its labels and its samples as [unix milliseconds, value]. */
export interface PromSeries {
  labels: Record<string, string>;
  points: Array<[number, number]>;
}

/** Prometheus refuses more than 11,000 points per series. */
const MAX_POINTS = 11_000;

const MatrixResponseSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('matrix'),
    result: z.array(
      z.object({
        metric: z.record(z.string(), z.string()),
        // Checked sample by sample below: a schema per sample costs seconds for thousands of series (issue #12).
        values: z.array(z.unknown()),
      }),
    ),
  }),
});

/** Prometheus' HTTP API client (axios underneath; base URL, auth and timeout from the `prometheus` config). */
export class PrometheusClient {
  private readonly service: ExternalService;

  constructor(settings: ServiceSettings) {
    this.service = new ExternalService({ label: 'Prometheus', configKey: 'prometheus' }, settings);
  }

  /** True when `prometheus.url` is set; when false every call throws a PilotError that says so. */
  get configured(): boolean {
    return this.service.configured;
  }

  /**
   * Runs `expr` over [start, end] every `stepSec` seconds (`POST /api/v1/query_range`). Throws PARAM_INVALID when
   * Prometheus rejects the expression, EXTERNAL_UNAVAILABLE when it cannot answer.
   */
  async queryRange(expr: string, start: Date, end: Date, stepSec: number): Promise<PromSeries[]> {
    if (!(stepSec > 0) || !(end.getTime() > start.getTime())) {
      throw new PilotError(
        'PARAM_INVALID',
        `bad range for the graph query: ${start.toISOString()} to ${end.toISOString()} every ${stepSec}s`,
      );
    }
    const points = (end.getTime() - start.getTime()) / 1000 / stepSec;
    if (points > MAX_POINTS)
      throw new PilotError(
        'PARAM_INVALID',
        `the graph query would return ${Math.ceil(points)} points a series (at most ${MAX_POINTS}): use a larger step`,
      );
    const form = new URLSearchParams({
      query: expr,
      start: (start.getTime() / 1000).toFixed(3),
      end: (end.getTime() / 1000).toFixed(3),
      step: String(stepSec),
    });
    const res = await this.service.request({
      method: 'POST',
      url: 'api/v1/query_range',
      data: form.toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    if (res.status === 400 || res.status === 422) {
      throw new PilotError(
        'PARAM_INVALID',
        `Prometheus rejected the query ${expr} (${errorText(res.body) ?? `HTTP ${res.status}`})`,
        {
          hint: 'check the runbook binding’s query or the alert rule’s expression',
        },
      );
    }
    if (res.status !== 200)
      throw this.service.badAnswer(`HTTP ${res.status}${errorText(res.body) ? `: ${errorText(res.body)}` : ''}`);
    const parsed = this.service.parse(MatrixResponseSchema, res.body, 'POST /api/v1/query_range');
    return parsed.data.result.map((r) => ({
      labels: r.metric,
      points: r.values.map((sample): [number, number] => {
        if (!Array.isArray(sample) || typeof sample[0] !== 'number' || typeof sample[1] !== 'string') {
          throw this.service.badAnswer(
            `POST /api/v1/query_range: a sample is not [time, "value"]: ${JSON.stringify(sample)?.slice(0, 80)}`,
          );
        }
        return [Math.round(sample[0] * 1000), sampleValue(sample[1])];
      }),
    }));
  }
}

/** Prometheus writes sample values as Go formats floats: `+Inf`, `-Inf` and `NaN` included, which Number() misreads. */
function sampleValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

export { exprFromGeneratorUrl } from './expr-from-generator-url';
export { fillQueryTemplate } from './fill-query-template';
