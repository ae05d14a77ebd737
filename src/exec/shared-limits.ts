/**
 * Limits several replicas share through Redis (limits.redis.url): bottleneck's own clustering for the per-host slots
 * and gaps and the per-channel post pace, and a Redis sliding window for the per-user clicks. One Redis connection
 * (a client and its pub/sub twin) serves every limiter of the process.
 *
 * Safety first: a limit never silently vanishes. Redis unreachable at start stops start-up; a Redis failure later
 * fails the job that needed it with LIMITS_UNAVAILABLE (nothing runs), and the connection keeps reconnecting.
 */
import Bottleneck from 'bottleneck';
import type Redis from 'ioredis';
import { redactUrl } from '../config/redact-url';
import type { Config } from '../config/schema';
import { PilotError } from '../errors';
import type { Logger } from '../logger';
import { type ClickWindow, RedisClickWindow } from './click-window';

export interface SharedLimitsOptions {
  url: string;
  /** Namespace of every key and limiter id (limits.redis.prefix). */
  prefix: string;
  /** A Redis call that has not answered after this long fails (limits.redis.timeoutMs). */
  timeoutMs: number;
  /** How long start-up waits for Redis to answer (default 5 s). */
  connectTimeoutMs?: number;
  logger?: Logger;
}

/**
 * Limiter state left untouched in Redis for this long expires (bottleneck's `timeout`): a host or channel nobody used
 * for a day costs nothing. Far longer than any job may hold a slot, so a running job's state never expires under it.
 */
const KEY_TTL_MS = 24 * 3600_000;

/**
 * What start-up warns about the limits: a store the replicas share (Postgres) without Redis for the limits means each
 * replica keeps its own, so N replicas allow N times as much.
 */
export function limitsWarnings(storeShared: boolean, limits: SharedLimits | undefined): string[] {
  return storeShared && !limits
    ? [
        'store: Postgres, but no limits.redis.url (or REDIS_URL): the per-host SSH limits, the per-user click limit and the per-channel post pace are kept per process, so N replicas allow N times as much',
      ]
    : [];
}

/**
 * The shared limits the config asks for (limits.redis.url, else REDIS_URL), connected; undefined when neither is set
 * (each process keeps its own). Throws LIMITS_UNAVAILABLE when Redis does not answer.
 */
export async function openConfiguredLimits(
  config: Pick<Config, 'limits'>,
  env: { redisUrl?: string },
  logger: Logger,
): Promise<SharedLimits | undefined> {
  const url = config.limits.redis.url ?? env.redisUrl;
  if (!url) return undefined;
  const { prefix, timeoutMs } = config.limits.redis;
  const shared = await openSharedLimits({ url, prefix, timeoutMs, logger: logger.child({ component: 'limits' }) });
  logger.info(
    { redis: redactUrl(url), prefix },
    'limits: shared through Redis (per-host slots and gap, per-user clicks, per-channel post pace)',
  );
  return shared;
}

/** Connects to Redis and returns the shared limits; throws LIMITS_UNAVAILABLE (what to do) when Redis does not answer. */
export async function openSharedLimits(opts: SharedLimitsOptions): Promise<SharedLimits> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  let lastError: Error | undefined;
  // ioredis loads here, when shared limits are configured: a single replica never pays its memory.
  const { default: RedisClient } = await import('ioredis');
  const client: Redis = new RedisClient(opts.url, {
    // A command while disconnected fails at once instead of waiting in memory for Redis to come back: the click
    // that needed it is refused with a reason, rather than hanging.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.timeoutMs,
    connectTimeout: Math.max(opts.timeoutMs, 1000),
    // Keep reconnecting through an outage (every 2 s at most): the limits come back by themselves.
    retryStrategy: (times) => Math.min(times * 100, 2000),
    connectionName: `${opts.prefix}-limits`,
  });
  client.on('error', (err: Error) => {
    lastError = err;
  });
  const cannotConnect = (reason: string, cause?: unknown) =>
    new PilotError(
      'LIMITS_UNAVAILABLE',
      `cannot reach Redis for the shared limits at ${redactUrl(opts.url)}: ${reason}`,
      {
        hint: 'start Redis or fix limits.redis.url (or REDIS_URL); without it, each bot process keeps its own limits',
        cause,
      },
    );
  let connection: Bottleneck.IORedisConnection | undefined;
  try {
    await withDeadline(new Promise((resolve) => client.once('ready', resolve)), connectTimeoutMs);
    await client.ping();
    // Bottleneck's second client (pub/sub) is a duplicate of this one; its `ready` never rejects, hence the deadline.
    connection = new Bottleneck.IORedisConnection({ client, Redis: RedisClient });
    recogniseBottleneckErrors(connection);
    // bottleneck.d.ts declares ready() a method; 2.19.5 makes it a promise property.
    await withDeadline((connection as unknown as { ready: Promise<unknown> }).ready, connectTimeoutMs);
  } catch (err) {
    client.disconnect();
    if (connection) await connection.disconnect(false);
    const reason = err instanceof DeadlineError ? (lastError?.message ?? 'no answer') : (err as Error).message;
    throw cannotConnect(`${reason} (after ${connectTimeoutMs} ms)`, err);
  }
  return new SharedLimits(opts, client, connection);
}

/** What the limiters need of the shared limits (the Redis ones, or a test's fake). */
export interface SharedLimitsPort {
  /** The per-user window every replica shares. */
  readonly clicks: ClickWindow;
  /** A limiter every replica that uses the same `name` shares. */
  limiter(name: string, settings: SharedLimiterSettings): ClusterLimiter;
  /** Records a Redis failure of `limit` (counted, logged). */
  failed(limit: string, err: unknown): void;
}

/** A limiter of the cluster: see SharedLimiter. */
export interface ClusterLimiter {
  schedule<T>(fn: (slotExpiresAt: number) => Promise<T>, opts?: { expirationMs?: number }): Promise<T>;
  localQueued(): number;
  clusterCounts(): Promise<{ running: number; queued: number }>;
  /** Resolves once this process has no job received, waiting or running in this limiter. */
  idle(): Promise<void>;
  stop(opts: { dropWaitingJobs: boolean; dropErrorMessage?: string }): Promise<void>;
}

/** The Redis connection of the shared limits, and the limiters built on it. */
export class SharedLimits implements SharedLimitsPort {
  readonly clicks: RedisClickWindow;
  private readonly errors: Record<string, number> = {};
  private lastLoggedAt = 0;
  private closed?: Promise<void>;

  constructor(
    private readonly opts: SharedLimitsOptions,
    client: Redis,
    private readonly connection: Bottleneck.IORedisConnection,
  ) {
    this.clicks = new RedisClickWindow(client, opts.prefix);
    // Connection errors (refused, reset) repeat at every reconnect attempt: logged at most every 10 s.
    connection.on('error', (err) => this.failed('connection', err));
  }

  /** The key namespace. */
  get prefix(): string {
    return this.opts.prefix;
  }

  /**
   * A limiter every replica shares: the same `name` (and prefix) on every replica means the same limits. `settings`
   * are pushed to Redis at creation, so after a config change the last replica started decides (not the first ever).
   */
  limiter(name: string, settings: SharedLimiterSettings): SharedLimiter {
    return new SharedLimiter(this.connection, `${this.opts.prefix}:${name}`, settings, (err) =>
      this.failed(settings.kind, err),
    );
  }

  /** Redis failures since start, by limit (for the metrics). */
  errorCounts(): Record<string, number> {
    return { ...this.errors };
  }

  /** Records a Redis failure: counted by limit, logged (not more than every 10 s). */
  failed(limit: string, err: unknown): void {
    this.errors[limit] = (this.errors[limit] ?? 0) + 1;
    const now = Date.now();
    if (now - this.lastLoggedAt < 10_000) return;
    this.lastLoggedAt = now;
    this.opts.logger?.error(
      { err, limit, redis: redactUrl(this.opts.url) },
      'shared limits: Redis failed; clicks that need it are refused until it answers again',
    );
  }

  /** Closes both Redis clients (waiting jobs should be stopped first). Calling it again returns the same promise. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.connection.disconnect(true).catch(() => this.connection.disconnect(false));
    })();
    return this.closed;
  }
}

export interface SharedLimiterSettings {
  /** Which limit (for metrics and logs): host, posts. */
  kind: string;
  /** Bottleneck's store options: maxConcurrent, minTime, reservoir… (shared by the cluster). */
  bottleneck: Bottleneck.ConstructorOptions;
  /** Settings not pushed again when a replica starts (a reservoir's current level). */
  initialOnly?: string[];
  /** How often this limiter polls Redis for capacity freed elsewhere (bottleneck's heartbeat; default 5 s). */
  heartbeatMs?: number;
}

interface Waiter {
  started: boolean;
  cancelled: boolean;
  fail(err: unknown): void;
}

/**
 * One bottleneck limiter in Redis clustering whose jobs never wait on Redis without end: when Redis fails, jobs that
 * have not started fail with LIMITS_UNAVAILABLE (a job that failed that way never runs later).
 */
export class SharedLimiter implements ClusterLimiter {
  private current: { limiter: Bottleneck; ready: Promise<boolean> };
  private readonly waiting = new Set<Waiter>();
  private readonly registeredAt = new Map<string, number>();
  private seq = 0;
  private stopped = false;

  constructor(
    private readonly connection: Bottleneck.IORedisConnection,
    readonly id: string,
    private readonly settings: SharedLimiterSettings,
    private readonly onRedisError: (err: unknown) => void,
  ) {
    this.current = this.build();
  }

  /**
   * Runs `fn` once the cluster has a slot. `expirationMs` is how long the slot is held at most if this process dies
   * (bottleneck frees it then); `fn` gets the time its slot lapses. Rejects with LIMITS_UNAVAILABLE when Redis fails
   * before `fn` starts; once started, settles as `fn` does.
   */
  async schedule<T>(fn: (slotExpiresAt: number) => Promise<T>, opts: { expirationMs?: number } = {}): Promise<T> {
    const limiter = await this.usable();
    return new Promise<T>((resolve, reject) => {
      const id = `job-${++this.seq}-${Math.random().toString(36).slice(2, 8)}`;
      const waiter: Waiter = {
        started: false,
        cancelled: false,
        fail: (err) => {
          waiter.cancelled = true;
          this.waiting.delete(waiter);
          this.registeredAt.delete(id);
          reject(limitsUnavailable(err));
        },
      };
      this.waiting.add(waiter);
      limiter
        .schedule({ id, ...(opts.expirationMs ? { expiration: opts.expirationMs } : {}) }, async () => {
          this.waiting.delete(waiter);
          const registered = this.registeredAt.get(id) ?? Date.now();
          this.registeredAt.delete(id);
          // Refused meanwhile: it takes its slot only to give it back at once.
          if (waiter.cancelled) return;
          waiter.started = true;
          const run = fn(opts.expirationMs ? registered + opts.expirationMs : Number.POSITIVE_INFINITY);
          run.then(resolve, reject);
          // The slot is held until `fn` settles, whatever it does.
          await run.catch(() => undefined);
        })
        .catch((err: unknown) => {
          this.waiting.delete(waiter);
          this.registeredAt.delete(id);
          if (waiter.started || waiter.cancelled) return;
          waiter.cancelled = true;
          // Bottleneck's own refusals (stopped, dropped) pass as they are; anything else is Redis failing.
          if (err instanceof Bottleneck.BottleneckError) reject(err);
          else {
            this.onRedisError(err);
            reject(limitsUnavailable(err));
          }
        });
    });
  }

  /** Jobs of this process waiting for a slot. */
  localQueued(): number {
    return this.waiting.size;
  }

  /** Jobs running and waiting across the cluster (one Redis call each). */
  async clusterCounts(): Promise<{ running: number; queued: number }> {
    const limiter = await this.usable();
    const [running, queued] = await Promise.all([limiter.running(), limiter.clusterQueued()]);
    return { running, queued };
  }

  /**
   * Resolves once this process has no job received, waiting or running in this limiter. Not bottleneck's `idle` event:
   * clustered, that waits for the whole cluster to be idle, which another replica posting away may never let happen.
   */
  idle(): Promise<void> {
    const busy = () => {
      const c = this.current.limiter.counts();
      return c.RECEIVED + c.QUEUED + c.RUNNING + c.EXECUTING > 0;
    };
    if (!busy()) return Promise.resolve();
    return new Promise((resolve) => {
      const poll = () => (busy() ? setTimeout(poll, 25).unref() : resolve());
      poll();
    });
  }

  /**
   * Stops taking jobs; with dropWaitingJobs, waiting ones are rejected. Leaves the shared connection open (closing it
   * unsubscribes every limiter at once); stops this limiter's heartbeat, now or once it has started.
   */
  async stop(opts: { dropWaitingJobs: boolean; dropErrorMessage?: string }): Promise<void> {
    this.stopped = true;
    const { limiter } = this.current;
    // Without Redis, bottleneck's stop (itself a job through Redis) fails: the limiter is stopped all the same.
    await limiter.stop(opts).catch((err: unknown) => this.onRedisError(err));
    stopHeartbeat(limiter);
    limiter.ready().then(
      () => stopHeartbeat(limiter),
      () => undefined,
    );
  }

  /**
   * The limiter, set up in Redis. Bottleneck never retries a failed set-up (Redis down when the limiter was made):
   * every call on it would fail for good, so such a one is made again, once Redis answers.
   */
  private async usable(): Promise<Bottleneck> {
    const built = this.current;
    if (await built.ready) return built.limiter;
    if (this.current === built && !this.stopped) this.current = this.build();
    const again = this.current;
    if (await again.ready) return again.limiter;
    throw limitsUnavailable(new Error(`the limiter ${this.id} could not be set up in Redis`));
  }

  private build(): { limiter: Bottleneck; ready: Promise<boolean> } {
    const { bottleneck, heartbeatMs, initialOnly = [] } = this.settings;
    const limiter = new Bottleneck({
      ...bottleneck,
      id: this.id,
      datastore: 'ioredis',
      connection: this.connection,
      clearDatastore: false,
      timeout: KEY_TTL_MS,
      ...(heartbeatMs ? { heartbeatInterval: heartbeatMs } : {}),
    });
    limiter.on('error', (err) => this.failWaiting(err));
    // When a job gets its slot in Redis, its slot's expiry clock starts: remembered so the job can check it.
    limiter.on('scheduled', (info) => this.registeredAt.set(info.options.id, Date.now()));
    const update = Object.fromEntries(Object.entries(bottleneck).filter(([k]) => !initialOnly.includes(k)));
    const ready = limiter.ready().then(
      // This replica's settings win (the last started decides); failing that, the limiter works with Redis's.
      // (updateSettings is declared to return the limiter; 2.19.5's is async, a promise of it.)
      () =>
        (limiter.updateSettings(update) as unknown as Promise<unknown>).then(
          () => true,
          (err: unknown) => {
            this.onRedisError(err);
            return true;
          },
        ),
      (err: unknown) => {
        this.onRedisError(err);
        return false;
      },
    );
    return { limiter, ready };
  }

  private failWaiting(err: unknown): void {
    this.onRedisError(err);
    for (const w of [...this.waiting]) if (!w.started && !w.cancelled) w.fail(err);
  }
}

/** Bottleneck keeps its heartbeat timer on its private datastore; only closing the whole connection clears it. */
function stopHeartbeat(limiter: Bottleneck): void {
  clearInterval((limiter as unknown as { _store: { heartbeat?: NodeJS.Timeout } })._store.heartbeat);
}

/** The refusal of a job whose limit Redis could not decide. */
export function limitsUnavailable(err: unknown): PilotError {
  if (err instanceof PilotError) return err;
  // Redis's own words (a reset connection, a timeout) are for the logs; the user learns what it means for them.
  return new PilotError('LIMITS_UNAVAILABLE', 'the shared limits (Redis) did not answer, so nothing was run', {
    cause: err,
    details: { reason: (err as Error)?.message ?? String(err) },
  });
}

/**
 * Redis 7 prefixes `ERR ` to a script's error reply without a code of its own, and bottleneck 2.19.5 compares the
 * message exactly (SGrondin/bottleneck#205, #212): its recovery from lost state never runs, so after a Redis restart
 * or an expired key every call fails with SETTINGS_KEY_NOT_FOUND (or UNKNOWN_CLIENT, every heartbeat) for good.
 * Strips the prefix from bottleneck's own errors on their way back, so it re-initialises and re-registers as meant.
 */
function recogniseBottleneckErrors(connection: Bottleneck.IORedisConnection): void {
  type Callback = (err: Error | null, replies?: unknown) => void;
  const c = connection as unknown as { __scriptFn__(name: string): (...args: unknown[]) => unknown };
  const scriptFn = c.__scriptFn__.bind(connection);
  c.__scriptFn__ = (name) => {
    const fn = scriptFn(name);
    return (...args: unknown[]) => {
      const cb = args.pop() as Callback;
      return fn(...args, (err: Error | null, replies?: unknown) => {
        const own = err?.message.match(/^ERR (SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT|OVERWEIGHT:.*)$/);
        if (err && own) err.message = own[1];
        cb(err, replies);
      });
    };
  };
}

class DeadlineError extends Error {}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Resolves once a bottleneck limiter has nothing received, queued or running in this process. */
export function whenIdle(limiter: Bottleneck): Promise<void> {
  const c = limiter.counts();
  if (c.RECEIVED + c.QUEUED + c.RUNNING + c.EXECUTING === 0) return Promise.resolve();
  return new Promise((r) => limiter.once('idle', () => r()));
}
