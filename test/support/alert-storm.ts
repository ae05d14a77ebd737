/**
 * Alert messages for storms and fault tests: the captured Alertmanager default-template message (test/fixtures/slack)
 * with its backend and server label values changed, so each (backend, server) pair is its own alert (fingerprint).
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labelsFingerprint } from '../../src/ingest/fingerprint';
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

/** One alert as both of Alertmanager's integrations send it: the webhook body and the Slack message. */
export interface PairedAlert {
  key: string;
  labels: Record<string, string>;
  /** A version-4 webhook body carrying this one alert (the captured payload with the labels changed). */
  webhook: Record<string, unknown>;
  /** The Slack message of a template that lists the labels by name (kube-prometheus-stack's, captured). */
  slack: Partial<SlackMessage>;
}

/**
 * Alert `i` of a storm, for both paths: the captured `single` webhook payload and the captured kube-prometheus-stack
 * Slack message, with backend `be<i % 7>` and server `srv<i>` instead of web/web2. Both carry every label, so the
 * bot computes the same fingerprint from either: one alert, one incident.
 */
export function pairedAlert(i: number, startsAt = '2026-11-25T12:34:08.801Z'): PairedAlert {
  const backend = `be${i % 7}`;
  const server = `srv${i}`;
  const fixture = JSON.parse(
    readFileSync(join(__dirname, '..', 'fixtures', 'alertmanager', 'single.webhook.firing.json'), 'utf8'),
  ) as { alerts: Array<Record<string, unknown> & { labels: Record<string, string> }> } & Record<string, unknown>;
  const swap = (text: string) =>
    text
      .split('web2')
      .join(server)
      .split('backend:web ')
      .join(`backend:${backend} `)
      .split('(web ')
      .join(`(${backend} `)
      .split('`web`')
      .join(`\`${backend}\``);
  const [captured] = fixture.alerts;
  const labels = { ...captured.labels, backend, server };
  const alert = {
    ...(JSON.parse(swap(JSON.stringify(captured))) as Record<string, unknown>),
    labels,
    startsAt,
    fingerprint: labelsFingerprint(labels),
  };
  const webhook = {
    ...(JSON.parse(swap(JSON.stringify(fixture))) as Record<string, unknown>),
    alerts: [alert],
    commonLabels: labels,
    groupKey: `{}:{alertname="HaproxyServerDown", server="${server}"}`,
  };
  const {
    ts: _ts,
    channel: _c,
    event_ts: _e,
    ...fields
  } = slackFixture('single.slack-kps.firing.event.json') as SlackMessage & { event_ts?: string };
  const slack = JSON.parse(swap(JSON.stringify(fields))) as Partial<SlackMessage>;
  if (!JSON.stringify(slack).includes(`\`${server}\``))
    throw new Error('the kps fixture no longer lists server: `web2`');
  return { key: `${backend}/${server}`, labels, webhook, slack };
}
