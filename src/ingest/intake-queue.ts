/**
 * The bounded queue between the webhook's answer and the work an alert causes. The route answers 202 only for alerts
 * this queue took; when it is full the answer is 503 with Retry-After and Alertmanager sends them again later, so a
 * storm waits at Alertmanager rather than in the bot's memory. Items are handed out in arrival order, a few at a time
 * (the alert flow keeps the order per alert).
 */

export interface IntakeQueueOptions<T> {
  /** Most items held at once, waiting or being handled. */
  capacity: number;
  /** Items handled at the same time. */
  concurrency: number;
  handle(item: T): Promise<void>;
  /** A handler's failure (the queue goes on with the next item). */
  onError(err: unknown, item: T): void;
}

/** What `offer` did with a batch. */
export type OfferResult = 'queued' | 'full' | 'too-large';

export class IntakeQueue<T> {
  private readonly waiting: T[] = [];
  private running = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: IntakeQueueOptions<T>) {
    if (opts.capacity < 1 || opts.concurrency < 1)
      throw new Error('IntakeQueue needs capacity and concurrency of at least 1');
  }

  /**
   * Takes the whole batch or none of it: `full` when it does not fit now (try again later), `too-large` when it could
   * never fit (more items than the capacity).
   */
  offer(batch: readonly T[]): OfferResult {
    if (batch.length > this.opts.capacity) return 'too-large';
    if (this.depth() + batch.length > this.opts.capacity) return 'full';
    this.waiting.push(...batch);
    this.pump();
    return 'queued';
  }

  /** Items waiting or being handled. */
  depth(): number {
    return this.waiting.length + this.running;
  }

  get capacity(): number {
    return this.opts.capacity;
  }

  /** Resolves when nothing is waiting or running, or after `ms` (with false). */
  drain(ms: number): Promise<boolean> {
    if (this.depth() === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.waiting.length > 0) {
      const item = this.waiting.shift() as T;
      this.running++;
      let work: Promise<void>;
      try {
        work = this.opts.handle(item);
      } catch (err) {
        work = Promise.reject(err);
      }
      void work
        .catch((err: unknown) => this.opts.onError(err, item))
        .finally(() => {
          this.running--;
          this.pump();
          if (this.depth() === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }
}
