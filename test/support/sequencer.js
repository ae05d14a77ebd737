/**
 * Jest's order of test files, with one change: the files that hold a shared part of the test hosts (suite-parts.ts)
 * alternate with the files that hold none, and among the holders, those of the shared haproxy or the spare sshd
 * alternate with those of the monitoring stack (which never wait for each other). Jest's two workers take files in
 * this order, so while one runs a file that may wait for a lock the other mostly runs one that cannot, and no worker
 * sits idle behind a lock for long. Within each kind Jest's own order stays (failed first, then slowest first from its
 * cache, else largest first).
 */
const { readFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const REPO = join(__dirname, '..', '..');
// The table is TypeScript; its keys are what this needs, read as text rather than compiled.
const TABLE = readFileSync(join(__dirname, 'suite-parts.ts'), 'utf8');
/** File → 'prom' (holds only the monitoring stack) or 'hosts' (holds the shared haproxy or the spare sshd). */
const LOCKING = new Map(
  [...TABLE.matchAll(/^\s*'(test\/[^']+\.test\.ts)': (.*),$/gm)].map((m) => [
    m[1],
    m[2] === 'PROM_STACK' ? 'prom' : 'hosts',
  ]),
);

function alternate(a, b) {
  const out = [];
  while (a.length || b.length) {
    if (a.length) out.push(a.shift());
    if (b.length) out.push(b.shift());
  }
  return out;
}

class AlternatingSequencer extends Sequencer {
  sort(tests) {
    const kinds = { hosts: [], prom: [], free: [] };
    for (const test of super.sort(tests))
      kinds[LOCKING.get(relative(REPO, test.path).split('\\').join('/')) ?? 'free'].push(test);
    return alternate(alternate(kinds.hosts, kinds.prom), kinds.free);
  }
}

module.exports = AlternatingSequencer;
