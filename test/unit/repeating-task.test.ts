/** Issue #20 §3: the heartbeat's task runs one at a time, and stop waits for the run under way. */
import { RepeatingTask } from '../../src/repeating-task';

/** A task whose runs end when the test says so. */
function gatedTask() {
  const ends: Array<(err?: Error) => void> = [];
  let runs = 0;
  const task = () =>
    new Promise<void>((resolve, reject) => {
      runs++;
      ends.push((err) => (err ? reject(err) : resolve()));
    });
  return { task, ends, runs: () => runs };
}

describe('RepeatingTask', () => {
  it('skips a beat while the previous run is under way, runs again once it ended', async () => {
    const g = gatedTask();
    const t = new RepeatingTask(g.task, () => undefined);
    const first = t.beat();
    const second = t.beat();
    expect(g.runs()).toBe(1);
    g.ends[0]();
    await Promise.all([first, second]);
    const third = t.beat();
    expect(g.runs()).toBe(2);
    g.ends[1]();
    await third;
    await t.stop();
  });

  it('reports a failed run and runs again at the next beat', async () => {
    const g = gatedTask();
    const errors: unknown[] = [];
    const t = new RepeatingTask(g.task, (err) => errors.push(err));
    const run = t.beat();
    g.ends[0](new Error('store unavailable'));
    await run;
    expect(errors).toEqual([new Error('store unavailable')]);
    const next = t.beat();
    expect(g.runs()).toBe(2);
    g.ends[1]();
    await next;
  });

  it('stop waits for the run under way', async () => {
    const g = gatedTask();
    const t = new RepeatingTask(g.task, () => undefined);
    t.start(60_000);
    void t.beat();
    let stopped = false;
    const stopping = t.stop().then(() => {
      stopped = true;
    });
    // A barrier: once this settles, stop() has had every chance to resolve early.
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    g.ends[0]();
    await stopping;
    expect(stopped).toBe(true);
  });
});
