/**
 * A small monospace table of a backend's servers for a Slack code block, the alert's server marked with `▶`.
 */
import { parseServersState, type ServerStateRow } from './parse-servers-state';
import { parseShowStat, type StatRow } from './parse-show-stat';

export interface BackendTableRow {
  server: string;
  status: string;
  check: string;
  lastChange: string;
}

/** Renders rows as aligned columns: server, status, check, last change; the row of `highlightServer` gets `▶`. */
export function renderBackendTable(rows: BackendTableRow[], highlightServer?: string): string {
  const head: BackendTableRow = { server: 'SERVER', status: 'STATUS', check: 'CHECK', lastChange: 'LAST CHANGE' };
  const all = [head, ...rows];
  const width = (k: keyof BackendTableRow): number => Math.min(40, Math.max(...all.map((r) => r[k].length)));
  const w = { server: width('server'), status: width('status'), check: width('check') };
  const cell = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
  return all
    .map((r, i) => {
      const mark = i > 0 && r.server === highlightServer ? '▶ ' : '  ';
      return `${mark}${cell(r.server, w.server)}  ${cell(r.status, w.status)}  ${cell(r.check, w.check)}  ${r.lastChange}`.trimEnd();
    })
    .join('\n');
}

/** Table rows from `show stat` (servers of `backend` only): its status words are what operators know. */
export function tableRowsFromStat(rows: StatRow[], backend: string): BackendTableRow[] {
  return rows
    .filter((r) => r.proxy === backend && r.name !== 'FRONTEND' && r.name !== 'BACKEND')
    .map((r) => ({
      server: r.name,
      status: r.status,
      check:
        [r.checkStatus, r.checkDesc && r.checkDesc !== r.checkStatus ? `(${r.checkDesc})` : '']
          .filter(Boolean)
          .join(' ') || '-',
      lastChange: r.lastChange === undefined ? '-' : `${formatAge(r.lastChange)} ago`,
    }));
}

/** Table rows from `show servers state`, for when `show stat` is missing from the output. */
export function tableRowsFromServersState(rows: ServerStateRow[], backend: string): BackendTableRow[] {
  return rows
    .filter((r) => r.backend === backend)
    .map((r) => ({
      server: r.server,
      status: r.adminState === 'READY' ? r.opState : `${r.opState} ${r.adminState}`,
      check: r.checkStatus ?? '-',
      lastChange: r.secondsSinceChange === undefined ? '-' : `${formatAge(r.secondsSinceChange)} ago`,
    }));
}

/**
 * Renders the `backend-state` action's output as a table, or returns undefined when it holds neither a stat CSV nor
 * a servers-state block for `backend` (the caller then shows the raw text).
 */
export function renderBackendState(output: string, backend: string, highlightServer?: string): string | undefined {
  const fromStat = tableRowsFromStat(parseShowStat(output), backend);
  const rows = fromStat.length ? fromStat : tableRowsFromServersState(parseServersState(output), backend);
  return rows.length ? renderBackendTable(rows, highlightServer) : undefined;
}

/** 75 → `1m15s`, 7260 → `2h01m`, 200000 → `2d07h`. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}
