/**
 * Jest's order of test files, with one change: the files that hold a shared part of the test hosts (suite-parts.ts)
 * alternate with the files that hold none. Jest's two workers take files in this order, so while one runs a file that
 * may wait for a lock the other mostly runs one that cannot, and no worker sits idle behind a lock for long.
 * Within each kind Jest's own order stays (failed first, then slowest first from its cache, else largest first).
 */
const { readFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const REPO = join(__dirname, '..', '..');
// The table is TypeScript; its keys are what this needs, read as text rather than compiled.
const LOCKING = new Set(
  [...readFileSync(join(__dirname, 'suite-parts.ts'), 'utf8').matchAll(/^\s*'(test\/[^']+\.test\.ts)':/gm)].map(
    (m) => m[1],
  ),
);

class AlternatingSequencer extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const locking = [];
    const free = [];
    for (const test of ordered)
      (LOCKING.has(relative(REPO, test.path).split('\\').join('/')) ? locking : free).push(test);
    const out = [];
    while (locking.length || free.length) {
      if (locking.length) out.push(locking.shift());
      if (free.length) out.push(free.shift());
    }
    return out;
  }
}

module.exports = AlternatingSequencer;
