/**
 * The graph for an alert's thread: which expression to query (the runbook binding's template, else the alert rule's
 * expression from `generatorURL`), the last hour from Prometheus, a PNG, and the words beside it.
 */
import { PilotError } from '../errors';
import type { Alert } from '../ingest/alert';
import { type ChartInput, renderSeriesChart } from './chart';
import { exprFromGeneratorUrl } from './expr-from-generator-url';
import { fillQueryTemplate } from './fill-query-template';
import type { PrometheusClient, PromSeries } from './prometheus-client';
import { describeServerUp, findTargetSeries, type ServerUpSummary, summariseServerUp } from './server-up-summary';

export interface AlertGraphDeps {
  prometheus: Pick<PrometheusClient, 'queryRange'>;
  now?: () => Date;
  /** The PNG renderer; tests may pass a cheaper one. */
  renderChart?: (input: ChartInput) => Promise<Uint8Array>;
}

export interface AlertGraphInput {
  alert: Pick<Alert, 'alertname' | 'labels' | 'startsAt' | 'generatorURL'>;
  /**
   * PromQL templates from the runbook binding (`query`), `{label}` placeholders filled from the alert. For
   * HaproxyServerDown, `haproxy_server_up{backend="{backend}"}` gives the server and the rest of its backend at once.
   */
  queryTemplates?: string[];
  /** How far back; default one hour. */
  windowMs?: number;
  /** Seconds between points; default: the window in about 240 points (15 s for an hour). */
  stepSec?: number;
  width?: number;
  /** Most series drawn (`prometheus.maxSeries`, default 20); the rest are summarised in words. */
  maxSeries?: number;
}

/** Default of `prometheus.maxSeries`. */
export const DEFAULT_MAX_SERIES = 20;

export interface AlertGraph {
  png: Uint8Array;
  /** The sentence(s) to post beside the picture. */
  text: string;
  /** The expressions queried, as sent to Prometheus. */
  exprs: string[];
  /** Where the expressions came from. */
  source: 'binding' | 'generatorURL';
  series: PromSeries[];
  /** How many series Prometheus returned (`series` is empty when the graph was made on the worker thread). */
  seriesCount: number;
  /** How many of them were drawn (the alert's own first); the others are in `text`. */
  drawn: number;
  /** Set when every series is up/down (0/1) and the query came from the binding. */
  summary?: ServerUpSummary;
  start: Date;
  end: Date;
}

/**
 * Queries Prometheus for the alert's expression over the last hour and renders it. Throws PARAM_INVALID when there
 * is no expression to query (no binding query and no Prometheus generatorURL), EXTERNAL_UNAVAILABLE when
 * Prometheus is not configured or does not answer.
 */
export async function buildAlertGraph(deps: AlertGraphDeps, input: AlertGraphInput): Promise<AlertGraph> {
  const end = (deps.now ?? (() => new Date()))();
  const windowMs = input.windowMs ?? 3_600_000;
  const start = new Date(end.getTime() - windowMs);
  const stepSec = input.stepSec ?? Math.max(1, Math.round(windowMs / 1000 / 240));
  const { labels } = input.alert;

  let exprs: string[];
  let source: AlertGraph['source'];
  if (input.queryTemplates && input.queryTemplates.length > 0) {
    exprs = input.queryTemplates.map((t) => fillQueryTemplate(t, labels));
    source = 'binding';
  } else {
    const expr = exprFromGeneratorUrl(input.alert.generatorURL);
    if (!expr) {
      throw new PilotError('PARAM_INVALID', `no query for a graph of ${input.alert.alertname}`, {
        hint: 'add `query:` to the runbook binding, or let the alert come from Prometheus (its generatorURL carries the expression)',
      });
    }
    exprs = [expr];
    source = 'generatorURL';
  }

  const results = await Promise.all(exprs.map((e) => deps.prometheus.queryRange(e, start, end, stepSec)));
  let series = dedupe(results.flat());
  if (source === 'generatorURL') {
    // The rule's expression covers every instance of the alert; keep the series of this one.
    const own = series.filter((s) => findTargetSeries([s], labels) !== undefined);
    series = own.length > 0 ? own : series;
  }

  const alertStart = input.alert.startsAt ? new Date(input.alert.startsAt) : undefined;
  const markAt = alertStart && Number.isFinite(alertStart.getTime()) && alertStart >= start ? alertStart : undefined;
  const binary =
    series.length > 0 && series.every((s) => s.points.every(([, v]) => Number.isNaN(v) || v === 0 || v === 1));
  const summary =
    source === 'binding' && binary
      ? summariseServerUp(series, { labels, alertStart: markAt ?? alertStart, windowStart: start, windowEnd: end })
      : undefined;

  // The alert's own series first, then the rest as Prometheus gave them; only maxSeries are drawn.
  const maxSeries = Math.max(1, input.maxSeries ?? DEFAULT_MAX_SERIES);
  const own = findTargetSeries(series, labels);
  const ordered = own && series.length > maxSeries ? [own, ...series.filter((s) => s !== own)] : series;
  const drawn = ordered.slice(0, maxSeries);
  const png = await (deps.renderChart ?? renderSeriesChart)({
    title: truncate(exprs.length === 1 ? exprs[0] : `${input.alert.alertname}: ${exprs.length} queries`, 100),
    series: drawn.map((s) => ({ name: seriesName(s, labels), points: s.points })),
    markAt,
    start,
    end,
    width: input.width,
  });

  const words =
    series.length === 0
      ? `Prometheus returned no data for \`${exprs.join('`, `')}\` in the last ${Math.round(windowMs / 60_000)} min.`
      : summary
        ? describeServerUp(summary, end)
        : `\`${exprs.join('`, `')}\` over the last ${Math.round(windowMs / 60_000)} min (${series.length} series).`;
  const rest = ordered.slice(drawn.length);
  const text = rest.length > 0 ? `${words} ${describeNotDrawn(rest, maxSeries, labels)}` : words;
  return { png, text, exprs, source, series, seriesCount: series.length, drawn: drawn.length, summary, start, end };
}

/**
 * The series not drawn, in words: how many, where their latest values stand (up/down for 0/1 series, else the range),
 * and a few names.
 */
export function describeNotDrawn(rest: PromSeries[], maxSeries: number, alertLabels: Record<string, string>): string {
  const latest = rest.map((s) => lastSample(s)).filter((v): v is number => v !== undefined);
  const binary = latest.length > 0 && latest.every((v) => v === 0 || v === 1);
  let values = '';
  if (binary) {
    const up = latest.filter((v) => v === 1).length;
    values = `: ${up} at 1 (up), ${latest.length - up} at 0 (down) in the latest sample`;
  } else if (latest.length > 0) {
    let min = Infinity;
    let max = -Infinity;
    for (const v of latest) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    values = `: latest values from ${round(min)} to ${round(max)}`;
  }
  const missing = rest.length - latest.length;
  const examples = rest.slice(0, 3).map((s) => seriesName(s, alertLabels));
  return `${rest.length} more series are not drawn (at most ${maxSeries}, \`prometheus.maxSeries\`)${values}${missing > 0 ? `, ${missing} without a recent sample` : ''}; e.g. ${examples.join(', ')}.`;
}

function lastSample(s: PromSeries): number | undefined {
  for (let i = s.points.length - 1; i >= 0; i--) if (!Number.isNaN(s.points[i][1])) return s.points[i][1];
  return undefined;
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

/** A series' short name: the labels that tell it apart from the alert's (server=web2 → "web2"). */
function seriesName(s: PromSeries, alertLabels: Record<string, string>): string {
  if (s.labels.server) return s.labels.server;
  const own = Object.entries(s.labels).filter(([k, v]) => k !== '__name__' && alertLabels[k] !== v);
  const parts = (own.length > 0 ? own : Object.entries(s.labels).filter(([k]) => k !== '__name__')).map(
    ([k, v]) => `${k}=${v}`,
  );
  return truncate(parts.join(', ') || s.labels.__name__ || 'value', 40);
}

function dedupe(series: PromSeries[]): PromSeries[] {
  const seen = new Map<string, PromSeries>();
  for (const s of series) {
    const key = JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => a.localeCompare(b)));
    if (!seen.has(key)) seen.set(key, s);
  }
  return [...seen.values()];
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}
