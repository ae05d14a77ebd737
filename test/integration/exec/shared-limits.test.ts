/**
 * Issue #13: the limits replicas share through a real Redis 7 (limits.redis.url). Two independent limiter sets, each
 * with its own Redis connection as two bot processes would build them, against one Redis: the per-host concurrency,
 * the gap between starts, the per-user click window and the per-channel post pace hold across both. With Redis gone,
 * a click is refused with a reason and nothing runs; when it is back, the limits work again by themselves.
 */
import { HostLimiter, type HostLimiterOptions } from '../../../src/exec/host-limiter';
import { openSharedLimits, type SharedLimits } from '../../../src/exec/shared-limits';
import { createLogger } from '../../../src/logger';
import { PostPacer } from '../../../src/slack/post-pacer';
import { describeWithDatastores, redisUrl } from '../../support/datastores';
import { freePort } from '../../support/fakes';
import { ThrowawayRedis } from '../../support/throwaway-redis';

const logger = createLogger('silent');
let prefixes = 0;
/** A fresh key namespace per test, so runs and tests never share limits by accident. */
const freshPrefix = () => `rbp-test-${process.pid}-${Date.now().toString(36)}-${++prefixes}`;

const limits = (over: Partial<HostLimiterOptions> = {}): HostLimiterOptions => ({
  perHost: { concurrency: 2, minGapMs: 0, maxQueued: 100 },
  global: { concurrency: 20 },
  perUser: { clicksPerMinute: 30 },
  ...over,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithDatastores('shared limits through a real Redis (issue #13)', () => {
  const opened: SharedLimits[] = [];
  const open = async (prefix: string, url = redisUrl()) => {
    const s = await openSharedLimits({ url, prefix, timeoutMs: 1000, connectTimeoutMs: 3000, logger });
    opened.push(s);
    return s;
  };
  /** The namespace of the last `twoReplicas`. */
  let lastPrefix: { prefix: string; url?: string } | undefined;
  /** Two replicas' limiter sets: each its own connection, the same Redis and prefix. */
  const twoReplicas = async (opts: Partial<HostLimiterOptions>, url?: string) => {
    const prefix = freshPrefix();
    const [a, b] = [await open(prefix, url), await open(prefix, url)];
    lastPrefix = { prefix, url };
    return [new HostLimiter(limits({ ...opts, shared: a })), new HostLimiter(limits({ ...opts, shared: b }))];
  };
  /**
   * Until the cluster (Redis) counts `want` jobs running and waiting on `host` in the two replicas of the last
   * `twoReplicas`: a third replica's view of the host's limiter, as each replica's own check reads it.
   */
  const clusterHolds = async (host: string, concurrency: number, want: { running: number; queued: number }) => {
    const { prefix, url } = lastPrefix as { prefix: string; url?: string };
    const observer = (await open(prefix, url)).limiter(`host:${host}`, {
      kind: 'host',
      bottleneck: { maxConcurrent: concurrency, minTime: 0 },
    });
    try {
      let seen = await observer.clusterCounts();
      for (const deadline = Date.now() + 5000; seen.running !== want.running || seen.queued !== want.queued; ) {
        if (Date.now() > deadline)
          throw new Error(`the cluster holds ${JSON.stringify(seen)} on ${host}, not ${JSON.stringify(want)}`);
        await sleep(10);
        seen = await observer.clusterCounts();
      }
    } finally {
      await observer.stop({ dropWaitingJobs: true });
    }
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('never runs more than the per-host concurrency across both replicas', async () => {
    // given: two replicas, 2 commands at once per host
    const [a, b] = await twoReplicas({ perHost: { concurrency: 2, minGapMs: 0, maxQueued: 100 } });
    let running = 0;
    let most = 0;
    const job = async () => {
      most = Math.max(most, ++running);
      await sleep(150);
      running--;
    };
    // when: 10 clicks on one host, spread over both replicas
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).schedule({ host: 'lb-1' }, job)));
    // then: 2 at a time at most (each replica alone would allow 2, so 4), and both slots were used
    expect(most).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5 * 150 - 50);
    // another host has its own slots
    expect(a.stats().hosts['lb-1']).toEqual({ queued: 0, running: 0 });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('keeps the gap between starts on a host across both replicas', async () => {
    const [a, b] = await twoReplicas({ perHost: { concurrency: 5, minGapMs: 200, maxQueued: 100 } });
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? a : b).schedule({ host: 'lb-1' }, async () => void starts.push(performance.now())),
      ),
    );
    starts.sort((x, y) => x - y);
    // Bottleneck spaces the launches by Redis's shared next-start time, not when a busy event loop runs them: a start
    // may be late, and the gap after a late one looks short. So each start is measured from the first: the k-th comes
    // at least k gaps after it, less the first's own lateness (half a gap allowed, as the per-process test does;
    // unshared, the two replicas' starts would be 0-2 ms apart). Each replica alone would allow a 400 ms span.
    for (let k = 1; k < starts.length; k++) expect(starts[k] - starts[0]).toBeGreaterThanOrEqual(k * 200 - 100);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('counts a user’s clicks on both replicas in one sliding minute, and says how long to wait', async () => {
    // given: 3 clicks a minute, one clock the test moves (both replicas send their own time, as bottleneck does)
    let now = 1_800_000_000_000;
    const [a, b] = await twoReplicas({ perUser: { clicksPerMinute: 3 }, now: () => now });
    // when: a step on A, a footer click on B 10 s later, another on A 10 s after that
    await a.schedule({ host: 'lb-1', user: 'U1' }, async () => 'ran');
    now += 10_000;
    await b.countClick('U1');
    now += 10_000;
    await a.countClick('U1');
    // then: the fourth click, on either replica, is refused with the wait until the first leaves the window
    now += 10_000;
    const refused = b.schedule({ host: 'lb-1', user: 'U1' }, async () => 'must not run');
    await expect(refused).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { user: 'U1', waitSec: 30 } });
    await expect(refused).rejects.toThrow('you ran 3 actions in the last minute (at most 3); try again in 30 s');
    await expect(Promise.resolve(a.countClick('U1'))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    // another user is not limited
    await expect(b.schedule({ host: 'lb-1', user: 'U2' }, async () => 'ok')).resolves.toBe('ok');
    // refused clicks did not count: once the first click is a minute old, one more is accepted, on either replica
    now += 30_001;
    await expect(b.schedule({ host: 'lb-1', user: 'U1' }, async () => 'again')).resolves.toBe('again');
    await expect(Promise.resolve(a.countClick('U1'))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('bounds what waits on a host by the cluster’s count, and tells a waiting click how many are ahead', async () => {
    const [a, b] = await twoReplicas({ perHost: { concurrency: 1, minGapMs: 0, maxQueued: 2 } });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const aheads: number[] = [];
    // one runs on A, one waits on A, one waits on B
    let startedFirst!: () => void;
    const firstRuns = new Promise<void>((r) => (startedFirst = r));
    const first = a.schedule({ host: 'lb-1' }, () => gate, { onStart: () => startedFirst() });
    await firstRuns;
    const waiting = [
      a.schedule({ host: 'lb-1' }, async () => 'a2', { onQueued: (n) => aheads.push(n) }),
      b.schedule({ host: 'lb-1' }, async () => 'b1', { onQueued: (n) => aheads.push(n) }),
    ];
    // both are waiting in the cluster (Redis) before the third asks
    await clusterHolds('lb-1', 1, { running: 1, queued: 2 });
    // then: the cluster holds 2 waiting: B refuses a third though B itself has only one waiting
    await expect(b.schedule({ host: 'lb-1' }, async () => 'never')).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect(aheads.sort()).toEqual([1, 2]);
    release();
    await first;
    await expect(Promise.all(waiting)).resolves.toEqual(['a2', 'b1']);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('gives the slot a dead replica held back once it expires', async () => {
    // given: one slot on lb-1, taken by replica A for a job that never ends, and A gone (its connection closed
    // without freeing the slot, as kill -9 would leave it)
    const prefix = freshPrefix();
    const [sa, sb] = [await open(prefix), await open(prefix)];
    const settings = { kind: 'host', bottleneck: { maxConcurrent: 1, minTime: 0 } };
    const [a, b] = [sa.limiter('host:lb-1', settings), sb.limiter('host:lb-1', settings)];
    let startedOnA!: () => void;
    const onA = new Promise<void>((r) => (startedOnA = r));
    void a
      .schedule(
        () => {
          startedOnA();
          return new Promise<void>(() => undefined);
        },
        { expirationMs: 1500 },
      )
      .catch(() => undefined);
    await onA;
    await sa.close();
    // when: B asks for the slot
    const t0 = Date.now();
    let ranAt = 0;
    await b.schedule(async () => void (ranAt = Date.now()), { expirationMs: 1500 });
    // then: it waited for the expiry (not the job's end, which never comes), then ran: within the expiry plus a
    // heartbeat of B's (5 s) at most
    expect(ranAt - t0).toBeGreaterThanOrEqual(1000);
    expect(ranAt - t0).toBeLessThan(1500 + 5000 + 1000);
    await b.stop({ dropWaitingJobs: true });
  });

  it('paces posts into one channel across both replicas', async () => {
    // given: a bucket of 2, refilled 4 a second (every 250 ms), shared
    const prefix = freshPrefix();
    const pacers = [
      new PostPacer({ perSecond: 4, burst: 2, logger, shared: await open(prefix) }),
      new PostPacer({ perSecond: 4, burst: 2, logger, shared: await open(prefix) }),
    ];
    const sent: number[] = [];
    const t0 = performance.now();
    // when: 8 posts, 4 from each replica, at once
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        pacers[i % 2].schedule('C0123ALERTS', async () => void sent.push(performance.now() - t0)),
      ),
    );
    // then: the burst goes out at once, the rest one per interval: in any span, at most burst + span / 250 ms posts
    sent.sort((x, y) => x - y);
    for (let i = 0; i < sent.length; i++)
      for (let j = i; j < sent.length; j++) {
        const allowed = 2 + Math.floor((sent[j] - sent[i]) / 250) + 1; // +1: a refill at the span's edge
        expect(j - i + 1).toBeLessThanOrEqual(allowed);
      }
    // 6 posts past the burst need 6 refills: 1.5 s at least (two independent buckets would need 0.75 s)
    expect(sent[7]).toBeGreaterThanOrEqual(6 * 250 - 50);
    await Promise.all(pacers.map((p) => p.stop()));
  });

  it('drains one replica’s posts without waiting for another replica’s (a stop is not held by the cluster)', async () => {
    const prefix = freshPrefix();
    const [a, b] = [
      new PostPacer({ perSecond: 10, burst: 5, logger, shared: await open(prefix) }),
      new PostPacer({ perSecond: 10, burst: 5, logger, shared: await open(prefix) }),
    ];
    // B is busy posting for 3 s; A posts once
    let release!: () => void;
    let started!: () => void;
    const onB = new Promise<void>((r) => (started = r));
    const busy = b.schedule('C1', () => {
      started();
      return new Promise<void>((r) => (release = r));
    });
    await onB;
    await expect(a.schedule('C1', async () => 'posted')).resolves.toBe('posted');
    const t0 = Date.now();
    await a.drained();
    expect(Date.now() - t0).toBeLessThan(1000);
    release();
    await busy;
    await Promise.all([a.stop(), b.stop()]);
  });

  it('stops start-up with what to do when Redis does not answer', async () => {
    const port = await freePort();
    const failed = openSharedLimits({
      url: `redis://127.0.0.1:${port}`,
      prefix: 'rbp-test',
      timeoutMs: 500,
      connectTimeoutMs: 1500,
    });
    await expect(failed).rejects.toMatchObject({
      code: 'LIMITS_UNAVAILABLE',
      hint: expect.stringContaining('limits.redis.url'),
    });
    await expect(failed).rejects.toThrow(`cannot reach Redis for the shared limits at redis://127.0.0.1:${port}`);
  });

  describe('when Redis goes away', () => {
    let redis: ThrowawayRedis;
    beforeEach(async () => {
      redis = await ThrowawayRedis.start();
    });
    afterEach(() => redis.remove());

    it('refuses clicks with a reason and runs nothing, and works again once Redis is back', async () => {
      // given: two replicas on a Redis that then stops
      const [a, b] = await twoReplicas({ perHost: { concurrency: 1, minGapMs: 0, maxQueued: 10 } }, redis.url);
      await expect(a.schedule({ host: 'lb-1', user: 'U1' }, async () => 'before')).resolves.toBe('before');
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let startedRunning!: () => void;
      const runs = new Promise<void>((r) => (startedRunning = r));
      const running = b.schedule({ host: 'lb-1' }, () => gate, { onStart: () => startedRunning() });
      await runs;
      let ran = 0;
      const queued = b.schedule({ host: 'lb-1' }, async () => void ran++);
      await clusterHolds('lb-1', 1, { running: 1, queued: 1 });
      redis.stop();
      // when: a click on either replica
      const t0 = Date.now();
      const refused = a.schedule({ host: 'lb-1', user: 'U1' }, async () => void ran++);
      // then: refused at once, with what went wrong and what to do
      await expect(refused).rejects.toMatchObject({ code: 'LIMITS_UNAVAILABLE', userFacing: true });
      await expect(refused).rejects.toThrow('the shared limits (Redis) did not answer, so nothing was run');
      expect(Date.now() - t0).toBeLessThan(3000);
      await expect(Promise.resolve(b.countClick('U1'))).rejects.toMatchObject({ code: 'LIMITS_UNAVAILABLE' });
      // the job that ran on before keeps running; the one waiting behind it is refused, not run unlimited
      release();
      await running;
      await expect(queued).rejects.toMatchObject({ code: 'LIMITS_UNAVAILABLE' });
      // nothing left that could run later: neither replica holds a job on lb-1, waiting or running (a job refused
      // with LIMITS_UNAVAILABLE never runs, see SharedLimiter)
      expect(a.stats().hosts['lb-1']).toEqual({ queued: 0, running: 0 });
      expect(b.stats().hosts['lb-1']).toEqual({ queued: 0, running: 0 });
      expect(ran).toBe(0);
      // when Redis is back (empty: its state was lost), the limits work again without a restart
      await redis.restart();
      await waitFor(
        async () => (await a.schedule({ host: 'lb-1' }, async () => 'after').catch(() => 'no')) === 'after',
      );
      await expect(b.schedule({ host: 'lb-1', user: 'U1' }, async () => 'after')).resolves.toBe('after');
      await Promise.all([a.stop(), b.stop()]);
    });

    it('a host first clicked while Redis is down gets its limits once Redis is back', async () => {
      // given: Redis goes down before anyone clicked on lb-new
      const [a] = await twoReplicas({}, redis.url);
      redis.stop();
      await expect(a.schedule({ host: 'lb-new' }, async () => 'never')).rejects.toMatchObject({
        code: 'LIMITS_UNAVAILABLE',
      });
      // when it is back, the next click there runs (its limiter is set up again, not left broken)
      await redis.restart();
      await waitFor(async () => (await a.schedule({ host: 'lb-new' }, async () => 'ran').catch(() => 'no')) === 'ran');
      await a.stop();
    });

    it('refuses a click within limits.redis.timeoutMs when Redis hangs, and works again when it answers', async () => {
      // given: timeoutMs 1000, and a Redis that stops answering (connections open, no reply)
      const [a] = await twoReplicas({ perHost: { concurrency: 1, minGapMs: 0, maxQueued: 10 } }, redis.url);
      await expect(a.schedule({ host: 'lb-1', user: 'U1' }, async () => 'before')).resolves.toBe('before');
      redis.pause();
      let ran = 0;
      const t0 = Date.now();
      // when / then: refused after the timeout, not hanging the click; nothing ran
      await expect(a.schedule({ host: 'lb-1', user: 'U1' }, async () => void ran++)).rejects.toMatchObject({
        code: 'LIMITS_UNAVAILABLE',
      });
      const waited = Date.now() - t0;
      expect(waited).toBeGreaterThanOrEqual(900);
      expect(waited).toBeLessThan(5000);
      expect(ran).toBe(0);
      redis.resume();
      await waitFor(
        async () => (await a.schedule({ host: 'lb-1' }, async () => 'after').catch(() => 'no')) === 'after',
      );
      await a.stop();
    });

    it('posts at this process’s own pace while the shared pace is unavailable', async () => {
      const pacer = new PostPacer({ perSecond: 10, burst: 5, logger, shared: await open(freshPrefix(), redis.url) });
      await expect(pacer.schedule('C1', async () => 'first')).resolves.toBe('first');
      redis.stop();
      await expect(pacer.schedule('C1', async () => 'still posted')).resolves.toBe('still posted');
      await pacer.stop();
    });
  });
});

async function waitFor(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(200);
  }
}
