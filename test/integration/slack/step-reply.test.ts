/**
 * Issue #15: a step's one reply, end to end through the real bot. A command that answers within the notice delay
 * shows its result in one post (no "running …" first, no edit); a slower one says "running …" and the result then
 * replaces that reply. Either way the timeline has every phase.
 */
import { HostSchema } from '../../../src/config/schema';
import type { ExecResult, Executor } from '../../../src/exec/types';
import { CHANNEL, type Harness, startHarness } from '../../support/pilot-harness';
import type { RecordedCall } from '../../support/slack-standin';
import { waitForReply } from '../../support/step-helpers';

/** An executor that answers every command after `delayMs`, exit 0. */
class DelayedExecutor implements Executor {
  delayMs = 0;
  async run(): Promise<ExecResult> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    return {
      exitCode: 0,
      stdout: { text: 'ok', bytes: 2, truncatedBytes: 0 },
      stderr: { text: '', bytes: 0, truncatedBytes: 0 },
      durationMs: this.delayMs,
      timedOut: false,
    };
  }
  async close(): Promise<void> {}
}

describe('a step reply in the thread', () => {
  const executor = new DelayedExecutor();
  let h: Harness;
  let threadTs: string;

  beforeAll(async () => {
    const lb = HostSchema.parse({
      name: 'lb-1',
      match: { instance: ['127.0.0.1:9101'] },
      ssh: {
        host: '10.0.0.5',
        user: 'pilot',
        privateKeyPath: '/k',
        hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
      },
      haproxy: { socket: '/run/haproxy/admin.sock' },
    });
    h = await startHarness({ hosts: [lb], executor });
    threadTs = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(threadTs);
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** Clicks the status check and returns the Slack calls about its reply, once its result is in. */
  async function clickStatusCheck(): Promise<RecordedCall[]> {
    const since = h.slack.calls().length;
    const res = await h.click(threadTs, 'step.run:diagnosis-2:status-check');
    expect(res.status).toBe(200);
    const result = /^HAProxy process and sockets on lb-1: ok$/;
    await waitForReply(h, result, 10_000, since);
    return h.slack
      .calls()
      .slice(since)
      .filter(
        (c) =>
          (c.method === 'chat.postMessage' || c.method === 'chat.update') &&
          String(c.args.text ?? '').startsWith('HAProxy process and sockets'),
      );
  }

  it('a fast command: the result is posted directly, with no "running" post and no edit', async () => {
    executor.delayMs = 0;
    const calls = await clickStatusCheck();
    expect(calls.map((c) => [c.method, c.args.text])).toEqual([
      ['chat.postMessage', 'HAProxy process and sockets on lb-1: ok'],
    ]);
    expect(calls[0].args).toMatchObject({ channel: CHANNEL, thread_ts: threadTs });
    const incident = (await h.pilot.deps.store.listOpen())[0];
    const types = (await h.pilot.deps.store.timeline(incident.id))
      .map((e) => e.type)
      .filter((t) => t.startsWith('step.'));
    expect(types).toEqual(['step.clicked', 'step.started', 'step.finished']);
  });

  it('a slow command: "running …" after the delay, then the result replaces it', async () => {
    executor.delayMs = 1500;
    const calls = await clickStatusCheck();
    expect(calls.map((c) => [c.method, c.args.text])).toEqual([
      ['chat.postMessage', 'HAProxy process and sockets: running'],
      ['chat.update', 'HAProxy process and sockets on lb-1: ok'],
    ]);
    const running = calls[0];
    expect(calls[1].args.ts).toBe((running.response as { ts: string }).ts);
  }, 20_000);
});
