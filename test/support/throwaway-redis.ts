/**
 * A real Redis of one test's own, on a free loopback port, that the test stops and starts at will (the shared one of
 * datastores.sh stays up for the other tests). Its data is not saved: a restart comes back empty, as after a crash.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './fakes';

export class ThrowawayRedis {
  private pid?: number;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** Starts one and waits until it answers PING. */
  static async start(): Promise<ThrowawayRedis> {
    const r = new ThrowawayRedis(await freePort(), mkdtempSync(join(tmpdir(), 'rbp-redis-')));
    await r.restart();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (again, empty) on the same port and waits until it answers. */
  async restart(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      { stdio: 'ignore' },
    );
    this.pid = child.pid;
    child.unref();
    const deadline = Date.now() + 10_000;
    while (!this.answers()) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills it (SIGKILL, as a crash) and waits until its port no longer answers. */
  stop(): void {
    if (this.pid === undefined) return;
    try {
      process.kill(this.pid, 'SIGCONT');
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    this.pid = undefined;
    for (let i = 0; i < 100 && this.answers(); i++) execFileSync('sleep', ['0.05']);
  }

  /** Freezes it (SIGSTOP): connections stay open and nothing answers, as a hung server. */
  pause(): void {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGSTOP');
  }

  /** Lets a frozen one go on (SIGCONT). */
  resume(): void {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGCONT');
  }

  /** Stops it and removes its folder. */
  remove(): void {
    this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private answers(): boolean {
    try {
      const pong = execFileSync('redis-cli', ['-p', String(this.port), 'ping'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 1000,
      });
      return pong.trim() === 'PONG';
    } catch {
      return false;
    }
  }
}
