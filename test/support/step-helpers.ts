/** Helpers for end-to-end tests that click steps and wait for their results in the thread. */

import type { Harness } from './pilot-harness';
import type { RecordedCall } from './slack-standin';

/** Clicks a step's button and waits until its result replaces the "running" reply; returns the result text. */
export async function runStep(
  h: Harness,
  threadTs: string,
  stepId: string,
  actionId: string,
  user?: string,
  timeoutMs = 20_000,
): Promise<string> {
  const since = h.slack.calls().length;
  const res = await h.click(threadTs, `step.run:${stepId}:${actionId}`, user);
  if (res.status !== 200) throw new Error(`click answered ${res.status}`);
  const isResult = (c: RecordedCall) => /: (ok|failed)$| did not run| failed:/.test(String(c.args.text ?? ''));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = h.slack
      .calls()
      .slice(since)
      .find(
        (c) =>
          (c.method === 'chat.update' || c.method === 'chat.postMessage') &&
          isResult(c) &&
          JSON.stringify(c.args).includes(h.pilot.deps.runbooks.action(undefined, actionId)?.title ?? actionId),
      );
    if (hit) return `${String(hit.args.text)}\n${JSON.stringify(hit.args.blocks ?? [])}`;
    if (Date.now() > deadline)
      throw new Error(
        `no result for ${stepId}/${actionId} within ${timeoutMs} ms; calls: ${h.slack
          .calls()
          .slice(since)
          .map((c) => `${c.method}:${String(c.args.text ?? '')}`)
          .join(' | ')}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Unescapes the JSON-encoded newlines of a result for readable regex assertions. */
export function plain(text: string): string {
  return text
    .replace(/\\n/g, '\n')
    .replace(/\\"/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * Waits for a reply whose text matches, among the calls from number `since` on: posted as it is (a step that
 * answered before its "running …" notice was due), or an earlier reply edited into it.
 */
export async function waitForReply(h: Harness, text: RegExp, timeoutMs = 10_000, since = 0): Promise<RecordedCall> {
  // Polled rather than raced between two waitFor()s: the loser's timer would keep the test process alive.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = h.slack
      .calls()
      .slice(since)
      .find(
        (c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && text.test(String(c.args.text ?? '')),
      );
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no reply matching ${text} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
