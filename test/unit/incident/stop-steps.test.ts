/**
 * Issue #20 §3: the steps' part of a stop decided in incident/, not in the wiring: grace, then cut off (connections
 * closed), then what did not settle is recorded interrupted.
 */
import type { InflightStep } from '../../../src/incident/inflight-steps';
import { InflightSteps } from '../../../src/incident/inflight-steps';
import { stopSteps } from '../../../src/incident/stop-steps';
import { createLogger } from '../../../src/logger';

/** A step in flight whose end the test (or the executor's close) decides; its interrupt is written down. */
function step(inflight: InflightSteps, id: string, opts: { interruptFails?: boolean } = {}) {
  let end!: () => void;
  const done = new Promise<void>((r) => (end = r));
  const interrupted: Array<Record<string, unknown>> = [];
  const s: InflightStep = {
    incidentId: 7,
    stepId: id,
    actionId: 'restart-haproxy',
    user: 'U1',
    started: true,
    interrupt: async (extra) => {
      if (opts.interruptFails) throw new Error('store closed');
      interrupted.push(extra);
    },
  };
  inflight.track(s, done);
  return { end, interrupted };
}

function setup() {
  const inflight = new InflightSteps();
  const events: string[] = [];
  const logs: string[] = [];
  const logger = createLogger('silent');
  logger.warn = ((_o: unknown, msg: string) => void logs.push(`warn: ${msg}`)) as typeof logger.warn;
  logger.error = ((_o: unknown, msg: string) => void logs.push(`error: ${msg}`)) as typeof logger.error;
  const onClose: Array<() => void> = [];
  const executor = {
    close: async () => {
      events.push(`executor.close cuttingOff=${inflight.cuttingOff}`);
      for (const f of onClose) f();
    },
  };
  const record = {} as Parameters<typeof stopSteps>[0]['record'];
  const run = (graceMs = 1000) => stopSteps({ inflight, executor, record, graceMs, settleMs: 20, logger });
  return { inflight, events, logs, onClose, run };
}

describe('stopSteps', () => {
  it('a step that finishes within the grace is left alone: no warning, nothing recorded', async () => {
    const t = setup();
    const a = step(t.inflight, 'a');
    const stopping = t.run();
    a.end();
    await stopping;
    expect(t.logs).toEqual([]);
    expect(a.interrupted).toEqual([]);
    expect(t.events).toEqual(['executor.close cuttingOff=true']);
  });

  it('a step still running after the grace is cut off: warned, and closing its connection ends it', async () => {
    const t = setup();
    const a = step(t.inflight, 'a');
    t.onClose.push(a.end);
    await t.run(10);
    expect(t.events).toEqual(['executor.close cuttingOff=true']);
    expect(t.logs).toEqual(['warn: steps still running at the end of the grace period: cutting them off']);
    expect(a.interrupted).toEqual([]);
    expect(t.inflight.size).toBe(0);
  });

  it('a step that does not settle after its connection closed is recorded interrupted; a failed record is logged', async () => {
    const t = setup();
    const stuck = step(t.inflight, 'stuck');
    const broken = step(t.inflight, 'broken', { interruptFails: true });
    await t.run(10);
    expect(stuck.interrupted).toEqual([{ reason: 'did not settle after its connection was closed' }]);
    expect(broken.interrupted).toEqual([]);
    expect(t.logs).toEqual([
      'warn: steps still running at the end of the grace period: cutting them off',
      'error: could not record an interrupted step',
    ]);
  });
});
