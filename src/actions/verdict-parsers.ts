/**
 * Verdict parsers: pure functions from a catalog read action's output (as the command prints it, sections headed
 * `== …`) to a few named facts that verdict rules test. Each parser lists the facts it may give, so a rule naming
 * another is refused at load. A parser never throws: what it cannot read is left out, and rules on it do not hold.
 */
import { parseServersState } from './parse-servers-state';
import { parseShowStat } from './parse-show-stat';

export type Facts = Record<string, string | number | boolean>;

interface VerdictParser {
  /** The facts it may give. */
  facts: readonly string[];
  parse(stdout: string, labels: Record<string, string>): Facts;
}

/** 57 → `57 s`, 200 → `3 min`, 7300 → `2 h`, 270000 → `3 d`: a verdict line's rough age. */
export function roughAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

/** The lines of the section headed `== <title…>` (up to the next `== `), without the heading. */
function section(stdout: string, title: string): string[] | undefined {
  const lines = stdout.split(/\r?\n/);
  const start = lines.findIndex((l) => l.startsWith(`== ${title}`));
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && l.startsWith('== '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

function oneLine(text: string, max = 160): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function backendOf(labels: Record<string, string>): string {
  return labels.backend ?? labels.proxy ?? '';
}

/** `backend-state`: the alert's server as HAProxy sees it, and how many of its backend's servers are up. */
const backendState: VerdictParser = {
  facts: ['answered', 'found', 'server', 'backend', 'status', 'check', 'checkInfo', 'since', 'up', 'total'],
  parse(stdout, labels) {
    const backend = backendOf(labels);
    const server = labels.server ?? '';
    const stat = parseShowStat(stdout).filter(
      (r) => r.proxy === backend && r.name !== 'BACKEND' && r.name !== 'FRONTEND',
    );
    const state = parseServersState(stdout).filter((r) => r.backend === backend);
    const facts: Facts = { server, backend, answered: stat.length > 0 || state.length > 0 };
    facts.total = stat.length || state.length;
    facts.up = stat.length
      ? stat.filter((r) => r.status.startsWith('UP')).length
      : state.filter((r) => r.opState === 'RUNNING').length;
    const row = stat.find((r) => r.name === server);
    facts.found = row !== undefined || state.some((r) => r.server === server);
    if (!row) return facts;
    facts.status = row.status.split(' ')[0];
    if (row.checkStatus) facts.check = row.checkStatus;
    // last_chk holds the check's own words ("Connection refused"); check_desc the family ("Layer4 timeout").
    const detail = row.fields.last_chk || row.checkDesc;
    facts.checkInfo = [row.checkStatus, detail?.toLowerCase()].filter(Boolean).join(' ') || 'no check';
    if (row.lastChange !== undefined) facts.since = roughAge(row.lastChange);
    return facts;
  },
};

/** `status-check`: is this host's haproxy answering on its stats socket, its pid, uptime and listening ports. */
const haproxyProcess: VerdictParser = {
  facts: ['running', 'pid', 'uptime', 'listening', 'processes', 'systemd'],
  parse(stdout) {
    const facts: Facts = {};
    const info = section(stdout, 'show info') ?? [];
    const pid = info.map((l) => /^Pid: (\d+)/.exec(l)?.[1]).find(Boolean);
    // Only the stats socket says the haproxy of *this* config runs: another haproxy on the host may be anyone's.
    facts.running = pid !== undefined;
    if (pid) facts.pid = Number(pid);
    const up = info.map((l) => /^Uptime: (\d+)d (\d+)h(\d+)m(\d+)s/.exec(l)).find(Boolean);
    if (up) facts.uptime = roughAge(+up[1] * 86400 + +up[2] * 3600 + +up[3] * 60 + +up[4]);
    const service = section(stdout, 'service') ?? [];
    const systemd = service.map((l) => /^systemd: (\S+)/.exec(l)?.[1]).find(Boolean);
    if (systemd) facts.systemd = systemd;
    facts.processes = service.filter((l) => /^\d+ /.test(l) && !/<defunct>/.test(l)).length;
    const sockets = section(stdout, 'listening TCP sockets') ?? [];
    const ports = sockets
      .filter((l) => /users:\(\("haproxy"/.test(l) && (!pid || l.includes(`pid=${pid},`)))
      .map((l) => /:(\d+)$/.exec(l.trim().split(/\s+/)[3] ?? '')?.[1])
      .filter((p): p is string => Boolean(p));
    facts.listening = ports.length ? [...new Set(ports)].map((p) => `:${p}`).join(' ') : 'no port seen';
    return facts;
  },
};

/** `config-check`: `haproxy -c -f` said valid, or the first error and its line. */
const haproxyConfig: VerdictParser = {
  facts: ['valid', 'line', 'error', 'warnings'],
  parse(stdout) {
    const lines = stdout.split(/\r?\n/);
    const facts: Facts = {
      valid: lines.some((l) => l.trim() === 'Configuration file is valid'),
      warnings: lines.filter((l) => l.startsWith('[WARNING]')).length,
    };
    const alert =
      lines.find((l) => l.startsWith('[ALERT]') && /parsing \[/.test(l)) ?? lines.find((l) => l.startsWith('[ALERT]'));
    if (alert) {
      const m = /parsing \[[^\]]*:(\d+)\]\s*:\s*(.*)$/.exec(alert);
      if (m) {
        facts.line = Number(m[1]);
        facts.error = oneLine(m[2].replace(/;\s*did you mean.*$/, ''));
      } else facts.error = oneLine(alert.replace(/^\[ALERT\]\s*(\(\d+\)\s*)?:\s*/, ''));
    } else if (!facts.valid) {
      facts.error = oneLine(lines.find((l) => l.trim() !== '') ?? 'no output');
    }
    return facts;
  },
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Seconds within a year of a syslog (`Dec  6 16:11:50`) or ISO stamp, for spans only; undefined when none. */
function stampSeconds(line: string): number | undefined {
  const iso = /(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)/.exec(line);
  if (iso) return Date.UTC(+iso[1], +iso[2] - 1, +iso[3], +iso[4], +iso[5], +iso[6]) / 1000;
  const sys = /\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d\d):(\d\d):(\d\d)/.exec(line);
  if (!sys) return undefined;
  return Date.UTC(2000, MONTHS.indexOf(sys[1]), +sys[2], +sys[3], +sys[4], +sys[5]) / 1000;
}

/** `log-tail` / `proxy-log`: how many lines name the alert's server, over what span, and what the last one says. */
const haproxyLog: VerdictParser = {
  facts: ['readable', 'lines', 'span', 'last', 'lastState', 'about'],
  parse(stdout, labels) {
    const about = [backendOf(labels), labels.server].filter(Boolean).join('/') || 'the proxy';
    const all = stdout.split(/\r?\n/);
    const headed = all.some((l) => l.startsWith('== last '));
    const lines = all.filter((l) => l.trim() !== '' && !l.startsWith('== ') && !l.startsWith('(no matching lines'));
    const facts: Facts = { about, readable: headed, lines: headed ? lines.length : 0 };
    if (!headed) {
      facts.last = oneLine(all.find((l) => l.trim() !== '') ?? 'no output');
      return facts;
    }
    if (!lines.length) return facts;
    const lastLine = lines[lines.length - 1];
    facts.last = oneLine(lastLine.replace(/^.*?haproxy\[\d+\]:\s*/, ''), 140);
    facts.lastState = /is DOWN\b/.test(lastLine)
      ? 'DOWN'
      : /\bis UP\b/.test(lastLine)
        ? 'UP'
        : /maintenance/i.test(lastLine)
          ? 'MAINT'
          : /drain/i.test(lastLine)
            ? 'DRAIN'
            : 'other';
    const first = stampSeconds(lines[0]);
    const last = stampSeconds(lastLine);
    if (first !== undefined && last !== undefined && last >= first) facts.span = roughAge(last - first);
    return facts;
  },
};

/** `connectivity-check`: the TCP connect from the load balancer to the server: connected, refused or timed out. */
const tcpConnect: VerdictParser = {
  facts: ['result', 'addr', 'port', 'ms', 'timeoutSec', 'detail', 'server'],
  parse(stdout, labels) {
    const facts: Facts = { server: labels.server ?? '' };
    const head = /^== TCP connect from \S+ to (\S+) port (\d+) .*timeout (\d+)s/m.exec(stdout);
    if (head) {
      facts.addr = head[1];
      facts.port = Number(head[2]);
      facts.timeoutSec = Number(head[3]);
    }
    const res = /^(connected|refused|timed out|failed)(?: in (\d+) ms)?(?: after \d+s)?:?\s*(.*)$/m.exec(stdout);
    if (!res) {
      facts.result = 'unknown';
      facts.detail = oneLine(stdout.split(/\r?\n/).find((l) => l.trim() !== '' && !l.startsWith('== ')) ?? 'no output');
      return facts;
    }
    facts.result = res[1] === 'timed out' ? 'timeout' : res[1];
    if (res[2]) facts.ms = Number(res[2]);
    if (res[3]) facts.detail = oneLine(res[3]);
    return facts;
  },
};

/** `disk-space`: the alert's mount: use %, free and size, and the largest directory under it. */
const diskSpace: VerdictParser = {
  facts: ['mount', 'usePct', 'avail', 'size', 'biggest'],
  parse(stdout, labels) {
    const df = section(stdout, 'df -hT') ?? [];
    const rows = df
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 7 && /^\d+%$/.test(f[5]))
      .map((f) => ({ size: f[2], avail: f[4], pct: Number(f[5].slice(0, -1)), mount: f.slice(6).join(' ') }));
    const want = labels.mountpoint;
    const row = rows.find((r) => r.mount === want) ?? [...rows].sort((a, b) => b.pct - a.pct)[0];
    const facts: Facts = {};
    if (row) Object.assign(facts, { mount: row.mount, usePct: row.pct, avail: row.avail, size: row.size });
    const dirs = (section(stdout, 'largest directories') ?? [])
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 2);
    const biggest = dirs.find((f) => f[1] !== row?.mount);
    facts.biggest = biggest ? `${biggest[1]} ${biggest[0]}` : 'unknown';
    return facts;
  },
};

/** `memory-usage`: available memory and swap from `free -m`, and the process holding the most. */
const freeMemory: VerdictParser = {
  facts: ['availPct', 'availMb', 'totalMb', 'swapPct', 'topMem'],
  parse(stdout) {
    const facts: Facts = {};
    const free = section(stdout, 'free -m') ?? [];
    const mem = free.map((l) => /^Mem:\s+(\d+)\s+\d+\s+\d+\s+\d+\s+\d+\s+(\d+)/.exec(l)).find(Boolean);
    if (mem) {
      facts.totalMb = Number(mem[1]);
      facts.availMb = Number(mem[2]);
      facts.availPct = facts.totalMb > 0 ? Math.round((facts.availMb / facts.totalMb) * 100) : 0;
    }
    const swap = free.map((l) => /^Swap:\s+(\d+)\s+(\d+)/.exec(l)).find(Boolean);
    facts.swapPct = swap && Number(swap[1]) > 0 ? Math.round((Number(swap[2]) / Number(swap[1])) * 100) : 0;
    const top = (section(stdout, 'top 15 processes by resident memory') ?? [])
      .map((l) => l.trim().split(/\s+/))
      .find((f) => f.length >= 7 && /^\d+$/.test(f[0]));
    facts.topMem = top
      ? `${top.slice(6).join(' ')} (pid ${top[0]}, ${Math.round(Number(top[2]) / 1024)} MB)`
      : 'unknown';
    return facts;
  },
};

/** `cpu-load`: load against the CPU count, iowait and steal from vmstat, and the busiest process. */
const cpuLoad: VerdictParser = {
  facts: ['load1', 'load5', 'cpus', 'perCpu', 'iowait', 'steal', 'topCpu'],
  parse(stdout) {
    const facts: Facts = {};
    const load = /^== load: ([\d.]+) ([\d.]+) ([\d.]+) on (\d+) CPU/m.exec(stdout);
    if (load) {
      facts.load1 = Number(load[1]);
      facts.load5 = Number(load[2]);
      facts.cpus = Number(load[4]);
      facts.perCpu = Math.round((Number(load[1]) / Math.max(1, Number(load[4]))) * 100) / 100;
    }
    const vm = section(stdout, 'vmstat') ?? [];
    const header = vm
      .find((l) => /\bwa\b/.test(l) && /\bus\b/.test(l))
      ?.trim()
      .split(/\s+/);
    const last = vm
      .filter((l) => /^\s*\d/.test(l))
      .pop()
      ?.trim()
      .split(/\s+/);
    if (header && last) {
      facts.iowait = Number(last[header.indexOf('wa')]);
      if (header.includes('st')) facts.steal = Number(last[header.indexOf('st')]);
    }
    const top = (section(stdout, 'top 15 processes by CPU') ?? [])
      .map((l) => l.trim().split(/\s+/))
      // The `ps` that lists them shows up busy: it is not the cause.
      .find((f) => f.length >= 7 && /^\d+$/.test(f[0]) && f.slice(6).join(' ') !== 'ps');
    facts.topCpu = top ? `${top.slice(6).join(' ')} (pid ${top[0]}, ${top[2]}% CPU)` : 'unknown';
    return facts;
  },
};

export const verdictParsers = {
  'haproxy-backend-state': backendState,
  'haproxy-process': haproxyProcess,
  'haproxy-config': haproxyConfig,
  'haproxy-log': haproxyLog,
  'tcp-connect': tcpConnect,
  df: diskSpace,
  free: freeMemory,
  'cpu-load': cpuLoad,
} satisfies Record<string, VerdictParser>;

export type ParserId = keyof typeof verdictParsers;
export const parserIds = Object.keys(verdictParsers) as ParserId[];
