/**
 * The per-user click limit: a sliding one-minute window of accepted clicks, so the limit holds at any moment, not per
 * calendar minute, and a refusal can say exactly when the next click will be accepted. Kept in this process's memory
 * (one bot) or in Redis (replicas share it).
 */
import type Redis from 'ioredis';

/** The window's length. */
export const CLICK_WINDOW_MS = 60_000;

/** A click taken (with how many the window holds now), or refused with how many were accepted in the window and how long until the next one may be. */
export type ClickVerdict = { accepted: true; recent?: number } | { accepted: false; recent: number; waitMs: number };

/** Counts a user's clicks in a sliding window. */
export interface ClickWindow {
  /**
   * Counts the click when fewer than `limit` were accepted in the minute before `now`; otherwise counts nothing and
   * says how long until the oldest of the last `limit` clicks leaves the window.
   */
  take(user: string, limit: number, now: number): ClickVerdict | Promise<ClickVerdict>;
}

/** The window in this process's memory: synchronous, per process. */
export class MemoryClickWindow implements ClickWindow {
  private readonly clicks = new Map<string, number[]>();

  take(user: string, limit: number, now: number): ClickVerdict {
    const recent = (this.clicks.get(user) ?? []).filter((t) => t > now - CLICK_WINDOW_MS);
    if (recent.length >= limit) {
      this.clicks.set(user, recent);
      return { accepted: false, recent: recent.length, waitMs: recent[recent.length - limit] + CLICK_WINDOW_MS - now };
    }
    recent.push(now);
    this.clicks.set(user, recent);
    return { accepted: true, recent: recent.length };
  }
}

// One sorted set per user (score: the click's time), trimmed and checked and added to in one atomic step, so two
// replicas taking the same user's clicks at once cannot both take the last one. Members are unique (time + a
// per-call random part) so two clicks in the same millisecond both count. The key expires a window after the last
// click, so idle users cost Redis nothing.
const TAKE_SCRIPT = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  return {0, count, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return {1, count + 1, 0}
`;

/**
 * The window in Redis, shared by every replica using the same `prefix`. The clock is the caller's (like bottleneck's
 * clustering, which also sends each client's time): replicas need synchronised clocks (NTP), and tests can move it.
 */
export class RedisClickWindow implements ClickWindow {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async take(user: string, limit: number, now: number): Promise<ClickVerdict> {
    const member = `${now}-${Math.random().toString(36).slice(2, 10)}`;
    const [accepted, recent, waitMs] = (await this.redis.eval(
      TAKE_SCRIPT,
      1,
      `${this.prefix}:clicks:${user}`,
      now,
      CLICK_WINDOW_MS,
      limit,
      member,
    )) as [number, number, number];
    return accepted === 1 ? { accepted: true, recent } : { accepted: false, recent, waitMs };
  }
}
