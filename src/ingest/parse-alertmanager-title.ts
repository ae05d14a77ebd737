/**
 * The title Alertmanager's default Slack template writes (`__subject`), and Grafana's variant of it:
 *
 *   [FIRING:2] <group label values> (<other common label values>)
 *   [RESOLVED] …            [FIRING:1, RESOLVED:1] … (Grafana)
 *
 * Values come without their names, each list in Alertmanager's label order (alertname first, then by name), and the
 * route's group_by is not in the message. So every reading of the title consistent with the alert's label names is
 * enumerated (which labels are grouped, which are common to the notification's alerts, where each value starts),
 * readings are ranked by evidence, and a label is accepted only when every best reading gives it the same value.
 * Anything else is reported as missing: a wrong label (a wrong host) is worse than a missing one.
 */
import type { AlertStatus } from './alert';

export interface TitleOptions {
  /** The alert's label names as the runbook binding declares them (all of them, `alertname` included). */
  labelNames?: (alertname: string) => readonly string[] | undefined;
  /** Label-name sets seen for this alertname from the webhook or Alertmanager's API (see LabelMemory). */
  learnedLabelNames?: (alertname: string) => ReadonlyArray<readonly string[]>;
  /** Values seen before for one label of this alertname (from complete sources); evidence, not a requirement. */
  knownValues?: (alertname: string, label: string) => ReadonlySet<string> | undefined;
  /** The route's group_by as the binding declares it: a hint that breaks ties, never a requirement. */
  groupBy?: (alertname: string) => readonly string[] | undefined;
  /** Whether a runbook exists for this alertname (helps find the alertname when it is not grouped by). */
  knownAlert?: (alertname: string) => boolean;
  /** Configured host match values by label (`hosts[].match`): a value found there is strong evidence. */
  hostMatch?: Readonly<Record<string, readonly string[]>>;
  /** Configured host match values without their label (older callers); read as values of `hostLabel`. */
  hostValues?: readonly string[];
  /** The label holding the host value; default `instance`. */
  hostLabel?: (alertname: string) => string | undefined;
  /** Severity values this team uses; default: the common ones (critical, warning, info…). */
  severities?: readonly string[];
  /**
   * The alert name other parts of the message give (a label list, an `alertname` field): the title is read only under
   * it, and gives no labels when it cannot hold it where Alertmanager puts the alert name.
   */
  alertname?: string;
}

export interface ParsedTitle {
  status: AlertStatus;
  /** `N` of `[FIRING:N]` (plus Grafana's `RESOLVED:M`). */
  groupSize?: number;
  alertname?: string;
  labels: Record<string, string>;
  /** Label names of the alert that the title's values could not be assigned to with certainty. */
  missingLabels: string[];
}

const TITLE = /^\[(FIRING|RESOLVED)(?::(\d+))?(?:,\s*RESOLVED:(\d+))?\] ?([\s\S]*)$/;

export const COMMON_SEVERITIES = [
  'critical',
  'warning',
  'warn',
  'info',
  'error',
  'page',
  'high',
  'medium',
  'low',
  'major',
  'minor',
  'none',
  'notice',
  'emergency',
  'fatal',
  'debug',
];

/**
 * A title longer than this is not read for labels (the title is still a title: status and group size). The readings
 * below are polynomial in the number of words; Alertmanager's titles are a few label values long, and a title of
 * 100 KB from a hostile or broken template must not stall the bot.
 */
const MAX_TITLE_CHARS = 2000;

/** Readings examined at most per title; beyond that the title is too ambiguous to read and labels are missing. */
const MAX_READINGS = 50_000;

/** `host:port`, `[v6]:port`: the shape of Prometheus's `instance` label. */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):\d{1,5}$/;

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Label names in the order Alertmanager's `SortedPairs` prints them: alertname first, then by byte order. */
export function alertmanagerLabelOrder(names: Iterable<string>): string[] {
  const unique = [...new Set(names)];
  const rest = unique.filter((n) => n !== 'alertname').sort(byteCompare);
  return unique.includes('alertname') ? ['alertname', ...rest] : rest;
}

/** One way to split the text after `] ` into the group part and the parenthesised common part. */
interface Split {
  group: string[];
  /** Undefined when the title has no parenthesised part (every common label is a group label). */
  common?: string[];
}

/** Words as the template joined them: split on single spaces, so a value's own spaces survive the rejoin. */
function tokens(s: string): string[] {
  return s === '' ? [] : s.split(' ');
}

/**
 * Every split consistent with the template: `G + ' ' + '(' + C + ')'`, or `G + ' '` when there is no common part.
 * A value may itself hold ` (` or end in `)`, so every ` (` of a title ending in `)` is a possible start of the
 * common part. A title ending in `)` always has a common part: without one the template ends in a space (the
 * Slack parser reads the title from the fallback text, which keeps that space, when Slack trimmed the title).
 */
function splits(rest: string): Split[] {
  const out: Split[] = [];
  if (rest.endsWith(')')) {
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === '(' && (i === 0 || rest[i - 1] === ' '))
        out.push({ group: tokens(rest.slice(0, Math.max(0, i - 1))), common: tokens(rest.slice(i + 1, -1)) });
    }
    return out;
  }
  return [{ group: tokens(rest.endsWith(' ') ? rest.slice(0, -1) : rest) }];
}

/** What is known about the world, for one alertname and one set of label names. */
interface Evidence {
  alertname: string;
  names: readonly string[];
  hostMatch: ReadonlyMap<string, ReadonlySet<string>>;
  severities: ReadonlySet<string>;
  known(label: string): ReadonlySet<string> | undefined;
}

/** False when a value cannot be this label's (a reading that says so is impossible). */
function possible(ev: Evidence, name: string, value: string): boolean {
  if (value === '') return false; // Alertmanager drops labels with empty values
  if (name === 'alertname') return value === ev.alertname;
  if (
    name === 'instance' &&
    !(HOST_PORT.test(value) || ev.hostMatch.get('instance')?.has(value) || ev.known('instance')?.has(value))
  )
    return false;
  // A configured host value belongs to the label it is configured for (when the alert has that label).
  for (const [label, values] of ev.hostMatch)
    if (label !== name && ev.names.includes(label) && values.has(value)) return false;
  return true;
}

/** How strongly the evidence supports this value for this label. */
function support(ev: Evidence, name: string, value: string): number {
  let s = 0;
  if (ev.hostMatch.get(name)?.has(value)) s += 2;
  if (name === 'severity' && ev.severities.has(value.toLowerCase())) s += 1;
  if (name !== 'alertname' && ev.known(name)?.has(value)) s += 1;
  return s;
}

/** How good a reading is: evidence first, then how many labels it reads. */
interface Rank {
  score: number;
  size: number;
}

function cmp(a: Rank, b: Rank): number {
  return a.score !== b.score ? a.score - b.score : a.size - b.size;
}

/** Per label, every value the best readings give it (`undefined`: some best reading leaves it unread). */
type Values = Map<string, Set<string | undefined>>;

function addValue(values: Values, name: string, value: string | undefined): void {
  const set = values.get(name) ?? new Set<string | undefined>();
  set.add(value);
  values.set(name, set);
}

/**
 * The best ways to read `toks` (in order, each value one or more whole words) as values of a subsequence of
 * `names` (in order): dynamic programming over (word, name), then a walk over the best transitions only, so the
 * cost stays polynomial however many readings tie. `required` names may not be left unread; with `all`, none may.
 */
function bestReadings(
  toks: string[],
  names: readonly string[],
  ev: Evidence,
  required: ReadonlySet<string>,
  all = false,
): { rank: Rank; values: Values } | undefined {
  const T = toks.length;
  const N = names.length;
  const memo: Array<Array<Rank | null | undefined>> = Array.from(
    { length: T + 1 },
    () => new Array<Rank | null | undefined>(N + 1),
  );
  const skippable = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (all || required.has(names[k])) return false;
    return true;
  };
  type Edge = { j: number; e: number; value: string; rank: Rank };
  const words: string[][] = toks.map((_, ti) => {
    const row: string[] = [];
    for (let e = ti + 1; e <= T; e++) row[e] = e === ti + 1 ? toks[ti] : `${row[e - 1]} ${toks[e - 1]}`;
    return row;
  });
  const word = (ti: number, e: number) => words[ti][e];
  const edgeMemo = new Map<number, Edge[]>();
  const edges = (ti: number, ni: number): Edge[] => {
    const key = ti * (N + 1) + ni;
    const hit = edgeMemo.get(key);
    if (hit) return hit;
    const out: Edge[] = [];
    edgeMemo.set(key, out);
    for (let j = ni; j < N && skippable(ni, j); j++) {
      for (let e = ti + 1; e <= T; e++) {
        const value = word(ti, e);
        if (!possible(ev, names[j], value)) continue;
        const next = rankFrom(e, j + 1);
        if (next)
          out.push({ j, e, value, rank: { score: next.score + support(ev, names[j], value), size: next.size + 1 } });
      }
    }
    return out;
  };
  function rankFrom(ti: number, ni: number): Rank | null {
    const cached = memo[ti][ni];
    if (cached !== undefined) return cached;
    let r: Rank | null = null;
    if (ti === T) r = skippable(ni, N) ? { score: 0, size: 0 } : null;
    else for (const edge of edges(ti, ni)) if (!r || cmp(edge.rank, r) > 0) r = edge.rank;
    memo[ti][ni] = r;
    return r;
  }
  const rank = rankFrom(0, 0);
  if (!rank) return undefined;
  const values: Values = new Map();
  const seen = new Set<number>();
  const queue: Array<[number, number]> = [[0, 0]];
  while (queue.length > 0) {
    const [ti, ni] = queue.pop() as [number, number];
    const key = ti * (N + 1) + ni;
    if (seen.has(key)) continue;
    seen.add(key);
    if (ti === T) {
      for (let k = ni; k < N; k++) addValue(values, names[k], undefined);
      continue;
    }
    const here = rankFrom(ti, ni) as Rank;
    for (const edge of edges(ti, ni)) {
      if (cmp(edge.rank, here) !== 0) continue;
      for (let k = ni; k < edge.j; k++) addValue(values, names[k], undefined);
      addValue(values, names[edge.j], edge.value);
      queue.push([edge.e, edge.j + 1]);
    }
  }
  return { rank, values };
}

class Budget {
  used = 0;
  get exhausted(): boolean {
    return this.used > MAX_READINGS;
  }
}

/** Every monotone assignment of the group words to a subsequence of `names` (group parts are short). */
function groupAssignments(
  toks: string[],
  names: readonly string[],
  ev: Evidence,
  budget: Budget,
  visit: (pairs: Array<[string, string]>) => void,
): void {
  const pairs: Array<[string, string]> = [];
  const walk = (ti: number, ni: number): void => {
    if (budget.exhausted) return;
    if (ti === toks.length) {
      budget.used++;
      visit(pairs);
      return;
    }
    for (let j = ni; j < names.length; j++) {
      for (let e = ti + 1; e <= toks.length; e++) {
        const value = toks.slice(ti, e).join(' ');
        if (!possible(ev, names[j], value)) continue;
        pairs.push([names[j], value]);
        walk(e, j + 1);
        pairs.pop();
      }
    }
  };
  walk(0, 0);
}

/** The best readings of one split under one name set, optionally only those whose group labels are `onlyGroup`. */
function readSplit(
  split: Split,
  ev: Evidence,
  budget: Budget,
  onlyGroup?: readonly string[],
): { rank: Rank; values: Values } | undefined {
  const required = new Set(['alertname']);
  if (split.common === undefined) {
    // No parenthesised part: the group labels are every common label, read from the group words alone.
    return onlyGroup
      ? bestReadings(split.group, onlyGroup, ev, required, true)
      : bestReadings(split.group, ev.names, ev, required);
  }
  if (split.common.length === 0) return undefined; // `( … )` appears only when some common label is not a group label
  let bestRank: Rank | undefined;
  let values: Values = new Map();
  const commonCache = new Map<string, ReturnType<typeof bestReadings>>();
  groupAssignments(split.group, onlyGroup ?? ev.names, ev, budget, (groupPairs) => {
    const group = groupPairs.map(([n]) => n);
    if (onlyGroup && group.length !== onlyGroup.length) return;
    const key = group.join('\u0000');
    if (!commonCache.has(key)) {
      const rest = ev.names.filter((n) => !group.includes(n));
      commonCache.set(
        key,
        bestReadings(split.common as string[], rest, ev, group.includes('alertname') ? new Set() : required),
      );
    }
    const common = commonCache.get(key);
    if (!common) return;
    let score = common.rank.score;
    for (const [n, v] of groupPairs) score += support(ev, n, v);
    const rank = { score, size: common.rank.size + groupPairs.length };
    const c = bestRank ? cmp(rank, bestRank) : 1;
    if (c < 0) return;
    if (c > 0) {
      bestRank = rank;
      values = new Map();
    }
    for (const [n, v] of groupPairs) addValue(values, n, v);
    for (const [n, set] of common.values) for (const v of set) addValue(values, n, v);
  });
  return bestRank ? { rank: bestRank, values } : undefined;
}

/** Merges the best results of several (split, name set) pairs: only those of the best rank count. */
function mergeBest(
  results: Array<{ rank: Rank; values: Values; names: readonly string[] }>,
): { rank: Rank; values: Values } | undefined {
  if (results.length === 0) return undefined;
  const top = results.reduce((a, b) => (cmp(b.rank, a.rank) > 0 ? b : a)).rank;
  const values: Values = new Map();
  const names = new Set(results.filter((r) => cmp(r.rank, top) === 0).flatMap((r) => r.names));
  for (const r of results) {
    if (cmp(r.rank, top) !== 0) continue;
    for (const n of names) {
      const set = r.values.get(n);
      if (!set)
        addValue(values, n, undefined); // this name set lacks the label, or no best reading reads it
      else for (const v of set) addValue(values, n, v);
    }
  }
  return { rank: top, values };
}

/** A runbook knows this alertname (or, without that test, label names are known for it). */
function isKnown(opts: TitleOptions, name: string): boolean {
  if (opts.knownAlert) return opts.knownAlert(name);
  return opts.labelNames?.(name) !== undefined || (opts.learnedLabelNames?.(name).length ?? 0) > 0;
}

/** The alertname is the first group value when grouped by it, else the first common value: the known one wins. */
function pickAlertname(all: Split[], opts: TitleOptions): string | undefined {
  const firsts = all
    .flatMap((s) => [s.group[0], s.common?.[0]])
    .filter((v): v is string => v !== undefined && v !== '' && !NOT_A_NAME.test(v));
  if (opts.alertname !== undefined) return firsts.includes(opts.alertname) ? opts.alertname : undefined;
  return firsts.find((n) => isKnown(opts, n)) ?? firsts[0];
}

/** The words a title may hold its alert name in (first group value, first common value), decoration left out. */
export function titleAlertnameCandidates(title: string): string[] {
  const m = TITLE.exec(title.trimStart());
  if (!m) return [];
  const newline = m[4].indexOf('\n');
  const rest = newline < 0 ? m[4] : m[4].slice(0, newline).trimEnd();
  if (rest.length > MAX_TITLE_CHARS) return [];
  const all = splits(rest);
  return [
    ...new Set(
      all
        .flatMap((s) => [s.group[0], s.common?.[0]])
        .filter((v): v is string => v !== undefined && v !== '' && !NOT_A_NAME.test(v)),
    ),
  ];
}

/** Emoji shortcodes (`:fire:`) and bracketed words (`[prod]`, `(web)`) are decoration, never an alert name. */
const NOT_A_NAME = /^(?::[^\s:]+:|[[(<{].*|.*[\])>}])$/;

function hostMatchOf(opts: TitleOptions, alertname: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (label: string, values: readonly string[]) => {
    const set = out.get(label) ?? new Set<string>();
    for (const v of values) set.add(v);
    out.set(label, set);
  };
  for (const [label, values] of Object.entries(opts.hostMatch ?? {})) add(label, values);
  if (opts.hostValues?.length) add(opts.hostLabel?.(alertname) ?? 'instance', opts.hostValues);
  return out;
}

/** The label-name sets the alert may have: the binding's and those learned, each in Alertmanager's order. */
function nameSets(opts: TitleOptions, alertname: string): string[][] {
  const sets = [opts.labelNames?.(alertname), ...(opts.learnedLabelNames?.(alertname) ?? [])].filter(
    (s): s is readonly string[] => s !== undefined && s.length > 0,
  );
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const s of sets) {
    const ordered = alertmanagerLabelOrder([...s, 'alertname']);
    const key = ordered.join('\u0000');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(ordered);
    }
  }
  return out;
}

/**
 * When no reading fits (unknown or wrong label names): only what stands on its own, a value equal to a configured
 * host value of exactly one label, found once.
 */
function anchored(rest: string, ev: Evidence): Record<string, string> {
  const words = rest
    .replace(/^\(|\)$/g, '')
    .split(/[ ()]+/)
    .filter((w) => w.length > 0);
  const hits: Array<[string, string]> = [];
  for (const [label, values] of ev.hostMatch)
    for (const w of new Set(words))
      if (values.has(w) && words.filter((x) => x === w).length === 1) hits.push([label, w]);
  return hits.length === 1 ? { [hits[0][0]]: hits[0][1] } : {};
}

/** Parses a `[FIRING:N] …` title and recovers what labels it can; undefined when the title is not one. */
export function parseAlertmanagerTitle(title: string, opts: TitleOptions = {}): ParsedTitle | undefined {
  const m = TITLE.exec(title.trimStart());
  if (!m) return undefined;
  const status: AlertStatus = m[1] === 'FIRING' ? 'firing' : 'resolved';
  const result: ParsedTitle = { status, labels: {}, missingLabels: [] };
  if (m[2] !== undefined) result.groupSize = Number(m[2]) + (m[3] !== undefined ? Number(m[3]) : 0);
  // One line; anything after a newline is not the template's. (Not `/\s*\n[\s\S]*$/`: quadratic on a run of spaces.)
  const newline = m[4].indexOf('\n');
  const rest = newline < 0 ? m[4] : m[4].slice(0, newline).trimEnd();
  if (rest.length > MAX_TITLE_CHARS) return result;

  const all = splits(rest);
  const alertname = pickAlertname(all, opts);
  if (!alertname) return result;
  result.alertname = alertname;

  const learned = (label: string) => opts.knownValues?.(alertname, label);
  const hostMatch = hostMatchOf(opts, alertname);
  const severities = new Set((opts.severities ?? COMMON_SEVERITIES).map((s) => s.toLowerCase()));
  const sets = nameSets(opts, alertname);
  const budget = new Budget();
  const hintNames = opts.groupBy?.(alertname);
  const run = (hinted: boolean) => {
    const results: Array<{ rank: Rank; values: Values; names: readonly string[] }> = [];
    for (const names of sets) {
      const ev: Evidence = { alertname, names, hostMatch, severities, known: learned };
      const onlyGroup =
        hinted && hintNames
          ? hintNames.includes('...')
            ? [...names]
            : alertmanagerLabelOrder(hintNames.filter((n) => names.includes(n)))
          : undefined;
      for (const s of all) {
        const r = readSplit(s, ev, budget, onlyGroup);
        if (r) results.push({ ...r, names });
      }
    }
    return mergeBest(results);
  };
  let chosen = run(false);
  // The binding's group_by breaks a tie: when a reading under it is as good as the best, only those count.
  if (chosen && hintNames) {
    const hinted = run(true);
    if (hinted && cmp(hinted.rank, chosen.rank) === 0) chosen = hinted;
  }

  if (!chosen || budget.exhausted) {
    const ev: Evidence = { alertname, names: [], hostMatch, severities, known: learned };
    result.labels = { ...anchored(rest, ev), alertname };
    result.missingLabels = [...new Set(sets.flat())].filter((n) => result.labels[n] === undefined);
    return result;
  }
  const labels: Record<string, string> = {};
  for (const [n, values] of chosen.values) {
    const [only] = values;
    if (values.size === 1 && only !== undefined) labels[n] = only;
  }
  const names = new Set(chosen.values.keys());
  labels.alertname = alertname;
  result.labels = labels;
  result.missingLabels = [...names].filter((n) => labels[n] === undefined);
  return result;
}
