/** Small hand-written fakes and helpers shared by tests. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecResult, Executor, SshTarget } from '../../src/exec/types';

/** What a RecordingExecutor answers a command with: a result (fields over `exit 0, "ok"`), or a throw. */
export type RecordedAnswer = (command: string, target: SshTarget) => Partial<ExecResult> | Promise<Partial<ExecResult>>;

/**
 * An Executor that runs nothing and records every command it was asked to run. It answers `exit 0, "ok"`, or what
 * `answer` says (which may throw, as a connection failure would).
 */
export class RecordingExecutor implements Executor {
  readonly calls: { target: SshTarget; command: string }[] = [];

  constructor(private readonly answer?: RecordedAnswer) {}

  /** The commands alone, in order. */
  get commands(): string[] {
    return this.calls.map((c) => c.command);
  }

  /** Resolves once `count` commands in all have been run (at once when they have); rejects after `timeoutMs`. */
  waitForCommands(count: number, timeoutMs = 5000): Promise<string[]> {
    if (this.calls.length >= count) return Promise.resolve(this.commands);
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (this.calls.length < count) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(this.commands);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`RecordingExecutor: ${this.calls.length} commands within ${timeoutMs} ms, not ${count}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private readonly waiters = new Set<() => void>();

  async run(target: SshTarget, command: string): Promise<ExecResult> {
    this.calls.push({ target, command });
    for (const waiter of [...this.waiters]) waiter();
    const ok: ExecResult = {
      exitCode: 0,
      stdout: { text: 'ok', bytes: 2, truncatedBytes: 0 },
      stderr: { text: '', bytes: 0, truncatedBytes: 0 },
      durationMs: 1,
      timedOut: false,
    };
    return this.answer ? { ...ok, ...(await this.answer(command, target)) } : ok;
  }

  async close(): Promise<void> {}
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let unusedKey: string | undefined;
/**
 * A private key file no host knows: for configs whose hosts are never connected to (every case is decided before a
 * command), now that start-up refuses a key file that does not exist. One per test process, mode 600.
 */
export function unusedKeyFile(): string {
  if (unusedKey) return unusedKey;
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const file = join(mkdtempSync(join(tmpdir(), 'rbp-unused-key-')), 'id_rsa');
  writeFileSync(file, privateKey, { mode: 0o600 });
  unusedKey = file;
  return file;
}
