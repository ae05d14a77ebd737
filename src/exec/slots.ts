/**
 * A fixed number of slots taken first come, first served: the process-wide cap on commands running at once
 * (`limits.global.concurrency`). bottleneck, which keeps the per-host limits, would do it too, but each of its jobs
 * costs about 4 ms of `setTimeout(0)` yields even when a slot is free (3.9 ms median measured for an idle limiter),
 * a sixth of the bot's own time on a click; a plain count costs nothing.
 */
export class Slots {
  private used = 0;
  private readonly waiting: Array<{ start: () => void; refuse: (err: Error) => void }> = [];
  private stopped: Error | undefined;
  private readonly idle = new Set<() => void>();

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`slots: size must be a positive integer, not ${size}`);
  }

  /** Runs `fn` once a slot is free, and frees it when `fn` settles. Rejects without running once stopped. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.take();
    try {
      return await fn();
    } finally {
      this.give();
    }
  }

  /** Slots taken now, and jobs waiting for one. */
  counts(): { running: number; waiting: number } {
    return { running: this.used, waiting: this.waiting.length };
  }

  /**
   * Takes no new job. With `dropWaiting`, jobs waiting for a slot are refused (they never run); otherwise they still
   * run. Resolves when no job runs or waits.
   */
  stop(opts: { dropWaiting?: boolean; message?: string } = {}): Promise<void> {
    this.stopped ??= new Error(opts.message ?? 'the limiter has stopped');
    if (opts.dropWaiting) for (const w of this.waiting.splice(0)) w.refuse(this.stopped);
    if (this.used === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  private take(): Promise<void> {
    if (this.stopped) return Promise.reject(this.stopped);
    if (this.used < this.size && this.waiting.length === 0) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise((start, refuse) => this.waiting.push({ start, refuse }));
  }

  private give(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next job: `used` stays, so no newcomer can slip in between.
    if (next) next.start();
    else this.used--;
    if (this.used === 0 && this.waiting.length === 0) {
      for (const resolve of this.idle) resolve();
      this.idle.clear();
    }
  }
}
