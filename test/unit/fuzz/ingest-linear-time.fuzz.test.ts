/**
 * Issue #12 §6: every parser of alert input runs in linear time. 100 KB inputs built from the fragments regexes
 * backtrack on (runs of spaces, newlines, `<`, `a="`, ` (`, `LABELS = map[`, ` - `, backticks) go through every ingest
 * parser under a time budget. A quadratic regex takes seconds to minutes on such input (the community-template
 * parser's `/\s+$/` and `/^(.*?)\s+-\s+`…`$/` took 1.1 s on 39k spaces, over a minute on 100k); linear code takes
 * milliseconds. The budget is generous for a loaded 2-core machine and still far below any quadratic case.
 */
import fc from 'fast-check';
import { parseAlertmanagerTitle } from '../../../src/ingest/parse-alertmanager-title';
import { parseAlertmanagerWebhook } from '../../../src/ingest/parse-alertmanager-webhook';
import { looksLikeLabelListText, parseLabelListText } from '../../../src/ingest/parse-label-list-text';
import { parsePlainAlert } from '../../../src/ingest/parse-plain-alert';
import { parseSlackAlertMessage } from '../../../src/ingest/parse-slack-alert';
import { looksLikeTemplateText, parseGoLabelMap, parseTemplateText } from '../../../src/ingest/parse-template-text';
import { slackLinkTarget } from '../../../src/ingest/slack-message';

const SIZE = 100 * 1024;
/** Per parser call on 100 KB. Linear parsers take milliseconds (under 60 ms here); the quadratic ones took 50 s to over a minute. */
const BUDGET_MS = 2000;

const titleOpts = {
  groupBy: () => ['alertname', 'instance'],
  labelNames: () => ['alertname', 'backend', 'instance', 'job', 'server', 'severity'],
  knownAlert: () => true,
};

/** Every ingest parser, on the same text in each place it can arrive. */
const PARSERS: Record<string, (text: string) => unknown> = {
  template: (t) => looksLikeTemplateText(t) && parseTemplateText(t),
  templateAlways: (t) => parseTemplateText(t),
  goLabelMap: (t) => parseGoLabelMap(t),
  labelList: (t) => looksLikeLabelListText(t) && parseLabelListText(t),
  labelListAlways: (t) => parseLabelListText(t),
  plain: (t) => parsePlainAlert(t, () => true),
  title: (t) => parseAlertmanagerTitle(t, titleOpts),
  titleFiring: (t) => parseAlertmanagerTitle(`[FIRING:2] ${t}`, titleOpts),
  linkTarget: (t) => slackLinkTarget(t),
  slackBotMessage: (t) =>
    parseSlackAlertMessage(
      {
        type: 'message',
        channel: 'C0123ALERTS',
        ts: '1.1',
        bot_id: 'B1',
        attachments: [{ title: `[FIRING:1] ${t}`, text: t, fallback: `${t} | x`, color: 'a30200' }],
      },
      { ...titleOpts },
    ),
  slackPersonMessage: (t) =>
    parseSlackAlertMessage(
      { type: 'message', channel: 'C0123ALERTS', ts: '1.1', text: `HaproxyServerDown ${t}` },
      { knownAlert: () => true },
    ),
  webhook: (t) =>
    parseAlertmanagerWebhook({
      version: '4',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HaproxyServerDown', server: t },
          annotations: { description: t },
          generatorURL: `http://p/graph?g0.expr=${t}`,
        },
      ],
    }),
};

/** Fragments that make backtracking regexes go quadratic when repeated. */
const FRAGMENTS = [
  ' ',
  '  ',
  '\n',
  '\t',
  '<',
  '<<',
  '|',
  '>',
  'a="',
  "b='",
  '“',
  ' (',
  '( ',
  ')',
  '*',
  '`',
  ' - ',
  '-',
  'LABELS = map[',
  ':',
  'a:',
  ' a:b',
  '*Alert:*',
  '*Details:*',
  '• ',
  ' - a = ',
  'Labels:\n',
  '**Firing**\n',
  '[FIRING:1] ',
  '=',
  'x',
  'é',
  '\u00a0',
];
const HEADS = [
  '',
  '*Alert:* x',
  '[FIRING:1] ',
  'HaproxyServerDown ',
  'LABELS = map[',
  'Labels:\n - a = ',
  '*Details:*\n• *a:* ',
  '*Description:* x\n',
];

/** Repeats one short unit (a few fragments) to 100 KB after a head, optionally ending in a character that forces a fail. */
const hostileText = fc
  .record({
    head: fc.constantFrom(...HEADS),
    unit: fc.array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 3 }).map((a) => a.join('')),
    tail: fc.constantFrom('', 'y', '`', ']', ')', '\n', '"'),
  })
  .map(
    ({ head, unit, tail }) =>
      head +
      unit.repeat(Math.ceil((SIZE - head.length) / unit.length)).slice(0, SIZE - head.length - tail.length) +
      tail,
  );

function timed(fn: () => unknown): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

describe('ingest parsers run in linear time on 100 KB inputs', () => {
  it.each([
    ['39k spaces in an *Alert:* line (the quadratic regex of the issue)', `*Alert:* x${' '.repeat(39_000)}y`],
    ['100k spaces in an *Alert:* line', `*Alert:* a${' '.repeat(SIZE)}b`],
    ['a description line of spaces', `*Description:* x\ny${' '.repeat(SIZE)}z`],
    ['100k newlines', `${'\n'.repeat(SIZE)}x`],
    ['LABELS = map[ without a ]', 'LABELS = map['.repeat(SIZE / 13)],
    ['unclosed quotes in a typed alert', `a="${'a="'.repeat(SIZE / 3)}`],
    ['a run of <', '<'.repeat(SIZE)],
    ['a title of " (" ending in )', `${'( '.repeat(SIZE / 2)})`],
    ['a title of spaces', `a${' '.repeat(SIZE)}b`],
  ])('%s', (_name, text) => {
    for (const [parser, fn] of Object.entries(PARSERS)) {
      const ms = timed(() => fn(text));
      if (ms > BUDGET_MS) throw new Error(`${parser} took ${Math.round(ms)} ms on ${text.length} characters`);
    }
  });

  it('fast-check: repeated fragments to 100 KB through every parser, each within the budget', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        for (const [parser, fn] of Object.entries(PARSERS)) {
          const ms = timed(() => {
            try {
              fn(text);
            } catch {
              // A refusal (the webhook's PARAM_INVALID) is an answer; only the time is checked here.
            }
          });
          if (ms > BUDGET_MS) throw new Error(`${parser} took ${Math.round(ms)} ms`);
        }
      }),
      { numRuns: Number(process.env.FUZZ_LINEAR_RUNS ?? 40), seed: Number(process.env.FUZZ_SEED ?? 12) },
    );
  });
});
