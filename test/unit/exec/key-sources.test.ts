/**
 * Every host's SSH key source is checked before the first click needs it (#21 item 5, #20 item 5): a missing file, an
 * unset variable, an unreadable file, a public key given as the private one, an encrypted key without its passphrase.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostSchema } from '../../../src/config/schema';
import { assertKeySources, keySourceProblems, systemKeySourceDeps } from '../../../src/exec/key-sources';

let dir: string;
const keys: Record<string, string> = {};
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rbp-keys-'));
  for (const [name, pass] of [
    ['plain', ''],
    ['locked', 'pw'],
  ]) {
    const file = join(dir, name);
    const res = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', pass, '-f', file], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    keys[name] = readFileSync(file, 'utf8');
    keys[`${name}.pub`] = readFileSync(`${file}.pub`, 'utf8');
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const host = (name: string, ssh: Record<string, unknown>) =>
  HostSchema.parse({
    name,
    match: { instance: [`${name}:9101`] },
    ssh: { host: '10.0.0.5', user: 'ops', hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s', ...ssh },
  });

/** Files by name; `/denied` throws EACCES as fs does. */
function deps(env: Record<string, string> = {}) {
  return {
    ...systemKeySourceDeps(env),
    readFile: (path: string) => {
      if (path === '/denied') throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      const k = keys[path.replace(/^\/keys\//, '')];
      if (k === undefined) throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
      return k;
    },
  };
}

describe('keySourceProblems', () => {
  it('accepts a readable private key file, a key in a variable (also with \\n escapes), a locked key with its passphrase', () => {
    const hosts = [
      host('a', { privateKeyPath: '/keys/plain' }),
      host('b', { privateKeyEnv: 'KEY_B' }),
      host('c', { privateKeyEnv: 'KEY_C' }),
      host('d', { privateKeyPath: '/keys/locked', passphraseEnv: 'PASS_D' }),
    ];
    const env = { KEY_B: keys.plain, KEY_C: keys.plain.replace(/\n/g, '\\n'), PASS_D: 'pw' };
    expect(keySourceProblems(hosts, deps(env))).toEqual([]);
  });

  it.each([
    [
      'a key file that does not exist',
      { privateKeyPath: '/etc/runbook-pilot/id_ed25519' },
      {},
      'hosts[lb-1].ssh.privateKeyPath',
      'the SSH key file /etc/runbook-pilot/id_ed25519 does not exist',
      /^put the private key for ops@10\.0\.0\.5 there/,
    ],
    [
      'a key file the bot may not read',
      { privateKeyPath: '/denied' },
      {},
      'hosts[lb-1].ssh.privateKeyPath',
      'the SSH key file /denied cannot be read (EACCES)',
      /must own the file/,
    ],
    [
      'an unset key variable',
      { privateKeyEnv: 'RBP_KEY_LB1' },
      {},
      'hosts[lb-1].ssh.privateKeyEnv',
      'environment variable RBP_KEY_LB1 (the SSH key for lb-1) is not set',
      /^set RBP_KEY_LB1 to the private key's text/,
    ],
    [
      'an unset passphrase variable',
      { privateKeyPath: '/keys/locked', passphraseEnv: 'RBP_PASS' },
      {},
      'hosts[lb-1].ssh.passphraseEnv',
      'environment variable RBP_PASS (the passphrase of the SSH key for lb-1) is not set',
      /^set RBP_PASS/,
    ],
    [
      'the public key instead of the private one',
      { privateKeyPath: '/keys/plain.pub' },
      {},
      'hosts[lb-1].ssh.privateKeyPath',
      '/keys/plain.pub is not a usable SSH private key: it is a public key',
      /the file without \.pub/,
    ],
    [
      'a locked key without its passphrase',
      { privateKeyPath: '/keys/locked' },
      {},
      'hosts[lb-1].ssh.privateKeyPath',
      '/keys/locked is not a usable SSH private key: Encrypted private OpenSSH key detected, but no passphrase given',
      /^set passphraseEnv/,
    ],
    [
      'a variable that holds no key',
      { privateKeyEnv: 'RBP_KEY_LB1' },
      { RBP_KEY_LB1: 'xoxb-not-a-key' },
      'hosts[lb-1].ssh.privateKeyEnv',
      'variable RBP_KEY_LB1 is not a usable SSH private key: Unsupported key format',
      /BEGIN OPENSSH PRIVATE KEY/,
    ],
  ])('%s', (_name, ssh, env, key, message, fix) => {
    // given one host with this key source // when checked
    const [p, ...more] = keySourceProblems([host('lb-1', ssh)], deps(env as Record<string, string>));
    // then one problem naming the key, what is wrong and what to do
    expect(more).toEqual([]);
    expect(p).toMatchObject({ host: 'lb-1', key, message, path: ['hosts', 0, 'ssh', key.split('.').at(-1)] });
    expect(p.fix).toMatch(fix);
  });

  it('reports every host with a problem, not only the first', () => {
    const hosts = [
      host('a', { privateKeyPath: '/nope-a' }),
      host('b', { privateKeyPath: '/keys/plain' }),
      host('c', { privateKeyEnv: 'NOPE_C' }),
    ];
    expect(keySourceProblems(hosts, deps()).map((p) => p.host)).toEqual(['a', 'c']);
  });
});

describe('assertKeySources (start-up, #20: decided in exec/, not in the wiring)', () => {
  it('passes when every key is usable; otherwise stops with one line per host, prefixed by the config file', () => {
    const good = host('a', { privateKeyEnv: 'KEY_A' });
    expect(() => assertKeySources([good], { KEY_A: keys.plain }, 'config.yaml')).not.toThrow();
    const bad = [host('b', { privateKeyEnv: 'NOPE_B' }), host('c', { privateKeyEnv: 'NOPE_C' })];
    expect(() => assertKeySources(bad, {}, 'config.yaml')).toThrow(
      expect.objectContaining({
        code: 'CONFIG_UNREADABLE',
        message: expect.stringMatching(
          /^2 hosts have no usable SSH key:\n {2}config\.yaml: .*NOPE_B.*\n {2}config\.yaml: .*NOPE_C/s,
        ),
      }),
    );
  });
});
