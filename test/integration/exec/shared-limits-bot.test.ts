/**
 * Issue #13 end to end: the real bot with `limits.redis.url` runs a step under the limits it shares through a real
 * Redis; with Redis gone, the click is refused in the thread with what went wrong and what to do, nothing runs, and
 * /metrics counts it; once Redis is back (empty), steps run again without a restart. Unreachable at start, the bot
 * does not start. Since #19 §8 every click is counted at the door, before any listener: with Redis gone, it is that
 * count (the per-user limit in Redis) that fails first, so the click is refused there, answered to the one who
 * clicked in the thread (as every refusal at the door is), and counted under limit="clicks".
 */
import { HostSchema } from '../../../src/config/schema';
import { describeWithDatastores } from '../../support/datastores';
import { freePort, RecordingExecutor } from '../../support/fakes';
import { CHANNEL, type Harness, ONCALL, startHarness } from '../../support/pilot-harness';
import { runStep } from '../../support/step-helpers';
import { ThrowawayRedis } from '../../support/throwaway-redis';

const host = HostSchema.parse({
  name: 'lb-1',
  match: { instance: ['127.0.0.1:9101'] },
  ssh: {
    host: '10.0.0.5',
    user: 'pilot',
    privateKeyPath: '/k',
    hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
  },
});

describeWithDatastores('the bot with shared limits (limits.redis.url)', () => {
  const executor = new RecordingExecutor();
  let redis: ThrowawayRedis;
  let h: Harness;
  let threadTs: string;

  beforeAll(async () => {
    redis = await ThrowawayRedis.start();
    h = await startHarness({
      hosts: [host],
      executor,
      config: { limits: { redis: { url: redis.url, prefix: `rbp-e2e-${process.pid}`, timeoutMs: 1000 } } },
    });
    threadTs = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(threadTs);
  });
  afterAll(async () => {
    await h?.stop();
    redis?.remove();
  });

  it('refuses a step in the thread while Redis is down, runs nothing, counts it, and runs again once it is back', async () => {
    // given: a step runs under the shared limits
    expect(await runStep(h, threadTs, 'diagnosis-2', 'status-check')).toMatch(/: ok/);
    const ran = executor.commands.length;

    // when: Redis goes away and the step is clicked again
    redis.stop();
    const before = new Set(h.slack.calls());
    await h.click(threadTs, 'step.run:diagnosis-2:status-check');

    // then: the clicker is told in the thread what went wrong and what to do; the command did not run
    const answer = await h.slack.waitFor(
      'chat.postEphemeral',
      (c) => !before.has(c) && /shared limits \(Redis\) did not answer, so nothing was run/.test(String(c.args.text)),
      10_000,
    );
    expect(answer.args).toMatchObject({ channel: CHANNEL, user: ONCALL, thread_ts: threadTs });
    expect(String(answer.args.text)).toMatch(/try again in a moment, and tell the bot’s operators if it persists/);
    expect(executor.commands).toHaveLength(ran);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/^runbook_pilot_limits_redis_errors_total\{limit="clicks"\} [1-9]/m);

    // when Redis is back, empty (its state was lost): steps run again without a restart of the bot
    await redis.restart();
    const deadline = Date.now() + 15_000;
    let result = '';
    while (!/: ok/.test(result) && Date.now() < deadline) {
      result = await runStep(h, threadTs, 'diagnosis-2', 'status-check', undefined, 5000).catch(() => '');
    }
    expect(result).toMatch(/: ok/);
    expect(executor.commands.length).toBeGreaterThan(ran);
  });

  it('does not start when Redis does not answer, and says what to do', async () => {
    const port = await freePort();
    const failed = startHarness({
      slack: h.slack,
      hosts: [host],
      executor,
      config: { limits: { redis: { url: `redis://:s3cret@127.0.0.1:${port}` } } },
    });
    await expect(failed).rejects.toMatchObject({
      code: 'LIMITS_UNAVAILABLE',
      message: expect.stringContaining(`cannot reach Redis for the shared limits at redis://:***@127.0.0.1:${port}`),
      hint: expect.stringContaining('start Redis or fix limits.redis.url (or REDIS_URL)'),
    });
    await expect(failed).rejects.not.toThrow('s3cret');
  });
});
