/**
 * Who may run what, when: per host (commands at once, a gap between starts, a bounded queue), overall (commands at
 * once) and per user (clicks per minute). Jobs over a limit are refused with a PilotError that says why and how long
 * to wait; nothing is dropped silently.
 */
import Bottleneck from 'bottleneck';
import { PilotError } from '../errors';

export interface HostLimiterOptions {
  perHost: { concurrency: number; minGapMs: number; maxQueued: number };
  global: { concurrency: number };
  perUser: { clicksPerMinute: number };
  /** The clock for the per-user window; tests pass their own. */
  now?: () => number;
}

/** Who a job is for. */
export interface LimitKey {
  host: string;
  user?: string;
}

export interface ScheduleHooks {
  /**
   * Called at once when the job has to wait for a slot on its host: `ahead` jobs (queued or running) are before it.
   * Not called when a slot is free.
   */
  onQueued?(ahead: number): void;
  /** Called when the job starts. */
  onStart?(): void;
}

/** Queue depth for metrics. */
export interface HostLimiterStats {
  hosts: Record<string, { queued: number; running: number }>;
  running: number;
}

interface HostQueue {
  limiter: Bottleneck;
  queued: number;
  running: number;
}

const WINDOW_MS = 60_000;

/** Schedules jobs under the per-host, overall and per-user limits. */
export class HostLimiter {
  private readonly hosts = new Map<string, HostQueue>();
  private readonly clicks = new Map<string, number[]>();
  private readonly global: Bottleneck;
  private readonly now: () => number;
  private running = 0;

  constructor(private readonly opts: HostLimiterOptions) {
    this.global = new Bottleneck({ maxConcurrent: opts.global.concurrency });
    this.now = opts.now ?? Date.now;
  }

  /**
   * Runs `fn` when the limits allow. Rejects at once with RATE_LIMITED (the user clicked too often; the message says
   * how long to wait) or QUEUE_FULL (too many jobs wait on the host); otherwise settles as `fn` does.
   */
  schedule<T>(key: LimitKey, fn: () => Promise<T>, hooks: ScheduleHooks = {}): Promise<T> {
    try {
      if (key.user) this.checkUser(key.user);
      const q = this.queueOf(key.host);
      // Jobs that must wait for a slot; a job scheduled but not started yet does not wait if a slot is free.
      const waiting = Math.max(0, q.queued + q.running - this.opts.perHost.concurrency);
      if (waiting >= this.opts.perHost.maxQueued) {
        throw new PilotError(
          'QUEUE_FULL',
          `${waiting} actions are already waiting on ${key.host} (at most ${this.opts.perHost.maxQueued})`,
          {
            details: { host: key.host, queued: q.queued, running: q.running },
          },
        );
      }
      if (key.user) this.recordClick(key.user);
      const ahead = q.queued + q.running;
      q.queued++;
      if (ahead >= this.opts.perHost.concurrency) hooks.onQueued?.(ahead);
      return q.limiter.schedule(async () => {
        q.queued--;
        q.running++;
        this.running++;
        try {
          hooks.onStart?.();
          return await fn();
        } finally {
          q.running--;
          this.running--;
        }
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Counts a click that runs no command (a footer button, an `/incident` command) against the user's per-minute
   * limit: they cost the bot Slack calls and store reads, so a script clicking them must be limited too. Throws
   * RATE_LIMITED (with how long to wait) when the user is over the limit; nothing is counted then.
   */
  countClick(user: string): void {
    this.checkUser(user);
    this.recordClick(user);
  }

  /** Queue depth per host and jobs running overall. */
  stats(): HostLimiterStats {
    const hosts: HostLimiterStats['hosts'] = {};
    for (const [name, q] of this.hosts) hosts[name] = { queued: q.queued, running: q.running };
    return { hosts, running: this.running };
  }

  /**
   * Stops taking new jobs and waits for scheduled ones to finish. With `dropWaiting`, jobs that have not started are
   * rejected at once instead (a shutdown should not start queued commands).
   */
  async stop(opts: { dropWaiting?: boolean } = {}): Promise<void> {
    const dropWaitingJobs = opts.dropWaiting === true;
    await Promise.all([...this.hosts.values()].map((q) => q.limiter.stop({ dropWaitingJobs })));
    await this.global.stop({ dropWaitingJobs });
  }

  private queueOf(host: string): HostQueue {
    let q = this.hosts.get(host);
    if (!q) {
      const limiter = new Bottleneck({
        maxConcurrent: this.opts.perHost.concurrency,
        minTime: this.opts.perHost.minGapMs,
      });
      // A job ready on its host still waits for a free slot overall.
      limiter.chain(this.global);
      q = { limiter, queued: 0, running: 0 };
      this.hosts.set(host, q);
    }
    return q;
  }

  // Per user: a sliding one-minute window of accepted clicks, so the limit holds at any moment, not per calendar
  // minute, and the message can say exactly when the next click will be accepted.
  private checkUser(user: string): void {
    const now = this.now();
    const recent = (this.clicks.get(user) ?? []).filter((t) => t > now - WINDOW_MS);
    this.clicks.set(user, recent);
    const limit = this.opts.perUser.clicksPerMinute;
    if (recent.length < limit) return;
    const waitSec = Math.max(1, Math.ceil((recent[recent.length - limit] + WINDOW_MS - now) / 1000));
    throw new PilotError(
      'RATE_LIMITED',
      `you ran ${recent.length} actions in the last minute (at most ${limit}); try again in ${waitSec} s`,
      {
        details: { user, waitSec },
      },
    );
  }

  private recordClick(user: string): void {
    this.clicks.get(user)!.push(this.now());
  }
}
