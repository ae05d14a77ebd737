/** Issue #20 §3: the bot's own id is asked of Slack once, and asked again after a failure. */
import { createLogger } from '../../../src/logger';
import { ownBotId } from '../../../src/slack/alerts';

/** An auth.test that answers, in turn, what the test queued (an Error is a failure). */
function fakeAuth(answers: Array<string | Error>) {
  let calls = 0;
  const client = {
    auth: {
      test: async () => {
        const answer = answers[calls++];
        if (answer instanceof Error) throw answer;
        return { ok: true, bot_id: answer };
      },
    },
  };
  return { client: client as unknown as Parameters<typeof ownBotId>[0], calls: () => calls };
}

describe('ownBotId', () => {
  it('asks once, however many messages ask at the same time or later', async () => {
    const auth = fakeAuth(['B0BOT']);
    const botId = ownBotId(auth.client, createLogger('silent'));
    // when
    const answers = await Promise.all([botId(), botId(), botId()]);
    // then
    expect(answers).toEqual(['B0BOT', 'B0BOT', 'B0BOT']);
    expect(await botId()).toBe('B0BOT');
    expect(auth.calls()).toBe(1);
  });

  it('a failure gives undefined (nothing is ignored) and the next message asks again', async () => {
    const auth = fakeAuth([new Error('fetch failed'), 'B0BOT']);
    const botId = ownBotId(auth.client, createLogger('silent'));
    // when / then
    expect(await botId()).toBeUndefined();
    expect(await botId()).toBe('B0BOT');
    expect(await botId()).toBe('B0BOT');
    expect(auth.calls()).toBe(2);
  });
});
