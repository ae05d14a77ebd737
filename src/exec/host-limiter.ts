/**
 * Who may run what, when: per host (commands at once, a gap between starts, a bounded queue), overall (commands at
 * once) and per user (clicks per minute). Jobs over a limit are refused with a PilotError that says why and how long
 * to wait; nothing is dropped silently.
 */
import Bottleneck from 'bottleneck';
import { PilotError } from '../errors';
import { type ClickVerdict, type ClickWindow, MemoryClickWindow } from './click-window';
import { type ClusterLimiter, limitsUnavailable, type SharedLimitsPort } from './shared-limits';
import { Slots } from './slots';

export interface HostLimiterOptions {
  perHost: { concurrency: number; minGapMs: number; maxQueued: number };
  global: { concurrency: number };
  perUser: { clicksPerMinute: number };
  /**
   * Whether `schedule` counts the job's user against the per-user limit (default true). The bot counts every click
   * at the door instead (src/slack/count-every-click.ts, issue #19 §8), checklist and refused ones too, and sets this
   * false so a step click is not counted twice.
   */
  countClicksOnSchedule?: boolean;
  /** The clock for the per-user window; tests pass their own. */
  now?: () => number;
  /**
   * Redis (limits.redis.url): the per-host slots and gap and the per-user window are shared with every replica that
   * uses the same Redis and prefix. Without it, they are this process's own.
   */
  shared?: SharedLimitsPort;
}

/** Who a job is for. */
export interface LimitKey {
  host: string;
  user?: string;
  /**
   * How long the job may run at most (the command's timeout plus the SSH connect time). With shared limits, a slot
   * held by a replica that died is freed this long plus SLOT_GRACE_MS after it was taken.
   */
  maxRunMs?: number;
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
  /** This host's slots: this process's own, or the cluster's. */
  local?: Bottleneck;
  shared?: ClusterLimiter;
  queued: number;
  running: number;
}

/**
 * With shared limits, how long past its `maxRunMs` a job's host slot is held before the cluster frees it: the time a
 * job may wait for a free slot overall (the global limit is per process) before it starts. A job that would start later
 * is refused rather than run with its slot lapsed; a replica that dies holding a slot blocks it this long at most.
 */
export const SLOT_GRACE_MS = 120_000;
/** The most a job may run when the caller does not say (the action schema's largest timeout). */
const DEFAULT_MAX_RUN_MS = 600_000;

/** Schedules jobs under the per-host, overall and per-user limits. */
export class HostLimiter {
  private readonly hosts = new Map<string, HostQueue>();
  private readonly clicks: ClickWindow;
  // Overall: this process's own in both modes. It bounds what one process runs at once (SSH sessions, output
  // buffers); the hosts are protected by their own limits, which replicas share.
  private readonly global: Slots;
  private readonly now: () => number;
  private running = 0;

  constructor(private readonly opts: HostLimiterOptions) {
    this.global = new Slots(opts.global.concurrency);
    this.now = opts.now ?? Date.now;
    this.clicks = opts.shared?.clicks ?? new MemoryClickWindow();
  }

  /**
   * Runs `fn` when the limits allow. Rejects with RATE_LIMITED (the user clicked too often; the message says how long
   * to wait), QUEUE_FULL (too many jobs wait on the host) or LIMITS_UNAVAILABLE (shared limits, Redis failed: nothing
   * ran); otherwise settles as `fn` does.
   */
  schedule<T>(key: LimitKey, fn: () => Promise<T>, hooks: ScheduleHooks = {}): Promise<T> {
    let q: HostQueue;
    let ahead: number;
    try {
      q = this.queueOf(key.host);
      // This process's bound, checked at once: a flood of clicks cannot pile up here while Redis is asked.
      this.checkQueue(key.host, q.queued + q.running, q);
      ahead = q.queued + q.running;
      q.queued++;
    } catch (err) {
      return Promise.reject(err);
    }
    const host = q;
    const refused = (err: unknown): Promise<never> => {
      host.queued--;
      return Promise.reject(err);
    };
    if (!host.shared) {
      // Per process: decided at once (no await), so `onQueued` comes before any job of this turn starts.
      try {
        if (key.user && this.opts.countClicksOnSchedule !== false)
          this.refuseOver(
            key.user,
            this.clicks.take(key.user, this.opts.perUser.clicksPerMinute, this.now()) as ClickVerdict,
          );
      } catch (err) {
        return refused(err);
      }
      if (ahead >= this.opts.perHost.concurrency) hooks.onQueued?.(ahead);
      return this.submit(key, host, fn, hooks);
    }
    const shared = host.shared;
    return (async () => {
      try {
        // The cluster's count decides: jobs running and waiting on this host across the replicas.
        const cluster = await shared.clusterCounts().catch((err: unknown) => {
          this.opts.shared?.failed('host', err);
          throw limitsUnavailable(err);
        });
        const clusterAhead = Math.max(ahead, cluster.running + cluster.queued);
        this.checkQueue(key.host, clusterAhead, host);
        if (key.user && this.opts.countClicksOnSchedule !== false) {
          const verdict = await Promise.resolve(
            this.clicks.take(key.user, this.opts.perUser.clicksPerMinute, this.now()),
          ).catch((err: unknown) => {
            this.opts.shared?.failed('clicks', err);
            throw limitsUnavailable(err);
          });
          this.refuseOver(key.user, verdict);
        }
        if (clusterAhead >= this.opts.perHost.concurrency) hooks.onQueued?.(clusterAhead);
      } catch (err) {
        return refused(err);
      }
      return await this.submit(key, host, fn, hooks);
    })();
  }

  /**
   * Counts a click that runs no command (a footer button, an `/incident` command) against the user's per-minute
   * limit: they cost the bot Slack calls and store reads, so a script clicking them must be limited too. Throws (or,
   * with shared limits, rejects) RATE_LIMITED with how long to wait when the user is over the limit; nothing is
   * counted then. LIMITS_UNAVAILABLE when Redis fails.
   */
  countClick(user: string): void | Promise<void> {
    const verdict = this.clicks.take(user, this.opts.perUser.clicksPerMinute, this.now());
    if (!(verdict instanceof Promise)) return this.refuseOver(user, verdict);
    return verdict.then(
      (v) => this.refuseOver(user, v),
      (err: unknown) => {
        this.opts.shared?.failed('clicks', err);
        throw limitsUnavailable(err);
      },
    );
  }

  /** Queue depth per host and jobs running overall, in this process (replicas each report their own). */
  stats(): HostLimiterStats {
    const hosts: HostLimiterStats['hosts'] = {};
    for (const [name, q] of this.hosts) hosts[name] = { queued: q.queued, running: q.running };
    return { hosts, running: this.running };
  }

  /**
   * Stops taking new jobs and waits for scheduled ones to finish. With `dropWaiting`, jobs that have not started are
   * rejected at once instead (a shutdown should not start queued commands). The shared Redis connection is closed by
   * its owner, after this.
   */
  async stop(opts: { dropWaiting?: boolean } = {}): Promise<void> {
    const dropWaitingJobs = opts.dropWaiting === true;
    await Promise.all(
      [...this.hosts.values()].map((q) => (q.shared ?? (q.local as Bottleneck)).stop({ dropWaitingJobs })),
    );
    await this.global.stop({ dropWaiting: dropWaitingJobs, message: 'This limiter has been stopped.' });
  }

  /** Runs `fn` in a slot of its host, then a slot overall. */
  private submit<T>(key: LimitKey, q: HostQueue, fn: () => Promise<T>, hooks: ScheduleHooks): Promise<T> {
    let started = false;
    const maxRunMs = key.maxRunMs ?? DEFAULT_MAX_RUN_MS;
    const inSlot = (slotExpiresAt: number): Promise<T> =>
      // A job ready on its host still waits for a free slot overall.
      this.global.run(async () => {
        // Bottleneck's slot clock is the real one (it sends Date.now() to Redis), whatever clock the window uses.
        if (Date.now() + maxRunMs > slotExpiresAt) {
          throw new PilotError(
            'QUEUE_FULL',
            `the action waited too long for one of the ${this.opts.global.concurrency} slots overall and its turn on ${key.host} lapsed`,
            { hint: 'nothing was run; the bot is running many actions at once: click again when they have finished' },
          );
        }
        started = true;
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
    const scheduled = q.shared
      ? q.shared.schedule(inSlot, { expirationMs: maxRunMs + SLOT_GRACE_MS })
      : (q.local as Bottleneck).schedule(() => inSlot(Number.POSITIVE_INFINITY));
    return scheduled.catch((err: unknown) => {
      if (!started) q.queued--;
      throw err;
    });
  }

  private checkQueue(host: string, ahead: number, q: HostQueue): void {
    // Jobs that must wait for a slot; a job scheduled but not started yet does not wait if a slot is free.
    const waiting = Math.max(0, ahead - this.opts.perHost.concurrency);
    if (waiting >= this.opts.perHost.maxQueued) {
      throw new PilotError(
        'QUEUE_FULL',
        `${waiting} actions are already waiting on ${host} (at most ${this.opts.perHost.maxQueued})`,
        { details: { host, queued: q.queued, running: q.running } },
      );
    }
  }

  private queueOf(host: string): HostQueue {
    let q = this.hosts.get(host);
    if (!q) {
      const settings = { maxConcurrent: this.opts.perHost.concurrency, minTime: this.opts.perHost.minGapMs };
      q = this.opts.shared
        ? {
            shared: this.opts.shared.limiter(`host:${host}`, { kind: 'host', bottleneck: settings }),
            queued: 0,
            running: 0,
          }
        : { local: new Bottleneck(settings), queued: 0, running: 0 };
      this.hosts.set(host, q);
    }
    return q;
  }

  // Per user: a sliding one-minute window of accepted clicks (see click-window.ts), so the message can say exactly
  // when the next click will be accepted.
  private refuseOver(user: string, verdict: ClickVerdict): void {
    if (verdict.accepted) return;
    const limit = this.opts.perUser.clicksPerMinute;
    const waitSec = Math.max(1, Math.ceil(verdict.waitMs / 1000));
    throw new PilotError(
      'RATE_LIMITED',
      `you ran ${verdict.recent} actions in the last minute (at most ${limit}); try again in ${waitSec} s`,
      { details: { user, waitSec } },
    );
  }
}
