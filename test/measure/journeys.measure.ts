/**
 * Which src/ files the two journeys of the README's architecture section run code in, measured rather than read: the
 * bot runs instrumented (Jest's coverage), and a file counts when any of its statements ran between the start of the
 * journey and its end (module loading at start-up is before; wiring lambdas in app/ count, since code there ran).
 * Not part of the suite (no `.test.ts`); run it alone (it restarts the test haproxy, like the mitigation tests):
 *   RBP_KEEP_SERVICES=1 npx jest --coverage --coverageReporters=none \
 *     --collectCoverageFrom='src/**' --testMatch '<rootDir>/test/measure/journeys.measure.ts'
 */
import { restoreWeb2 } from '../support/haproxy-runtime';
import { CHANNEL, ONCALL, startHarness } from '../support/pilot-harness';
import { describeWithHosts, testHostConfig } from '../support/test-hosts';

type Counts = Record<string, number[]>;
type Coverage = Record<
  string,
  { s: Record<string, number>; statementMap: Record<string, { start: { line: number } }> }
>;

/** The lines of `match` files whose statements ran between the two snapshots (to see what in app/ still runs). */
function linesRan(before: Counts, match: RegExp): string[] {
  const cov = (globalThis as { __coverage__?: Coverage }).__coverage__ ?? {};
  return Object.entries(cov)
    .filter(([f]) => match.test(f))
    .flatMap(([f, d]) =>
      Object.values(d.s)
        .map((n, i) =>
          n > (before[f]?.[i] ?? 0) ? `${f.replace(/^.*\/src\//, 'src/')}:${d.statementMap[i].start.line}` : '',
        )
        .filter(Boolean),
    );
}

/** Every instrumented src/ file's statement counts now. */
function snapshot(): Counts {
  const cov = (globalThis as { __coverage__?: Record<string, { s: Record<string, number> }> }).__coverage__ ?? {};
  return Object.fromEntries(Object.entries(cov).map(([file, d]) => [file, Object.values(d.s)]));
}

/** The src/ files with a statement that ran between the two snapshots. */
function ran(before: Counts, after: Counts): string[] {
  return Object.keys(after)
    .filter((f) => after[f].some((n, i) => n > (before[f]?.[i] ?? 0)))
    .map((f) => f.replace(/^.*\/src\//, 'src/'))
    .sort();
}

/** Resolves once no instrumented statement ran for 300 ms (at most 10 s): the bot is idle. */
async function quiet(): Promise<void> {
  const same = (a: Counts, b: Counts) => JSON.stringify(a) === JSON.stringify(b);
  for (let i = 0, last = snapshot(); i < 33; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const now = snapshot();
    if (same(last, now)) return;
    last = now;
  }
}

describeWithHosts('the two journeys, file by file', (hosts) => {
  it('an alert message → its incident in the thread; a restart click → the verified result', async () => {
    const h = await startHarness({ hosts: [testHostConfig(hosts)] });
    try {
      // Journey 1: from the signed request to the incident message posted in the alert's thread.
      const before1 = snapshot();
      const threadTs = await h.postFixture('single.slack-default.firing.event.json');
      await h.incidentMessage(threadTs);
      const alertJourney = ran(before1, snapshot());
      const app1 = process.env.RBP_JOURNEY_LINES ? linesRan(before1, new RegExp(process.env.RBP_JOURNEY_LINES)) : [];
      // The first journey's tail (the open hooks) ends before the second starts: no statement runs for 300 ms. (A
      // barrier's marker alert would open an incident of its own and be counted in the click's journey.)
      await quiet();
      // Journey 2: from the click on Restart to the verified result in the thread (the modal and its submission).
      const before2 = snapshot();
      const since = h.slack.calls('views.open').length;
      await h.click(threadTs, 'step.run:mitigation-1:restart', ONCALL);
      const opened = await h.slack.waitFor('views.open', () => h.slack.calls('views.open').length > since, 5000);
      const viewId = (opened.response as { view: { id: string } }).view.id;
      await h.slack.submitView({
        user: ONCALL,
        viewId,
        values: {
          reason: { reason: { type: 'plain_text_input', value: 'web2 keeps flapping' } },
          options: { options: { type: 'checkboxes', selected_options: [] } },
        },
      });
      await h.slack.waitForReply(CHANNEL, threadTs, (m) => /: verified, /.test(String(m.text ?? '')), 20_000);
      const clickJourney = ran(before2, snapshot());
      const app2 = process.env.RBP_JOURNEY_LINES ? linesRan(before2, new RegExp(process.env.RBP_JOURNEY_LINES)) : [];
      // RBP_JOURNEY_LINES=/src/app/ says which statements of those files ran (lines of the compiled JavaScript).
      if (app1.length + app2.length) process.stdout.write(`lines ran: ${app1.join(' ')}\n---\n${app2.join(' ')}\n`);
      process.stdout.write(
        `alert message → incident: ${alertJourney.length} files\n  ${alertJourney.join('\n  ')}\n` +
          `restart click → verified result: ${clickJourney.length} files\n  ${clickJourney.join('\n  ')}\n`,
      );
      expect(alertJourney.length).toBeGreaterThan(0);
      expect(clickJourney.length).toBeGreaterThan(0);
    } finally {
      await h.stop();
      await restoreWeb2(hosts);
    }
  }, 60_000);
});
