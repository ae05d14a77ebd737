/**
 * Alertmanager's default Slack title, rendered the way Alertmanager renders it, for property tests. Written from
 * Alertmanager's template source (template/default.tmpl, template/template.go, dispatch/route.go):
 *
 *   {{ define "__subject" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}]
 *   {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with
 *   .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }}
 *
 * - GroupLabels: the route's group_by names the alert has (`...`: every label of the alert).
 * - CommonLabels: the label pairs every alert of the notification shares (firing and resolved alike).
 * - SortedPairs / Values: `alertname` first, then the other names in byte order.
 * - Status: `firing` when any alert fires; the count is of firing alerts only.
 * Checked against the captured fixtures in test/fixtures/alertmanager (see its unit test).
 */
export interface RenderAlert {
  labels: Record<string, string>;
  status: 'firing' | 'resolved';
}

/** Alertmanager's `KV.SortedPairs()` order of names. */
export function sortedPairNames(names: Iterable<string>): string[] {
  const all = [...new Set(names)];
  const rest = all.filter((n) => n !== 'alertname').sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return all.includes('alertname') ? ['alertname', ...rest] : rest;
}

/** The group labels of an alert under a route's group_by (`['...']` groups by every label). */
export function groupLabels(labels: Record<string, string>, groupBy: readonly string[]): Record<string, string> {
  if (groupBy.includes('...')) return { ...labels };
  return Object.fromEntries(groupBy.filter((n) => labels[n] !== undefined).map((n) => [n, labels[n]]));
}

/** The label pairs all alerts share (template.Data's CommonLabels). */
export function commonLabels(alerts: readonly RenderAlert[]): Record<string, string> {
  const common = { ...alerts[0].labels };
  for (const a of alerts.slice(1)) for (const n of Object.keys(common)) if (a.labels[n] !== common[n]) delete common[n];
  return common;
}

/** `__subject` for one notification (alerts of one group: they share the group labels). */
export function renderDefaultTitle(alerts: readonly RenderAlert[], groupBy: readonly string[]): string {
  const group = groupLabels(alerts[0].labels, groupBy);
  const common = commonLabels(alerts);
  const firing = alerts.filter((a) => a.status === 'firing').length;
  const status = firing > 0 ? `FIRING:${firing}` : 'RESOLVED';
  const groupValues = sortedPairNames(Object.keys(group)).map((n) => group[n]);
  let title = `[${status}] ${groupValues.join(' ')} `;
  if (Object.keys(common).length > Object.keys(group).length) {
    const rest = sortedPairNames(Object.keys(common).filter((n) => !(n in group)));
    title += `(${rest.map((n) => common[n]).join(' ')})`;
  }
  return title;
}
