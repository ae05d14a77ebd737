/** The process-wide cap on commands running at once: never more than its size, first come first served. */
import { Slots } from '../../../src/exec/slots';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('Slots', () => {
  it('never runs more than its size at once, and starts the waiting in the order they came', async () => {
    const slots = new Slots(2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const jobs = gates.map((g, i) =>
      slots.run(async () => {
        started.push(i);
        await g.opened;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(slots.counts()).toEqual({ running: 2, waiting: 2 });
    gates[1].open();
    await jobs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    // a newcomer does not slip past the one still waiting
    const late = slots.run(async () => started.push(9));
    gates[0].open();
    await jobs[0];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const g of gates) g.open();
    await Promise.all([...jobs, late]);
    expect(started).toEqual([0, 1, 2, 3, 9]);
    expect(slots.counts()).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot of a job that fails', async () => {
    const slots = new Slots(1);
    await expect(slots.run(async () => Promise.reject(new Error('exit 1')))).rejects.toThrow('exit 1');
    await expect(slots.run(async () => 'next')).resolves.toBe('next');
  });

  it('stop with dropWaiting refuses the waiting (they never run) and resolves once the running end', async () => {
    const slots = new Slots(1);
    const g = gate();
    let ranLater = false;
    const running = slots.run(() => g.opened);
    const waiting = slots.run(async () => {
      ranLater = true;
    });
    let stopped = false;
    const stop = slots.stop({ dropWaiting: true, message: 'stopping' }).then(() => (stopped = true));
    await expect(waiting).rejects.toThrow('stopping');
    await Promise.resolve();
    expect(stopped).toBe(false);
    g.open();
    await running;
    await stop;
    expect(ranLater).toBe(false);
    await expect(slots.run(async () => 'x')).rejects.toThrow('stopping');
  });

  it('stop without dropWaiting lets the waiting run first', async () => {
    const slots = new Slots(1);
    const g = gate();
    const order: string[] = [];
    const first = slots.run(async () => {
      await g.opened;
      order.push('first');
    });
    const second = slots.run(async () => {
      order.push('second');
    });
    const stop = slots.stop().then(() => order.push('stopped'));
    g.open();
    await Promise.all([first, second, stop]);
    expect(order).toEqual(['first', 'second', 'stopped']);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new Slots(0)).toThrow(/positive integer/);
  });
});
