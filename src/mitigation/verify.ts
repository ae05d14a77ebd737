/**
 * Reading a host back after a mitigation and deciding whether it worked: the process answers with a new pid (or a
 * fresh uptime), its frontends are open, and the alert's server is in the state the action asked for. Pure.
 */

export interface HostSnapshot {
  /** False when the runtime API did not answer (process down, socket missing). */
  answered: boolean;
  error?: string;
  pid?: number;
  uptimeSec?: number;
  frontends: Array<{ name: string; status: string }>;
  /** adminState: READY, or admin flags joined with `+` (MAINT, DRAIN, MAINT(inherited), …) as `show servers state` gives them. */
  servers: Array<{ backend: string; server: string; status: string; adminState?: string }>;
}

export interface Verification {
  verified: boolean;
  /** One line: what was checked and what was seen. */
  why: string;
}

/**
 * Decides whether `actionId` did what it should. `restartLike` actions need a new process; server-state actions
 * need the server's admin state to match.
 */
export function verifyMitigation(
  actionId: string,
  restartLike: boolean,
  before: HostSnapshot,
  after: HostSnapshot,
  target: { backend?: string; server?: string },
  elapsedSec: number,
): Verification {
  if (!after.answered)
    return {
      verified: false,
      why: `HAProxy's runtime API does not answer after ${actionId}${after.error ? ` (${after.error})` : ''}: the process may be down`,
    };
  const closed = after.frontends.filter((f) => f.status !== 'OPEN');
  const listening =
    closed.length === 0
      ? `${after.frontends.length} frontend(s) open`
      : `frontend(s) not open: ${closed.map((f) => `${f.name} ${f.status}`).join(', ')}`;
  const server = after.servers.find((s) => s.backend === target.backend && s.server === target.server);
  const serverText = server ? `${target.backend}/${target.server} is ${server.status}` : undefined;

  if (restartLike) {
    const newPid = before.pid !== undefined && after.pid !== undefined && before.pid !== after.pid;
    const fresh =
      after.uptimeSec !== undefined && (before.uptimeSec === undefined || after.uptimeSec <= elapsedSec + 1);
    if (!newPid && !fresh) {
      return {
        verified: false,
        why: `the process was not replaced: pid ${after.pid ?? '?'} (before ${before.pid ?? '?'}), uptime ${after.uptimeSec ?? '?'} s`,
      };
    }
    if (closed.length) return { verified: false, why: `new process pid ${after.pid ?? '?'}, but ${listening}` };
    return {
      verified: true,
      why: `new process pid ${after.pid ?? '?'} (was ${before.pid ?? '?'}), up ${after.uptimeSec ?? '?'} s, ${listening}${serverText ? `; ${serverText}` : ''}`,
    };
  }

  if (!server)
    return { verified: false, why: `${target.backend ?? '?'}/${target.server ?? '?'} is not in HAProxy's server list` };
  const admin = server.adminState ?? 'unknown';
  const flags = admin.split('+');
  const wanted: Record<string, [boolean, string]> = {
    drain: [flags.some((f) => f.startsWith('DRAIN')) || server.status === 'DRAIN', 'in drain'],
    maint: [flags.some((f) => f.startsWith('MAINT')) || server.status === 'MAINT', 'in maintenance'],
    ready: [admin === 'READY', 'ready (neither drain nor maintenance)'],
  };
  const check = wanted[actionId];
  if (!check)
    return { verified: after.answered, why: `HAProxy answers; ${listening}${serverText ? `; ${serverText}` : ''}` };
  return check[0]
    ? {
        verified: true,
        why: `${target.backend}/${target.server} is ${check[1]} (status ${server.status}, admin state ${admin})`,
      }
    : {
        verified: false,
        why: `${target.backend}/${target.server} is not ${check[1]}: status ${server.status}, admin state ${admin}`,
      };
}
