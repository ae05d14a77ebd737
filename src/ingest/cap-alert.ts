/**
 * Size caps on what an alert may carry into the bot (issue #12 §6): a label or annotation value longer than
 * `maxValueChars` is cut, and an alert larger than `maxAlertChars` in all loses annotation text first (largest first),
 * then label text, until it fits. Every cut is named in `alert.truncated`, so the incident message can say so. The
 * fingerprint is the parser's, from the labels as they came: the same alert keeps its identity however it is cut.
 * Control characters are replaced first (cleanAlertText), so what is cut and stored is what both stores accept.
 * Pure.
 */
import type { Alert } from './alert';
import { cleanAlertText } from './clean-alert-text';

export interface AlertSizeLimits {
  /** Most characters of one label or annotation value. */
  maxValueChars: number;
  /** Most characters of one alert: every label and annotation name and value, and the generatorURL. */
  maxAlertChars: number;
}

/** Names longer than this cannot be a real label or annotation name: dropped. */
const MAX_NAME_CHARS = 200;

function cut(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, Math.max(0, max))}… [cut: ${value.length} chars]`;
}

function size(map: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(map)) n += k.length + v.length;
  return n;
}

/** The alert cleaned of control characters and within the limits; the same object when nothing had to change. */
export function capAlert(raw: Alert, limits: AlertSizeLimits): Alert {
  const alert = cleanAlertText(raw);
  const truncated = new Set(alert.truncated ?? []);
  const capMap = (map: Record<string, string>, kind: 'labels' | 'annotations'): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(map)) {
      if (k.length > MAX_NAME_CHARS) {
        truncated.add(`${kind}.${k.slice(0, 40)}…`);
        continue;
      }
      if (v.length > limits.maxValueChars) truncated.add(`${kind}.${k}`);
      out[k] = cut(v, limits.maxValueChars);
    }
    return out;
  };
  const labels = capMap(alert.labels, 'labels');
  const annotations = capMap(alert.annotations, 'annotations');
  let generatorURL = alert.generatorURL;
  // A cut URL leads nowhere useful: one too long is dropped.
  if (generatorURL !== undefined && generatorURL.length > limits.maxValueChars) {
    generatorURL = undefined;
    truncated.add('generatorURL');
  }

  let total = size(labels) + size(annotations) + (generatorURL?.length ?? 0);
  // Annotations are words for people; labels are what steps and silences match on: annotations give way first.
  for (const [map, kind] of [
    [annotations, 'annotations'],
    [labels, 'labels'],
  ] as const) {
    const largest = Object.keys(map)
      .filter((k) => !(kind === 'labels' && k === 'alertname'))
      .sort((a, b) => map[b].length - map[a].length);
    for (const k of largest) {
      if (total <= limits.maxAlertChars) break;
      const over = total - limits.maxAlertChars;
      const keep = map[k].length - over - 40;
      // Too little would be left to read: the annotation goes (a label keeps its name, for matching, with a marker).
      if (keep < 20 && kind === 'annotations') {
        total -= k.length + map[k].length;
        delete map[k];
        truncated.add(`${kind}.${k}`);
        continue;
      }
      const next = cut(map[k], Math.max(0, keep));
      if (next.length >= map[k].length) continue;
      total -= map[k].length - next.length;
      map[k] = next;
      truncated.add(`${kind}.${k}`);
    }
  }

  if (truncated.size === (alert.truncated?.length ?? 0)) return alert;
  const capped: Alert = {
    ...alert,
    alertname: labels.alertname ?? cut(alert.alertname, limits.maxValueChars),
    labels,
    annotations,
    truncated: [...truncated].sort(),
  };
  if (generatorURL === undefined) delete capped.generatorURL;
  else capped.generatorURL = generatorURL;
  return capped;
}
