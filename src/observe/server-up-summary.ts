/**
 * The words beside the graph for an up/down metric such as `haproxy_server_up`: down since when, how often it went
 * down in the window (flapping), how many servers of the backend are up. Pure.
 */

import { utcClock } from './chart';
import type { PromSeries } from './prometheus-client';

/** From this many up→down transitions in the window on, the server is called flapping. */
export const FLAPPING_TRANSITIONS = 3;

export interface ServerUpSummary {
  /** The series of the alert's own server, by its labels; undefined when Prometheus returned none for it. */
  target?: Record<string, string>;
  /** The server's latest sample is 0; undefined without data. */
  isDown?: boolean;
  /** When the current down period began (the first sample at 0, or the alert's start if that is earlier). */
  downSince?: Date;
  /** True when it was already down at the window's first sample and the alert's start was not known. */
  downSinceIsLowerBound: boolean;
  /** Up→down transitions inside the window. */
  downTransitions: number;
  flapping: boolean;
  /** Servers whose latest sample is 1, of all series returned (the backend's servers). */
  serversUp: number;
  serversTotal: number;
  windowStart?: Date;
  windowEnd?: Date;
}

export interface SummariseOptions {
  /** The alert's labels: the series agreeing with them on every shared label is the alert's server. */
  labels: Record<string, string>;
  /** When the alert started firing (Alertmanager's startsAt). */
  alertStart?: Date;
  windowStart?: Date;
  windowEnd?: Date;
}

/** The series whose labels agree with `labels` on every label both have, preferring the most labels in common. */
export function findTargetSeries(series: PromSeries[], labels: Record<string, string>): PromSeries | undefined {
  let best: PromSeries | undefined;
  let bestShared = 0;
  for (const s of series) {
    const shared = Object.keys(s.labels).filter((k) => k !== '__name__' && k in labels);
    if (shared.some((k) => s.labels[k] !== labels[k])) continue;
    if (shared.length > bestShared) {
      best = s;
      bestShared = shared.length;
    }
  }
  return best;
}

/** Summarises up/down series (values 1 and 0) around the alert's server. */
export function summariseServerUp(series: PromSeries[], opts: SummariseOptions): ServerUpSummary {
  let serversUp = 0;
  let serversTotal = 0;
  for (const s of series) {
    const last = lastValue(s);
    if (last === undefined) continue;
    serversTotal++;
    if (last >= 0.5) serversUp++;
  }
  const summary: ServerUpSummary = {
    downTransitions: 0,
    flapping: false,
    downSinceIsLowerBound: false,
    serversUp,
    serversTotal,
    windowStart: opts.windowStart,
    windowEnd: opts.windowEnd,
  };
  const target = findTargetSeries(series, opts.labels);
  if (!target) return summary;
  summary.target = target.labels;

  const points = target.points.filter(([, v]) => Number.isFinite(v));
  let previous: number | undefined;
  let downStartedAt: number | undefined;
  for (const [t, v] of points) {
    const down = v < 0.5;
    if (down && previous !== undefined && previous >= 0.5) summary.downTransitions++;
    if (down && (previous === undefined || previous >= 0.5)) downStartedAt = t;
    if (!down) downStartedAt = undefined;
    previous = v;
  }
  summary.flapping = summary.downTransitions >= FLAPPING_TRANSITIONS;
  if (previous === undefined) return summary;
  summary.isDown = previous < 0.5;
  if (summary.isDown && downStartedAt !== undefined) {
    const downAtFirstSample = downStartedAt === points[0][0];
    const alertStart = opts.alertStart?.getTime();
    if (alertStart !== undefined && Number.isFinite(alertStart) && (downAtFirstSample || alertStart < downStartedAt)) {
      summary.downSince = new Date(Math.min(alertStart, downStartedAt));
    } else {
      summary.downSince = new Date(downStartedAt);
      summary.downSinceIsLowerBound = downAtFirstSample;
    }
  }
  return summary;
}

/** The summary in plain sentences for the thread, e.g. "web2 is down since 11:45 UTC (15 min). …". */
export function describeServerUp(summary: ServerUpSummary, now: Date = new Date()): string {
  const name = summary.target?.server ?? summary.target?.instance ?? 'The server';
  const backend = summary.target?.backend;
  const window = windowWords(summary);
  const lines: string[] = [];
  if (summary.isDown === undefined) {
    lines.push(`Prometheus has no samples for ${name} ${window}.`);
  } else if (summary.isDown) {
    const since = summary.downSince;
    if (since) {
      const ago = formatDuration(now.getTime() - since.getTime());
      lines.push(
        `${name} is down since ${summary.downSinceIsLowerBound ? 'before ' : ''}${utcClock(since)} UTC (${summary.downSinceIsLowerBound ? 'more than ' : ''}${ago}).`,
      );
    } else {
      lines.push(`${name} is down.`);
    }
  } else {
    lines.push(`${name} is up in the latest sample.`);
  }
  if (summary.isDown !== undefined) {
    const n = summary.downTransitions;
    const times = n === 0 ? 'did not go down' : n === 1 ? 'went down once' : `went down ${n} times`;
    lines.push(`It ${times} ${window}${summary.flapping ? ': flapping' : ''}.`);
  }
  if (summary.serversTotal > 0) {
    const of = backend ? `servers of backend ${backend}` : 'servers';
    lines.push(`${summary.serversUp} of ${summary.serversTotal} ${of} ${summary.serversUp === 1 ? 'is' : 'are'} up.`);
  }
  return lines.join(' ');
}

function lastValue(s: PromSeries): number | undefined {
  for (let i = s.points.length - 1; i >= 0; i--) if (Number.isFinite(s.points[i][1])) return s.points[i][1];
  return undefined;
}

function windowWords(summary: ServerUpSummary): string {
  if (!summary.windowStart || !summary.windowEnd) return 'in the window shown';
  const ms = summary.windowEnd.getTime() - summary.windowStart.getTime();
  return ms === 3_600_000 ? 'in the last hour' : `in the last ${formatDuration(ms)}`;
}

/** `45 s`, `15 min`, `2 h 5 min`. */
export function formatDuration(ms: number): string {
  const sec = Math.max(0, Math.round(ms / 1000));
  if (sec < 60) return `${sec} s`;
  const min = Math.round(sec / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
}
