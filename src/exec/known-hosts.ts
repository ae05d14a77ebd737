/**
 * OpenSSH known_hosts files: parsing and host lookup, as sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" describes them.
 * Plain and hashed (`|1|salt|hash`) host fields, `*`/`?` wildcards, `!` negation and the `[host]:port` form for
 * ports other than 22. `@cert-authority` lines are skipped (certificates are not supported); `@revoked` keys refuse.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface KnownHostEntry {
  /** 1-based line number, for messages. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written (comma-separated patterns, or one hashed name). */
  hosts: string;
  keyType: string;
  /** The raw public key blob (the base64 field decoded). */
  key: Buffer;
}

/** Parses a known_hosts file; malformed lines are skipped, as ssh does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift()?.slice(1);
      if (m !== 'revoked' && m !== 'cert-authority') return;
      marker = m;
    }
    if (fields.length < 3 || !/^[A-Za-z0-9+/]+={0,2}$/.test(fields[2])) return;
    const key = Buffer.from(fields[2], 'base64');
    // The blob names its own type: a line whose fields disagree is not a key.
    if (keyTypeOf(key) !== fields[1]) return;
    entries.push({ line: i + 1, marker, hosts: fields[0], keyType: fields[1], key });
  });
  return entries;
}

/** The key type written inside a raw public key blob (its first SSH string), e.g. `ssh-ed25519`. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

/** The name ssh looks up for a host and port: `host`, or `[host]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

/** Whether an entry's host field names this host and port. */
export function entryMatchesHost(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (entry.hosts.startsWith('|1|')) return hashedMatches(entry.hosts, name);
  let matched = false;
  for (const pattern of entry.hosts.split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false; // a negated match excludes the line whatever else matches
    matched = true;
  }
  return matched;
}

/** The entries (keys and revocations) that apply to a host and port; certificate authorities are left out. */
export function knownHostsFor(entries: KnownHostEntry[], host: string, port: number): KnownHostEntry[] {
  return entries.filter((e) => e.marker !== 'cert-authority' && entryMatchesHost(e, host, port));
}

function hashedMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return false;
  const want = Buffer.from(hash, 'base64');
  const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

function globMatches(pattern: string, name: string): boolean {
  const re = pattern
    .toLowerCase()
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`).test(name);
}
