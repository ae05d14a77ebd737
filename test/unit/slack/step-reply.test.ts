import { type ReplyMessage, StepReply } from '../../../src/slack/step-reply';

/** A fake Slack: posts and edits recorded in order; each call answers when the test says so, or at once. */
function fakeSlack(opts: { holdPosts?: boolean; failPosts?: number } = {}) {
  const calls: Array<{ kind: 'post' | 'replace'; text: string; ts?: string }> = [];
  const held: Array<() => void> = [];
  let failures = opts.failPosts ?? 0;
  let n = 0;
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const reply = (delay = 1000) =>
    new StepReply(
      {
        post: (msg: () => ReplyMessage) =>
          new Promise<string>((resolve, reject) => {
            const go = () => {
              if (failures > 0) {
                failures--;
                calls.push({ kind: 'post', text: `FAILED ${msg().text}` });
                reject(new Error('internal_error'));
                return;
              }
              const ts = `1.${++n}`;
              calls.push({ kind: 'post', text: msg().text, ts });
              resolve(ts);
            };
            if (opts.holdPosts) held.push(go);
            else go();
          }),
        replace: async (ts, msg) => void calls.push({ kind: 'replace', text: msg.text, ts }),
        logger: { warn: () => undefined },
        setTimeout: (fn, ms) => {
          const t = { fn, ms, cleared: false };
          timers.push(t);
          return t;
        },
        clearTimeout: (t) => void ((t as { cleared: boolean }).cleared = true),
      },
      delay,
    );
  const fire = () =>
    timers
      .filter((t) => !t.cleared)
      .forEach((t) => {
        t.cleared = true;
        t.fn();
      });
  const release = () => held.splice(0).forEach((go) => go());
  const settle = () => new Promise((r) => setImmediate(r));
  return { calls, reply, fire, release, settle, timers };
}

const msg = (text: string) => ({ text });

describe('StepReply', () => {
  it('posts the result directly when the command ends before the running notice is due', async () => {
    // given
    const s = fakeSlack();
    const r = s.reply();
    // when
    r.noticeLater(msg('running'));
    await r.finish(msg('ok'));
    s.fire();
    await s.settle();
    // then
    expect(s.calls).toEqual([{ kind: 'post', text: 'ok', ts: '1.1' }]);
    expect(s.timers).toEqual([expect.objectContaining({ ms: 1000, cleared: true })]);
  });

  it('shows "running" after the delay and then replaces it with the result', async () => {
    const s = fakeSlack();
    const r = s.reply(1000);
    const shown = jest.fn();
    r.noticeLater(msg('running'), shown);
    s.fire();
    await s.settle();
    await r.finish(msg('ok'));
    expect(shown).toHaveBeenCalledTimes(1);
    expect(s.calls).toEqual([
      { kind: 'post', text: 'running', ts: '1.1' },
      { kind: 'replace', text: 'ok', ts: '1.1' },
    ]);
  });

  it('a post still waiting for the channel pace carries the result instead of the notice, and is not edited', async () => {
    const s = fakeSlack({ holdPosts: true });
    const r = s.reply();
    r.notice(msg('queued, 2 ahead'));
    const done = r.finish(msg('ok'));
    s.release();
    await done;
    expect(s.calls).toEqual([{ kind: 'post', text: 'ok', ts: '1.1' }]);
  });

  it('a queued notice already shown turns into "running" at once, then into the result', async () => {
    const s = fakeSlack();
    const r = s.reply();
    r.notice(msg('queued, 2 ahead'));
    await s.settle();
    r.noticeLater(msg('running'));
    await s.settle();
    await r.finish(msg('failed'));
    expect(s.calls.map((c) => `${c.kind} ${c.text}`)).toEqual([
      'post queued, 2 ahead',
      'replace running',
      'replace failed',
    ]);
    expect(s.timers).toEqual([]);
  });

  it('posts the result as a new reply when the first post failed', async () => {
    const s = fakeSlack({ failPosts: 1 });
    const r = s.reply();
    r.notice(msg('queued, 1 ahead'));
    await s.settle();
    await r.finish(msg('ok'));
    expect(s.calls).toEqual([
      { kind: 'post', text: 'FAILED queued, 1 ahead' },
      { kind: 'post', text: 'ok', ts: '1.1' },
    ]);
  });

  it('nothing is shown after the result', async () => {
    const s = fakeSlack();
    const r = s.reply();
    await r.finish(msg('ok'));
    r.notice(msg('queued'));
    r.noticeLater(msg('running'));
    s.fire();
    await s.settle();
    expect(s.calls).toEqual([{ kind: 'post', text: 'ok', ts: '1.1' }]);
  });
});
