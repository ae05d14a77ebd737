/**
 * Read actions for the HAProxy alert families (haproxy_exporter v1: labels `backend`, `frontend`, `server`; HAProxy's
 * embedded exporter v2: `proxy`, `server`): what the runtime API says about the alert's proxy — state, sessions and
 * queue, error and retry counters, response times, captured protocol errors, current sessions — and its log lines.
 * Data only, like the rest of the catalog: every value reaches the shell as a validated, single-quoted variable, and
 * awk receives names with -v, never as program text.
 */

import { PATH_PRELUDE, STATS_SOCKET } from './shell-snippets';
import type { ActionSpec, ParamSpec } from './types';

const socket: ParamSpec = { from: 'host:haproxy.socket', type: 'path' };
/** The alert's proxy: a backend (v1 `backend`, v2 `proxy`) or a frontend (v1 `frontend`). Aggregated alerts may lack it. */
const proxy: ParamSpec = { from: 'label:backend|proxy|frontend', type: 'name', optional: true };
const server: ParamSpec = { from: 'label:server', type: 'name', optional: true };

const READ = { risk: 'read', timeoutMs: 15_000, outputCap: 64 * 1024 } as const;

/** `P` and `SV` from the optional parameters; an empty value means "every proxy" / "every server". */
const PROXY_VARS = "S={socket}; P=''{proxy?{proxy}}; SV=''{server?{server}}";

/**
 * `show stat` rows of the alert's proxy (all proxies holding the alert's server when the alert names no proxy), with
 * the columns the runbooks ask about, found by name in the CSV header so a HAProxy version that adds columns works.
 */
const STAT_TABLE = [
  'q "show stat" | awk -F, -v p="$P" -v s="$SV" \'',
  'function v(n) { x = (n in h) ? $h[n] : ""; return x == "" ? "-" : x }',
  'NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) h[$i] = i; next }',
  '$1 == "" { next }',
  '{ rows[NR] = $0; px[NR] = $1; sv[NR] = $2; if (s != "" && $2 == s) hasServer[$1] = 1 }',
  'END {',
  '  fmt = "%-14s %-10s %-8s %5s %5s %5s %5s %5s %6s %6s %6s %6s %6s %7s %7s %6s %6s %s\\n"',
  '  printf fmt, "PROXY", "NAME", "STATUS", "SCUR", "SMAX", "SLIM", "QCUR", "QMAX", "EREQ", "ECON", "ERESP", "RETR", "REDIS", "4XX", "5XX", "RT_MS", "TT_MS", "CHECK"',
  '  n = 0',
  '  for (r = 2; r <= NR; r++) {',
  '    if (!(r in rows)) continue',
  '    if (p != "" && px[r] != p) continue',
  '    if (p == "" && s != "" && !(px[r] in hasServer)) continue',
  '    if (s != "" && sv[r] != s && sv[r] != "FRONTEND" && sv[r] != "BACKEND") continue',
  '    $0 = rows[r]; n++',
  '    printf fmt, substr($1, 1, 14), substr($2, 1, 10), v("status"), v("scur"), v("smax"), v("slim"), v("qcur"), v("qmax"), v("ereq"), v("econ"), v("eresp"), v("wretr"), v("wredis"), v("hrsp_4xx"), v("hrsp_5xx"), v("rtime"), v("ttime"), v("check_status")',
  '  }',
  '  if (n == 0) print "(no row for " (p != "" ? "proxy " p : "server " s) " in show stat)"',
  "}'",
].join('\n');

export const haproxyReadActions: ActionSpec[] = [
  {
    id: 'proxy-stats',
    title: 'Proxy stats: sessions, queue, errors, times',
    description:
      "`show stat` for the alert's proxy (or every backend holding the alert's server): status, current/max/limit sessions, queue, request/connection/response errors, retries and redispatches, 4xx/5xx, average response and total time, last check.",
    params: { socket, proxy, server },
    command: [
      PATH_PRELUDE,
      PROXY_VARS,
      STATS_SOCKET,
      'echo "== show stat${P:+ for $P}${SV:+ (server $SV)}"',
      STAT_TABLE,
    ].join('\n'),
    ...READ,
  },
  {
    id: 'haproxy-info',
    title: 'HAProxy process: show info',
    description:
      "The process's own figures (`show info`): version, uptime, current and maximum connections, connection and session rates, run queue, idle %.",
    params: { socket },
    command: [
      PATH_PRELUDE,
      'S={socket}',
      STATS_SOCKET,
      'echo "== show info"',
      "q 'show info' | grep -E '^(Name|Version|Release_date|Nbthread|Pid|Uptime|Memmax_MB|Ulimit-n|Maxsock|Maxconn|Hard_maxconn|CurrConns|CumConns|MaxConnRate|ConnRate|SessRate|MaxSessRate|CurrSslConns|SslRate|Tasks|Run_queue|Idle_pct|Stopping|Jobs|Unstoppable Jobs|Listeners|ActivePeers|BusyPolling|FailedResolutions|TotalBytesOut):'",
    ].join('\n'),
    ...READ,
  },
  {
    id: 'servers-state',
    title: 'Server state (show servers state)',
    description:
      "`show servers state` for the alert's backend, or the alert's server in every backend when the alert names no backend: operational and admin state, address, check result, weight.",
    params: { socket, proxy, server },
    command: [
      PATH_PRELUDE,
      PROXY_VARS,
      STATS_SOCKET,
      'echo "== show servers state${P:+ $P}${SV:+ (server $SV)}"',
      // Column names come from the `# be_id …` header; op_state 0 stopped, 1 starting, 2 running, 3 stopping.
      'q "show servers state $P" | awk -v s="$SV" \'',
      '/^# be_id/ { for (i = 2; i <= NF; i++) h[$i] = i - 1; printf "%-14s %-10s %-22s %-9s %-6s %-6s %s\\n", "BACKEND", "SERVER", "ADDRESS", "OP_STATE", "ADMIN", "WEIGHT", "CHECK"; next }',
      'NF < 6 || /^#/ { next }',
      's != "" && $h["srv_name"] != s { next }',
      '{ op = $h["srv_op_state"]; st = op == 0 ? "stopped" : op == 1 ? "starting" : op == 2 ? "running" : op == 3 ? "stopping" : op; n++',
      '  printf "%-14s %-10s %-22s %-9s %-6s %-6s %s\\n", $h["be_name"], $h["srv_name"], $h["srv_addr"] ":" $h["srv_port"], st, $h["srv_admin_state"], $h["srv_uweight"], $h["srv_check_status"] }',
      'END { if (n == 0) print "(no server" (s != "" ? " " s : "") " in show servers state)" }\'',
    ].join('\n'),
    ...READ,
  },
  {
    id: 'proxy-errors',
    title: 'Recent protocol errors (show errors)',
    description:
      "`show errors` for the alert's proxy: the last invalid requests and responses HAProxy captured, with the offending bytes.",
    params: { socket, proxy },
    command: [
      PATH_PRELUDE,
      "S={socket}; P=''{proxy?{proxy}}",
      STATS_SOCKET,
      'echo "== show errors${P:+ $P}"',
      'out=$(q "show errors $P")',
      // An unknown proxy is refused with a sentence; the capture list otherwise starts with its count.
      'printf \'%s\\n\' "$out" | head -n 150',
      'n=$(printf \'%s\\n\' "$out" | wc -l); [ "$n" -le 150 ] || echo "… $((n - 150)) more lines"',
    ].join('\n'),
    ...READ,
  },
  {
    id: 'proxy-sessions',
    title: 'Current sessions (show sess)',
    description:
      "`show sess`: how many sessions the process holds, how many are on the alert's proxy and server, and the oldest of them.",
    params: { socket, proxy, server },
    command: [
      PATH_PRELUDE,
      PROXY_VARS,
      STATS_SOCKET,
      'echo "== show sess${P:+ on $P}${SV:+ (server $SV)}"',
      // A busy load balancer holds many thousands of sessions: read a bounded number of lines.
      'q "show sess" | head -n 50000 | awk -v p="$P" -v s="$SV" \'',
      '/^0x/ { total++; fe = be = srv = ""; age = ""',
      '  for (i = 1; i <= NF; i++) { if ($i ~ /^fe=/) fe = substr($i, 4); else if ($i ~ /^be=/) be = substr($i, 4); else if ($i ~ /^srv=/) srv = substr($i, 5); else if ($i ~ /^age=/) age = substr($i, 5) }',
      '  byBe[be]++',
      '  if ((p == "" || fe == p || be == p) && (s == "" || srv == s)) { mine++; if (shown < 20) { line[++shown] = $0 } } }',
      'END {',
      '  printf "%d session(s) in all", total; if (p != "" || s != "") printf ", %d on %s%s", mine, (p != "" ? p : "*"), (s != "" ? "/" s : ""); print ""',
      '  for (b in byBe) printf "  backend %-14s %d\\n", (b == "" ? "(none)" : b), byBe[b]',
      '  for (i = 1; i <= shown; i++) print substr(line[i], 1, 220)',
      "}'",
    ].join('\n'),
    ...READ,
  },
  {
    id: 'proxy-log',
    title: "HAProxy log lines of the alert's proxy",
    description:
      "The last lines of HAProxy's log (file or journal) that name the alert's proxy (as frontend or backend) and server; with neither label, the last lines.",
    params: {
      log: { from: 'host:haproxy.log', type: 'path', values: ['journal'] },
      service: { from: 'host:haproxy.service', type: 'name' },
      lines: { from: 'input', type: 'int', default: 50, min: 1, max: 500 },
      proxy,
      server,
    },
    command: [
      PATH_PRELUDE,
      "L={log}; N={lines}; SVC={service}; P=''{proxy?{proxy}}; SV=''{server?{server}}",
      'if [ "$L" = journal ]; then',
      '  command -v journalctl >/dev/null 2>&1 || { echo "journalctl is not installed on $(hostname): cannot read the journal of $SVC"; exit 127; }',
      '  src() { journalctl -u "$SVC" -n 5000 --no-pager 2>&1; }',
      'else',
      '  [ -r "$L" ] || { echo "log file $L is missing or not readable by $(id -un)"; exit 1; }',
      '  src() { tail -n 5000 -- "$L"; }',
      'fi',
      // HAProxy's log line names `frontend[~] backend/server`; names are [A-Za-z0-9._:-], so only `.` needs escaping.
      "e() { printf '%s' \"$1\" | sed 's/[.]/\\\\./g'; }",
      'if [ -n "$P" ] && [ -n "$SV" ]; then re=" $(e "$P")/$(e "$SV")( |$)"; what="$P/$SV"',
      'elif [ -n "$P" ]; then re=" $(e "$P")(~? |/)"; what="$P"',
      'elif [ -n "$SV" ]; then re="/$(e "$SV")( |$)"; what="server $SV"',
      'else re=""; what=""; fi',
      'if [ -n "$re" ]; then',
      '  echo "== last $N lines of $L naming $what"',
      '  out=$(src | grep -E -- "$re" | tail -n "$N")',
      'else',
      '  echo "== last $N lines of $L"',
      '  out=$(src | tail -n "$N")',
      'fi',
      'if [ -n "$out" ]; then printf \'%s\\n\' "$out"; else echo "(no matching lines in the last 5000)"; fi',
    ].join('\n'),
    ...READ,
  },
];
