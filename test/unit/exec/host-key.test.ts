import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkHostKey,
  fingerprintSha256,
  type HostKeyPolicy,
  keyTypeOf,
  preferredHostKeyAlgorithms,
} from '../../../src/exec/host-key';
import { knownHostsFor, knownHostsName, parseKnownHosts } from '../../../src/exec/known-hosts';

const fixtures = join(__dirname, '../../fixtures/exec');
const knownHostsText = readFileSync(join(fixtures, 'known_hosts'), 'utf8');
const hashedText = readFileSync(join(fixtures, 'known_hosts.hashed'), 'utf8');

// name → { type, blob, fingerprint as ssh-keygen -lf printed it }
const keys = Object.fromEntries(
  readFileSync(join(fixtures, 'host-keys.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [name, pub, lf] = l.split(' | ');
      const [type, b64] = pub.split(' ');
      return [name, { type, blob: Buffer.from(b64, 'base64'), fingerprint: lf.split(' ')[1] }];
    }),
);
const { k_ed: ed, k_rsa: rsa, k_ec: ec, k_old: old } = keys;

describe('fingerprintSha256', () => {
  it.each(Object.entries(keys))('%s matches ssh-keygen -lf', (_name, k) => {
    expect(fingerprintSha256(k.blob)).toBe(k.fingerprint);
    expect(keyTypeOf(k.blob)).toBe(k.type);
  });
});

describe('parseKnownHosts', () => {
  it('reads keys and markers, skips comments and broken lines', () => {
    const entries = parseKnownHosts(knownHostsText);
    expect(entries.map((e) => [e.line, e.marker ?? '', e.hosts, e.keyType])).toEqual([
      [2, '', 'lb-1.example.net,10.0.0.5', 'ssh-ed25519'],
      [3, '', 'lb-1.example.net,10.0.0.5', 'ssh-rsa'],
      [4, '', '[127.0.0.1]:2222', 'ecdsa-sha2-nistp256'],
      [5, '', '*.example.org,!bad.example.org', 'ecdsa-sha2-nistp256'],
      [6, 'revoked', '*', 'ssh-ed25519'],
      [7, 'cert-authority', '*.example.net', 'ssh-ed25519'],
      [8, '', 'rsa-only.example.net', 'ssh-rsa'],
    ]);
    expect(entries[0].key.equals(ed.blob)).toBe(true);
  });
});

describe('knownHostsFor', () => {
  it.each([
    // host, port, key types found (plain file), key types found (hashed file)
    ['lb-1.example.net', 22, ['ssh-ed25519', 'ssh-rsa', 'revoked'], ['ssh-ed25519', 'ssh-rsa']],
    ['LB-1.Example.NET', 22, ['ssh-ed25519', 'ssh-rsa', 'revoked'], ['ssh-ed25519', 'ssh-rsa']],
    ['10.0.0.5', 22, ['ssh-ed25519', 'ssh-rsa', 'revoked'], ['ssh-ed25519', 'ssh-rsa']],
    ['lb-1.example.net', 2222, ['revoked'], []],
    ['127.0.0.1', 2222, ['ecdsa-sha2-nistp256', 'revoked'], ['ecdsa-sha2-nistp256']],
    ['127.0.0.1', 22, ['revoked'], []],
    ['web.example.org', 22, ['ecdsa-sha2-nistp256', 'revoked'], []],
    ['bad.example.org', 22, ['revoked'], []],
    ['unknown.example.com', 22, ['revoked'], []],
  ])('%s port %d', (host, port, plain, hashed) => {
    const types = (text: string) => knownHostsFor(parseKnownHosts(text), host, port).map((e) => e.marker ?? e.keyType);
    expect(types(knownHostsText)).toEqual(plain);
    expect(types(hashedText)).toEqual(hashed);
  });

  it('names non-22 ports the way ssh does', () => {
    expect(knownHostsName('Host', 22)).toBe('host');
    expect(knownHostsName('host', 2222)).toBe('[host]:2222');
  });
});

describe('checkHostKey', () => {
  const ctx = (host: string, port = 22) => ({ name: 'lb-1', host, port });
  const kh = (text: string): HostKeyPolicy => ({
    kind: 'known-hosts',
    path: 'known_hosts',
    entries: parseKnownHosts(text),
  });

  it.each([
    // case, key, policy, host, port, expected code (null = accepted)
    ['pinned, same key', ed, { kind: 'pinned', fingerprint: ed.fingerprint }, 'lb-1.example.net', 22, null],
    [
      'pinned with base64 padding',
      ed,
      { kind: 'pinned', fingerprint: `${ed.fingerprint}=` },
      'lb-1.example.net',
      22,
      null,
    ],
    [
      'pinned, other key',
      rsa,
      { kind: 'pinned', fingerprint: ed.fingerprint },
      'lb-1.example.net',
      22,
      'SSH_HOST_KEY_MISMATCH',
    ],
    ['known_hosts, listed key', rsa, kh(knownHostsText), 'lb-1.example.net', 22, null],
    ['hashed known_hosts, listed key', ec, kh(hashedText), '127.0.0.1', 2222, null],
    ['known_hosts, changed key', ec, kh(knownHostsText), 'lb-1.example.net', 22, 'SSH_HOST_KEY_MISMATCH'],
    ['hashed known_hosts, changed key', ed, kh(hashedText), '127.0.0.1', 2222, 'SSH_HOST_KEY_MISMATCH'],
    ['known_hosts, host not listed', ed, kh(knownHostsText), 'other.example.com', 22, 'SSH_HOST_KEY_UNKNOWN'],
    ['known_hosts, listed on port 22 only', ed, kh(knownHostsText), 'lb-1.example.net', 2200, 'SSH_HOST_KEY_UNKNOWN'],
    ['known_hosts, wildcard', ec, kh(knownHostsText), 'web.example.org', 22, null],
    ['known_hosts, negated wildcard', ec, kh(knownHostsText), 'bad.example.org', 22, 'SSH_HOST_KEY_UNKNOWN'],
    ['known_hosts, revoked key', old, kh(knownHostsText), 'anything.example.com', 22, 'SSH_HOST_KEY_MISMATCH'],
    [
      'known_hosts, CA lines are no keys',
      old,
      kh(`@cert-authority * ${old.type} ${old.blob.toString('base64')}`),
      'a.example.net',
      22,
      'SSH_HOST_KEY_UNKNOWN',
    ],
    ['accept any', old, { kind: 'any' }, 'anything', 22, null],
  ] as Array<[string, typeof ed, HostKeyPolicy, string, number, string | null]>)(
    '%s',
    (_case, key, policy, host, port, code) => {
      const err = checkHostKey(key.blob, policy, ctx(host, port));
      expect(err?.code ?? null).toBe(code);
      if (err) {
        expect(err.message).toContain(`${host}:${port}`);
        expect(err.message).toContain(key.fingerprint);
        expect(err.message).toContain('nothing was run');
      }
    },
  );
});

describe('preferredHostKeyAlgorithms', () => {
  it('offers the key types known for the host first', () => {
    const policy: HostKeyPolicy = { kind: 'known-hosts', path: 'kh', entries: parseKnownHosts(knownHostsText) };
    expect(
      preferredHostKeyAlgorithms(policy, { name: 'x', host: 'rsa-only.example.net', port: 22 })?.slice(0, 4),
    ).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(preferredHostKeyAlgorithms(policy, { name: 'x', host: '127.0.0.1', port: 2222 })?.[0]).toBe(
      'ecdsa-sha2-nistp256',
    );
    expect(preferredHostKeyAlgorithms(policy, { name: 'x', host: 'nowhere', port: 22 })).toBeUndefined();
    expect(
      preferredHostKeyAlgorithms({ kind: 'pinned', fingerprint: 'SHA256:x' }, { name: 'x', host: 'h', port: 22 }),
    ).toBeUndefined();
  });
});
