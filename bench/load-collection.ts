/**
 * Start-up with a real-sized runbook collection (issue #14): loading the folder alone, and the whole bot (createApp
 * up to /healthz ready) with it, on the Slack stand-in. The goal is under 3 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { builtinActions } from '../src/actions/catalog';
import { loadRunbookCollection } from '../src/runbook/load-runbooks';
import { startHarness } from '../test/support/pilot-harness';
import { REAL_COLLECTION, writeCollection } from './collection';
import { quantile, round } from './ssh';

export async function benchCollectionStartup(runs: number): Promise<Record<string, string | number>> {
  const dir = mkdtempSync(join(tmpdir(), 'rbp-bench-collection-'));
  try {
    const written = writeCollection(dir, REAL_COLLECTION);
    const loads: number[] = [];
    let problems = 0;
    let loaded = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = loadRunbookCollection(dir, builtinActions);
      loads.push(performance.now() - t0);
      problems = r.problems.length;
      loaded = r.registry.list().length;
    }
    const starts: number[] = [];
    for (let i = 0; i < Math.min(runs, 3); i++) {
      const t0 = performance.now();
      const h = await startHarness({ config: { runbooks: dir } });
      starts.push(performance.now() - t0);
      await h.stop();
    }
    loads.sort((a, b) => a - b);
    starts.sort((a, b) => a - b);
    const startMax = starts[starts.length - 1];
    if (startMax >= 3000) process.exitCode = 1;
    return {
      runbook_files: written.files,
      runbooks_loaded: loaded,
      problems_reported: problems,
      load_median_ms: round(quantile(loads, 0.5)),
      load_max_ms: round(loads[loads.length - 1]),
      bot_startup_median_ms: round(quantile(starts, 0.5)),
      bot_startup_max_ms: round(startMax),
      under_3s: startMax < 3000 ? 'yes' : 'NO',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
