/**
 * The SSH pool against the real loopback sshd (test/support/hosts.sh): commands, output caps, reuse, timeouts that
 * end the remote process, host key checks and authentication failures.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cutMarker } from '../../../src/exec/capped-output';
import { SshPool } from '../../../src/exec/ssh-pool';
import { describeWithHosts, type TestHosts, testSshTarget } from '../../support/test-hosts';

const opts = { timeoutMs: 10_000, outputCap: 64 * 1024 };

describeWithHosts('SshPool on the loopback sshd', (hosts: TestHosts) => {
  let pool: SshPool;
  let scratch: string;
  const target = () => testSshTarget(hosts);
  /** A file name in the ssh user's home that a refused connection must not create. */
  const marker = () => `/home/${hosts.ssh.user}/rbp-marker-${randomBytes(4).toString('hex')}`;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'rbp-exec-'));
  });
  beforeEach(() => {
    pool = new SshPool({ killGraceMs: 300 });
  });
  afterEach(async () => {
    await pool.close();
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('runs a command and returns exit code, stdout, stderr and duration', async () => {
    const r = await pool.run(
      target(),
      `echo "show info" | socat stdio ${hosts.haproxy.socket} | grep '^Name:'; echo warn >&2`,
      opts,
    );
    expect(r).toMatchObject({
      exitCode: 0,
      timedOut: false,
      stdout: { text: 'Name: HAProxy\n', truncatedBytes: 0 },
      stderr: { text: 'warn\n' },
    });
    expect(r.signal).toBeUndefined();
    expect(r.durationMs).toBeGreaterThan(0);
  });

  it('returns a non-zero exit code as a result, not an error', async () => {
    const r = await pool.run(target(), 'echo "No such server." >&2; exit 3', opts);
    expect(r.exitCode).toBe(3);
    expect(r.stderr.text).toBe('No such server.\n');
  });

  it('keeps the head and the tail of output over the cap and says how much was cut', async () => {
    // given: 100 000 bytes of numbered lines ("line 00001\n" is 11 bytes), the last one cut short by head -c
    const all = Array.from({ length: 9091 }, (_, i) => `line ${String(i + 1).padStart(5, '0')}\n`)
      .join('')
      .slice(0, 100_000);
    // when
    const r = await pool.run(target(), 'seq -f "line %05g" 1 9091 | head -c 100000', { ...opts, outputCap: 1000 });
    // then
    expect(r.stdout).toEqual({
      text: all.slice(0, 500) + cutMarker(99_000) + all.slice(-500),
      bytes: 100_000,
      truncatedBytes: 99_000,
    });
    expect(r.stdout.text.endsWith('line 09090\nline 09091')).toBe(true);
  });

  it('reuses one connection for consecutive and parallel commands', async () => {
    // when
    await pool.run(target(), 'true', opts);
    await pool.run(target(), 'true', opts);
    const parallel = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.run(target(), `echo ${i}`, opts)));
    // then
    expect(parallel.map((r) => r.stdout.text)).toEqual(['0\n', '1\n', '2\n', '3\n', '4\n', '5\n']);
    expect(pool.stats()).toEqual({ connects: 1, reconnects: 0, failures: 0, open: 1 });
  });

  it('shares one connect between concurrent first calls', async () => {
    // when: the first calls all start before any connection exists
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => pool.run(target(), `echo ${i}; exit ${i}`, opts)),
    );
    // then: one connect, and every command's own exit status (recorded even when it arrives with the exec reply)
    expect(results.map((r) => [r.exitCode, r.stdout.text])).toEqual(Array.from({ length: 8 }, (_, i) => [i, `${i}\n`]));
    expect(pool.stats().connects).toBe(1);
  });

  it('runs more parallel commands than sessions per host by queueing them on the connection', async () => {
    const small = new SshPool({ maxSessionsPerHost: 2 });
    try {
      const rs = await Promise.all(Array.from({ length: 6 }, () => small.run(target(), 'sleep 0.2; echo ok', opts)));
      expect(rs.map((r) => r.stdout.text)).toEqual(Array(6).fill('ok\n'));
      expect(small.stats().connects).toBe(1);
    } finally {
      await small.close();
    }
  });

  it('ends a command that runs past its timeout, on the host too, and returns its output so far', async () => {
    // given: a shell with a child, so ending only the shell would leave the sleep behind
    const tag = `30.${Date.now() % 100000}`;
    // when
    const r = await pool.run(target(), `echo started; sleep ${tag}; echo never`, { ...opts, timeoutMs: 700 });
    // then
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('SIGTERM');
    expect(r.stdout.text).toBe('started\n');
    expect(r.durationMs).toBeGreaterThanOrEqual(700);
    expect(r.durationMs).toBeLessThan(5000);
    const check = await pool.run(
      target(),
      `pgrep -u ${hosts.ssh.user} -f 'sleep ${tag.replace('.', '[.]')}' || echo gone`,
      opts,
    );
    expect(check.stdout.text).toBe('gone\n');
  });

  it('kills a command that ignores TERM', async () => {
    const tag = `31.${Date.now() % 100000}`;
    const r = await pool.run(target(), `trap '' TERM; sleep ${tag}; echo never`, { ...opts, timeoutMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    const check = await pool.run(
      target(),
      `pgrep -u ${hosts.ssh.user} -f 'sleep ${tag.replace('.', '[.]')}' || echo gone`,
      opts,
    );
    expect(check.stdout.text).toBe('gone\n');
  });

  it('does not give a command stdin to wait on', async () => {
    const r = await pool.run(target(), 'cat; echo after-cat', { ...opts, timeoutMs: 3000 });
    expect(r).toMatchObject({ timedOut: false, exitCode: 0, stdout: { text: 'after-cat\n' } });
  });

  it('refuses a host whose key differs from the pinned one, and runs nothing', async () => {
    const file = marker();
    const wrong = 'SHA256:LPuhvfj/Gn6tbzq4DKZL1JxReqS8czNDrtKonP8pkhI'; // a key from test/fixtures/exec/host-keys.txt
    const run = pool.run(testSshTarget(hosts, { hostKey: wrong }), `touch ${file}`, opts);
    await expect(run).rejects.toMatchObject({ code: 'SSH_HOST_KEY_MISMATCH' });
    await expect(run).rejects.toThrow(
      `host key of lb-test (127.0.0.1:${hosts.ssh.port}) is ${hosts.ssh.hostKeyFingerprint}, but ${wrong} is pinned`,
    );
    expect(existsSync(file)).toBe(false);
    expect(pool.stats()).toMatchObject({ connects: 0, failures: 1 });
  });

  it('accepts the host through a known_hosts file, plain or hashed', async () => {
    // given: a known_hosts line for [127.0.0.1]:port, and a hashed copy made by ssh-keygen -H
    const plain = join(scratch, 'known_hosts');
    writeFileSync(plain, `[127.0.0.1]:${hosts.ssh.port} ${hosts.ssh.hostKeyPublic}\n`);
    const hashed = join(scratch, 'known_hosts.hashed');
    writeFileSync(hashed, readFileSync(plain));
    execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed], { stdio: 'ignore' });
    expect(readFileSync(hashed, 'utf8')).toMatch(/^\|1\|/);
    // when / then
    for (const path of [plain, hashed]) {
      const r = await pool.run(testSshTarget(hosts, { hostKey: undefined, knownHostsPath: path }), 'echo ok', opts);
      expect(r.stdout.text).toBe('ok\n');
    }
  });

  it('refuses a host that is not in the known_hosts file, or listed with another key', async () => {
    const file = marker();
    const other = join(scratch, 'known_hosts.other');
    writeFileSync(other, `[127.0.0.1]:${hosts.ssh.port + 1} ${hosts.ssh.hostKeyPublic}\n`);
    await expect(
      pool.run(testSshTarget(hosts, { hostKey: undefined, knownHostsPath: other }), `touch ${file}`, opts),
    ).rejects.toMatchObject({
      code: 'SSH_HOST_KEY_UNKNOWN',
    });
    const changed = join(scratch, 'known_hosts.changed');
    const fixture = readFileSync(join(__dirname, '../../fixtures/exec/host-keys.txt'), 'utf8')
      .split('\n')[1]
      .split(' | ')[1];
    writeFileSync(changed, `[127.0.0.1]:${hosts.ssh.port} ${fixture}\n`);
    await expect(
      pool.run(testSshTarget(hosts, { hostKey: undefined, knownHostsPath: changed }), `touch ${file}`, opts),
    ).rejects.toMatchObject({
      code: 'SSH_HOST_KEY_MISMATCH',
    });
    expect(existsSync(file)).toBe(false);
  });

  it('refuses to connect without any host key setting', async () => {
    await expect(pool.run(testSshTarget(hosts, { hostKey: undefined }), 'true', opts)).rejects.toMatchObject({
      code: 'SSH_HOST_KEY_UNKNOWN',
    });
  });

  it('fails with SSH_AUTH_FAILED for a wrong user or a wrong key', async () => {
    const otherKey = join(scratch, 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const wrongUser = pool.run(testSshTarget(hosts, { user: 'nobody' }), 'true', opts);
    await expect(wrongUser).rejects.toMatchObject({ code: 'SSH_AUTH_FAILED' });
    await expect(wrongUser).rejects.toThrow(`lb-test (127.0.0.1:${hosts.ssh.port}) refused the key of user nobody`);
    await expect(pool.run(testSshTarget(hosts, { privateKeyPath: otherKey }), 'true', opts)).rejects.toMatchObject({
      code: 'SSH_AUTH_FAILED',
    });
  });

  it('reads the private key and its passphrase from environment variables', async () => {
    // given: the client key re-encrypted with a passphrase, in a variable with its line breaks written as \n
    const encrypted = join(scratch, 'encrypted_key');
    writeFileSync(encrypted, readFileSync(hosts.ssh.privateKeyPath), { mode: 0o600 });
    execFileSync('ssh-keygen', ['-q', '-p', '-N', 'secret words', '-f', encrypted]);
    const env = { RBP_KEY: readFileSync(encrypted, 'utf8').replace(/\n/g, '\\n'), RBP_PASS: 'secret words' };
    const envPool = new SshPool({ env });
    try {
      const t = testSshTarget(hosts, {
        privateKeyPath: undefined,
        privateKeyEnv: 'RBP_KEY',
        passphraseEnv: 'RBP_PASS',
      });
      expect((await envPool.run(t, 'echo ok', opts)).stdout.text).toBe('ok\n');
      const noPass = new SshPool({ env: { RBP_KEY: env.RBP_KEY } });
      await expect(noPass.run({ ...t, name: 'no-pass' }, 'true', opts)).rejects.toMatchObject({
        code: 'CONFIG_MISSING_ENV',
      });
      await noPass.close();
    } finally {
      await envPool.close();
    }
  });

  it('closes an idle connection and connects again when needed', async () => {
    const idle = new SshPool({ idleCloseMs: 200 });
    try {
      await idle.run(target(), 'true', opts);
      expect(idle.stats().open).toBe(1);
      // closed once idle for 200 ms (polled: the pool tells nobody when it closes one)
      const deadline = Date.now() + 5000;
      while (idle.stats().open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(idle.stats().open).toBe(0);
      await idle.run(target(), 'true', opts);
      expect(idle.stats()).toMatchObject({ connects: 2, reconnects: 1, open: 1 });
    } finally {
      await idle.close();
    }
  });

  it('refuses runs after close()', async () => {
    await pool.close();
    await expect(pool.run(target(), 'true', opts)).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
