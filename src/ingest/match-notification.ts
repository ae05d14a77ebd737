/**
 * Which alerts a default-template title names. Alertmanager renders `__subject` from the notification's alerts:
 * the group labels' values, then `(` the other common labels' values `)`. Given candidate alerts with their full
 * labels (from Alertmanager's API, or the bot's open incidents), the alerts of the notification are those of one
 * group, under some group_by, whose rendering is exactly the title. Pure.
 */
import { alertmanagerLabelOrder } from './parse-alertmanager-title';

/** Names beyond this many are not tried as every group_by subset (2^n renderings). */
const MAX_NAMES = 12;

/** The text after `[STATUS:N] ` that Alertmanager renders for these alerts under this group_by (`...`: every label). */
export function renderSubjectBody(
  alerts: ReadonlyArray<{ labels: Readonly<Record<string, string>> }>,
  groupBy: readonly string[],
): string {
  let common: Record<string, string> = { ...alerts[0].labels };
  for (const a of alerts.slice(1)) common = commonLabels(common, a.labels);
  return renderBody(alerts[0].labels, groupBy, common);
}

/** The labels `a` and `b` share, name and value. */
export function commonLabels(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): Record<string, string> {
  return Object.fromEntries(Object.entries(a).filter(([k, v]) => b[k] === v));
}

/** The rendering depends on the group's values (the same for every alert of a group) and the common labels only. */
function renderBody(
  first: Readonly<Record<string, string>>,
  groupBy: readonly string[],
  common: Readonly<Record<string, string>>,
): string {
  const groupNames = groupBy.includes('...') ? Object.keys(first) : groupBy.filter((n) => first[n] !== undefined);
  const group = alertmanagerLabelOrder(groupNames);
  let body = `${group.map((n) => first[n]).join(' ')} `;
  if (Object.keys(common).length > group.length) {
    body += `(${alertmanagerLabelOrder(Object.keys(common).filter((n) => !group.includes(n)))
      .map((n) => common[n])
      .join(' ')})`;
  }
  return body;
}

/** Common-label sets beyond this many are not tried for one group (see subsetsRendering). */
const MAX_SUBSET_COMMONS = 256;

/**
 * The alerts of one group that some subset of it rendering `want` stands for: for each common-label set such a
 * subset can have, the alerts carrying all of it (the largest subset with that rendering: the title cannot tell it
 * from a smaller one). A subset's rendering depends only on its common labels, the intersections of its alerts'
 * label sets: built up one alert at a time.
 */
function subsetsRendering<T extends { labels: Readonly<Record<string, string>> }>(
  list: readonly T[],
  groupBy: readonly string[],
  want: string,
): T[][] {
  const commons = new Map<string, Record<string, string>>();
  const key = (c: Record<string, string>) => JSON.stringify(Object.entries(c).sort());
  let frontier = list.map((a) => ({ ...a.labels }));
  for (const c of frontier) commons.set(key(c), c);
  while (frontier.length > 0 && commons.size < MAX_SUBSET_COMMONS) {
    const next: Record<string, string>[] = [];
    for (const c of frontier)
      for (const a of list) {
        const m = commonLabels(c, a.labels);
        const k = key(m);
        if (commons.has(k)) continue;
        commons.set(k, m);
        next.push(m);
      }
    frontier = next;
  }
  return [...commons.values()]
    .filter((c) => renderBody(list[0].labels, groupBy, c).trimEnd() === want)
    .map((c) => list.filter((a) => Object.entries(c).every(([k, v]) => a.labels[k] === v)));
}

/** The text after `] ` of a `[FIRING:N] …` / `[RESOLVED] …` title; undefined when it is not one. */
export function subjectBody(title: string): string | undefined {
  const m = /^\s*\[(?:FIRING|RESOLVED)(?::\d+)?(?:,\s*RESOLVED:\d+)?\] ?([^\n]*)$/.exec(title);
  return m ? m[1] : undefined;
}

function subsets(names: readonly string[]): string[][] {
  const out: string[][] = [['...']];
  for (let mask = 0; mask < 1 << names.length; mask++) out.push(names.filter((_, i) => mask & (1 << i)));
  return out;
}

/**
 * The candidates that make up the notification with this title: one group under some group_by whose rendering
 * equals the title. Undefined when none does, or when two different sets of candidates do (then the title does
 * not say which alerts it means). Trailing spaces are ignored (Slack may trim the title).
 */
export function matchNotification<T extends { labels: Readonly<Record<string, string>> }>(
  title: string,
  candidates: readonly T[],
): T[] | undefined {
  return matchNotificationGroup(title, candidates)?.named;
}

/**
 * Like matchNotification, with the group the named alerts belong to. A `[RESOLVED]` title may render only part of
 * its group: Alertmanager drops from a group the resolved alerts it has already notified (inside an earlier
 * `[FIRING:N]` message, which does not say which of them resolved), so the group's last alerts to resolve are named
 * alone. Then `named` is that part and `group` the whole group, whose other alerts may have resolved unseen (ask
 * Alertmanager before closing them: a route's matchers may have kept them out of this group).
 */
export function matchNotificationGroup<T extends { labels: Readonly<Record<string, string>> }>(
  title: string,
  candidates: readonly T[],
): { named: T[]; group: T[] } | undefined {
  const body = subjectBody(title);
  if (body === undefined || candidates.length === 0) return undefined;
  const want = body.trimEnd();
  const resolved = /^\s*\[RESOLVED\]/.test(title);
  const names = [...new Set(candidates.flatMap((c) => Object.keys(c.labels)))].sort();
  if (names.length > MAX_NAMES) return undefined;
  const found = new Map<string, { named: T[]; group: T[] }>();
  // Two group_bys naming the same alerts may see different groups around them: only what both see is the group.
  const add = (named: T[], group: T[]) => {
    const key = JSON.stringify(named.map((c) => Object.entries(c.labels).sort()).sort());
    const seen = found.get(key);
    found.set(key, { named, group: seen ? seen.group.filter((c) => group.includes(c)) : group });
  };
  for (const groupBy of subsets(names)) {
    const all = groupBy.includes('...');
    const groups = new Map<string, T[]>();
    for (const c of candidates) {
      const key = JSON.stringify(all ? Object.entries(c.labels).sort() : groupBy.map((n) => c.labels[n] ?? null));
      const list = groups.get(key) ?? [];
      list.push(c);
      groups.set(key, list);
    }
    for (const list of groups.values()) {
      if (renderSubjectBody(list, groupBy).trimEnd() === want) add(list, list);
      else if (resolved && list.length > 1 && want.startsWith(renderBody(list[0].labels, groupBy, {}).trimEnd()))
        for (const part of subsetsRendering(list, groupBy, want)) add(part, list);
    }
  }
  return found.size === 1 ? [...found.values()][0] : undefined;
}
