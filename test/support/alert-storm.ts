/**
 * Alert messages for storms and fault tests: the captured Alertmanager default-template message (test/fixtures/slack)
 * with its backend and server label values changed, so each (backend, server) pair is its own alert (fingerprint).
 */

import { slackFixture } from './pilot-harness';
import type { SlackMessage } from './slack-standin';

const FIXTURE = 'single.slack-default.firing.event.json';
/** The label values as the default template prints them: backend instance job server severity. */
const CAPTURED_VALUES = '(web 127.0.0.1:9101 haproxy web2 critical)';

/** The fields of a firing default-template message for HaproxyServerDown on `backend`/`server`. */
export function defaultTemplateAlert(backend: string, server: string): Partial<SlackMessage> {
  const {
    ts: _ts,
    channel: _c,
    event_ts: _e,
    ...fields
  } = slackFixture(FIXTURE) as SlackMessage & { event_ts?: string };
  const text = JSON.stringify(fields);
  if (!text.includes(CAPTURED_VALUES)) throw new Error(`${FIXTURE} no longer holds ${CAPTURED_VALUES}`);
  return JSON.parse(
    text.split(CAPTURED_VALUES).join(`(${backend} 127.0.0.1:9101 haproxy ${server} critical)`),
  ) as Partial<SlackMessage>;
}

/** `count` messages over `distinct` alerts (backends be0…, servers srv0…), interleaved: 0, 1, …, distinct-1, 0, 1, … */
export function stormMessages(count: number, distinct: number): Array<{ key: string; fields: Partial<SlackMessage> }> {
  const alerts = Array.from({ length: distinct }, (_, i) => {
    const backend = `be${i % 5}`;
    const server = `srv${Math.floor(i / 5)}`;
    return { key: `${backend}/${server}`, fields: defaultTemplateAlert(backend, server) };
  });
  return Array.from({ length: count }, (_, i) => alerts[i % distinct]);
}

/** The most calls that fall in any window of `windowMs` (calls' arrival times in ms, any order). */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
