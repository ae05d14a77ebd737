/**
 * The silence choices the thread offers (30 min, 1 h, 4 h, or until a time) and the comment the silence carries.
 * Pure: the Slack modal and the Alertmanager client meet here.
 */
import { PilotError } from '../errors';

/** A silence length: a fixed duration, or until a point in time. */
export type SilenceDuration = '30m' | '1h' | '4h' | { until: Date };

/** The fixed choices, in the order a menu shows them. `until` is offered separately (a date-time picker). */
export const SILENCE_DURATIONS: ReadonlyArray<{ value: '30m' | '1h' | '4h'; label: string; ms: number }> = [
  { value: '30m', label: '30 minutes', ms: 30 * 60_000 },
  { value: '1h', label: '1 hour', ms: 60 * 60_000 },
  { value: '4h', label: '4 hours', ms: 4 * 60 * 60_000 },
];

/** Longer silences hide real outages; a week is already generous for one incident. */
export const MAX_SILENCE_MS = 7 * 24 * 60 * 60_000;

/**
 * The start and end of a silence chosen now. Throws PARAM_INVALID for an `until` in the past or more than a week
 * ahead.
 */
export function silenceWindow(choice: SilenceDuration, now: Date = new Date()): { startsAt: Date; endsAt: Date } {
  if (typeof choice === 'string') {
    const fixed = SILENCE_DURATIONS.find((d) => d.value === choice);
    if (!fixed) throw new PilotError('PARAM_INVALID', `unknown silence duration ${JSON.stringify(choice)}`);
    return { startsAt: now, endsAt: new Date(now.getTime() + fixed.ms) };
  }
  const until = choice.until.getTime();
  if (!Number.isFinite(until) || until <= now.getTime()) {
    throw new PilotError('PARAM_INVALID', 'the silence would end in the past', { hint: 'pick a time later than now' });
  }
  if (until - now.getTime() > MAX_SILENCE_MS) {
    throw new PilotError('PARAM_INVALID', 'the silence would last more than 7 days', {
      hint: 'pick a time within a week',
    });
  }
  return { startsAt: now, endsAt: new Date(until) };
}

/**
 * Reads a modal's answer: `duration` is `30m`, `1h`, `4h` or `until`; with `until`, `untilUnixSec` is the
 * date-time picker's `selected_date_time` (seconds). Throws PARAM_INVALID on anything else.
 */
export function parseSilenceDuration(
  duration: string | undefined,
  untilUnixSec?: number | string | null,
): SilenceDuration {
  if (duration === '30m' || duration === '1h' || duration === '4h') return duration;
  if (duration === 'until') {
    const sec = typeof untilUnixSec === 'string' ? Number(untilUnixSec) : untilUnixSec;
    if (typeof sec !== 'number' || !Number.isFinite(sec) || sec <= 0) {
      throw new PilotError('PARAM_INVALID', 'no end time was picked for the silence', { hint: 'pick a date and time' });
    }
    return { until: new Date(sec * 1000) };
  }
  throw new PilotError('PARAM_INVALID', `unknown silence duration ${JSON.stringify(duration ?? '')}`, {
    hint: 'choose 30 minutes, 1 hour, 4 hours or a time',
  });
}

/** The silence's comment: who asked from where, the incident's link, and the user's note if any (one line each). */
export function silenceComment(input: { incidentId: number; incidentLink: string; note?: string }): string {
  const note = input.note?.trim().replace(/\s+/g, ' ').slice(0, 500);
  return [
    `Silenced from runbook-pilot incident #${input.incidentId}: ${input.incidentLink}`,
    note ? `Note: ${note}` : undefined,
  ]
    .filter((l): l is string => l !== undefined)
    .join('\n');
}
