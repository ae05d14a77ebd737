import { PilotError } from '../../../src/errors';
import { limitsUnavailable } from '../../../src/exec/shared-limits';
import { clickOf, countEveryClick } from '../../../src/slack/count-every-click';

/** A scheduler that accepts `limit` clicks per user, then refuses as HostLimiter does. */
function fakeScheduler(limit: number) {
  const counted: string[] = [];
  return {
    counted,
    countClick(user: string) {
      if (counted.filter((u) => u === user).length >= limit)
        throw new PilotError(
          'RATE_LIMITED',
          `you ran ${limit} actions in the last minute (at most ${limit}); try again in 42 s`,
        );
      counted.push(user);
    },
  };
}

function run(body: Record<string, unknown>, scheduler: ReturnType<typeof fakeScheduler>) {
  const calls = { next: 0, ack: 0, ephemeral: [] as unknown[], respond: [] as unknown[] };
  const mw = countEveryClick({ scheduler, logger: { warn: () => undefined, error: () => undefined } });
  const args = {
    body,
    next: async () => {
      calls.next++;
    },
    ack: async () => {
      calls.ack++;
    },
    respond: async (m: unknown) => {
      calls.respond.push(m);
    },
    client: {
      chat: {
        postEphemeral: async (m: unknown) => {
          calls.ephemeral.push(m);
          return { ok: true };
        },
        postMessage: async () => ({ ok: true }),
      },
    },
  };
  return { done: (mw as (a: unknown) => Promise<void>)(args), calls };
}

const checklistClick = {
  type: 'block_actions',
  user: { id: 'U1' },
  channel: { id: 'C1' },
  message: { ts: '2.2', thread_ts: '1.1' },
  actions: [{ action_id: 'step.check:mitigation-5' }],
};

describe('countEveryClick (#19 §8)', () => {
  it('counts a checklist click, and over the limit stops it, acks it and tells the user in the thread', async () => {
    const scheduler = fakeScheduler(2);
    for (let i = 0; i < 2; i++) {
      const { done, calls } = run(checklistClick, scheduler);
      await done;
      expect(calls.next).toBe(1);
    }
    const { done, calls } = run(checklistClick, scheduler);
    await done;
    expect(calls).toMatchObject({ next: 0, ack: 1 });
    expect(calls.ephemeral).toEqual([
      expect.objectContaining({
        channel: 'C1',
        user: 'U1',
        thread_ts: '1.1',
        text: expect.stringMatching(/try again in 42 s/),
      }),
    ]);
  });

  it('counts forms and commands; answers a command over the limit through its response_url', async () => {
    const scheduler = fakeScheduler(1);
    await run({ type: 'view_submission', user: { id: 'U2' }, view: {} }, scheduler).done;
    const cmd = { command: '/incident', text: 'list', user_id: 'U2', channel_id: 'C1' };
    const { done, calls } = run(cmd, scheduler);
    await done;
    expect(calls.next).toBe(0);
    expect(calls.respond).toEqual([{ response_type: 'ephemeral', text: expect.stringMatching(/at most 1/) }]);
    expect(scheduler.counted).toEqual(['U2']);
  });

  it('when the shared limits fail (Redis), stops the click and tells the user in the thread what to do', async () => {
    // HostLimiter.countClick with limits.redis.url rejects (not throws) with LIMITS_UNAVAILABLE.
    const redisDown = {
      counted: [] as string[],
      countClick: () => Promise.reject(limitsUnavailable(new Error('Connection is closed.'))),
    };
    const { done, calls } = run(checklistClick, redisDown as unknown as ReturnType<typeof fakeScheduler>);
    await done;
    expect(calls).toMatchObject({ next: 0, ack: 1 });
    expect(calls.ephemeral).toEqual([
      expect.objectContaining({
        channel: 'C1',
        user: 'U1',
        thread_ts: '1.1',
        text: expect.stringMatching(
          /^the shared limits \(Redis\) did not answer, so nothing was run\. .*try again in a moment/,
        ),
      }),
    ]);
    // Redis's own words are for the logs, not the user.
    expect(JSON.stringify(calls.ephemeral)).not.toContain('Connection is closed');
  });

  it('lets events through uncounted', async () => {
    const scheduler = fakeScheduler(0);
    const { done, calls } = run({ type: 'event_callback', event: { type: 'message', user: 'U1' } }, scheduler);
    await done;
    expect(calls.next).toBe(1);
    expect(clickOf({ type: 'event_callback' })).toBeUndefined();
  });
});
