/**
 * Issue #13: the rules HostLimiter and PostPacer add when the limits are shared (limits.redis.url), with a fake
 * cluster in place of Redis: the cluster's count bounds a host's queue, a Redis failure refuses the click and runs
 * nothing, a slot that lapsed is not used, a post falls back to the local pace. (The real Redis:
 * test/integration/exec/shared-limits.test.ts.)
 */
import { PilotError } from '../../../src/errors';
import { type ClickVerdict, type ClickWindow, MemoryClickWindow } from '../../../src/exec/click-window';
import { HostLimiter, type HostLimiterOptions, SLOT_GRACE_MS } from '../../../src/exec/host-limiter';
import {
  type ClusterLimiter,
  limitsUnavailable,
  type SharedLimiterSettings,
  type SharedLimitsPort,
} from '../../../src/exec/shared-limits';
import { createLogger } from '../../../src/logger';
import { PostPacer } from '../../../src/slack/post-pacer';

class FakeCluster implements ClusterLimiter {
  counts = { running: 0, queued: 0 };
  countsFail?: Error;
  scheduleFail?: Error;
  /** When the slot it hands out lapses, relative to now. */
  slotLeftMs = Number.POSITIVE_INFINITY;
  expirations: Array<number | undefined> = [];

  async schedule<T>(fn: (slotExpiresAt: number) => Promise<T>, opts: { expirationMs?: number } = {}): Promise<T> {
    this.expirations.push(opts.expirationMs);
    if (this.scheduleFail) throw limitsUnavailable(this.scheduleFail);
    return fn(Date.now() + this.slotLeftMs);
  }
  localQueued(): number {
    return 0;
  }
  async clusterCounts() {
    if (this.countsFail) throw this.countsFail;
    return this.counts;
  }
  async idle(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** The per-user window as Redis answers it (a promise), over the in-memory rule; or failing like Redis down. */
class AsyncWindow implements ClickWindow {
  readonly inner = new MemoryClickWindow();
  fail?: Error;
  taken = 0;
  async take(user: string, limit: number, now: number): Promise<ClickVerdict> {
    if (this.fail) throw this.fail;
    this.taken++;
    return this.inner.take(user, limit, now);
  }
}

class FakeShared implements SharedLimitsPort {
  readonly clicks = new AsyncWindow();
  readonly clusters = new Map<string, FakeCluster>();
  readonly failures: string[] = [];
  limiter(name: string, _settings: SharedLimiterSettings): FakeCluster {
    const c = new FakeCluster();
    this.clusters.set(name, c);
    return c;
  }
  cluster(name: string): FakeCluster {
    return this.clusters.get(name) as FakeCluster;
  }
  failed(limit: string): void {
    this.failures.push(limit);
  }
}

const options = (shared: FakeShared, over: Partial<HostLimiterOptions> = {}): HostLimiterOptions => ({
  perHost: { concurrency: 2, minGapMs: 0, maxQueued: 3 },
  global: { concurrency: 20 },
  perUser: { clicksPerMinute: 2 },
  shared,
  ...over,
});

describe('HostLimiter with shared limits', () => {
  it('refuses with QUEUE_FULL when the cluster already holds maxQueued waiting on the host; runs nothing, counts no click', async () => {
    // given: 2 running and 3 waiting on lb-1 across the replicas (this one has none)
    const shared = new FakeShared();
    const limiter = new HostLimiter(options(shared));
    let ran = false;
    const first = limiter.schedule({ host: 'lb-1' }, async () => 'warm-up');
    await first;
    shared.cluster('host:lb-1').counts = { running: 2, queued: 3 };
    // when
    const refused = limiter.schedule({ host: 'lb-1', user: 'U1' }, async () => void (ran = true));
    // then
    await expect(refused).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    await expect(refused).rejects.toThrow('3 actions are already waiting on lb-1 (at most 3)');
    expect(ran).toBe(false);
    expect(shared.clicks.taken).toBe(0);
    expect(limiter.stats().hosts['lb-1']).toEqual({ queued: 0, running: 0 });
  });

  it('tells a click that must wait how many are ahead of it across the replicas', async () => {
    const shared = new FakeShared();
    const limiter = new HostLimiter(options(shared, { perHost: { concurrency: 2, minGapMs: 0, maxQueued: 10 } }));
    await limiter.schedule({ host: 'lb-1' }, async () => undefined);
    shared.cluster('host:lb-1').counts = { running: 2, queued: 1 };
    const aheads: number[] = [];
    await limiter.schedule({ host: 'lb-1' }, async () => undefined, { onQueued: (n) => aheads.push(n) });
    expect(aheads).toEqual([3]);
  });

  it.each([
    [
      'the host’s counts',
      (s: FakeShared) => void (s.cluster('host:lb-1').countsFail = new Error('ECONNRESET')),
      'host',
    ],
    ['the user’s window', (s: FakeShared) => void (s.clicks.fail = new Error('Command timed out')), 'clicks'],
    [
      'the host’s slot',
      (s: FakeShared) => void (s.cluster('host:lb-1').scheduleFail = new Error('Stream isn’t writeable')),
      undefined,
    ],
  ])('refuses with LIMITS_UNAVAILABLE when Redis fails on %s, and runs nothing', async (_what, breakIt, counted) => {
    // given
    const shared = new FakeShared();
    const limiter = new HostLimiter(options(shared));
    await limiter.schedule({ host: 'lb-1' }, async () => undefined);
    breakIt(shared);
    let ran = false;
    // when
    const refused = limiter.schedule({ host: 'lb-1', user: 'U1' }, async () => void (ran = true));
    // then: what went wrong and what to do, for the user; Redis's words for the logs
    await expect(refused).rejects.toBeInstanceOf(PilotError);
    await expect(refused).rejects.toMatchObject({
      code: 'LIMITS_UNAVAILABLE',
      userFacing: true,
      message: 'the shared limits (Redis) did not answer, so nothing was run',
      hint: expect.stringMatching(/try again in a moment/),
      details: { reason: expect.any(String) },
    });
    expect(ran).toBe(false);
    expect(limiter.stats().hosts['lb-1']).toEqual({ queued: 0, running: 0 });
    if (counted) expect(shared.failures).toContain(counted);
  });

  it('refuses a click that runs nothing with LIMITS_UNAVAILABLE when the window cannot be read', async () => {
    const shared = new FakeShared();
    const limiter = new HostLimiter(options(shared));
    shared.clicks.fail = new Error('Connection is closed.');
    await expect(Promise.resolve(limiter.countClick('U1'))).rejects.toMatchObject({ code: 'LIMITS_UNAVAILABLE' });
    expect(shared.failures).toEqual(['clicks']);
  });

  it('keeps the sliding window and its message with the shared window (a fake clock)', async () => {
    let now = 1_000_000;
    const shared = new FakeShared();
    const limiter = new HostLimiter(options(shared, { now: () => now }));
    await limiter.schedule({ host: 'lb-1', user: 'U1' }, async () => 'one');
    now += 15_000;
    await limiter.countClick('U1');
    now += 5000;
    const refused = limiter.schedule({ host: 'lb-1', user: 'U1' }, async () => 'three');
    await expect(refused).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { waitSec: 40 } });
    await expect(refused).rejects.toThrow('you ran 2 actions in the last minute (at most 2); try again in 40 s');
    now += 40_001;
    await expect(limiter.schedule({ host: 'lb-1', user: 'U1' }, async () => 'later')).resolves.toBe('later');
  });

  it('holds a host slot for the job’s longest run plus the grace, so a dead replica’s slot comes back', async () => {
    const shared = new FakeShared();
    const limiter = new HostLimiter(options(shared));
    await limiter.schedule({ host: 'lb-1', maxRunMs: 20_000 }, async () => undefined);
    expect(shared.cluster('host:lb-1').expirations).toEqual([20_000 + SLOT_GRACE_MS]);
  });

  it('does not run a job whose host slot would lapse before it ends (it waited too long for a slot overall)', async () => {
    const shared = new FakeShared();
    const limiter = new HostLimiter(options(shared));
    await limiter.schedule({ host: 'lb-1' }, async () => undefined);
    shared.cluster('host:lb-1').slotLeftMs = 10_000;
    let ran = false;
    const refused = limiter.schedule({ host: 'lb-1', maxRunMs: 15_000 }, async () => void (ran = true));
    await expect(refused).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    await expect(refused).rejects.toThrow(
      /waited too long for one of the 20 slots overall and its turn on lb-1 lapsed/,
    );
    expect(ran).toBe(false);
    expect(limiter.stats().hosts['lb-1']).toEqual({ queued: 0, running: 0 });
    // with time enough left, it runs
    await expect(limiter.schedule({ host: 'lb-1', maxRunMs: 5000 }, async () => 'ran')).resolves.toBe('ran');
  });
});

describe('PostPacer with a shared pace', () => {
  const logger = createLogger('silent');

  it('posts at the process’s own pace when the shared pace fails, and only once', async () => {
    const shared = new FakeShared();
    const pacer = new PostPacer({ perSecond: 10, burst: 5, logger, shared });
    await pacer.schedule('C1', async () => 'warm-up');
    shared.cluster('channel:C1').scheduleFail = new Error('ECONNREFUSED');
    let posts = 0;
    await expect(pacer.schedule('C1', async () => ++posts)).resolves.toBe(1);
    expect(posts).toBe(1);
    await pacer.stop();
  });

  it('passes a post’s own failure through without posting again', async () => {
    const shared = new FakeShared();
    const pacer = new PostPacer({ perSecond: 10, burst: 5, logger, shared });
    let tries = 0;
    const boom = new Error('channel_not_found');
    await expect(
      pacer.schedule('C1', async () => {
        tries++;
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(tries).toBe(1);
    await pacer.stop();
  });
});
