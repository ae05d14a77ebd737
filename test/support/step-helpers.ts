/** Helpers for end-to-end tests that click steps and wait for their results in the thread. */
import type { RecordedCall } from './slack-standin';
import type { Harness } from './pilot-harness';

/** Clicks a step's button and waits until its result replaces the "running" reply; returns the result text. */
export async function runStep(h: Harness, threadTs: string, stepId: string, actionId: string, user?: string, timeoutMs = 20_000): Promise<string> {
  const since = h.slack.calls().length;
  const res = await h.click(threadTs, `step.run:${stepId}:${actionId}`, user);
  if (res.status !== 200) throw new Error(`click answered ${res.status}`);
  const isResult = (c: RecordedCall) => /: (ok|failed)$| did not run| failed:/.test(String(c.args.text ?? ''));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = h.slack
      .calls()
      .slice(since)
      .find((c) => (c.method === 'chat.update' || c.method === 'chat.postMessage') && isResult(c) && JSON.stringify(c.args).includes(h.pilot.deps.runbooks.action(undefined, actionId)?.title ?? actionId));
    if (hit) return `${String(hit.args.text)}\n${JSON.stringify(hit.args.blocks ?? [])}`;
    if (Date.now() > deadline) throw new Error(`no result for ${stepId}/${actionId} within ${timeoutMs} ms; calls: ${h.slack.calls().slice(since).map((c) => `${c.method}:${String(c.args.text ?? '')}`).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Unescapes the JSON-encoded newlines of a result for readable regex assertions. */
export function plain(text: string): string {
  return text.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * Waits for a reply whose text matches: posted as it is (a step that answered before its "running …" notice was
 * due), or an earlier reply edited into it.
 */
export function waitForReply(h: Harness, text: RegExp, timeoutMs = 10_000): Promise<RecordedCall> {
  const match = (c: RecordedCall) => text.test(String(c.args.text ?? ''));
  return Promise.race([h.slack.waitFor('chat.postMessage', match, timeoutMs), h.slack.waitFor('chat.update', match, timeoutMs)]);
}
