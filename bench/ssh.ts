/**
 * SSH benchmark: a status-check-like command over the pool's kept connection versus a fresh `ssh` process each time,
 * against the loopback test hosts. Run alone with `npx ts-node --transpile-only bench/ssh.ts`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { SshPool } from '../src/exec/ssh-pool';
import { loadTestHosts, type TestHosts, testSshTarget } from '../test/support/test-hosts';

const run = promisify(execFile);

/** The q-quantile (0..1) of already sorted numbers, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** One decimal. */
export function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Times `iterations` sequential runs of `once`, in ms, sorted. */
export async function time(iterations: number, once: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

/** `ssh` arguments that run `command` on the test host as a fresh process would: key, pinned host key, no prompts. */
export function plainSshArgs(hosts: TestHosts, knownHostsPath: string, command: string): string[] {
  return [
    '-i',
    hosts.ssh.privateKeyPath,
    '-p',
    String(hosts.ssh.port),
    '-o',
    `UserKnownHostsFile=${knownHostsPath}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
    `${hosts.ssh.user}@${hosts.ssh.host}`,
    command,
  ];
}

/**
 * An OpenSSH ControlMaster to the test host, kept open (ControlPersist) like an engineer's multiplexed `ssh`: each
 * `run` is a new `ssh` process that opens a session over the master's already open connection, so it pays no key
 * exchange and no login, only the process start, a channel and the command. The fair baseline for the bot's pool.
 */
export async function startSshMaster(
  hosts: TestHosts,
  dir: string,
): Promise<{ run(command: string): Promise<string>; close(): Promise<void> }> {
  const knownHosts = join(dir, 'known_hosts_mux');
  writeFileSync(knownHosts, `[${hosts.ssh.host}]:${hosts.ssh.port} ${hosts.ssh.hostKeyPublic}\n`);
  const controlPath = join(dir, 'mux.sock');
  const base = (extra: string[]) => {
    const args = plainSshArgs(hosts, knownHosts, '');
    // plainSshArgs ends with the destination and the command: the control options go before them.
    return [...args.slice(0, -2), '-o', `ControlPath=${controlPath}`, ...extra, args[args.length - 2]];
  };
  // -f: background once logged in; -N: no command. The master then holds the connection until `-O exit`.
  await run('ssh', [...base(['-o', 'ControlMaster=yes', '-o', 'ControlPersist=600', '-f', '-N'])]);
  return {
    async run(command) {
      return (await run('ssh', [...base(['-o', 'ControlMaster=no']), command], { maxBuffer: 1 << 20 })).stdout;
    },
    async close() {
      await run('ssh', base(['-O', 'exit'])).catch(() => undefined);
    },
  };
}

/**
 * Runs the status check `iterations` times through the SshPool (one reused connection; the first call, which
 * connects, is reported apart) and as many times with a plain `ssh` process, then `true` over the pool and over a
 * multiplexed `ssh` (the transport's floor). Returns figures in ms and the ratios.
 */
export async function benchSsh(hosts: TestHosts, iterations = 50): Promise<Record<string, number>> {
  const command = `echo "show info" | socat stdio ${hosts.haproxy.socket}; pgrep -a haproxy`;
  const dir = mkdtempSync(join(tmpdir(), 'rbp-bench-'));
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[${hosts.ssh.host}]:${hosts.ssh.port} ${hosts.ssh.hostKeyPublic}\n`);
  const pool = new SshPool();
  try {
    const target = testSshTarget(hosts);
    const opts = { timeoutMs: 10_000, outputCap: 64 * 1024 };
    const check = (exitCode: number | null) => {
      if (exitCode !== 0) throw new Error(`the status check exited with ${exitCode}`);
    };
    const first = await time(1, async () => check((await pool.run(target, command, opts)).exitCode));
    const pooled = await time(iterations, async () => check((await pool.run(target, command, opts)).exitCode));
    const plain = await time(iterations, async () => void (await run('ssh', plainSshArgs(hosts, knownHosts, command))));
    // The floor: a command that does nothing, over the pool and over a multiplexed ssh. What is left is the
    // transport's own cost (a channel, an exec, the exit), where small-packet delays show.
    const mux = await startSshMaster(hosts, dir);
    let poolEmpty: number[];
    let muxEmpty: number[];
    try {
      await mux.run('true');
      poolEmpty = await time(iterations, async () => check((await pool.run(target, 'true', opts)).exitCode));
      muxEmpty = await time(iterations, async () => void (await mux.run('true')));
    } finally {
      await mux.close();
    }
    const pm = quantile(pooled, 0.5);
    const pp = quantile(pooled, 0.95);
    const sm = quantile(plain, 0.5);
    const sp = quantile(plain, 0.95);
    return {
      iterations,
      pool_first_call_ms: round(first[0]),
      pool_median_ms: round(pm),
      pool_p95_ms: round(pp),
      ssh_median_ms: round(sm),
      ssh_p95_ms: round(sp),
      ssh_over_pool_median: round(sm / pm),
      ssh_over_pool_p95: round(sp / pp),
      pool_empty_command_median_ms: round(quantile(poolEmpty, 0.5)),
      ssh_multiplexed_empty_command_median_ms: round(quantile(muxEmpty, 0.5)),
      pool_connects: pool.stats().connects,
    };
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const hosts = loadTestHosts();
  if (!hosts) {
    console.error('The loopback test hosts cannot run here: see test/support/hosts.sh install');
    process.exit(1);
  }
  benchSsh(hosts).then(
    (figures) => console.table(figures),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
