/**
 * The loopback test hosts (a real sshd and a real haproxy, started by test/support/hosts.sh) as tests see them:
 * their description, an SshTarget and a HostConfig for them, a describe() that skips without them, and helpers
 * that break sshd on purpose.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { type HostConfig, HostSchema } from '../../src/config/schema';
import type { SshTarget } from '../../src/exec/types';

/** What `hosts.sh env` prints. */
export interface TestHosts {
  stateDir: string;
  ssh: {
    host: string;
    port: number;
    /** A second sshd (same keys) that failure tests stop and kill; started on demand by startSshd('spare'). */
    sparePort: number;
    user: string;
    privateKeyPath: string;
    publicKeyPath: string;
    /** `SHA256:…` as `ssh-keygen -lf` prints it. */
    hostKeyFingerprint: string;
    /** `ssh-ed25519 AAAA…`, for writing known_hosts lines. */
    hostKeyPublic: string;
  };
  haproxy: {
    binary: string;
    socket: string;
    config: string;
    previousConfig: string;
    log: string;
    pidFile: string;
    frontendPort: number;
    backend: string;
    /** Always up. */
    web1Port: number;
    /** Always closed, so web2 is DOWN. */
    web2Port: number;
    logPort: number;
  };
}

export type SshdInstance = 'main' | 'spare';

/** The hosts script's path. */
export const hostsScript = join(__dirname, 'hosts.sh');

function runScript(...args: string[]): string {
  try {
    return execFileSync('bash', [hostsScript, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`test/support/hosts.sh ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Why the test hosts cannot run here, or null when they can (programs installed, root or passwordless sudo). */
export function testHostsUnavailable(): string | null {
  const found = spawnSync(
    'bash',
    [
      '-c',
      'PATH="$PATH:/usr/sbin:/sbin"; command -v sshd && command -v haproxy && command -v socat && command -v ssh-keygen',
    ],
    { stdio: 'ignore' },
  );
  if (found.status !== 0) return 'sshd, haproxy or socat is not installed (run test/support/hosts.sh install)';
  if (process.getuid?.() !== 0 && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status !== 0) {
    return 'the test hosts need root or passwordless sudo (to add the ssh user and start sshd)';
  }
  return null;
}

let cached: TestHosts | null | undefined;

/**
 * The running test hosts, started if needed (`hosts.sh start` is idempotent and quick when they are up), or null
 * when they cannot run here. A start failure throws: installed but broken hosts must fail the run, not skip it.
 */
export function loadTestHosts(): TestHosts | null {
  if (cached !== undefined) return cached;
  if (testHostsUnavailable()) return (cached = null);
  runScript('start');
  cached = JSON.parse(runScript('env')) as TestHosts;
  return cached;
}

/** The SshTarget of the test host (main sshd, pinned host key); `overrides` change single fields. */
export function testSshTarget(hosts: TestHosts, overrides: Partial<SshTarget> = {}): SshTarget {
  return {
    name: 'lb-test',
    host: hosts.ssh.host,
    port: hosts.ssh.port,
    user: hosts.ssh.user,
    privateKeyPath: hosts.ssh.privateKeyPath,
    hostKey: hosts.ssh.hostKeyFingerprint,
    connectTimeoutMs: 5000,
    ...overrides,
  };
}

/**
 * The HostConfig (validated by the real schema) for the loopback load balancer `lb-test`, a host without systemd.
 */
export function testHostConfig(hosts: TestHosts | null = loadTestHosts()): HostConfig {
  if (!hosts) throw new Error(`the test hosts are not available: ${testHostsUnavailable()}`);
  const h = hosts.haproxy;
  const { name, ...ssh } = testSshTarget(hosts);
  return HostSchema.parse({
    name,
    match: { instance: ['127.0.0.1:9101', 'lb-test:9101'] },
    ssh,
    haproxy: {
      socket: h.socket,
      config: h.config,
      log: h.log,
      service: 'haproxy',
      pidFile: h.pidFile,
      previousConfig: h.previousConfig,
    },
    // No overrides: the catalog's reload and restart fall back to the pid file on a host without systemd, which
    // this one is. A host that needs sudo or another service manager overrides them here.
    commands: {},
  });
}

/**
 * `describe` for tests that need the test hosts: skipped with a printed reason when they cannot run here, but a
 * failing test when RBP_REQUIRE_HOSTS=1 (CI), so a broken CI image cannot pass by skipping.
 */
export function describeWithHosts(
  name: string,
  fn: (hosts: TestHosts) => void,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const hosts = loadTestHosts();
  if (hosts) {
    describe(name, () => fn(hosts));
    return;
  }
  const reason = testHostsUnavailable() ?? 'unknown';
  if (env.RBP_REQUIRE_HOSTS === '1') {
    describe(name, () => {
      it('needs the loopback test hosts (RBP_REQUIRE_HOSTS=1)', () => {
        throw new Error(`test hosts unavailable: ${reason}`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": ${reason}`);
  describe.skip(name, () => {
    it(`needs the loopback test hosts: ${reason}`, () => undefined);
  });
}

/** Stops an sshd (and its open connections); waits until its port is closed. */
export function stopSshd(which: SshdInstance = 'main'): void {
  runScript('sshd-stop', which);
}

/** Kills an sshd and its connection processes with SIGKILL, as a crash would. */
export function killSshd(which: SshdInstance = 'main'): void {
  runScript('sshd-kill', which);
}

/** Processes of the test user on the loopback hosts whose command line contains `pattern` (pgrep -f). */
export function remoteProcesses(user: string, pattern: string): string[] {
  const found = spawnSync('pgrep', ['-u', user, '-f', pattern], { encoding: 'utf8' });
  // pgrep exits 1 when nothing matches
  return found.status === 0 ? found.stdout.trim().split('\n').filter(Boolean) : [];
}

/** Starts an sshd (idempotent); waits until it accepts connections. */
export function startSshd(which: SshdInstance = 'main'): void {
  runScript('sshd-start', which);
}

/** Stops and starts an sshd. */
export function restartSshd(which: SshdInstance = 'main'): void {
  stopSshd(which);
  startSshd(which);
}
