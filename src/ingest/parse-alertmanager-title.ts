/**
 * The title Alertmanager's default Slack template writes (`__subject`), and Grafana's variant of it:
 *
 *   [FIRING:2] <group label values> (<other common label values>)
 *   [RESOLVED] …            [FIRING:1, RESOLVED:1] … (Grafana)
 *
 * Values come without their names, each list in Alertmanager's label order (alertname first, then by name).
 * The names are recovered from the runbook binding's label list and the route's group_by; what cannot be assigned
 * with certainty is reported as missing rather than guessed.
 */
import type { AlertStatus } from './alert';

export interface TitleOptions {
  /**
   * The alert's label names, when the runbook binding declares them. Must list ALL of the alert's labels: values
   * are matched to names by position, so a missing name shifts the rest (a count mismatch is then reported as
   * missing labels, but equal counts would be trusted).
   */
  labelNames?: (alertname: string) => readonly string[] | undefined;
  /** The route's group_by for this alert; default `[alertname]`. */
  groupBy?: (alertname: string) => readonly string[] | undefined;
  /** Whether a runbook exists for this alertname (helps find the alertname when it is not grouped by). */
  knownAlert?: (alertname: string) => boolean;
  /** Configured host match values (e.g. instance values), to recognise the host value in an ambiguous title. */
  hostValues?: readonly string[];
  /** The label holding the host value; default `instance`. */
  hostLabel?: (alertname: string) => string | undefined;
}

export interface ParsedTitle {
  status: AlertStatus;
  /** `N` of `[FIRING:N]` (plus Grafana's `RESOLVED:M`). */
  groupSize?: number;
  alertname?: string;
  labels: Record<string, string>;
  /** Label names expected (group_by, binding) that the title's values could not be assigned to. */
  missingLabels: string[];
}

const TITLE = /^\[(FIRING|RESOLVED)(?::(\d+))?(?:,\s*RESOLVED:(\d+))?\]\s?([\s\S]*)$/;

/** Label names in the order Alertmanager's `SortedPairs` prints them: alertname first, then by byte order. */
export function alertmanagerLabelOrder(names: Iterable<string>): string[] {
  const rest = [...new Set(names)].filter((n) => n !== 'alertname').sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return [...new Set(names)].includes('alertname') ? ['alertname', ...rest] : rest;
}

function words(s: string): string[] {
  return s.split(' ').filter((w) => w.length > 0);
}

/** Splits the part after `] ` into group values and the parenthesised common values. */
function splitGroups(rest: string, groupCount: number | undefined): { group: string[]; common: string[] } {
  const body = rest.replace(/\s+$/, '');
  if (!body.endsWith(')')) return { group: words(body), common: [] };
  const opens: number[] = [];
  for (let i = 0; i < body.length; i++) if (body[i] === '(' && (i === 0 || body[i - 1] === ' ')) opens.push(i);
  if (opens.length === 0) return { group: words(body), common: [] };
  // A value may itself contain " (": prefer the split that leaves exactly the expected number of group values.
  const at = opens.find((i) => groupCount !== undefined && words(body.slice(0, i)).length === groupCount) ?? opens[0];
  return { group: words(body.slice(0, at)), common: words(body.slice(at + 1, -1)) };
}

interface Anchor {
  name: string;
  values: ReadonlySet<string>;
}

/**
 * Assigns `values` (a subsequence of the values of `names`, in the same order) to names. Certain only when the
 * counts match; otherwise a value equal to a host value anchors the host label and each side is tried again.
 */
function align(values: string[], names: string[], anchor: Anchor | undefined, out: Record<string, string>, missing: string[]): void {
  if (names.length === 0) return;
  const k = anchor ? names.indexOf(anchor.name) : -1;
  const hits = anchor ? values.flatMap((v, i) => (anchor.values.has(v) ? [i] : [])) : [];
  // Equal counts zip, unless the host value sits elsewhere: then one value is missing and another has spaces.
  if (values.length === names.length && !(hits.length === 1 && k >= 0 && hits[0] !== k)) {
    names.forEach((n, i) => (out[n] = values[i]));
    return;
  }
  if (names.length === 1 && values.length > 1) {
    out[names[0]] = values.join(' '); // one name left, several words: a value with spaces
    return;
  }
  if (anchor && k >= 0 && hits.length === 1) {
    const j = hits[0];
    out[anchor.name] = values[j];
    align(values.slice(0, j), names.slice(0, k), undefined, out, missing);
    align(values.slice(j + 1), names.slice(k + 1), undefined, out, missing);
    return;
  }
  missing.push(...names);
}

function pickAlertname(group: string[], common: string[], opts: TitleOptions): string | undefined {
  const known = (n: string | undefined) => n !== undefined && (opts.knownAlert?.(n) === true || opts.labelNames?.(n) !== undefined);
  const a = group[0];
  const b = common[0];
  if (known(a)) return a;
  if (known(b)) return b;
  return a ?? b;
}

/** Parses a `[FIRING:N] …` title and recovers what labels it can; undefined when the title is not one. */
export function parseAlertmanagerTitle(title: string, opts: TitleOptions = {}): ParsedTitle | undefined {
  const m = TITLE.exec(title.trim());
  if (!m) return undefined;
  const status: AlertStatus = m[1] === 'FIRING' ? 'firing' : 'resolved';
  const result: ParsedTitle = { status, labels: {}, missingLabels: [] };
  if (m[2] !== undefined) result.groupSize = Number(m[2]) + (m[3] !== undefined ? Number(m[3]) : 0);

  const tentative = splitGroups(m[4], undefined);
  const alertname = pickAlertname(tentative.group, tentative.common, opts);
  if (!alertname) return result;
  result.alertname = alertname;

  const groupNames = alertmanagerLabelOrder(opts.groupBy?.(alertname) ?? ['alertname']);
  const { group, common } = splitGroups(m[4], groupNames.length);
  const hostLabel = opts.hostLabel?.(alertname) ?? 'instance';
  const anchor: Anchor | undefined = opts.hostValues?.length ? { name: hostLabel, values: new Set(opts.hostValues) } : undefined;
  const labels: Record<string, string> = {};
  const missing: string[] = [];

  if (group.length === groupNames.length) groupNames.forEach((n, i) => (labels[n] = group[i]));
  else align(group, groupNames, anchor, labels, missing);

  const declared = opts.labelNames?.(alertname);
  if (declared) {
    const commonNames = alertmanagerLabelOrder(declared.filter((n) => !groupNames.includes(n)));
    align(common, commonNames, anchor, labels, missing);
  } else if (anchor && labels[hostLabel] === undefined) {
    // No names to align with: the host value is still recognisable on its own.
    const hit = common.filter((v) => anchor.values.has(v));
    if (hit.length === 1) labels[hostLabel] = hit[0];
  }
  labels.alertname = alertname;
  result.labels = labels;
  result.missingLabels = [...new Set(missing)].filter((n) => labels[n] === undefined);
  return result;
}
