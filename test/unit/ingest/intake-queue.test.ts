/** Issue #12 §6: the webhook's intake queue takes a batch whole or not at all, holds at most its capacity, keeps order. */
import { IntakeQueue } from '../../../src/ingest/intake-queue';

/** A handler whose calls finish when the test says so. */
function gate() {
  const started: number[] = [];
  const release: Array<() => void> = [];
  const handle = (n: number) =>
    new Promise<void>((r) => {
      started.push(n);
      release.push(r);
    });
  return { started, release, handle };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('IntakeQueue', () => {
  it('takes batches until full, refuses the next whole, and takes again once work finished', async () => {
    // given a queue of 4, one at a time
    const g = gate();
    const q = new IntakeQueue<number>({ capacity: 4, concurrency: 1, handle: g.handle, onError: () => undefined });
    // when
    expect(q.offer([1, 2])).toBe('queued');
    expect(q.offer([3, 4])).toBe('queued');
    expect(q.offer([5])).toBe('full');
    expect(q.depth()).toBe(4);
    // then: nothing of the refused batch was taken; finishing one item makes room for one
    g.release[0]();
    await tick();
    expect(q.offer([5, 6])).toBe('full');
    expect(q.offer([5])).toBe('queued');
    // one at a time: each release lets the next item start
    for (let i = 1; i < 5; i++) {
      await tick();
      g.release[i]();
    }
    expect(g.started).toEqual([1, 2, 3, 4, 5]);
    expect(await q.drain(100)).toBe(true);
    expect(q.depth()).toBe(0);
  });

  it('refuses a batch larger than the capacity as too large (it could never fit)', () => {
    const q = new IntakeQueue<number>({
      capacity: 3,
      concurrency: 1,
      handle: async () => undefined,
      onError: () => undefined,
    });
    expect(q.offer([1, 2, 3, 4])).toBe('too-large');
    expect(q.depth()).toBe(0);
  });

  it('runs up to `concurrency` items at once, in arrival order', async () => {
    const g = gate();
    const q = new IntakeQueue<number>({ capacity: 10, concurrency: 3, handle: g.handle, onError: () => undefined });
    q.offer([1, 2, 3, 4, 5]);
    await tick();
    expect(g.started).toEqual([1, 2, 3]);
    g.release[1]();
    await tick();
    expect(g.started).toEqual([1, 2, 3, 4]);
  });

  it('a failing handler is reported and the queue goes on', async () => {
    const errors: unknown[] = [];
    const seen: number[] = [];
    const q = new IntakeQueue<number>({
      capacity: 5,
      concurrency: 1,
      handle: async (n) => {
        seen.push(n);
        if (n === 1) throw new Error('boom');
      },
      onError: (err) => errors.push(err),
    });
    q.offer([1, 2]);
    expect(await q.drain(1000)).toBe(true);
    expect(seen).toEqual([1, 2]);
    expect(errors).toHaveLength(1);
  });

  it('drain gives up after its bound when work does not finish', async () => {
    const q = new IntakeQueue<number>({
      capacity: 5,
      concurrency: 1,
      handle: () => new Promise(() => undefined),
      onError: () => undefined,
    });
    q.offer([1]);
    expect(await q.drain(20)).toBe(false);
  });
});
