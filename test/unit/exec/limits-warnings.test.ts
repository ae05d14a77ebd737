/** Issue #20 §3: start-up's warning about limits kept per process, decided beside the shared limits. */
import { limitsWarnings, type SharedLimits } from '../../../src/exec/shared-limits';

describe('limitsWarnings', () => {
  const redis = {} as SharedLimits;
  it.each([
    ['a shared store without Redis', true, undefined, 1],
    ['a shared store with Redis', true, redis, 0],
    ['one process (SQLite) without Redis', false, undefined, 0],
    ['one process with Redis', false, redis, 0],
  ])('%s: %s warning(s)', (_what, shared, limits, count) => {
    const warnings = limitsWarnings(shared, limits);
    expect(warnings).toHaveLength(count);
    for (const w of warnings) expect(w).toMatch(/kept per process, so N replicas allow N times as much/);
  });
});
