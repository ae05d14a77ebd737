/**
 * The attachment text of the popular community Slack templates for Alertmanager, one block per alert:
 *
 *   *Alert:* <summary> - `<severity>`
 *   *Description:* <description, possibly several lines, e.g. the rule's `LABELS = map[…]`>
 *   *Graph:* <url|:chart_with_upwards_trend:> *Runbook:* <url|:spiral_note_pad:>
 *   *Details:*
 *    • *alertname:* `HaproxyServerDown`       (or ` - *name:* `value`` in kube-prometheus-stack's example)
 *
 * Also `*Summary:*`, `*Severity:*`, `*Labels:*`. Fields may share a line. Unknown fields are skipped.
 */
import { slackLinkTarget } from './slack-message';

export interface TextAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL?: string;
  status?: 'firing' | 'resolved';
}

const FIELD = /\*([A-Z][A-Za-z ]{0,30}):\*/g;
const BULLET = /^(?:•|·|-|\*)\s+(?:\*([A-Za-z_][A-Za-z0-9_]*):\*|([A-Za-z_][A-Za-z0-9_]*):)\s*(.*)$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when the text looks like one of these templates. */
export function looksLikeTemplateText(text: string): boolean {
  return /\*(Details|Labels):\*/.test(text) || /^\s*\*Alert:\*/m.test(text) || /LABELS = map\[/.test(text);
}

function stripTicks(v: string): string {
  const t = v.trim();
  const m = /^`([^`]*)`$/.exec(t);
  return m ? m[1] : t;
}

/** `map[__name__:up backend:web instance:lb-1:9101]` → labels (Go's fmt of a map; `__name__` dropped). */
export function parseGoLabelMap(text: string): Record<string, string> {
  const m = /LABELS = map\[([^\n]*)\]/.exec(text);
  if (!m) return {};
  const out: Record<string, string> = {};
  // Each pair starts at a label name followed by ':' after a space; values may contain ':' (host:port).
  const starts = [...m[1].matchAll(/(?:^| )([A-Za-z_][A-Za-z0-9_]*):/g)];
  starts.forEach((s, i) => {
    const from = (s.index ?? 0) + s[0].length;
    const to = i + 1 < starts.length ? (starts[i + 1].index ?? m[1].length) : m[1].length;
    if (s[1] !== '__name__') out[s[1]] = m[1].slice(from, to);
  });
  return out;
}

function blocks(text: string): string[] {
  const lines = text.split('\n');
  const out: string[][] = [];
  for (const line of lines) {
    if (/^\s*\*Alert:\*/.test(line) || out.length === 0) out.push([]);
    out[out.length - 1].push(line);
  }
  return out.map((b) => b.join('\n'));
}

function parseBlock(block: string): TextAlert {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const alert: TextAlert = { labels, annotations };
  let field: string | undefined;
  let inDetails = false;
  const set = (name: string, value: string, append: boolean) => {
    const key = fieldKey(name);
    if (!key) return;
    annotations[key] = append && annotations[key] !== undefined ? `${annotations[key]}\n${value}` : value;
  };

  for (const line of block.split('\n')) {
    const trimmed = line.trim();
    const bullet = inDetails ? BULLET.exec(trimmed) : null;
    if (bullet) {
      labels[bullet[1] ?? bullet[2]] = stripTicks(bullet[3]);
      continue;
    }
    const markers = [...trimmed.matchAll(FIELD)];
    if (markers.length > 0 && markers[0].index === 0) {
      markers.forEach((mk, i) => {
        const from = (mk.index ?? 0) + mk[0].length;
        const to = i + 1 < markers.length ? (markers[i + 1].index ?? trimmed.length) : trimmed.length;
        field = mk[1];
        inDetails = field === 'Details' || field === 'Labels';
        if (!inDetails) set(field, trimmed.slice(from, to).trim(), false);
      });
      continue;
    }
    if (field && !inDetails && trimmed.length > 0) set(field, line.replace(/\s+$/, ''), true);
  }

  // *Alert:* <summary> - `severity`
  const alertLine = annotations['__alert'];
  delete annotations['__alert'];
  if (alertLine !== undefined) {
    const m = /^(.*?)\s+-\s+`([^`]*)`$/.exec(alertLine);
    if (m) {
      if (m[1]) annotations.summary ??= m[1];
      if (m[2] && labels.severity === undefined) labels.severity = m[2];
    } else if (alertLine) annotations.summary ??= alertLine;
  }
  const severity = annotations['__severity'];
  delete annotations['__severity'];
  if (severity && labels.severity === undefined) labels.severity = stripTicks(severity);
  const graph = annotations['__graph'];
  delete annotations['__graph'];
  if (graph) alert.generatorURL = slackLinkTarget(graph);
  if (annotations.runbook !== undefined) annotations.runbook = slackLinkTarget(annotations.runbook);

  // The rule's `LABELS = map[…]` gives the series labels; the Details list, when present, wins.
  const fromMap = parseGoLabelMap(annotations.description ?? block);
  for (const [k, v] of Object.entries(fromMap)) if (labels[k] === undefined) labels[k] = v;
  for (const k of Object.keys(labels)) if (!LABEL_NAME.test(k)) delete labels[k];
  return alert;
}

/** Which annotation (or internal slot) a template field fills; undefined for fields we do not keep. */
function fieldKey(name: string): string | undefined {
  switch (name) {
    case 'Alert':
      return '__alert';
    case 'Summary':
      return 'summary';
    case 'Description':
      return 'description';
    case 'Runbook':
      return 'runbook';
    case 'Severity':
      return '__severity';
    case 'Graph':
    case 'Source':
      return '__graph';
    default:
      return undefined;
  }
}

/** Parses the text of a community template into one entry per alert block that names an alert. */
export function parseTemplateText(text: string): TextAlert[] {
  return blocks(text)
    .map(parseBlock)
    .filter((a) => Object.keys(a.labels).length > 0 || Object.keys(a.annotations).length > 0);
}
