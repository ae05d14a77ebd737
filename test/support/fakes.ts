/** Small hand-written fakes and helpers shared by tests. */
import { createServer } from 'node:net';
import type { ExecResult, Executor, SshTarget } from '../../src/exec/types';

/** An Executor that runs nothing and records every command it was asked to run. */
export class RecordingExecutor implements Executor {
  readonly calls: { target: SshTarget; command: string }[] = [];

  /** The commands alone, in order. */
  get commands(): string[] {
    return this.calls.map((c) => c.command);
  }

  async run(target: SshTarget, command: string): Promise<ExecResult> {
    this.calls.push({ target, command });
    return { exitCode: 0, stdout: { text: 'ok', bytes: 2, truncatedBytes: 0 }, stderr: { text: '', bytes: 0, truncatedBytes: 0 }, durationMs: 1, timedOut: false };
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
