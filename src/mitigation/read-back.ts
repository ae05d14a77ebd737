/**
 * The read-back around a mitigation: one command over the runtime API that returns the process (`show info`), the
 * frontends and servers (`show stat`) and the servers' admin state (`show servers state`). Data, like every action:
 * a host may override it under `commands.read-back`.
 */
import { parseServersState } from '../actions/parse-servers-state';
import { parseShowStat } from '../actions/parse-show-stat';
import type { ActionSpec } from '../actions/types';
import type { HostConfig } from '../config/schema';
import { runActionQuietly } from '../incident/run-step';
import type { HostSnapshot } from './verify';

const SEPARATOR = '@@runbook-pilot@@';

export const readBackAction: ActionSpec = {
  id: 'read-back',
  title: 'Read back',
  description: "HAProxy's process, frontends and servers from the runtime API, to verify a mitigation",
  risk: 'read',
  params: { socket: { from: 'host:haproxy.socket', type: 'path' } },
  command: `for c in 'show info' 'show stat' 'show servers state'; do echo "$c" | socat -t 2 stdio UNIX-CONNECT:{socket} || echo 'runtime API did not answer'; echo '${SEPARATOR}'; done`,
  timeoutMs: 10_000,
  outputCap: 256 * 1024,
};

/** Parses the read-back output into a snapshot. */
export function parseReadBack(stdout: string): HostSnapshot {
  const [info = '', stat = '', state = ''] = stdout.split(SEPARATOR);
  const kv = new Map<string, string>();
  for (const line of info.split('\n')) {
    const m = /^([A-Za-z_]+):\s*(.*)$/.exec(line.trim());
    if (m) kv.set(m[1], m[2]);
  }
  if (!kv.has('Pid'))
    return { answered: false, error: firstLine(info) || 'no answer from the stats socket', frontends: [], servers: [] };
  const statRows = parseShowStat(stat);
  const adminByServer = new Map(parseServersState(state).map((r) => [`${r.backend}/${r.server}`, r.adminState]));
  return {
    answered: true,
    pid: Number(kv.get('Pid')),
    uptimeSec: kv.has('Uptime_sec') ? Number(kv.get('Uptime_sec')) : undefined,
    frontends: statRows.filter((r) => r.name === 'FRONTEND').map((r) => ({ name: r.proxy, status: r.status })),
    servers: statRows
      .filter((r) => r.name !== 'FRONTEND' && r.name !== 'BACKEND')
      .map((r) => ({
        backend: r.proxy,
        server: r.name,
        status: r.status,
        adminState: adminByServer.get(`${r.proxy}/${r.name}`),
      })),
  };
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

/**
 * The mitigation's read-back over the step runner's deps: the read-back action run quietly on the host (a host's
 * `commands.read-back` override applies, like any action's), its output parsed.
 */
export function hostReader(
  deps: Parameters<typeof runActionQuietly>[0],
): (host: HostConfig, labels: Record<string, string>) => Promise<HostSnapshot> {
  return async (host, labels) => {
    const { result } = await runActionQuietly(deps, host, readBackAction, labels);
    return parseReadBack(result.stdout.text);
  };
}
