/**
 * The label list text of Grafana's default Slack message (`default.message` / `__text_alert_list` in
 * grafana/alerting templates/default_template.go), also Alertmanager's own `__text_alert_list`:
 *
 *   **Firing**
 *
 *   Value: A=0
 *   Labels:
 *    - alertname = HaproxyServerDown
 *   Annotations:
 *    - description = HAProxy server is down
 *   Source: http://…
 *   Silence: http://…
 *
 * Annotation values may run over several lines.
 */
import type { TextAlert } from './parse-template-text';

const PAIR = /^ - ([A-Za-z_][A-Za-z0-9_]*) = (.*)$/;
const LINK = /^(Source|Silence|Dashboard|Panel): (.*)$/;

/** True when the text carries a `Labels:` list of ` - name = value` lines. */
export function looksLikeLabelListText(text: string): boolean {
  return /^Labels:$/m.test(text) && /^ - [A-Za-z_][A-Za-z0-9_]* = /m.test(text);
}

/** Parses the label list text into one entry per alert, with the status of its section when it has one. */
export function parseLabelListText(text: string): TextAlert[] {
  const alerts: TextAlert[] = [];
  let section: 'firing' | 'resolved' | undefined;
  let current: TextAlert | undefined;
  let mode: 'labels' | 'annotations' | 'none' = 'none';
  let lastKey: string | undefined;
  const start = () => {
    current = { labels: {}, annotations: {} };
    if (section) current.status = section;
    alerts.push(current);
  };

  for (const line of text.split('\n')) {
    if (line === '**Firing**' || line === '**Resolved**') {
      section = line === '**Firing**' ? 'firing' : 'resolved';
      current = undefined;
      mode = 'none';
      continue;
    }
    if (line.startsWith('Value: ')) {
      start();
      mode = 'none';
      continue;
    }
    if (line === 'Labels:') {
      if (!current || Object.keys(current.labels).length > 0) start();
      mode = 'labels';
      continue;
    }
    if (line === 'Annotations:') {
      if (!current) start();
      mode = 'annotations';
      continue;
    }
    const link = LINK.exec(line);
    if (link && current) {
      if (link[1] === 'Source') current.generatorURL = link[2].trim();
      mode = 'none';
      continue;
    }
    const pair = PAIR.exec(line);
    if (pair && current && mode !== 'none') {
      (mode === 'labels' ? current.labels : current.annotations)[pair[1]] = pair[2];
      lastKey = pair[1];
      continue;
    }
    if (
      current &&
      mode === 'annotations' &&
      lastKey !== undefined &&
      current.annotations[lastKey] !== undefined &&
      line.length > 0
    ) {
      current.annotations[lastKey] += `\n${line}`;
    }
  }
  return alerts.filter((a) => Object.keys(a.labels).length > 0);
}
