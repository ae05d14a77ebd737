/**
 * The SSH pool when things break: sshd stopped, killed mid-command, restarted between calls, or a peer that never
 * answers. Uses the spare sshd (hosts.sh sshd-* spare) so tests on the main sshd are not disturbed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { SshPool } from '../../../src/exec/ssh-pool';
import {
  describeWithHosts,
  killSshd,
  remoteProcesses,
  restartSshd,
  startSshd,
  stopSshd,
  type TestHosts,
  testSshTarget,
} from '../../support/test-hosts';

const opts = { timeoutMs: 10_000, outputCap: 4096 };

/** Settles with the outcome of `p`, or fails the test if it takes longer than `ms` (a hang). */
async function within<T>(ms: number, p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([
      p.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      hang,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Until the test user's shell running a command that holds `token` is a process on the host: the command started. */
async function commandRunning(user: string, token: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (remoteProcesses(user, token).length === 0) {
    if (Date.now() > deadline) throw new Error(`the command marked ${token} did not start within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeWithHosts('SshPool when the host breaks', (hosts: TestHosts) => {
  let pool: SshPool;
  let logged: string[];
  let logger: pino.Logger;
  const spare = () => testSshTarget(hosts, { name: 'lb-spare', port: hosts.ssh.sparePort });

  beforeAll(() => startSshd('spare'));
  beforeEach(() => {
    logged = [];
    logger = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line).msg) });
    pool = new SshPool({ killGraceMs: 300, logger });
  });
  afterEach(async () => {
    await pool.close();
    startSshd('spare'); // whatever a test did to it
  });
  afterAll(() => stopSshd('spare'));

  it('reports a stopped sshd as SSH_UNREACHABLE, naming host and port, then works once it is back', async () => {
    // given
    stopSshd('spare');
    // when
    const run = pool.run(spare(), 'true', opts);
    // then
    await expect(run).rejects.toMatchObject({ code: 'SSH_UNREACHABLE', userFacing: true });
    await expect(run).rejects.toThrow(`cannot reach lb-spare (127.0.0.1:${hosts.ssh.sparePort}): connection refused`);
    expect(pool.stats()).toMatchObject({ connects: 0, failures: 1 });
    // and when sshd is back, the next call connects
    startSshd('spare');
    expect((await pool.run(spare(), 'echo back', opts)).stdout.text).toBe('back\n');
  });

  it('never hangs when sshd is killed during a command, and reconnects on the next call', async () => {
    // given: a command that runs for a while
    await pool.run(spare(), 'true', opts);
    const token = `rbp-killed-during-${randomBytes(4).toString('hex')}`;
    const running = pool.run(spare(), `: ${token}; echo started; sleep 3; echo done`, opts);
    await commandRunning(hosts.ssh.user, token);
    // when: sshd and its connection processes die
    killSshd('spare');
    // then: a lost connection (or, if the exit status made it out, a result) within a bounded time
    const outcome = await within(5000, running);
    if (outcome.error) {
      expect(outcome.error).toMatchObject({ code: 'SSH_CONNECTION_LOST' });
      expect(String((outcome.error as Error).message)).toContain(
        `lb-spare (127.0.0.1:${hosts.ssh.sparePort}) dropped while the command ran`,
      );
    } else {
      expect(outcome.value).toMatchObject({ timedOut: false });
    }
    // and the next call, once sshd is back, reconnects
    startSshd('spare');
    expect((await pool.run(spare(), 'echo again', opts)).stdout.text).toBe('again\n');
    expect(pool.stats()).toMatchObject({ connects: 2, reconnects: 1 });
  });

  it('reconnects once when the kept connection died before the command could start', async () => {
    // given: a kept connection, made with a key from the environment: a key file is checked before every command
    // (an await, during which the pool could see the close first and connect afresh), a key in memory is not
    await pool.close();
    pool = new SshPool({ killGraceMs: 300, logger, env: { RBP_KEY: readFileSync(hosts.ssh.privateKeyPath, 'utf8') } });
    const target = { ...spare(), privateKeyPath: undefined, privateKeyEnv: 'RBP_KEY' };
    await pool.run(target, 'true', opts);
    // when: sshd restarts (closing the connection) and the next call starts before the pool has seen the close:
    // restartSshd blocks this thread, so the close event waits until run() has picked the dead connection
    restartSshd('spare');
    const r = await pool.run(target, 'echo ran once', opts);
    // then
    expect(r.stdout.text).toBe('ran once\n');
    expect(pool.stats()).toMatchObject({ connects: 2, reconnects: 1 });
    expect(logged).toContain('ssh connection was closed; reconnecting');
  });

  describe('with a peer that accepts TCP but never speaks SSH', () => {
    let server: Server;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      server = createServer((s) => void sockets.push(s));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    afterAll(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => server.close(r));
    });

    it('fails with SSH_TIMEOUT after the connect timeout', async () => {
      const port = (server.address() as AddressInfo).port;
      const started = Date.now();
      const run = pool.run(testSshTarget(hosts, { name: 'lb-silent', port, connectTimeoutMs: 400 }), 'true', opts);
      await expect(run).rejects.toMatchObject({ code: 'SSH_TIMEOUT' });
      await expect(run).rejects.toThrow(
        `lb-silent (127.0.0.1:${port}) did not complete the SSH handshake within 400 ms`,
      );
      expect(Date.now() - started).toBeLessThan(3000);
    });
  });
});
