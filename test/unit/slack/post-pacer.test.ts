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

  it("puts a click's result ahead of a storm's triage edits and collapses waiting edits of one message into the newest (#22)", async () => {
    // given a channel whose one token went to the first post, so everything after it waits
    const pacer = new PostPacer({ perSecond: 10, burst: 1, logger: createLogger('silent') });
    const sent: string[] = [];
    const send = (name: string) => async () => {
      sent.push(name);
      return name;
    };
    const first = pacer.schedule('C1', send('incident message'));
    // when two triages edit their messages four times while waiting, and a click's result comes last
    const edits = [
      pacer.schedule('C1', send('triage A: step 1'), { low: true, key: 'update:C1:A' }),
      pacer.schedule('C1', send('triage B: step 1'), { low: true, key: 'update:C1:B' }),
      pacer.schedule('C1', send('triage A: step 2'), { low: true, key: 'update:C1:A' }),
      pacer.schedule('C1', send('triage A: step 3'), { low: true, key: 'update:C1:A' }),
    ];
    const click = pacer.schedule('C1', send('click result'));
    await jest.advanceTimersByTimeAsync(1000);
    // then the click's result goes right after the post that held the token, and each triage message is edited once,
    // with its newest content; every caller learns of the one send that carried its edit
    expect(sent).toEqual(['incident message', 'click result', 'triage A: step 3', 'triage B: step 1']);
    expect(await Promise.all([first, click, ...edits])).toEqual([
      'incident message',
      'click result',
      'triage A: step 3',
      'triage B: step 1',
      'triage A: step 3',
      'triage A: step 3',
    ]);
    expect(pacer.queued()).toBe(0);
    const stopped = pacer.stop();
    await jest.advanceTimersByTimeAsync(1000);
    await stopped;
  });

  it('sends an edit asked after the waiting one has gone as one more send, not dropped (#22)', async () => {
    // given an edit that is being sent (its send has started but not finished)
    const pacer = new PostPacer({ perSecond: 10, burst: 5, logger: createLogger('silent') });
    const sent: string[] = [];
    let release: () => void = () => undefined;
    const inFlight = pacer.schedule(
      'C1',
      () =>
        new Promise<void>((resolve) => {
          sent.push('step 1');
          release = resolve;
        }),
      { low: true, key: 'update:C1:A' },
    );
    await jest.advanceTimersByTimeAsync(20);
    expect(sent).toEqual(['step 1']);
    // when a newer edit of the same message comes
    const next = pacer.schedule('C1', async () => void sent.push('step 2'), { low: true, key: 'update:C1:A' });
    release();
    await jest.advanceTimersByTimeAsync(200);
    await Promise.all([inFlight, next]);
    // then it is sent too: only edits still waiting collapse
    expect(sent).toEqual(['step 1', 'step 2']);
    const stopped = pacer.stop();
    await jest.advanceTimersByTimeAsync(1000);
    await stopped;
  });

  it('forgets a refused keyed edit, so the next edit of that message is queued again (#22)', async () => {
    // given a full queue (one waiting post at most)
    const pacer = new PostPacer({ perSecond: 10, burst: 1, maxQueued: 1, logger: createLogger('silent') });
    const sent: string[] = [];
    const first = pacer.schedule('C1', async () => void sent.push('first'));
    const waiting = pacer.schedule('C1', async () => void sent.push('waiting'));
    await jest.advanceTimersByTimeAsync(0);
    // when an edit is refused
    await expect(
      pacer.schedule('C1', async () => void sent.push('edit 1'), { low: true, key: 'update:C1:A' }),
    ).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    // then a later edit of the same message is queued and sent, not tied to the refused one
    await jest.advanceTimersByTimeAsync(1000);
    await Promise.all([first, waiting]);
    const later = pacer.schedule('C1', async () => void sent.push('edit 2'), { low: true, key: 'update:C1:A' });
    await jest.advanceTimersByTimeAsync(1000);
    await later;
    expect(sent).toEqual(['first', 'waiting', 'edit 2']);
    const stopped = pacer.stop();
    await jest.advanceTimersByTimeAsync(1000);
    await stopped;
  });
});
