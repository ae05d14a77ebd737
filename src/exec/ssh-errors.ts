/**
 * Turns what ssh2, node-ssh and the socket throw while connecting into PilotErrors whose message names the host and
 * port and says what happened. The hint (from the catalog) says what to check.
 */
import { PilotError } from '../errors';

/** The host a failure is about. */
export interface SshErrorContext {
  name: string;
  host: string;
  port: number;
  user: string;
  connectTimeoutMs: number;
}

interface ErrorLike {
  message?: string;
  code?: string | number | null;
  level?: string;
}

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is sshd running and listening on this port?)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found in DNS',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  ECONNRESET: 'connection reset during the handshake',
  EPIPE: 'connection closed during the handshake',
};

/** Classifies a connect failure into SSH_UNREACHABLE, SSH_AUTH_FAILED, SSH_TIMEOUT (or INTERNAL when unknown). */
export function classifyConnectError(err: unknown, ctx: SshErrorContext): PilotError {
  if (err instanceof PilotError) return err;
  const e: ErrorLike = typeof err === 'object' && err !== null ? (err as ErrorLike) : { message: String(err) };
  const message = e.message ?? String(err);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const where = `${ctx.name} (${ctx.host}:${ctx.port})`;
  const details = { host: ctx.name, address: ctx.host, port: ctx.port, user: ctx.user, cause: message };
  const opts = { details, cause: err };

  if (code && UNREACHABLE[code])
    return new PilotError('SSH_UNREACHABLE', `cannot reach ${where}: ${UNREACHABLE[code]}`, opts);
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return new PilotError('SSH_AUTH_FAILED', `${where} refused the key of user ${ctx.user}`, opts);
  }
  if (/passphrase|private key|privateKey|Cannot parse privateKey/i.test(message)) {
    return new PilotError('SSH_AUTH_FAILED', `the private key for ${where} cannot be used: ${message}`, {
      ...opts,
      hint: 'check the key file or variable and its passphrase (ssh.passphraseEnv)',
    });
  }
  if (
    e.level === 'client-timeout' ||
    /timed out while waiting for handshake/i.test(message) ||
    (code === 'ETIMEDOUT' && /connect/i.test(message))
  ) {
    return new PilotError(
      'SSH_TIMEOUT',
      `${where} did not complete the SSH handshake within ${ctx.connectTimeoutMs} ms`,
      opts,
    );
  }
  if (/host denied/i.test(message)) {
    return new PilotError('SSH_HOST_KEY_UNKNOWN', `the host key of ${where} was refused; nothing was run`, opts);
  }
  if (/no response from server|connection lost before handshake/i.test(message)) {
    // ssh2's and node-ssh's wording when the socket closed before login completed (sshd went away or dropped us).
    return new PilotError('SSH_UNREACHABLE', `${where} closed the connection before login completed`, opts);
  }
  return new PilotError('INTERNAL', `ssh to ${where} failed: ${message}`, opts);
}
