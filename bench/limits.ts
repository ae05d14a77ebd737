/**
 * What sharing the limits through Redis (issue #13) costs a click, and that two replicas keep one host's limit: a
 * click's way through the limits (per user and per host, a no-op job) per process vs through a real Redis on loopback,
 * and 40 commands of 50 ms on one host sent to two replicas against one Redis.
 */
import { performance } from 'node:perf_hooks';
import { HostLimiter, type HostLimiterOptions } from '../src/exec/host-limiter';
import { openSharedLimits, type SharedLimits } from '../src/exec/shared-limits';
import { quantile, round } from './ssh';

const limits = (shared?: SharedLimits): HostLimiterOptions => ({
  perHost: { concurrency: 2, minGapMs: 0, maxQueued: 1000 },
  global: { concurrency: 20 },
  perUser: { clicksPerMinute: 1_000_000 },
  ...(shared ? { shared } : {}),
});

async function timeClicks(limiter: HostLimiter, clicks: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < clicks; i++) {
    const t0 = performance.now();
    await limiter.schedule({ host: 'lb-bench', user: 'U0BENCH' }, async () => undefined);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

/** The figures: per-click cost per process and through Redis, and the host limit across two replicas. */
export async function benchSharedLimits(redisUrl: string, clicks: number): Promise<Record<string, string | number>> {
  const prefix = `rbp-bench-${process.pid}-${Date.now().toString(36)}`;
  const opened: SharedLimits[] = [];
  const open = async () => {
    const s = await openSharedLimits({ url: redisUrl, prefix, timeoutMs: 2000 });
    opened.push(s);
    return s;
  };
  try {
    const local = new HostLimiter(limits());
    const shared = new HostLimiter(limits(await open()));
    await timeClicks(shared, 20); // warm-up: scripts loaded, limiter registered
    const perProcess = await timeClicks(local, clicks);
    const viaRedis = await timeClicks(shared, clicks);
    await Promise.all([local.stop(), shared.stop()]);

    // two replicas, one host, 2 at once: 40 commands of 50 ms need 1 s at best
    const replicas = [new HostLimiter(limits(await open())), new HostLimiter(limits(await open()))];
    let running = 0;
    let most = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        replicas[i % 2].schedule({ host: 'lb-bench' }, async () => {
          most = Math.max(most, ++running);
          await new Promise((r) => setTimeout(r, 50));
          running--;
        }),
      ),
    );
    const span = performance.now() - t0;
    await Promise.all(replicas.map((r) => r.stop()));
    return {
      clicks,
      'per process p50 ms': round(quantile(perProcess, 0.5)),
      'per process p99 ms': round(quantile(perProcess, 0.99)),
      'through Redis p50 ms': round(quantile(viaRedis, 0.5)),
      'through Redis p99 ms': round(quantile(viaRedis, 0.99)),
      'two replicas, 40 × 50 ms on one host (limit 2): most at once': most,
      'two replicas: span ms (1000 at best)': Math.round(span),
    };
  } finally {
    await Promise.all(opened.map((s) => s.close()));
  }
}
