import { PilotError } from '../../../src/errors';
import { HostLimiter, type HostLimiterOptions } from '../../../src/exec/host-limiter';

const limits = (over: Partial<HostLimiterOptions> = {}): HostLimiterOptions => ({
  perHost: { concurrency: 2, minGapMs: 0, maxQueued: 100 },
  global: { concurrency: 20 },
  perUser: { clicksPerMinute: 30 },
  ...over,
});

/** A job the test finishes by hand. */
function deferred() {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return { done, finish };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

/** Polls until `cond` holds (bottleneck starts jobs a few timer turns later), at most 2 s. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await tick();
}

describe('HostLimiter', () => {
  it('keeps to the per-host concurrency, starts jobs in order and reports how many are ahead', async () => {
    // given
    const limiter = new HostLimiter(limits());
    const events: string[] = [];
    const jobs = [0, 1, 2, 3].map(() => deferred());
    // when
    const runs = jobs.map((j, i) =>
      limiter.schedule(
        { host: 'lb-1' },
        async () => {
          events.push(`run ${i}`);
          await j.done;
          events.push(`end ${i}`);
        },
        {
          onQueued: (ahead) => events.push(`queued ${i} ahead ${ahead}`),
          onStart: () => events.push(`start ${i}`),
        },
      ),
    );
    await until(() => events.length >= 6);
    await tick();
    // then: two run, two wait (only those are told they are queued)
    expect(events).toEqual(['queued 2 ahead 2', 'queued 3 ahead 3', 'start 0', 'run 0', 'start 1', 'run 1']);
    expect(limiter.stats().hosts['lb-1']).toEqual({ queued: 2, running: 2 });
    jobs[1].finish();
    await until(() => events.length >= 9);
    expect(events.slice(6)).toEqual(['end 1', 'start 2', 'run 2']);
    jobs.forEach((j) => j.finish());
    await Promise.all(runs);
    expect(limiter.stats()).toEqual({ hosts: { 'lb-1': { queued: 0, running: 0 } }, running: 0 });
  });

  it('keeps the minimum gap between starts on a host, not across hosts', async () => {
    // a fake clock: bottleneck's timers and Date.now() both, so the gaps are the rule's, not the machine's load
    jest.useFakeTimers();
    try {
      const limiter = new HostLimiter(limits({ perHost: { concurrency: 5, minGapMs: 60, maxQueued: 100 } }));
      const starts: Record<string, number[]> = { a: [], b: [] };
      const all = Promise.all(
        ['a', 'a', 'a', 'b', 'b', 'b'].map((h) =>
          limiter.schedule({ host: h }, async () => void starts[h].push(Date.now())),
        ),
      );
      await jest.advanceTimersByTimeAsync(500);
      await all;
      for (const h of ['a', 'b']) {
        const gaps = starts[h].slice(1).map((t, i) => t - starts[h][i]);
        // bottleneck counts the gap from a job's launch, which is one timer turn (1 ms) before its function runs
        for (const g of gaps) expect(g).toBeGreaterThanOrEqual(60 - 1);
        expect(gaps.every((g) => g < 60 + 20)).toBe(true); // spaced, not held longer than the gap needs
      }
      // hosts do not wait for each other: b's first job starts before a's second
      expect(starts.b[0]).toBeLessThan(starts.a[1]);
      const stopped = limiter.stop();
      await jest.advanceTimersByTimeAsync(1000);
      await stopped;
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps to the overall concurrency across hosts', async () => {
    const limiter = new HostLimiter(limits({ global: { concurrency: 3 } }));
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        limiter.schedule({ host: `lb-${i % 4}` }, async () => {
          most = Math.max(most, ++running);
          await new Promise((r) => setTimeout(r, 100)); // long enough for the next jobs to be launched meanwhile
          running--;
        }),
      ),
    );
    expect(most).toBe(3);
  });

  it('refuses a job with QUEUE_FULL when too many wait on the host, and drops nothing else', async () => {
    const limiter = new HostLimiter(limits({ perHost: { concurrency: 1, minGapMs: 0, maxQueued: 2 } }));
    const gate = deferred();
    let started = 0;
    const results: Array<Promise<string>> = [0, 1, 2].map((i) =>
      limiter.schedule({ host: 'lb-1' }, async () => {
        started++;
        await gate.done;
        return `job ${i}`;
      }),
    );
    await until(() => started === 1);
    // when: one runs, two wait: the queue is full
    const refused = limiter.schedule({ host: 'lb-1' }, async () => 'never');
    await expect(refused).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    await expect(refused).rejects.toThrow('2 actions are already waiting on lb-1');
    // another host is not affected
    await expect(limiter.schedule({ host: 'lb-2' }, async () => 'other')).resolves.toBe('other');
    gate.finish();
    await expect(Promise.all(results)).resolves.toEqual(['job 0', 'job 1', 'job 2']);
  });

  it('refuses the 31st click of a user in a minute with RATE_LIMITED and says how long to wait', async () => {
    // given: a clock the test moves
    let now = 1_000_000;
    const limiter = new HostLimiter(limits({ now: () => now }));
    for (let i = 0; i < 30; i++) {
      await limiter.schedule({ host: 'lb-1', user: 'U1' }, async () => i);
      now += 1000; // one click a second
    }
    // when: the 31st, 30 s after the first
    const r = limiter.schedule({ host: 'lb-1', user: 'U1' }, async () => 'ran');
    // then
    await expect(r).rejects.toBeInstanceOf(PilotError);
    await expect(r).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { user: 'U1', waitSec: 30 } });
    await expect(r).rejects.toThrow('try again in 30 s');
    // another user is not limited
    await expect(limiter.schedule({ host: 'lb-1', user: 'U2' }, async () => 'ok')).resolves.toBe('ok');
    // a refused click does not count: once the first click is a minute old, one more is accepted
    now += 30_000;
    await expect(limiter.schedule({ host: 'lb-1', user: 'U1' }, async () => 'again')).resolves.toBe('again');
    await expect(limiter.schedule({ host: 'lb-1', user: 'U1' }, async () => 'no')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
  });

  it('passes a job failure through unchanged and frees the slot', async () => {
    const limiter = new HostLimiter(limits({ perHost: { concurrency: 1, minGapMs: 0, maxQueued: 10 } }));
    const boom = new PilotError('SSH_UNREACHABLE', 'down');
    await expect(
      limiter.schedule({ host: 'lb-1' }, async () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(limiter.schedule({ host: 'lb-1' }, async () => 'next')).resolves.toBe('next');
    expect(limiter.stats().hosts['lb-1']).toEqual({ queued: 0, running: 0 });
  });
});

describe('HostLimiter.countClick (issue #12: buttons and commands that run nothing count too)', () => {
  it('counts clicks that run nothing in the same per-user window as steps, and says how long to wait', async () => {
    // given a limit of 3 a minute and a fake clock
    let now = 1_000_000;
    const limiter = new HostLimiter({
      perHost: { concurrency: 1, minGapMs: 0, maxQueued: 10 },
      global: { concurrency: 5 },
      perUser: { clicksPerMinute: 3 },
      now: () => now,
    });
    // when: two footer clicks and one step
    limiter.countClick('U1');
    limiter.countClick('U1');
    await limiter.schedule({ host: 'lb-1', user: 'U1' }, async () => 'ran');
    // then: the fourth click of any kind is refused, another user is not affected
    expect(() => limiter.countClick('U1')).toThrow(
      expect.objectContaining({ code: 'RATE_LIMITED', message: expect.stringMatching(/try again in 60 s/) }),
    );
    await expect(limiter.schedule({ host: 'lb-1', user: 'U1' }, async () => 'ran')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    expect(() => limiter.countClick('U2')).not.toThrow();
    // and a minute later the window has moved on
    now += 60_001;
    expect(() => limiter.countClick('U1')).not.toThrow();
    await limiter.stop();
  });
});
