/**
 * Time-series charts as PNG, without a browser: ECharts renders SVG server-side, resvg turns it into a PNG. Times
 * are shown in UTC. When every series is 0/1 (up/down), each series gets its own row, green when 1 and red when 0:
 * a flapping server reads at a glance, where overlapping 0/1 lines would hide each other.
 */
import { existsSync } from 'node:fs';
import type * as Echarts from 'echarts';

export interface ChartSeries {
  name: string;
  /** Samples as [unix milliseconds, value]; NaN marks a gap. */
  points: Array<[number, number]>;
}

export interface ChartInput {
  title: string;
  series: ChartSeries[];
  /** A vertical marker, e.g. when the alert started. */
  markAt?: Date;
  /** The marker's label; default "alert start HH:MM UTC". */
  markLabel?: string;
  /** The time range shown; default: the data's own range. */
  start?: Date;
  end?: Date;
  width?: number;
  height?: number;
  /** Font files for the text; default: DejaVu Sans from Debian's fonts-dejavu-core, else the system's fonts. */
  fontFiles?: string[];
}

const FONT_FAMILY = 'DejaVu Sans';
const DEFAULT_FONT_FILES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
];
const UP = '#2e9e44';
const DOWN = '#d64541';
const MARK = '#555555';

let echartsModule: typeof Echarts | undefined;
/**
 * ECharts, loaded with the first chart drawn rather than at start: it costs about 200 ms and 20 MB of a bot's idle
 * memory, and a bot without Prometheus (observe.prometheus) never draws one. A plain require because the SVG
 * rendering that uses it is synchronous.
 */
function echarts(): typeof Echarts {
  echartsModule ??= require('echarts') as typeof Echarts;
  return echartsModule;
}

/** Renders the chart as a PNG (about 50 ms). */
export async function renderSeriesChart(input: ChartInput): Promise<Uint8Array> {
  const svg = renderSeriesSvg(input);
  const fontFiles = (input.fontFiles ?? DEFAULT_FONT_FILES).filter((f) => existsSync(f));
  // resvg (a native binary) loads with the first chart, like ECharts below.
  const { renderAsync } = await import('@resvg/resvg-js');
  const image = await renderAsync(svg, {
    background: 'white',
    fitTo: { mode: 'original' },
    // Without fonts resvg draws no text at all; scanning the system's fonts is slower, so only as a fallback.
    font:
      fontFiles.length > 0
        ? { fontFiles, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY }
        : { loadSystemFonts: true },
  });
  return image.asPng();
}

/** Renders the chart as an SVG string (pure; the PNG step adds the fonts). */
export function renderSeriesSvg(input: ChartInput): string {
  const binary =
    input.series.length > 0 &&
    input.series.every((s) => s.points.every(([, v]) => Number.isNaN(v) || v === 0 || v === 1));
  const width = input.width ?? 800;
  const rowHeight = 46;
  const height = input.height ?? (binary ? 110 + Math.max(1, input.series.length) * rowHeight : 360);
  const chart = echarts().init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(binary ? rowsOption(input, rowHeight) : linesOption(input));
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** `HH:MM` in UTC, or `HH:MM:SS` with `seconds`. */
export function utcClock(t: number | Date, seconds = false): string {
  return new Date(t).toISOString().slice(11, seconds ? 19 : 16);
}

/** Short ranges need seconds on the axis, or every label reads the same minute. */
function needsSeconds(input: ChartInput): boolean {
  const times = input.series.flatMap((s) => s.points.map(([t]) => t));
  const min = input.start?.getTime() ?? Math.min(...times);
  const max = input.end?.getTime() ?? Math.max(...times);
  return Number.isFinite(max - min) && max - min < 10 * 60_000;
}

function timeRange(input: ChartInput): { min?: number; max?: number } {
  return { min: input.start?.getTime(), max: input.end?.getTime() };
}

function markLine(input: ChartInput, labelAtStart = false) {
  if (!input.markAt) return undefined;
  return {
    silent: true,
    symbol: 'none',
    lineStyle: { color: MARK, type: 'dashed' as const, width: 1.5 },
    label: {
      formatter: input.markLabel ?? `alert start ${utcClock(input.markAt, needsSeconds(input))} UTC`,
      color: MARK,
      fontSize: 11,
      // On the rows chart the y axis is inverted: its start is the top, where the label does not cover the time axis.
      position: labelAtStart ? ('start' as const) : ('end' as const),
    },
    data: [{ xAxis: input.markAt.getTime() }],
  };
}

function timeAxis(input: ChartInput, gridIndex: number, showLabels: boolean) {
  const seconds = needsSeconds(input);
  return {
    type: 'time' as const,
    gridIndex,
    ...timeRange(input),
    axisLabel: { show: showLabels, formatter: (v: number) => utcClock(v, seconds), color: '#333' },
    splitLine: { show: true, lineStyle: { color: '#eee' } },
    name: showLabels ? 'UTC' : undefined,
    nameGap: 8,
  };
}

function toData(points: Array<[number, number]>): Array<[number, number | null]> {
  // ECharts draws a gap at null; Prometheus' NaN means "no value" as well.
  return points.map(([t, v]) => [t, Number.isFinite(v) ? v : null]);
}

function baseOption(input: ChartInput) {
  return {
    animation: false,
    useUTC: true,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: FONT_FAMILY },
    title: { text: input.title, left: 12, top: 8, textStyle: { fontSize: 14, fontFamily: FONT_FAMILY } },
  };
}

function linesOption(input: ChartInput) {
  return {
    ...baseOption(input),
    legend: { top: 32, left: 12, type: 'plain' as const },
    // The right margin holds half of the marker label ("alert start 13:14 UTC", centred on its line) when the alert
    // started near the end of the window, as it does when an incident opens.
    grid: { left: 56, right: 72, top: 70, bottom: 44 },
    xAxis: timeAxis(input, 0, true),
    yAxis: { type: 'value' as const, scale: true },
    series: input.series.map((s, i) => ({
      type: 'line' as const,
      name: s.name,
      showSymbol: false,
      connectNulls: false,
      data: toData(s.points),
      markLine: i === 0 ? markLine(input) : undefined,
    })),
  };
}

/** Consecutive samples with the same value, as [start, end) runs; a NaN or a missing sample leaves a gap. */
export function stateRuns(points: Array<[number, number]>): Array<{ start: number; end: number; value: number }> {
  const step = typicalStep(points);
  const runs: Array<{ start: number; end: number; value: number }> = [];
  for (let i = 0; i < points.length; i++) {
    const [t, v] = points[i];
    const next = points[i + 1]?.[0];
    // A sample stands for the time until the next one, unless the next is far away (the series was absent).
    const end = next !== undefined && next - t <= 2.5 * step ? next : t + step;
    if (!Number.isFinite(v)) continue;
    const last = runs[runs.length - 1];
    if (last && last.value === v && last.end === t) last.end = end;
    else runs.push({ start: t, end, value: v });
  }
  return runs;
}

function typicalStep(points: Array<[number, number]>): number {
  const diffs = points
    .slice(1)
    .map(([t], i) => t - points[i][0])
    .filter((d) => d > 0)
    .sort((a, b) => a - b);
  // query_range samples sit on multiples of the step, so the smallest gap is the step.
  return diffs.length > 0 ? diffs[0] : 15_000;
}

interface RenderItemApi {
  value(dim: number): number;
  coord(point: [number, number]): [number, number];
  size(point: [number, number]): [number, number];
}

function rowsOption(input: ChartInput, rowHeight: number) {
  const names = input.series.map((s) => s.name);
  const left = Math.min(240, 24 + 7 * Math.max(...names.map((n) => n.length), 4));
  // One rectangle per run: [start, end, row, value].
  const data = input.series.flatMap((s, row) => stateRuns(s.points).map((r) => [r.start, r.end, row, r.value]));
  return {
    ...baseOption(input),
    grid: { left, right: 72, top: 58, bottom: 44 },
    xAxis: timeAxis(input, 0, true),
    yAxis: {
      type: 'category' as const,
      data: names,
      inverse: true,
      axisTick: { show: false },
      axisLabel: { color: '#333' },
      splitLine: { show: false },
    },
    series: [
      {
        type: 'custom' as const,
        encode: { x: [0, 1], y: 2 },
        data,
        renderItem: (_params: unknown, api: RenderItemApi) => {
          const row = api.value(2);
          const [x0, y] = api.coord([api.value(0), row]);
          const [x1] = api.coord([api.value(1), row]);
          const h = Math.min(api.size([0, 1])[1] * 0.6, rowHeight * 0.6);
          return {
            type: 'rect',
            shape: { x: x0, y: y - h / 2, width: Math.max(1, x1 - x0), height: h },
            style: { fill: api.value(3) >= 0.5 ? UP : DOWN },
          };
        },
      },
      // An empty line series carries the marker: custom series draw no mark lines of their own.
      { type: 'line' as const, data: [], markLine: markLine(input, true) },
    ],
    graphic: [
      { type: 'text' as const, right: 40, top: 12, style: { text: '■ up', fill: UP, font: `12px ${FONT_FAMILY}` } },
      { type: 'text' as const, right: 90, top: 12, style: { text: '■ down', fill: DOWN, font: `12px ${FONT_FAMILY}` } },
    ],
  };
}
