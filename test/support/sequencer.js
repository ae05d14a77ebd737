/**
 * Jest's order of test files, with one change: the files that hold a shared part of the test hosts (suite-parts.ts)
 * alternate with the files that hold none, and among the holders, those of the shared haproxy or the spare sshd
 * alternate with those of the monitoring stack (which never wait for each other). Jest's two workers take files in
 * this order, so while one runs a file that may wait for a lock the other mostly runs one that cannot, and no worker
 * sits idle behind a lock for long. Within each kind Jest's own order stays: failed first, then slowest first. A file's
 * time is Jest's own from its cache, or on a fresh checkout (CI) the time it took when suite-durations.json was
 * recorded, so the slow files start first there too instead of the largest ones. To record the times again:
 *   npx jest --json --outputFile=results.json; node test/support/sequencer.js record results.json
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

const DURATIONS_FILE = join(__dirname, 'suite-durations.json');
let recorded = {};
try {
  recorded = JSON.parse(readFileSync(DURATIONS_FILE, 'utf8'));
} catch {
  // no recorded times: Jest's cache or the file sizes decide
}

const key = (path) => relative(REPO, path).split('\\').join('/');

class AlternatingSequencer extends Sequencer {
  time(test) {
    return super.time(test) ?? recorded[key(test.path)];
  }

  sort(tests) {
    const kinds = { hosts: [], prom: [], free: [] };
    for (const test of super.sort(tests)) kinds[LOCKING.get(key(test.path)) ?? 'free'].push(test);
    return alternate(alternate(kinds.hosts, kinds.prom), kinds.free);
  }
}

module.exports = AlternatingSequencer;

// `node test/support/sequencer.js record results.json`: each file's run time (ms) from a `jest --json` result.
if (require.main === module && process.argv[2] === 'record') {
  const { writeFileSync } = require('node:fs');
  const results = JSON.parse(readFileSync(process.argv[3], 'utf8'));
  const times = Object.fromEntries(
    results.testResults
      .map((r) => [key(r.name), Math.round(r.endTime - r.startTime)])
      .sort((a, b) => (a[0] < b[0] ? -1 : 1)),
  );
  writeFileSync(DURATIONS_FILE, `${JSON.stringify(times, null, 2)}\n`);
  console.log(`${Object.keys(times).length} files' times written to ${relative(REPO, DURATIONS_FILE)}`);
}
