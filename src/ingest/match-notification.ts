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
  const first = alerts[0].labels;
  const groupNames = groupBy.includes('...') ? Object.keys(first) : groupBy.filter((n) => first[n] !== undefined);
  const common: Record<string, string> = { ...first };
  for (const a of alerts.slice(1)) for (const n of Object.keys(common)) if (a.labels[n] !== common[n]) delete common[n];
  const group = alertmanagerLabelOrder(groupNames);
  let body = `${group.map((n) => first[n]).join(' ')} `;
  if (Object.keys(common).length > group.length) {
    body += `(${alertmanagerLabelOrder(Object.keys(common).filter((n) => !group.includes(n)))
      .map((n) => common[n])
      .join(' ')})`;
  }
  return body;
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
  const body = subjectBody(title);
  if (body === undefined || candidates.length === 0) return undefined;
  const want = body.trimEnd();
  const names = [...new Set(candidates.flatMap((c) => Object.keys(c.labels)))].sort();
  if (names.length > MAX_NAMES) return undefined;
  const found = new Map<string, T[]>();
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
      if (renderSubjectBody(list, groupBy).trimEnd() !== want) continue;
      const id = JSON.stringify(list.map((c) => Object.entries(c.labels).sort()).sort());
      found.set(id, list);
    }
  }
  return found.size === 1 ? [...found.values()][0] : undefined;
}
