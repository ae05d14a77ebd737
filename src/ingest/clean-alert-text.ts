/**
 * Control characters in what an alert carries (issue #19 §4): a NUL in a label was answered 202 by the webhook and
 * then lost on Postgres, which refuses U+0000 in text; other control characters reach Slack and the logs as they came.
 * Every string of an alert is cleaned at ingest, before the queue, so both stores take every alert the webhook
 * accepted. A control character becomes U+FFFD (�) rather than nothing: `web\u00002` must not turn into the name of
 * another server (`web2`), and the reader sees that something was there. Annotations keep tab and line breaks
 * (descriptions span lines); labels, names and the rest keep none. Pure.
 */
import type { Alert } from './alert';

/** Unicode's control characters (Cc: C0, DEL and C1): nothing a label may carry. */
const CONTROL = /\p{Cc}/gu;
/** The same but tab, line feed and carriage return, which an annotation's text may carry. */
const CONTROL_IN_TEXT = /[^\P{Cc}\t\n\r]/gu;

/** The marker a control character becomes. */
export const REPLACED = '\ufffd';

/** `text` with every control character (but tab and line breaks when `multiline`) replaced by U+FFFD. */
export function replaceControlChars(text: string, multiline = false): string {
  return text.replace(multiline ? CONTROL_IN_TEXT : CONTROL, REPLACED);
}

function cleanMap(map: Record<string, string>, multiline: boolean): Record<string, string> | undefined {
  let changed = false;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    const key = replaceControlChars(k);
    const value = replaceControlChars(v, multiline);
    if (key !== k || value !== v) changed = true;
    // Two names that differ only in their control characters: the first kept, like a repeated key.
    if (!(key in out)) out[key] = value;
  }
  return changed ? out : undefined;
}

/**
 * The alert with every control character replaced (see the header); the same object when there was none. The
 * fingerprint stays the parser's, from the labels as they came, so the alert keeps Alertmanager's identity.
 */
export function cleanAlertText(alert: Alert): Alert {
  const labels = cleanMap(alert.labels, false);
  const annotations = cleanMap(alert.annotations, true);
  const optional = (v: string | undefined) => (v === undefined ? undefined : replaceControlChars(v));
  const alertname = replaceControlChars(alert.alertname);
  const generatorURL = optional(alert.generatorURL);
  const subject = optional(alert.subject);
  const startsAt = optional(alert.startsAt);
  const endsAt = optional(alert.endsAt);
  if (
    !labels &&
    !annotations &&
    alertname === alert.alertname &&
    generatorURL === alert.generatorURL &&
    subject === alert.subject &&
    startsAt === alert.startsAt &&
    endsAt === alert.endsAt
  )
    return alert;
  const clean: Alert = {
    ...alert,
    alertname,
    labels: labels ?? alert.labels,
    annotations: annotations ?? alert.annotations,
  };
  for (const [key, value] of [
    ['generatorURL', generatorURL],
    ['subject', subject],
    ['startsAt', startsAt],
    ['endsAt', endsAt],
  ] as const)
    if (value !== undefined) clean[key] = value;
  return clean;
}
