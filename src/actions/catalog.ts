/**
 * The built-in actions for HAProxy load balancers. Data only: each command is a template filled by buildCommand with
 * validated, single-quoted values assigned to shell variables first, so the shell code below only ever sees "$VAR".
 * Every command degrades with a clear message when a tool is missing, because load balancers differ.
 */

import { haproxyReadActions } from './catalog-haproxy';
import { nodeActions } from './catalog-node';
import { withVerdicts } from './catalog-verdicts';
import { HAS_SYSTEMD, PATH_PRELUDE, STATS_SOCKET } from './shell-snippets';
import type { ActionSpec, ParamSpec } from './types';

/**
 * Sets $LIVE to the pids in $PIDF that are haproxy running config $C, and stops when the file names a live process
 * that is not: a stale pid file may name whatever process got that pid since, and `-sf`/`-st` would signal it. A
 * pid that no longer exists is skipped (haproxy is not running). The process is read with `ps` (or /proc): its name,
 * its arguments (the config) and, on Linux, its executable (`/proc/<pid>/exe`, issue #19 §9).
 */
const HAPROXY_PIDS = [
  'LIVE=""',
  'for pid in $(cat "$PIDF" 2>/dev/null); do',
  '  exe=""',
  '  case "$pid" in *[!0-9]*) echo "pid file $PIDF holds "$pid", not a pid: nothing was signalled. Write the running haproxy\'s pid to $PIDF (pgrep -a haproxy) or remove the file, then try again."; exit 1;; esac',
  '  comm=$(ps -o comm= -p "$pid" 2>/dev/null || cat "/proc/$pid/comm" 2>/dev/null)',
  '  [ -n "$comm" ] || continue',
  '  args=$(ps -o args= -p "$pid" 2>/dev/null || tr \'\\0\' \' \' <"/proc/$pid/cmdline" 2>/dev/null)',
  '  case " $args " in *" $C "*) ours=yes;; *) ours=no;; esac',
  // A process may name itself haproxy and carry the config path in its arguments; its executable it cannot choose.
  // A binary replaced by an upgrade reads "<path> (deleted)". Without /proc (not Linux) the name and config decide.
  '  if [ -d "/proc/$pid" ]; then',
  '    exe=$(readlink "/proc/$pid/exe" 2>/dev/null); exe=${exe% (deleted)}',
  '    if [ -z "$exe" ]; then echo "cannot read /proc/$pid/exe to check that pid $pid in $PIDF is haproxy: nothing was signalled. Run the command as haproxy\'s user or root (hosts[].commands)."; exit 1; fi',
  '    [ "${exe##*/}" = haproxy ] || comm="$comm (executable $exe)"',
  '  fi',
  '  if [ "$comm" != haproxy ] || [ "$ours" != yes ]; then',
  '    echo "stale pid file $PIDF: pid $pid is not haproxy running $C, it is: $(printf \'%.200s\' "$args")${exe:+ (executable ${exe})}"',
  '    echo "Nothing was signalled. Find the running haproxy (pgrep -a haproxy), write its pid to $PIDF or remove the file, then try again."',
  '    exit 1',
  '  fi',
  '  LIVE="$LIVE $pid"',
  'done',
].join('\n');

const p = {
  socket: { from: 'host:haproxy.socket', type: 'path' },
  config: { from: 'host:haproxy.config', type: 'path' },
  service: { from: 'host:haproxy.service', type: 'name' },
  pidFile: { from: 'host:haproxy.pidFile', type: 'path' },
  // The haproxy_exporter (v1) labels a backend `backend`; HAProxy's embedded exporter (v2) labels it `proxy`.
  backend: { from: 'label:backend|proxy', type: 'name' },
  server: { from: 'label:server', type: 'name' },
} satisfies Record<string, ParamSpec>;

const READ = { timeoutMs: 15_000, outputCap: 64 * 1024 } as const;
const CHANGE = { timeoutMs: 30_000, outputCap: 32 * 1024 } as const;

function setServerState(state: 'drain' | 'maint' | 'ready', title: string, description: string): ActionSpec {
  return {
    id: state,
    title,
    description,
    risk: 'change',
    params: { socket: p.socket, backend: p.backend, server: p.server },
    command: [
      PATH_PRELUDE,
      'S={socket}; B={backend}; SV={server}',
      STATS_SOCKET,
      `out=$(q "set server $B/$SV state ${state}" 2>&1)`,
      // HAProxy answers an empty line on success and a sentence ("No such server.") on failure.
      'if [ -n "$(printf %s "$out" | tr -d \'[:space:]\')" ]; then echo "HAProxy refused: $out"; exit 1; fi',
      `echo "$B/$SV set to ${state}"`,
      'q "show servers state $B" | awk -v s="$SV" \'NR == 2 || $4 == s\'',
    ].join('\n'),
    ...CHANGE,
  };
}

const actions: ActionSpec[] = [
  {
    id: 'log-tail',
    title: 'Tail the HAProxy log',
    description:
      "The last lines of HAProxy's log (file or journal), by default only those naming the alert's backend/server.",
    risk: 'read',
    params: {
      log: { from: 'host:haproxy.log', type: 'path', values: ['journal'] },
      service: p.service,
      lines: { from: 'input', type: 'int', default: 50, min: 1, max: 500 },
      filter: { from: 'input', type: 'enum', values: ['alert', 'all'], default: 'alert' },
      backend: { ...p.backend, optional: true },
      server: { ...p.server, optional: true },
    },
    command: [
      PATH_PRELUDE,
      "L={log}; N={lines}; SVC={service}; P=''{backend?{backend}/}{server?{server}}",
      "[ {filter} = all ] && P=''",
      'if [ "$L" = journal ]; then',
      '  command -v journalctl >/dev/null 2>&1 || { echo "journalctl is not installed: cannot read the journal of $SVC"; exit 127; }',
      '  src() { journalctl -u "$SVC" -n 5000 --no-pager 2>&1; }',
      'else',
      '  [ -r "$L" ] || { echo "log file $L is missing or not readable by $(id -un)"; exit 1; }',
      '  src() { tail -n 5000 -- "$L"; }',
      'fi',
      'if [ -n "$P" ]; then',
      '  echo "== last $N lines of $L mentioning $P"',
      '  out=$(src | grep -F -- "$P" | tail -n "$N")',
      'else',
      '  echo "== last $N lines of $L"',
      '  out=$(src | tail -n "$N")',
      'fi',
      'if [ -n "$out" ]; then printf \'%s\\n\' "$out"; else echo "(no matching lines in the last 5000)"; fi',
    ].join('\n'),
    ...READ,
  },
  {
    id: 'status-check',
    title: 'HAProxy process and sockets',
    description:
      'Is the service running (systemd or process list), which ports it listens on, and its version, pid and uptime.',
    risk: 'read',
    params: { service: p.service, socket: p.socket },
    command: [
      PATH_PRELUDE,
      'SVC={service}; S={socket}',
      'echo "== service $SVC"',
      `if ${HAS_SYSTEMD}; then`,
      '  echo "systemd: $(systemctl is-active "$SVC" 2>&1)"; systemctl status "$SVC" --no-pager -n 0 2>&1 | head -n 6',
      'elif command -v pgrep >/dev/null 2>&1; then',
      '  pgrep -a -x haproxy || echo "no haproxy process is running"',
      'else',
      '  echo "neither systemd nor pgrep is available: process state unknown"',
      'fi',
      'echo "== listening TCP sockets"',
      'if command -v ss >/dev/null 2>&1; then ss -ltnp 2>&1 | head -n 40; else echo "ss is not installed"; fi',
      'echo "== show info"',
      'if ! command -v socat >/dev/null 2>&1; then echo "socat is not installed: show info skipped";',
      'elif [ ! -S "$S" ]; then echo "stats socket $S does not exist";',
      'else printf \'show info\\n\' | socat -T2 stdio "UNIX-CONNECT:$S" 2>&1 | grep -E \'^(Name|Version|Release_date|Pid|Uptime|CurrConns|Maxconn|Stopping):\' || echo "no answer on $S"; fi',
    ].join('\n'),
    ...READ,
  },
  {
    id: 'config-check',
    title: 'Check the HAProxy config',
    description: 'Runs `haproxy -c -f` on the configuration file.',
    risk: 'read',
    params: { config: p.config },
    command: [
      PATH_PRELUDE,
      'C={config}',
      'command -v haproxy >/dev/null 2>&1 || { echo "haproxy is not installed in PATH on $(hostname)"; exit 127; }',
      '[ -r "$C" ] || { echo "config $C is missing or not readable by $(id -un)"; exit 1; }',
      'haproxy -c -f "$C" 2>&1',
    ].join('\n'),
    ...READ,
  },
  {
    id: 'backend-state',
    title: 'Backend state',
    description:
      "HAProxy's own view of the alert's backend: `show servers state` and `show stat` over the stats socket.",
    risk: 'read',
    params: { socket: p.socket, backend: p.backend },
    command: [
      PATH_PRELUDE,
      'S={socket}; B={backend}',
      STATS_SOCKET,
      'echo "== show servers state $B"',
      'q "show servers state $B"',
      'echo "== show stat"',
      'q "show stat" | awk -F, -v b="$B" \'NR == 1 || $1 == b\'',
    ].join('\n'),
    render: 'backend-state',
    ...READ,
  },
  {
    id: 'connectivity-check',
    title: 'Connect from the LB to the server',
    description:
      "A bounded TCP connect from the load balancer to the alert's server, at the address and port HAProxy uses for it (looked up in `show servers state`); optionally an HTTP GET.",
    risk: 'read',
    params: {
      socket: p.socket,
      backend: p.backend,
      server: p.server,
      timeout: { from: 'input', type: 'int', default: 3, min: 1, max: 10 },
      httpPath: { from: 'input', type: 'path', optional: true },
    },
    command: [
      PATH_PRELUDE,
      "S={socket}; B={backend}; SV={server}; T={timeout}; HP=''{httpPath?{httpPath}}",
      STATS_SOCKET,
      // Columns are found by name in the `# be_id …` header, so a HAProxy version that adds columns still works.
      'row=$(q "show servers state $B" | awk -v s="$SV" \'/^# be_id/ { for (i = 2; i <= NF; i++) h[$i] = i - 1 } $4 == s { print $h["srv_addr"], $h["srv_port"] }\')',
      '[ -n "$row" ] || { echo "server $B/$SV is not in \'show servers state $B\'"; exit 1; }',
      'A=${row% *}; P=${row#* }',
      'case "$A" in ""|*[!0-9A-Za-z.:-]*) echo "unexpected address from HAProxy: $A"; exit 1;; esac',
      'case "$P" in ""|*[!0-9]*) echo "unexpected port from HAProxy: $P"; exit 1;; esac',
      'echo "== TCP connect from $(hostname) to $A port $P (HAProxy\'s address for $B/$SV), timeout ${T}s"',
      'command -v timeout >/dev/null 2>&1 || { echo "timeout is not installed"; exit 127; }',
      'command -v bash >/dev/null 2>&1 || { echo "bash is not installed (needed for /dev/tcp)"; exit 127; }',
      // The address and port are positional arguments of the inner shell: never part of its code.
      // Milliseconds from GNU date's %N (busybox prints a literal N: the time is then left out).
      'now_ms() { t=$(date +%s%N 2>/dev/null); case "$t" in ""|*[!0-9]*) echo "";; *) echo $((t / 1000000));; esac; }',
      't0=$(now_ms)',
      'err=$(timeout "$T" bash -c \'exec 3<>"/dev/tcp/$1/$2"\' connect "$A" "$P" 2>&1); rc=$?',
      't1=$(now_ms); IN=""; [ -n "$t0" ] && [ -n "$t1" ] && IN=" in $((t1 - t0)) ms"',
      'if [ $rc -eq 0 ]; then echo "connected$IN";',
      'elif [ $rc -eq 124 ]; then echo "timed out after ${T}s";',
      'else case "$err" in *refused*) echo "refused$IN";; *) echo "failed$IN: ${err##*: }";; esac; fi',
      'if [ -n "$HP" ]; then',
      '  case "$A" in *:*) U="http://[$A]:$P$HP";; *) U="http://$A:$P$HP";; esac',
      '  if command -v curl >/dev/null 2>&1; then echo "== HTTP GET $U"; curl -sS -o /dev/null -m "$T" -w \'HTTP %{http_code} in %{time_total}s\\n\' "$U" 2>&1;',
      '  else echo "curl is not installed: HTTP check skipped"; fi',
      'fi',
      '[ $rc -eq 0 ]',
    ].join('\n'),
    ...READ,
  },
  {
    id: 'recent-changes',
    title: 'Recent changes on the LB',
    description:
      'Config modification time and diff against the kept previous copy, recent haproxy/openssl package changes, recent logins.',
    risk: 'read',
    params: { config: p.config, previousConfig: { from: 'host:haproxy.previousConfig', type: 'path', optional: true } },
    command: [
      PATH_PRELUDE,
      "C={config}; PREV=''{previousConfig?{previousConfig}}",
      'echo "== config $C"',
      'if [ ! -e "$C" ]; then echo "$C does not exist"; elif command -v stat >/dev/null 2>&1; then stat -c \'modified %y by uid %u (%U), mode %a, %s bytes\' "$C"; else ls -l "$C"; fi',
      'if [ -n "$PREV" ]; then',
      '  echo "== diff $PREV $C"',
      '  if ! command -v diff >/dev/null 2>&1; then echo "diff is not installed";',
      '  elif [ ! -r "$PREV" ]; then echo "$PREV is missing or not readable";',
      '  else d=$(diff -u -- "$PREV" "$C" 2>&1); if [ -n "$d" ]; then printf \'%s\\n\' "$d" | head -n 200; else echo "(no differences)"; fi; fi',
      'else',
      '  echo "== no previousConfig configured for this host: diff skipped"',
      'fi',
      'echo "== package changes (haproxy, openssl)"',
      // dpkg.log has one short line per action; apt's history.log lists whole transactions on one line, too long here.
      'if [ -r /var/log/dpkg.log ]; then',
      "  grep -hE ' (install|upgrade|remove|purge) [^ ]*(haproxy|openssl|libssl)' /var/log/dpkg.log | tail -n 10 | cut -c1-200",
      'else echo "/var/log/dpkg.log is missing or not readable"; fi',
      'echo "== recent logins"',
      'if command -v last >/dev/null 2>&1; then last -n 10 2>&1 | head -n 12;',
      'elif command -v lastlog >/dev/null 2>&1; then lastlog 2>&1 | grep -v "Never logged in" | head -n 12;',
      'else echo "neither last nor lastlog is installed"; fi',
      'true',
    ].join('\n'),
    ...READ,
  },
  {
    id: 'version-check',
    title: 'HAProxy version and package',
    description:
      "The running binary's version and build (`haproxy -vv`), the installed package and the candidate from apt.",
    risk: 'read',
    params: {},
    command: [
      PATH_PRELUDE,
      'echo "== haproxy -vv"',
      'if command -v haproxy >/dev/null 2>&1; then haproxy -vv 2>&1 | head -n 12; else echo "haproxy is not installed in PATH"; fi',
      'echo "== package"',
      "if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W -f='${Package} ${Version} ${Status}\\n' haproxy 2>&1;",
      'elif command -v rpm >/dev/null 2>&1; then rpm -q haproxy 2>&1;',
      'else echo "no dpkg-query or rpm: package version unknown"; fi',
      'if command -v apt-cache >/dev/null 2>&1; then apt-cache policy haproxy 2>&1 | head -n 4; fi',
    ].join('\n'),
    ...READ,
  },
  {
    id: 'reload',
    title: 'Reload HAProxy (config checked first)',
    description:
      'Checks the config with `haproxy -c -f`, then reloads: `systemctl reload` under systemd, else a hitless `-sf` reload of the haproxy the pid file names (refused when that pid is no longer haproxy with this config).',
    risk: 'change',
    params: { config: p.config, service: p.service, pidFile: p.pidFile },
    command: [
      PATH_PRELUDE,
      'C={config}; SVC={service}; PIDF={pidFile}',
      'command -v haproxy >/dev/null 2>&1 || { echo "haproxy is not installed in PATH"; exit 127; }',
      'out=$(haproxy -c -f "$C" 2>&1) || { echo "config check failed, NOT reloading:"; printf \'%s\\n\' "$out"; exit 1; }',
      'printf \'%s\\n\' "$out"',
      `if ${HAS_SYSTEMD}; then`,
      '  systemctl reload "$SVC" 2>&1 && echo "reloaded $SVC"',
      'elif [ -r "$PIDF" ]; then',
      HAPROXY_PIDS,
      '  [ -n "$LIVE" ] || { echo "haproxy is not running (no live pid in $PIDF): nothing to reload; use Restart HAProxy to start it"; exit 1; }',
      '  haproxy -f "$C" -D -p "$PIDF" -sf $LIVE 2>&1 && echo "reloaded (new pid $(cat "$PIDF"))"',
      'else',
      '  echo "no systemd and no pid file $PIDF: cannot reload"; exit 1',
      'fi',
    ].join('\n'),
    ...CHANGE,
  },
  {
    id: 'restart',
    title: 'Restart HAProxy',
    description:
      'Restarts the service: `systemctl restart` under systemd, else a hard `-st` restart of the haproxy the pid file names (refused when that pid is no longer haproxy with this config). Drops live connections.',
    risk: 'change',
    params: { config: p.config, service: p.service, pidFile: p.pidFile },
    command: [
      PATH_PRELUDE,
      'C={config}; SVC={service}; PIDF={pidFile}',
      `if ${HAS_SYSTEMD}; then`,
      '  systemctl restart "$SVC" 2>&1 && echo "restarted $SVC: $(systemctl is-active "$SVC")"',
      'elif [ -r "$PIDF" ] && command -v haproxy >/dev/null 2>&1; then',
      HAPROXY_PIDS,
      '  [ -n "$LIVE" ] || echo "haproxy is not running (no live pid in $PIDF): starting it"',
      '  haproxy -f "$C" -D -p "$PIDF" ${LIVE:+-st $LIVE} 2>&1 && echo "restarted (new pid $(cat "$PIDF"))"',
      'else',
      '  echo "no systemd, and no pid file $PIDF or haproxy binary: cannot restart"; exit 1',
      'fi',
    ].join('\n'),
    ...CHANGE,
  },
  setServerState(
    'drain',
    'Drain the server',
    "Sets the alert's server to DRAIN over the stats socket: no new connections, existing ones finish.",
  ),
  setServerState(
    'maint',
    'Put the server in maintenance',
    "Sets the alert's server to MAINT over the stats socket: taken out of rotation, checks stop.",
  ),
  setServerState(
    'ready',
    'Return the server to service',
    "Sets the alert's server back to READY over the stats socket (undoes drain or maint).",
  ),
  ...haproxyReadActions,
  ...nodeActions,
];

/** The built-in catalog: every action with its verdict rules and triage mark (catalog-verdicts.ts). */
export const builtinActions: ActionSpec[] = actions.map(withVerdicts);
