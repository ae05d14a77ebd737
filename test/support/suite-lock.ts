/**
 * Locks between test files that Jest runs at once in its workers: a suite that changes a shared part of the test
 * hosts (restarts the shared haproxy, stops the spare sshd, clears the haproxy log) holds it exclusively, a suite that
 * only reads it holds it shared. Every other file runs beside them.
 *
 * The lock is flock(1) on a file, held by a child process for as long as the suite runs: the kernel grants it (no
 * polling) and drops it when the holder dies, so a crashed worker never leaves a lock behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The shared parts of the test hosts that suites take turns on. */
export type SharedPart =
  /** The shared haproxy of hosts.sh (its state, config, runtime API and log). */
  | 'lb'
  /** The spare sshd that failure tests stop, kill and restart. */
  | 'spare-sshd'
  /** The monitoring stack of prom-stack.sh (Prometheus, Alertmanager, exporter, its haproxy): started and stopped. */
  | 'prom-stack';

export type LockMode = 'shared' | 'exclusive';

const LOCK_DIR = join(tmpdir(), `rbp-suite-locks-${process.getuid?.() ?? 'u'}`);

/** Holds `part` in `mode` until the returned release is called (or this process exits). */
export async function holdPart(part: SharedPart, mode: LockMode): Promise<() => Promise<void>> {
  mkdirSync(LOCK_DIR, { recursive: true });
  // flock runs `echo held; exec cat` once it holds the lock: "held" is the marker, and cat keeps the lock until its
  // stdin closes.
  const child: ChildProcess = spawn(
    'flock',
    [mode === 'shared' ? '-s' : '-x', join(LOCK_DIR, `${part}.lock`), 'sh', '-c', 'echo held; exec cat >/dev/null'],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('held')) resolve();
    });
    child.once('error', (err) => reject(new Error(`cannot lock ${part} for this suite (is flock installed?): ${err}`)));
    child.once('exit', (code) => reject(new Error(`flock on ${part} exited with ${code} before holding it`)));
  });
  // The lock must not keep the worker alive, nor die with an unhandled error when Jest closes the worker.
  child.stdout?.removeAllListeners('data');
  child.removeAllListeners('exit');
  child.unref();
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin?.end();
    });
}

/**
 * Registers beforeAll/afterAll in the current describe (or file) that hold the given parts for its tests: the parts
 * in a fixed order, so two suites never wait on each other crosswise.
 */
export function useParts(parts: Partial<Record<SharedPart, LockMode>>): void {
  const releases: Array<() => Promise<void>> = [];
  const order: SharedPart[] = ['lb', 'spare-sshd', 'prom-stack'];
  beforeAll(async () => {
    for (const part of order) {
      const mode = parts[part];
      if (mode) releases.push(await holdPart(part, mode));
    }
  }, 600_000);
  afterAll(async () => {
    for (const release of releases.splice(0).reverse()) await release();
  });
}
