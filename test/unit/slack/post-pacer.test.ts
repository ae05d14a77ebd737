/** The per-channel post pace (one process, no Redis): a burst at once, then one post a tick. Fake clock. */

import { createLogger } from '../../../src/logger';
import { PostPacer } from '../../../src/slack/post-pacer';

describe('PostPacer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('lets the burst out at once, then one post per tick, per channel', async () => {
    const pacer = new PostPacer({ perSecond: 10, burst: 3, logger: createLogger('silent') });
    const started: string[] = [];
    const post = (channel: string, n: number) =>
      pacer.schedule(channel, async () => {
        started.push(`${channel}:${n}`);
      });
    const all = [1, 2, 3, 4, 5, 6].map((n) => post('C1', n));
    await jest.advanceTimersByTimeAsync(20);
    expect(started).toEqual(['C1:1', 'C1:2', 'C1:3']);
    // another channel has its own bucket
    const other = post('C2', 1);
    await jest.advanceTimersByTimeAsync(20);
    expect(started).toContain('C2:1');
    // then one more per 100 ms tick, not sooner
    await jest.advanceTimersByTimeAsync(50);
    expect(started.filter((s) => s.startsWith('C1'))).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(20);
    expect(started.filter((s) => s.startsWith('C1'))).toHaveLength(4);
    await jest.advanceTimersByTimeAsync(200);
    expect(started.filter((s) => s.startsWith('C1'))).toHaveLength(6);
    await Promise.all([...all, other]);
    const stopped = pacer.stop();
    await jest.advanceTimersByTimeAsync(1000);
    await stopped;
  });

  it('sends a low-priority post (a storm\'s "triage skipped") after the posts queued after it (#22)', async () => {
    const pacer = new PostPacer({ perSecond: 10, burst: 1, logger: createLogger('silent') });
    const sent: string[] = [];
    const post = (name: string, low = false) => pacer.schedule('C1', async () => void sent.push(name), { low });
    const all = [post('first'), post('skip-1', true), post('skip-2', true), post('click result')];
    await jest.advanceTimersByTimeAsync(1000);
    await Promise.all(all);
    expect(sent).toEqual(['first', 'click result', 'skip-1', 'skip-2']);
    const stopped = pacer.stop();
    await jest.advanceTimersByTimeAsync(1000);
    await stopped;
  });
});
