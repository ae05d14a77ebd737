/**
 * Host key checks: a pinned `SHA256:` fingerprint or a known_hosts file. An unknown or changed key refuses the
 * connection; accepting any key is possible only when the config says so explicitly (throwaway test hosts).
 */
import { createHash } from 'node:crypto';
import { PilotError } from '../errors';
import { type KnownHostEntry, keyTypeOf, knownHostsFor } from './known-hosts';

export { keyTypeOf };

/** How a host's key is checked. */
export type HostKeyPolicy =
  | { kind: 'pinned'; fingerprint: string }
  | { kind: 'known-hosts'; path: string; entries: KnownHostEntry[] }
  | { kind: 'any' };

/** Where the key came from, for messages. */
export interface HostKeyContext {
  name: string;
  host: string;
  port: number;
}

/** The OpenSSH fingerprint of a raw public key blob: `SHA256:` + unpadded base64 of its SHA-256. */
export function fingerprintSha256(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Checks a host key against the policy: null when accepted, otherwise the error to refuse with. */
export function checkHostKey(key: Buffer, policy: HostKeyPolicy, ctx: HostKeyContext): PilotError | null {
  const where = `${ctx.name} (${ctx.host}:${ctx.port})`;
  const got = fingerprintSha256(key);
  const details = { host: ctx.name, address: ctx.host, port: ctx.port, fingerprint: got };
  switch (policy.kind) {
    case 'any':
      return null;
    case 'pinned': {
      const want = policy.fingerprint.replace(/=+$/, '');
      if (got === want) return null;
      return new PilotError(
        'SSH_HOST_KEY_MISMATCH',
        `host key of ${where} is ${got}, but ${want} is pinned; nothing was run`,
        { details },
      );
    }
    case 'known-hosts': {
      const entries = knownHostsFor(policy.entries, ctx.host, ctx.port);
      const type = keyTypeOf(key);
      const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
      if (revoked) {
        return new PilotError(
          'SSH_HOST_KEY_MISMATCH',
          `host key ${got} of ${where} is marked @revoked in ${policy.path} line ${revoked.line}; nothing was run`,
          { details },
        );
      }
      const keys = entries.filter((e) => e.marker === undefined);
      if (keys.some((e) => e.key.equals(key))) return null;
      if (keys.length === 0) {
        return new PilotError(
          'SSH_HOST_KEY_UNKNOWN',
          `host key ${got} (${type}) of ${where} is not in ${policy.path}; nothing was run`,
          { details },
        );
      }
      const lines = keys.map((e) => `${e.line} (${e.keyType})`).join(', ');
      return new PilotError(
        'SSH_HOST_KEY_MISMATCH',
        `host key ${got} (${type}) of ${where} differs from ${policy.path} line ${lines}; nothing was run`,
        { details },
      );
    }
  }
}

// What ssh2 offers by default, strongest first; `ssh-rsa` keys are used through the rsa-sha2 signatures too.
const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * The host key algorithms to offer, those known for the host first, as OpenSSH does: a known_hosts file that lists
 * only the host's RSA key must not be refused because the server would otherwise present its ed25519 key.
 * Undefined when there is nothing to prefer.
 */
export function preferredHostKeyAlgorithms(policy: HostKeyPolicy, ctx: HostKeyContext): string[] | undefined {
  if (policy.kind !== 'known-hosts') return undefined;
  const known = new Set<string>();
  for (const e of knownHostsFor(policy.entries, ctx.host, ctx.port)) {
    if (e.marker) continue;
    const algs = e.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [e.keyType];
    for (const a of algs) if (DEFAULT_HOST_KEY_ALGORITHMS.includes(a)) known.add(a);
  }
  if (known.size === 0) return undefined;
  return [...known, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !known.has(a))];
}
