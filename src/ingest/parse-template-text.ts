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
  // `[ \t]*`, not `\s*`: under the m flag `\s*` runs across line ends, quadratic on a text of blank lines.
  return /\*(Details|Labels):\*/.test(text) || /^[ \t]*\*Alert:\*/m.test(text) || text.includes('LABELS = map[');
}

function stripTicks(v: string): string {
  const t = v.trim();
  const m = /^`([^`]*)`$/.exec(t);
  return m ? m[1] : t;
}

/** `map[__name__:up backend:web instance:lb-1:9101]` → labels (Go's fmt of a map; `__name__` dropped). */
export function parseGoLabelMap(text: string): Record<string, string> {
  const body = goMapBody(text);
  if (body === undefined) return {};
  const out: Record<string, string> = {};
  // Each pair starts at a label name followed by ':' after a space; values may contain ':' (host:port).
  const starts = [...body.matchAll(/(?:^| )([A-Za-z_][A-Za-z0-9_]*):/g)];
  starts.forEach((s, i) => {
    const from = (s.index ?? 0) + s[0].length;
    const to = i + 1 < starts.length ? (starts[i + 1].index ?? body.length) : body.length;
    if (s[1] !== '__name__') out[s[1]] = body.slice(from, to);
  });
  return out;
}

/**
 * What `/LABELS = map\[([^\n]*)\]/` would capture (the first `LABELS = map[` whose line has a `]` after it, up to the
 * line's last `]`), in linear time: that regex retries every occurrence on a line without `]` to the line's end.
 */
function goMapBody(text: string): string | undefined {
  const marker = 'LABELS = map[';
  for (let at = text.indexOf(marker); at >= 0; ) {
    const lineEnd = text.indexOf('\n', at);
    const line = text.slice(at + marker.length, lineEnd < 0 ? text.length : lineEnd);
    const close = line.lastIndexOf(']');
    if (close >= 0) return line.slice(0, close);
    if (lineEnd < 0) return undefined;
    at = text.indexOf(marker, lineEnd);
  }
  return undefined;
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
    if (field && !inDetails && trimmed.length > 0) set(field, line.trimEnd(), true);
  }

  // *Alert:* <summary> - `severity`
  const alertLine = annotations['__alert'];
  delete annotations['__alert'];
  if (alertLine !== undefined) {
    const m = splitAlertLine(alertLine);
    if (m) {
      if (m.summary) annotations.summary ??= m.summary;
      if (m.severity && labels.severity === undefined) labels.severity = m.severity;
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

/**
 * `<summary> - \`<severity>\`` split as `/^(.*?)\s+-\s+\`([^\`]*)\`$/` would (one line; the last ` - \`…\`` wins),
 * without its backtracking: that regex is quadratic on a long run of spaces (39k spaces took 1.1 s).
 */
function splitAlertLine(line: string): { summary: string; severity: string } | undefined {
  if (line.includes('\n') || line.length < 2 || !line.endsWith('`')) return undefined;
  const open = line.lastIndexOf('`', line.length - 2);
  if (open < 0) return undefined;
  const before = line.slice(0, open);
  const dash = before.trimEnd();
  // whitespace, '-', whitespace, then the backtick: both runs at least one character
  if (dash.length === before.length || !dash.endsWith('-')) return undefined;
  const summaryEnd = dash.slice(0, -1);
  const summary = summaryEnd.trimEnd();
  if (summary.length === summaryEnd.length) return undefined;
  return { summary, severity: line.slice(open + 1, -1) };
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
