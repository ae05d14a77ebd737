/**
 * The pace of chat.postMessage per channel: Slack allows about one message a second per channel, with short bursts.
 * A token bucket per channel (five, refilled one a second by default); calls wait in order rather than fail, and the
 * wait is bounded. With shared limits (Redis), the bucket is the cluster's: replicas posting into one channel share it.
 * A person's click result goes before the bot's background messages (low priority: a triage's post and edits), and
 * waiting edits of one message collapse into one (a key): in a storm they neither hold up a click nor flood Slack.
 */
import Bottleneck from 'bottleneck';
import { PilotError } from '../errors';
import { type ClusterLimiter, type SharedLimitsPort, whenIdle } from '../exec/shared-limits';
import type { Logger } from '../logger';

export interface PostPacerOptions {
  perSecond: number;
  burst: number;
  /** Posts waiting per channel at most, in this process (slack.maxQueuedPosts); default 500. */
  maxQueued?: number;
  logger: Logger;
  /** Redis (limits.redis.url): the bucket is shared with every replica using the same Redis and prefix. */
  shared?: SharedLimitsPort;
}

interface ChannelQueue {
  local: Bottleneck;
  shared?: ClusterLimiter;
  /** Keyed calls still waiting for a token: a newer call with the same key replaces the call, not joins the queue. */
  pending: Map<string, { fn: () => Promise<unknown>; done: Promise<unknown> }>;
}

/** How a call is paced. */
export interface PaceOptions {
  /**
   * Sent after every waiting call that is not low (a person's click result goes first): the bot's own background
   * messages, a triage's post and its edits, a storm's "triage skipped" notices.
   */
  low?: boolean;
  /**
   * Calls with the same key that wait at once are sent once, with the newest call's content (an edit of one message:
   * only its latest state matters); every caller's promise settles with that one send. The caller keeps at most one
   * send of a key under way (the presenter and the triage do), so edits of one message never overtake each other.
   */
  key?: string;
}

/** Paces calls per channel. */
export class PostPacer {
  private readonly channels = new Map<string, ChannelQueue>();

  constructor(private readonly opts: PostPacerOptions) {}

  /**
   * Runs `fn` when the channel's bucket has a token. Rejects at once with QUEUE_FULL when maxQueued posts already
   * wait. With shared limits and Redis failing, the post goes out at this process's own pace instead (logged and
   * counted): the bot's messages matter in an incident, and Slack's own 429s (which the client waits out) are the
   * backstop. Commands on hosts, by contrast, never run without their shared limits.
   */
  schedule<T>(channel: string, fn: () => Promise<T>, opts: PaceOptions = {}): Promise<T> {
    const q = this.queueOf(channel);
    const { key } = opts;
    const waiting = key === undefined ? undefined : q.pending.get(key);
    if (waiting) {
      // Not sent yet: the newer content replaces the older, and both callers learn when it has gone.
      waiting.fn = fn;
      return waiting.done as Promise<T>;
    }
    if (key === undefined) return this.enqueue(channel, q, fn, opts);
    const entry: { fn: () => Promise<unknown>; done: Promise<unknown> } = { fn, done: Promise.resolve() };
    q.pending.set(key, entry);
    // The entry leaves the map when its send starts (a call after that is a new send), or when it is refused.
    const leave = () => {
      if (q.pending.get(key) === entry) q.pending.delete(key);
    };
    entry.done = this.enqueue(
      channel,
      q,
      () => {
        leave();
        return entry.fn();
      },
      opts,
    );
    entry.done.catch(leave);
    return entry.done as Promise<T>;
  }

  private enqueue<T>(channel: string, q: ChannelQueue, fn: () => Promise<T>, opts: PaceOptions): Promise<T> {
    // A low-priority call waits behind every other waiting post of this process (bottleneck: lower number first).
    const job = { priority: opts.low ? 9 : 5 };
    const queued = this.queuedIn(q);
    if (queued >= this.maxQueued) {
      this.opts.logger.warn({ channel, queued }, 'post refused: the channel’s post queue is full');
      return Promise.reject(
        new PilotError('QUEUE_FULL', `${this.maxQueued} posts are already waiting for Slack in channel ${channel}`, {
          hint: 'Slack allows about one post a second per channel; the bot posts again when the queue drains',
        }),
      );
    }
    if (!q.shared) return q.local.schedule(job, fn);
    return q.shared
      .schedule(() => fn())
      .catch((err: unknown) => {
        if ((err as PilotError)?.code !== 'LIMITS_UNAVAILABLE') throw err;
        this.opts.logger.warn({ channel, err }, 'post paced by this process alone: the shared pace (Redis) failed');
        return q.local.schedule(job, fn);
      });
  }

  /** Posts waiting, in this process, all channels. */
  queued(): number {
    let n = 0;
    for (const q of this.channels.values()) n += this.queuedIn(q);
    return n;
  }

  /** Resolves once no post is queued or under way in any channel. */
  drained(): Promise<void> {
    return Promise.all(
      [...this.channels.values()].flatMap((q) => [whenIdle(q.local), ...(q.shared ? [q.shared.idle()] : [])]),
    ).then(() => undefined);
  }

  /**
   * Stops the queues. By default queued posts still go out and it resolves when they have; with `dropWaiting` they
   * are refused at once ("the bot is stopping"): a queue paced at one post a minute would hold a stop for minutes.
   */
  async stop(opts: { dropWaiting?: boolean } = {}): Promise<void> {
    const how = { dropWaitingJobs: opts.dropWaiting ?? false, dropErrorMessage: 'the bot is stopping' };
    await Promise.all(
      [...this.channels.values()].flatMap((q) => [q.local.stop(how), ...(q.shared ? [q.shared.stop(how)] : [])]),
    );
  }

  private get maxQueued(): number {
    return this.opts.maxQueued ?? 500;
  }

  private queuedIn(q: ChannelQueue): number {
    return q.local.counts().QUEUED + (q.shared?.localQueued() ?? 0);
  }

  private queueOf(channel: string): ChannelQueue {
    let q = this.channels.get(channel);
    if (!q) {
      const { perSecond, burst } = this.opts;
      const interval = Math.max(20, Math.round(1000 / perSecond));
      const bucket = {
        reservoir: burst,
        reservoirIncreaseAmount: 1,
        reservoirIncreaseInterval: interval,
        reservoirIncreaseMaximum: burst,
      };
      q = {
        // Bounded: past maxQueued waiting posts a new one is refused at once (OVERFLOW) rather than held in memory.
        // bottleneck adds tokens on its heartbeat (250 ms by default), one increase per beat: a shorter interval
        // than the beat needs a beat as short, or ten posts a second would go out at four.
        local: new Bottleneck({
          ...bucket,
          heartbeatInterval: Math.min(interval, 250),
          highWater: this.maxQueued,
          strategy: Bottleneck.strategy.OVERFLOW,
        }),
        // The cluster's bucket: a token taken by any replica is gone for all. A post waiting for a token is woken
        // when one is added (polled each interval: bottleneck's heartbeat), not only by another replica's activity.
        shared: this.opts.shared?.limiter(`channel:${channel}`, {
          kind: 'posts',
          bottleneck: bucket,
          initialOnly: ['reservoir'],
          heartbeatMs: Math.max(interval, 250),
        }),
        pending: new Map(),
      };
      this.channels.set(channel, q);
    }
    return q;
  }
}
