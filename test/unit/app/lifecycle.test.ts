import type { App } from '@slack/bolt';
import type { Core } from '../../../src/app/core';
import { createLifecycle } from '../../../src/app/lifecycle';
import { Readiness } from '../../../src/app/receiver';
import type { Services } from '../../../src/app/services';
import { InflightSteps } from '../../../src/incident/inflight-steps';
import { createLogger } from '../../../src/logger';

/** A lifecycle over fakes that write down, in order, what was started and closed. */
function setup() {
  const events: string[] = [];
  const note = (what: string) => async () => void events.push(what);
  const readiness = new Readiness();
  const core = {
    config: { shutdown: { graceMs: 50 }, replicas: { heartbeatSec: 5 }, slack: { retries: 0 } },
    env: { port: 3999 },
    logger: createLogger('silent'),
    now: () => new Date('2026-11-25T03:00:00.000Z'),
    inflight: new InflightSteps(),
    store: { close: note('store.close') },
    stepLeases: {
      // Steps a previous process left: none here.
      recover: async () => {
        events.push('leases.recover');
        return [];
      },
      start: () => void events.push('leases.start'),
      stop: note('leases.stop'),
    },
    eventClaims: { close: note('claims.close') },
    graphs: { close: note('graphs.close') },
    executor: { close: note('executor.close') },
    scheduler: { stop: note('scheduler.stop') },
    runStepDeps: {},
  } as unknown as Core;
  const services = {
    presenter: { refresh: note('presenter.refresh'), close: note('presenter.close') },
    intake: {
      drain: async () => {
        events.push('intake.drain');
        return true;
      },
      depth: () => 0,
    },
    // Incident messages nobody posted: none here.
    flow: { postUnposted: async () => 0, flushMeeting: note('flow.flushMeeting') },
  } as unknown as Pick<Services, 'presenter' | 'intake' | 'flow'>;
  const app = {
    init: note('app.init'),
    // Listening: readiness must still be false here (/healthz says 503 until recovery is done).
    start: async () => void events.push(`app.start ready=${readiness.isReady}`),
    stop: note('app.stop'),
  } as unknown as App;
  const lifecycle = createLifecycle(core, services, { app }, readiness);
  return { lifecycle, events, readiness };
}

describe('createLifecycle (#15 §3)', () => {
  it('start: init, listen, recover the steps a previous process left and start the leases, then ready', async () => {
    const { lifecycle, events, readiness } = setup();
    expect(readiness.isReady).toBe(false);
    // when
    const port = await lifecycle.start();
    // then
    expect(port).toBe(3999);
    expect(events).toEqual(['app.init', 'app.start ready=false', 'leases.recover', 'leases.start']);
    expect(readiness.isReady).toBe(true);
  });

  it('stop closes what start opened, in order: receiver, host queues, SSH, leases, intake, waiting Slack readings, posts, graphs, claims, store', async () => {
    const { lifecycle, events, readiness } = setup();
    await lifecycle.start();
    events.length = 0;
    // when
    await lifecycle.stop();
    // then
    expect(readiness.isReady).toBe(false);
    expect(events).toEqual([
      'app.stop',
      'scheduler.stop',
      'executor.close',
      'leases.stop',
      'intake.drain',
      'flow.flushMeeting',
      'presenter.close',
      'graphs.close',
      'claims.close',
      'store.close',
    ]);
  });

  it('stop twice is one stop: each part is closed once', async () => {
    const { lifecycle, events } = setup();
    await lifecycle.start();
    events.length = 0;
    const first = lifecycle.stop();
    expect(lifecycle.stop()).toBe(first);
    await first;
    expect(events.filter((e) => e === 'store.close')).toHaveLength(1);
    expect(events.filter((e) => e === 'app.stop')).toHaveLength(1);
  });
});
