/**
 * Issue #19 §5: the runbook parser runs in linear time on files up to the loader's cap (MAX_RUNBOOK_BYTES). The
 * heading regex `/^#[ \t]+(.+?)[ \t#]*$/` took 7.9 s on `# a` + ` #`×40,000 + `x`; lazy `<details>…</details>`,
 * `<!--…-->` and `{{%…%}}` regexes and unbounded link patterns rescanned to the end from every unclosed opener.
 *
 * Two kinds of evidence: the heading scanner gives what the regex gave on every line fast-check makes (so the
 * rewrite changed no reading), and hostile files at the cap parse within a budget far below any quadratic case
 * (seconds to minutes) and far above what linear code takes here (under 350 ms on a loaded 2-core machine), the best
 * of three runs so one slow moment of a shared machine does not decide.
 */
import fc from 'fast-check';
import { MAX_RUNBOOK_BYTES } from '../../../src/runbook/load-runbooks';
import { atxHeading, parseRunbookMarkdown } from '../../../src/runbook/parse-runbook-markdown';

const SIZE = MAX_RUNBOOK_BYTES;
const BUDGET_MS = 1500;
const fill = (unit: string, room = SIZE - 200) => unit.repeat(Math.ceil(room / unit.length)).slice(0, room);

function bestOfThree(fn: () => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    fn();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

const parse = (body: string) => () => {
  try {
    parseRunbookMarkdown(`---\ntitle: X\n---\n${body}`, 'x.md');
  } catch {
    // refusing is as good as parsing here: only the time counts
  }
};

describe('atxHeading reads a heading as the regex did', () => {
  const old = (line: string, level: string) => new RegExp(`^${level}[ \\t]+(.+?)[ \\t#]*$`).exec(line)?.[1];
  it('on short lines of heading characters (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('#', ' ', '\t', 'a', 'b', ':', '*'), { maxLength: 14 }).map((a) => a.join('')),
        (line) => {
          expect(atxHeading(line, 1, 1)?.trim()).toBe(old(line, '#')?.trim());
          expect(atxHeading(line, 2, 2)?.trim() || undefined).toBe(old(line, '##')?.trim() || undefined);
          expect(atxHeading(line, 3, 6)?.trim() || undefined).toBe(old(line, '#{3,6}')?.trim() || undefined);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('parseRunbookMarkdown on hostile files at the size cap', () => {
  it.each([
    ['`# a` + ` #`×n + `x` (the issue’s 7.9 s)', `# a${fill(' #')}x`],
    ['the same as a ## heading', `## a${fill(' #')}x`],
    ['the same as a ### step heading', `## Diagnosis\n### a${fill(' #')}x`],
    ['unclosed <details>', fill('<details>')],
    ['unclosed HTML comments', fill('<!--')],
    ['unclosed shortcodes', fill('{{%')],
    ['unclosed yaml fences', fill('```yaml\nalert: x\n')],
    ['unclosed links in a step', `## Diagnosis\n1. ${fill('[a](')}`],
    ['unclosed images in a step', `## Diagnosis\n1. ${fill('![a](')}`],
    ['unclosed tags in a step', `## Diagnosis\n1. ${fill('<a ')}`],
    ['emphasis marks in a step', `## Diagnosis\n1. ${fill('**a ')}`],
    ['a line of spaces', `## Diagnosis\n1. a${' '.repeat(SIZE - 200)}x`],
  ])('%s', (_name, body) => {
    expect(bestOfThree(parse(body))).toBeLessThan(BUDGET_MS);
  });
});
