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
  /**
   * How many alerts this block shows at least: more than 1 when a label name is listed several times (a folded text
   * whose alerts could not be told apart). Labels listed with different values are left out of `labels`.
   */
  repeats?: number;
  /** `*Alert:* <one identifier>`: what some templates print as the alert name (evidence, not a label). */
  alertnameHint?: string;
  /** True when the block opens with `*Alert:*` (one per alert when a template ranges over them). */
  opened?: boolean;
  /**
   * Label names the block lists with different values (a Details list against the rule's `LABELS = map[…]`, or
   * several alerts folded together): left out of `labels`, and no other part of the message may fill them in.
   */
  conflicting?: string[];
}

// A field marker, optionally led by an emoji inside the bold (`*📝 Description:*`).
const FIELD = /\*(?:[^\sA-Za-z0-9*:]{1,4} ?)?([A-Z][A-Za-z ]{0,30}):\*/g;
/** `*name*: value` or `• *name*: value`: a label listed with its name in bold (lower-case names only). */
const BOLD_PAIR = /^(?:[•·-]\s+)?\*([a-z_][A-Za-z0-9_]*)\*:\s*(.*)$/;
/** A line that opens an alert's block: `*Alert:*`, possibly after an emoji (`📢 *Alert:*`). */
const BLOCK_START = /^\s*(?:[^\sA-Za-z0-9*]{1,4}\s*)?\*Alert:\*/;
const IDENTIFIER = /^[A-Za-z_:][A-Za-z0-9_:]*$/;
const BULLET = /^(?:•|·|-|\*)\s+(?:\*([A-Za-z_][A-Za-z0-9_]*):\*|([A-Za-z_][A-Za-z0-9_]*):)\s*(.*)$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when the text looks like one of these templates. */
export function looksLikeTemplateText(text: string): boolean {
  // `[ \t]*`, not `\s*`: under the m flag `\s*` runs across line ends, quadratic on a text of blank lines.
  return (
    /\*(Details|Labels):\*/.test(text) ||
    /^[ \t]*(?:[^\sA-Za-z0-9*]{1,4}[ \t]*)?\*Alert:\*/m.test(text) ||
    text.includes('LABELS = map[') ||
    /^[ \t]*(?:[•·-][ \t]+)?\*[a-z_][A-Za-z0-9_]*\*:/m.test(text)
  );
}

/**
 * A listed value: the text inside its backticks when it opens with one, else up to where a folded line's next bold
 * word or bullet starts (a value's own spaces survive; ` *` and ` •` do not occur in label values we can tell apart).
 */
function listedValue(v: string): string {
  const t = v.trim();
  const ticked = /^`([^`]*)`/.exec(t);
  if (ticked) return ticked[1];
  return t.split(/ [*•·] ?/)[0].trim();
}

function stripTicks(v: string): string {
  const t = v.trim();
  const m = /^`([^`]*)`$/.exec(t);
  return m ? m[1] : t;
}

/** `map[__name__:up backend:web instance:lb-1:9101]` → labels (Go's fmt of a map; `__name__` dropped). */
export function parseGoLabelMap(text: string): Record<string, string> {
  const body = goMapBody(text);
  return body === undefined ? {} : goMapLabels(body);
}

/** Every `LABELS = map[…]` of the text (one per alert whose annotation prints `{{ $labels }}`), in order. */
export function parseGoLabelMaps(text: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (let from = 0; ; ) {
    const found = goMapBodyFrom(text, from);
    if (!found) return out;
    out.push(goMapLabels(found.body));
    from = found.next;
  }
}

function goMapLabels(body: string): Record<string, string> {
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
  return goMapBodyFrom(text, 0)?.body;
}

/**
 * The first map body at or after `from`, and where to look for the next. A folded text may hold several maps on one
 * line: each body then ends at the last `]` before the next marker (or the line's end).
 */
function goMapBodyFrom(text: string, from: number): { body: string; next: number } | undefined {
  const marker = 'LABELS = map[';
  for (let at = text.indexOf(marker, from); at >= 0; ) {
    const lineEnd = text.indexOf('\n', at);
    const nextMarker = text.indexOf(marker, at + marker.length);
    let end = lineEnd < 0 ? text.length : lineEnd;
    if (nextMarker >= 0 && nextMarker < end) end = nextMarker;
    const line = text.slice(at + marker.length, end);
    const close = line.lastIndexOf(']');
    if (close >= 0) return { body: line.slice(0, close), next: at + marker.length + close };
    if (end === text.length) return undefined;
    at = nextMarker >= 0 && nextMarker === end ? nextMarker : text.indexOf(marker, end);
  }
  return undefined;
}

function blocks(text: string): string[] {
  // A text YAML folded onto one line still starts each alert's block at its `*Alert:*`.
  const lines = text.split('\n').flatMap((line) => line.split(/ (?=(?:[^\sA-Za-z0-9*]{1,4} ?)?\*Alert:\*)/));
  const out: string[][] = [];
  for (const line of lines) {
    if (BLOCK_START.test(line) || out.length === 0) out.push([]);
    out[out.length - 1].push(line);
  }
  return out.map((b) => b.join('\n'));
}

function parseBlock(block: string): TextAlert {
  const annotations: Record<string, string> = {};
  const alert: TextAlert = { labels: {}, annotations };
  if (BLOCK_START.test(block)) alert.opened = true;
  // Every value each label name is listed with, and how often: a folded text may list several alerts in one block.
  const seen = new Map<string, string[]>();
  const addLabel = (name: string, value: string) => {
    if (!LABEL_NAME.test(name) || value === '') return;
    seen.set(name, [...(seen.get(name) ?? []), value]);
  };
  let field: string | undefined;
  let inDetails = false;
  const set = (name: string, value: string, append: boolean) => {
    const key = fieldKey(name);
    if (!key) return;
    annotations[key] = append && annotations[key] !== undefined ? `${annotations[key]}\n${value}` : value;
  };

  for (const line of block.split('\n')) {
    const trimmed = line.trim();
    if (inDetails) {
      // Bullets YAML folding joined onto one line: ` • *a:* `x` • *b:* `y``.
      const pieces = trimmed.split(/ (?=[•·] )/).map((p) => BULLET.exec(p.trim()));
      if (pieces.length > 0 && pieces.every((b) => b !== null)) {
        for (const b of pieces) if (b) addLabel(b[1] ?? b[2], listedValue(b[3]));
        continue;
      }
    }
    // Bold pairs YAML folding joined onto one line: each ends where the next bold word starts.
    const pairs = trimmed.split(/(?<![•·-]) (?=(?:[•·-] )?\*[a-z_][A-Za-z0-9_]*\*:)/).map((p) => BOLD_PAIR.exec(p));
    if (pairs[0]) {
      for (const p of pairs) if (p) addLabel(p[1], listedValue(p[2]));
      continue;
    }
    // `*Labels*:` on its own line: a heading, the colon outside the bold.
    const heading = /^\*([A-Z][A-Za-z ]{0,30})\*:$/.exec(trimmed);
    if (heading) {
      field = heading[1];
      inDetails = field === 'Details' || field === 'Labels';
      continue;
    }
    const markers = [...trimmed.matchAll(FIELD)];
    const first = markers[0];
    if (first && /^[^\sA-Za-z0-9*]{0,4}\s*$/.test(trimmed.slice(0, first.index ?? 0))) {
      markers.forEach((mk, i) => {
        const from = (mk.index ?? 0) + mk[0].length;
        const to = i + 1 < markers.length ? (markers[i + 1].index ?? trimmed.length) : trimmed.length;
        field = mk[1];
        inDetails = field === 'Details' || field === 'Labels';
        const rest = trimmed.slice(from, to).trim();
        if (!inDetails) set(field, rest, false);
        // A folded text keeps the list on the heading's line: `*Details:* • *a:* `x` • *b:* `y``.
        else if (rest !== '')
          for (const p of rest.split(/ (?=[•·] )/)) {
            const b = BULLET.exec(p.trim());
            if (b) addLabel(b[1] ?? b[2], listedValue(b[3]));
          }
      });
      continue;
    }
    if (field && !inDetails && trimmed.length > 0) set(field, line.trimEnd(), true);
  }

  // The rule's `LABELS = map[…]` gives the series labels (several maps: several alerts in this block).
  const maps = parseGoLabelMaps(block);
  for (const m of maps) for (const [k, v] of Object.entries(m)) addLabel(k, v);
  // A label listed as often as the block has maps counts once per alert (a Details list plus the map of each).
  const listed = new Map<string, number>();
  for (const [k, values] of seen)
    listed.set(k, maps.some((m) => m[k] !== undefined) ? values.length - maps.length : values.length);
  const repeats = Math.max(maps.length, ...listed.values(), 1);
  if (repeats > 1) alert.repeats = repeats;
  const labels = alert.labels;
  const conflicting: string[] = [];
  for (const [k, values] of seen) {
    if (new Set(values).size === 1) labels[k] = values[0];
    else conflicting.push(k);
  }
  if (conflicting.length > 0) alert.conflicting = conflicting;

  // *Alert:* <summary> - `severity`
  const alertLine = annotations.__alert;
  delete annotations.__alert;
  if (alertLine !== undefined) {
    if (IDENTIFIER.test(alertLine.trim())) alert.alertnameHint = alertLine.trim();
    const m = splitAlertLine(alertLine);
    if (m) {
      if (m.summary) annotations.summary ??= m.summary;
      if (m.severity && labels.severity === undefined && !seen.has('severity')) labels.severity = m.severity;
    } else if (alertLine) annotations.summary ??= alertLine;
  }
  const severity = annotations.__severity;
  delete annotations.__severity;
  if (severity && labels.severity === undefined && !seen.has('severity')) labels.severity = stripTicks(severity);
  const graph = annotations.__graph;
  delete annotations.__graph;
  if (graph) alert.generatorURL = slackLinkTarget(graph);
  if (annotations.runbook !== undefined) annotations.runbook = slackLinkTarget(annotations.runbook);

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
