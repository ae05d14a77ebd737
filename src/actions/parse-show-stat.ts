/**
 * Parses HAProxy's `show stat`: CSV whose first line is the header `# pxname,svname,…` (status is field 18), one row
 * per frontend, server and backend. Fields are read by the header's names.
 */

export interface StatRow {
  proxy: string;
  /** Server name, or FRONTEND / BACKEND. */
  name: string;
  /** UP, DOWN, MAINT, DRAIN, NOLB, OPEN, `UP 1/3` (going down), `no check`, … */
  status: string;
  /** Last check result: L4OK, L4CON, L7STS, … (a leading `* ` marks a check in progress and is dropped). */
  checkStatus?: string;
  checkDesc?: string;
  /** Seconds since the last UP/DOWN transition. */
  lastChange?: number;
  addr?: string;
  /** All fields by header name, for callers that need more. */
  fields: Record<string, string>;
}

/** Parses the CSV (it may sit among other output); lines before the header or after a blank line are ignored. */
export function parseShowStat(text: string): StatRow[] {
  const rows: StatRow[] = [];
  let cols: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('# pxname,')) {
      cols = line.slice(2).split(',');
      continue;
    }
    if (!cols) continue;
    if (line.trim() === '') {
      cols = undefined;
      continue;
    }
    // HAProxy's CSV never quotes: names cannot hold commas, and descriptions have them replaced.
    const f = line.split(',');
    const fields: Record<string, string> = {};
    cols.forEach((c, i) => {
      if (c && c !== '-') fields[c] = f[i] ?? '';
    });
    const lastchg = fields.lastchg === '' || fields.lastchg === undefined ? undefined : Number(fields.lastchg);
    rows.push({
      proxy: fields.pxname ?? '',
      name: fields.svname ?? '',
      status: fields.status ?? '',
      checkStatus: fields.check_status ? fields.check_status.replace(/^\* /, '') : undefined,
      checkDesc: fields.check_desc || undefined,
      lastChange: lastchg !== undefined && Number.isFinite(lastchg) ? lastchg : undefined,
      addr: fields.addr || undefined,
      fields,
    });
  }
  return rows;
}
