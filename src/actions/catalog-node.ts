/**
 * Read actions (and one guarded restart) for the node-exporter family's everyday host alerts: disk and inodes, memory
 * and OOM kills, CPU and load, systemd units, the clock, network errors. Each needs only what a plain SSH user may run;
 * a tool missing on the host ends the action with exit 127 and one line that names the tool and the host.
 */

import { HAS_SYSTEMD, PATH_PRELUDE } from './shell-snippets';
import type { ActionSpec, ParamSpec } from './types';

/** The configured host's name, so "not installed on lb-1" names the host as the thread knows it. */
const hostName: ParamSpec = { from: 'host:name', type: 'name' };
/** node_filesystem_* alerts carry `mountpoint`; the root file system is `/`. */
const mountpoint: ParamSpec = { from: 'label:mountpoint', type: 'path', values: ['/'], optional: true };
/** node_systemd_unit_state carries the unit as `name` (e.g. `nginx.service`). */
const unit: ParamSpec = { from: 'label:name', type: 'name' };
/** node_network_* alerts carry `device`. */
const device: ParamSpec = { from: 'label:device', type: 'name', optional: true };

const READ = { risk: 'read', timeoutMs: 20_000, outputCap: 64 * 1024 } as const;

/** `need TOOL…`: stops with exit 127 and "`TOOL` is not installed on HOST" when a tool is missing. */
const NEED =
  'need() { for t in "$@"; do command -v "$t" >/dev/null 2>&1 || { echo "\\`$t\\` is not installed on $H"; exit 127; }; done; }';

function node(
  id: string,
  title: string,
  description: string,
  params: Record<string, ParamSpec>,
  vars: string,
  body: string[],
  extra: Partial<ActionSpec> = {},
): ActionSpec {
  return {
    id,
    title,
    description,
    params: { host: hostName, ...params },
    command: [PATH_PRELUDE, `H={host}${vars ? `; ${vars}` : ''}`, NEED, ...body].join('\n'),
    ...READ,
    ...extra,
  };
}

export const nodeActions: ActionSpec[] = [
  node(
    'disk-space',
    'Disk space and the largest directories',
    "`df` of the alert's mount (every file system without one) and the largest directories under it, on that file system only (`du -x`, bounded to 20 s).",
    { mountpoint },
    "M=''{mountpoint?{mountpoint}}",
    [
      'need df',
      'if [ -n "$M" ]; then echo "== df -hT $M"; df -hT -- "$M" 2>&1 || exit 1; else echo "== df -hT"; df -hT -x tmpfs -x devtmpfs -x overlay 2>&1; M=/; fi',
      'echo "== largest directories under $M (this file system only)"',
      'need du sort',
      'if command -v timeout >/dev/null 2>&1; then T="timeout 20"; else T=""; fi',
      '$T du -xh --max-depth=2 -- "$M" 2>/dev/null | sort -rh | head -n 15',
      '[ $? -eq 0 ] || echo "(du did not finish in 20 s: the sizes above are partial)"',
      'echo "== deleted files still held open (space not freed until the process closes them)"',
      'if command -v lsof >/dev/null 2>&1; then lsof -nP +L1 2>/dev/null | awk \'NR == 1 || $7 > 10485760\' | head -n 10; else echo "(lsof is not installed: skipped)"; fi',
    ],
    { timeoutMs: 30_000 },
  ),
  node(
    'inode-usage',
    'Inode use and the directories with most files',
    "`df -i` of the alert's mount and the directories holding the most files under it (this file system only, bounded to 20 s).",
    { mountpoint },
    "M=''{mountpoint?{mountpoint}}",
    [
      'need df',
      'if [ -n "$M" ]; then echo "== df -i $M"; df -i -- "$M" 2>&1 || exit 1; else echo "== df -i"; df -i -x tmpfs -x devtmpfs -x overlay 2>&1; M=/; fi',
      'echo "== directories with the most files under $M"',
      'need du sort',
      'if command -v timeout >/dev/null 2>&1; then T="timeout 20"; else T=""; fi',
      '$T du -x --inodes --max-depth=2 -- "$M" 2>/dev/null | sort -rn | head -n 15',
    ],
    { timeoutMs: 30_000 },
  ),
  node(
    'memory-usage',
    'Memory, swap and the top processes by memory',
    "`free -m`, swap devices, the kernel's view of available memory, and the 15 processes using the most resident memory.",
    {},
    '',
    [
      'need free ps',
      'echo "== free -m"; free -m',
      'echo "== swap"; if command -v swapon >/dev/null 2>&1; then swapon --show 2>&1 || true; else grep -E "^Swap" /proc/meminfo; fi',
      'echo "== /proc/meminfo"; grep -E \'^(MemTotal|MemAvailable|Buffers|Cached|Dirty|Shmem|Slab|SReclaimable|Committed_AS|CommitLimit):\' /proc/meminfo',
      'echo "== top 15 processes by resident memory"',
      'ps -eo pid,user,rss,vsz,pmem,etime,comm --sort=-rss | head -n 16',
    ],
  ),
  node(
    'oom-kills',
    'OOM kills in the kernel log',
    "The kernel's out-of-memory lines (`dmesg`, else the journal's kernel messages): which process was killed, when, and how big it was.",
    {},
    '',
    [
      "pat='out of memory|oom-kill|oom_reaper|killed process'",
      'if command -v dmesg >/dev/null 2>&1 && out=$(dmesg -T 2>&1); then',
      '  echo "== dmesg: OOM lines"',
      '  printf \'%s\\n\' "$out" | grep -iE "$pat" | tail -n 30 || echo "(no OOM lines in the kernel ring buffer)"',
      'elif command -v journalctl >/dev/null 2>&1 && out=$(journalctl -k --since "-2 days" --no-pager 2>&1) && ! printf %s "$out" | grep -q "^No journal files"; then',
      '  echo "== journal (kernel, 2 days): OOM lines"',
      '  printf \'%s\\n\' "$out" | grep -iE "$pat" | tail -n 30 || echo "(no OOM lines in the journal)"',
      'else',
      // dmesg_restrict=1 keeps the ring buffer from non-root users; without a journal there is nothing else to read.
      '  echo "cannot read the kernel log on $H as $(id -un): dmesg says \\"$(dmesg 2>&1 | head -n 1)\\" and there is no readable journal. Add the user to the adm/systemd-journal group or allow sudo dmesg."; exit 1',
      'fi',
      'echo "== oom_kill counter since boot: $(grep -E "^oom_kill " /proc/vmstat 2>/dev/null | cut -d" " -f2 || echo unknown)"',
    ],
  ),
  node(
    'cpu-load',
    'CPU load: vmstat and the top processes',
    'Load averages against the CPU count, `vmstat 1 3` (run queue, iowait, steal), and the 15 processes using the most CPU.',
    {},
    '',
    [
      'need vmstat ps',
      'echo "== load: $(cut -d" " -f1-3 /proc/loadavg) on $(nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo) CPU(s), $(uptime -p 2>/dev/null || echo "up $(cut -d" " -f1 /proc/uptime) s")"',
      'echo "== vmstat 1 3"; vmstat 1 3',
      'echo "== top 15 processes by CPU"',
      'ps -eo pid,user,pcpu,pmem,stat,etime,comm --sort=-pcpu | head -n 16',
    ],
  ),
  node(
    'unit-status',
    'systemd unit status',
    "`systemctl status` of the alert's unit, and the machine's failed units.",
    { unit },
    'U={unit}',
    [
      'need systemctl',
      `if ! { ${HAS_SYSTEMD}; }; then echo "systemd is not running on $H (no /run/systemd/system): there are no unit states to show"; exit 1; fi`,
      'echo "== systemctl status $U"; systemctl status --no-pager -n 20 -- "$U" 2>&1',
      'echo "== failed units"; systemctl --failed --no-pager --no-legend 2>&1 | head -n 20',
      'true',
    ],
  ),
  node(
    'unit-journal',
    "The unit's journal",
    "The last 80 journal lines of the alert's unit (`journalctl -u`).",
    { unit, lines: { from: 'input', type: 'int', default: 80, min: 1, max: 500 } },
    'U={unit}; N={lines}',
    [
      'need journalctl',
      'echo "== journalctl -u $U -n $N"',
      'out=$(journalctl -u "$U" -n "$N" --no-pager 2>&1); rc=$?',
      'printf \'%s\\n\' "$out"',
      'if printf %s "$out" | grep -q "^No journal files were found"; then echo "(the journal is empty or not readable by $(id -un) on $H: add it to the systemd-journal group)"; fi',
      'exit $rc',
    ],
  ),
  node(
    'clock-sync',
    'Clock and time synchronisation',
    'The clock against its NTP sources: `timedatectl`, `chronyc tracking` and `sources`, or `ntpq -p`, whichever the host has.',
    {},
    '',
    [
      'echo "== date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"',
      'found=""',
      `if command -v timedatectl >/dev/null 2>&1 && { ${HAS_SYSTEMD}; }; then found=1; echo "== timedatectl"; timedatectl status 2>&1; fi`,
      'if command -v chronyc >/dev/null 2>&1; then found=1; echo "== chronyc tracking"; chronyc tracking 2>&1; echo "== chronyc sources"; chronyc -n sources 2>&1; fi',
      'if [ -z "$found" ] && command -v ntpq >/dev/null 2>&1; then found=1; echo "== ntpq -p"; ntpq -pn 2>&1; fi',
      'if [ -z "$found" ]; then',
      '  command -v timedatectl >/dev/null 2>&1 && echo "(timedatectl is installed but systemd is not running on $H)"',
      '  echo "\\`chronyc\\` is not installed on $H (nor ntpq, nor a running timedatectl): nothing reports the clock\'s synchronisation"; exit 127',
      'fi',
    ],
  ),
  node(
    'network-errors',
    'Network interfaces: errors and drops',
    "`ip -s -s link` for the alert's interface (every interface without one): errors, drops, overruns, carrier changes.",
    { device },
    "D=''{device?{device}}",
    [
      'need ip',
      'if [ -n "$D" ]; then echo "== ip -s -s link show $D"; ip -s -s link show dev "$D" 2>&1; else echo "== ip -s -s link"; ip -s -s link 2>&1 | head -n 120; fi',
    ],
  ),
  {
    id: 'restart-unit',
    title: 'Restart the systemd unit',
    description:
      "Restarts the alert's systemd unit (`systemctl restart`, through `sudo -n` when not root), then shows whether it is active.",
    risk: 'change',
    params: { host: hostName, unit },
    command: [
      PATH_PRELUDE,
      'H={host}; U={unit}',
      NEED,
      'need systemctl',
      `if ! { ${HAS_SYSTEMD}; }; then echo "systemd is not running on $H: cannot restart $U"; exit 1; fi`,
      'if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -n"; need sudo; fi',
      'if ! out=$($SUDO systemctl restart -- "$U" 2>&1); then',
      '  echo "systemctl restart $U failed on $H: $out"',
      '  case "$out" in *password*|*sudoers*) echo "the SSH user $(id -un) may not run it: allow \\"sudo -n systemctl restart $U\\", or override commands.restart-unit for this host";; esac',
      '  exit 1',
      'fi',
      'sleep 2',
      'state=$(systemctl is-active -- "$U" 2>&1)',
      'echo "$U restarted on $H: $state"',
      'systemctl status --no-pager -n 5 -- "$U" 2>&1 | head -n 12',
      '[ "$state" = active ]',
    ].join('\n'),
    timeoutMs: 60_000,
    outputCap: 32 * 1024,
    verify: 'command',
  },
];
