/**
 * Parses HAProxy's `show servers state [backend]`: a version line (`1`), a `# be_id be_name …` header, then one
 * space-separated row per server. Columns are read by the header's names, so versions that add columns still parse.
 */

/** `srv_op_state` values (HAProxy's enum srv_state). */
const OP_STATES: Record<string, string> = { '0': 'STOPPED', '1': 'STARTING', '2': 'RUNNING', '3': 'STOPPING' };

/** `srv_check_status` values (HAProxy's enum healthcheck_status; 6 = L4OK and 8 = L4CON measured on 2.6). */
const CHECK_STATUSES = [
  'UNK',
  'INI',
  'START',
  'CHECKED',
  'HANA',
  'SOCKERR',
  'L4OK',
  'L4TOUT',
  'L4CON',
  'L6OK',
  'L6TOUT',
  'L6RSP',
  'L7TOUT',
  'L7RSP',
  'L57DATA',
  'L7OKD',
  'L7OKCD',
  'L7STS',
  'PROCERR',
  'PROCTOUT',
  'PROCOK',
];

/** `srv_admin_state` bits (HAProxy's enum srv_admin). */
const ADMIN_BITS: Array<[number, string]> = [
  [0x01, 'MAINT'], // forced by the runtime API
  [0x02, 'MAINT(inherited)'],
  [0x04, 'MAINT(config)'],
  [0x08, 'DRAIN'], // forced by the runtime API
  [0x10, 'DRAIN(inherited)'],
  [0x20, 'MAINT(resolution)'],
  [0x40, 'MAINT(hostname)'],
];

export interface ServerStateRow {
  backend: string;
  server: string;
  addr: string;
  port?: number;
  /** STOPPED, STARTING, RUNNING, STOPPING (or the raw number when unknown). */
  opState: string;
  /** READY, or the admin flags joined with `+` (MAINT, DRAIN, …). */
  adminState: string;
  /** The last health check's status name (L4OK, L4CON, …), when checks run. */
  checkStatus?: string;
  /** Seconds since the server's state last changed. */
  secondsSinceChange?: number;
}

/** Parses the output (it may sit among other output); rows before a header or after a blank line are ignored. */
export function parseServersState(text: string): ServerStateRow[] {
  const rows: ServerStateRow[] = [];
  let cols: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('# be_id')) {
      cols = line.slice(2).trim().split(/\s+/);
      continue;
    }
    if (!cols) continue;
    if (line.trim() === '') {
      cols = undefined; // every runtime-API answer ends with a blank line
      continue;
    }
    const f = line.trim().split(/\s+/);
    if (f.length < cols.length - 2) continue;
    const header = cols;
    const get = (name: string): string | undefined => {
      const i = header.indexOf(name);
      return i < 0 ? undefined : f[i];
    };
    const port = Number(get('srv_port'));
    const since = Number(get('srv_time_since_last_change'));
    const check = get('srv_check_status');
    const checkState = Number(get('srv_check_state'));
    rows.push({
      backend: get('be_name') ?? '',
      server: get('srv_name') ?? '',
      addr: get('srv_addr') ?? '',
      port: Number.isInteger(port) && port > 0 ? port : undefined,
      opState: OP_STATES[get('srv_op_state') ?? ''] ?? get('srv_op_state') ?? '?',
      adminState: adminState(Number(get('srv_admin_state'))),
      // srv_check_state bit 0x02 = check configured; without it the status number means nothing.
      checkStatus:
        check !== undefined && (checkState & 0x02) !== 0 ? (CHECK_STATUSES[Number(check)] ?? check) : undefined,
      secondsSinceChange: Number.isFinite(since) ? since : undefined,
    });
  }
  return rows;
}

function adminState(bits: number): string {
  if (!Number.isFinite(bits) || bits === 0) return 'READY';
  const names = ADMIN_BITS.filter(([bit]) => (bits & bit) !== 0).map(([, n]) => n);
  return names.length ? names.join('+') : String(bits);
}
