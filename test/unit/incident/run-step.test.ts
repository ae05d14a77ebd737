/**
 * The step lifecycle: the pure state machine (every transition allowed and refused), what each end writes, and
 * runStep driven through every transition with a fake scheduler, a fake executor and a fake clock, against the real
 * store in memory.
 */

import { buildCommand } from '../../../src/actions/build-command';
import { builtinActions } from '../../../src/actions/catalog';
import type { BuiltCommand } from '../../../src/actions/types';
import { type HostConfig, HostSchema } from '../../../src/config/schema';
import { PilotError } from '../../../src/errors';
import type { ExecResult } from '../../../src/exec/types';
import { InflightSteps } from '../../../src/incident/inflight-steps';
import {
  finalRecord,
  nextPhase,
  type RunStepDeps,
  runStep,
  type StepEnding,
  type StepEvent,
  type StepPhase,
} from '../../../src/incident/run-step';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import type { Incident } from '../../../src/incident/types';
import { createLogger } from '../../../src/logger';
import type { Step } from '../../../src/runbook/types';
import { firingAlert } from '../../support/domain-fixtures';

const action = builtinActions.find((a) => a.id === 'status-check')!;
const host: HostConfig = HostSchema.parse({
  name: 'lb-1',
  match: { instance: ['lb-1:9101'] },
  ssh: {
    host: '10.0.0.1',
    user: 'pilot',
    privateKeyPath: '/keys/id',
    hostKey: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  },
  haproxy: { socket: '/run/haproxy/admin.sock' },
});
const built: BuiltCommand = { command: 'echo status', argv: [] } as unknown as BuiltCommand;
const step: Step = {
  id: 'diagnosis-2',
  section: 'diagnosis',
  number: 2,
  title: 'Status',
  text: 'Check it',
  kind: 'action',
  actions: ['status-check'],
} as Step;
const exited = (exitCode: number | null, extra: Partial<ExecResult> = {}): ExecResult => ({
  exitCode,
  stdout: { text: 'out', bytes: 3, truncatedBytes: 0 },
  stderr: { text: '', bytes: 0, truncatedBytes: 0 },
  durationMs: 42,
  timedOut: false,
  ...extra,
});

describe('nextPhase: the step state machine', () => {
  const clicked: StepPhase = { phase: 'clicked' };
  const ready: StepPhase = { phase: 'ready', host, built };
  const queued: StepPhase = { phase: 'queued', host, built, ahead: 2 };
  const running: StepPhase = { phase: 'running', host, built };
  const finished: StepPhase = {
    phase: 'finished',
    outcome: { kind: 'refused', error: new PilotError('RATE_LIMITED', 'x') },
  };
  const resolved: StepEvent = { type: 'resolved', host, built };
  const queue: StepEvent = { type: 'queued', ahead: 2 };
  const start: StepEvent = { type: 'started' };
  const end = (ending: StepEnding): StepEvent => ({ type: 'end', ending });
  const refused = end({ kind: 'refused', error: new PilotError('RATE_LIMITED', 'too many') });
  const exit0 = end({ kind: 'exited', result: exited(0) });
  const sshFailed = end({ kind: 'failed', error: new PilotError('SSH_CONNECTION_LOST', 'gone') });
  const interrupted = end({ kind: 'interrupted', error: new PilotError('SHUTTING_DOWN', 'stop') });

  // given a phase and an event, then the next phase (or `null`: the move is refused)
  const table: Array<[StepPhase, StepEvent, string | null]> = [
    [clicked, resolved, 'ready'],
    [clicked, refused, 'finished:refused'],
    [clicked, interrupted, 'finished:refused'],
    [clicked, queue, null],
    [clicked, start, null],
    [clicked, exit0, null],
    [ready, queue, 'queued'],
    [ready, start, 'running'],
    [ready, refused, 'finished:refused'],
    [ready, interrupted, 'finished:refused'],
    [ready, resolved, null],
    [ready, exit0, null],
    [ready, sshFailed, null],
    [queued, start, 'running'],
    [queued, refused, 'finished:refused'],
    [queued, interrupted, 'finished:refused'],
    [queued, queue, null],
    [queued, exit0, null],
    [running, exit0, 'finished:ran'],
    [running, sshFailed, 'finished:failed'],
    [running, interrupted, 'finished:failed'],
    [running, refused, null],
    [running, start, null],
    [running, queue, null],
    [finished, exit0, null],
    [finished, refused, null],
    [finished, start, null],
  ];
  it.each(
    table.map(([p, e, want]) => [p.phase, e.type === 'end' ? `end/${e.ending.kind}` : e.type, want, p, e] as const),
  )('%s + %s → %s', (_p, _e, want, phase, event) => {
    if (want === null) {
      expect(() => nextPhase(phase, event, action)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
      return;
    }
    const next = nextPhase(phase, event, action);
    expect(next.phase === 'finished' ? `finished:${next.outcome.kind}` : next.phase).toBe(want);
  });

  it('an interruption says whether anything ran', () => {
    const before = nextPhase(queued, interrupted, action);
    const during = nextPhase(running, interrupted, action);
    expect(before).toMatchObject({ phase: 'finished', outcome: { kind: 'refused', error: { code: 'SHUTTING_DOWN' } } });
    expect(during).toMatchObject({
      phase: 'finished',
      outcome: { kind: 'failed', error: { code: 'STEP_INTERRUPTED' } },
    });
  });
});

describe('finalRecord: what each end writes', () => {
  const ctx = {
    stepId: 'diagnosis-2',
    actionId: 'status-check',
    user: 'U1',
    at: '2026-11-25T03:00:00.000Z',
    timeoutMs: 15_000,
    details: { reason: 'why' },
  };
  it.each<[string, { ran: boolean; host?: string }, StepEnding, object, object]>([
    [
      'exit 0',
      { ran: true, host: 'lb-1' },
      { kind: 'exited', result: exited(0) },
      { state: 'ok', exitCode: 0, durationMs: 42 },
      {
        type: 'step.finished',
        details: {
          stepId: 'diagnosis-2',
          actionId: 'status-check',
          reason: 'why',
          host: 'lb-1',
          exitCode: 0,
          durationMs: 42,
          timedOut: false,
        },
      },
    ],
    [
      'exit 2',
      { ran: true, host: 'lb-1' },
      { kind: 'exited', result: exited(2) },
      { state: 'failed', exitCode: 2, error: 'exit 2' },
      { type: 'step.failed', details: expect.objectContaining({ exitCode: 2, error: 'exit 2' }) },
    ],
    [
      'timeout',
      { ran: true, host: 'lb-1' },
      { kind: 'exited', result: exited(null, { timedOut: true, signal: 'TERM' }) },
      { state: 'failed', error: 'timed out after 15 s' },
      { type: 'step.failed', details: expect.objectContaining({ timedOut: true, error: 'timed out after 15 s' }) },
    ],
    [
      'ssh failure',
      { ran: true, host: 'lb-1' },
      { kind: 'failed', error: new PilotError('SSH_CONNECTION_LOST', 'gone') },
      { state: 'failed', error: 'gone' },
      {
        type: 'step.failed',
        details: expect.objectContaining({ host: 'lb-1', code: 'SSH_CONNECTION_LOST', error: 'gone' }),
      },
    ],
    [
      'refusal',
      { ran: false },
      { kind: 'refused', error: new PilotError('HOST_NOT_CONFIGURED', 'no host') },
      { state: 'failed', error: 'refused: no host' },
      {
        type: 'step.refused',
        details: {
          stepId: 'diagnosis-2',
          actionId: 'status-check',
          host: null,
          code: 'HOST_NOT_CONFIGURED',
          error: 'no host',
        },
      },
    ],
    [
      'interrupted before',
      { ran: false, host: 'lb-1' },
      { kind: 'interrupted', error: new PilotError('SHUTTING_DOWN', 'x'), extra: { code: 'SHUTTING_DOWN' } },
      { state: 'failed', error: expect.stringContaining('nothing ran') },
      {
        type: 'step.interrupted',
        details: expect.objectContaining({ ran: false, host: 'lb-1', code: 'SHUTTING_DOWN' }),
      },
    ],
    [
      'interrupted during',
      { ran: true },
      { kind: 'interrupted', error: new PilotError('SHUTTING_DOWN', 'x'), extra: { reason: 'the bot restarted' } },
      { state: 'failed', error: expect.stringContaining('outcome is unknown') },
      { type: 'step.interrupted', details: expect.objectContaining({ ran: true, reason: 'the bot restarted' }) },
    ],
  ])('%s', (_name, from, ending, state, event) => {
    const r = finalRecord(from, ending, ctx);
    expect(r.state).toMatchObject({ actionId: 'status-check', by: 'U1', at: ctx.at, ...state });
    expect(r.event).toMatchObject({ actor: 'U1', at: ctx.at, ...event });
  });
});

/** A scheduler that runs at once, refuses, or holds jobs (calling onQueued) until released. */
class FakeScheduler {
  readonly held: Array<{ go(): void; drop(err: Error): void }> = [];
  mode: 'now' | 'hold' | { refuse: PilotError } = 'now';
  schedule<T>(
    _key: { host: string },
    fn: () => Promise<T>,
    hooks: { onQueued?(ahead: number): void } = {},
  ): Promise<T> {
    const mode = this.mode;
    if (typeof mode === 'object') return Promise.reject(mode.refuse);
    if (mode === 'now') return fn();
    hooks.onQueued?.(this.held.length + 1);
    return new Promise<T>((resolve, reject) =>
      this.held.push({ go: () => void fn().then(resolve, reject), drop: reject }),
    );
  }
}

/** An executor whose commands end when the test says. */
class FakeExecutor {
  readonly started: string[] = [];
  private pending: Array<{ resolve(r: ExecResult): void; reject(e: Error): void }> = [];
  run(_t: unknown, command: string): Promise<ExecResult> {
    this.started.push(command);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  exit(result: ExecResult): void {
    this.pending.shift()!.resolve(result);
  }
  fail(err: Error): void {
    this.pending.shift()!.reject(err);
  }
  async close(): Promise<void> {}
}

async function setup(opts: { hostName?: string } = {}) {
  const store = new SqliteIncidentStore(':memory:');
  const { incident } = await store.openOrGet({
    alert: firingAlert(),
    hostName: opts.hostName ?? 'lb-1',
    channel: 'C1',
    threadTs: '1.1',
    at: '2026-11-25T03:00:00.000Z',
  });
  let t = Date.parse('2026-11-25T03:00:00.000Z');
  const scheduler = new FakeScheduler();
  const executor = new FakeExecutor();
  const inflight = new InflightSteps();
  const deps: RunStepDeps = {
    store,
    executor,
    scheduler,
    hosts: [host],
    buildCommand: (a, ctx) => buildCommand(a, ctx),
    toSshTarget: (h) => ({ name: h.name, host: h.ssh.host, port: h.ssh.port, user: h.ssh.user }),
    // The fake clock: one second on at every reading.
    now: () => new Date((t += 1000)),
    logger: createLogger('silent'),
    inflight,
  };
  const types = async () => (await store.timeline(incident.id)).map((e) => e.type);
  const state = async () => (await store.get(incident.id))!.steps['diagnosis-2'];
  const settle = () => new Promise((r) => setImmediate(r));
  return { store, incident: incident as Incident, scheduler, executor, inflight, deps, types, state, settle };
}

describe('runStep through every transition', () => {
  it('clicked → refused: no host configured; nothing runs', async () => {
    const s = await setup({ hostName: 'lb-unknown' });
    const outcome = await runStep(s.deps, { incident: s.incident, step, action, user: 'U1' });
    expect(outcome).toMatchObject({ kind: 'refused', error: { code: 'HOST_NOT_CONFIGURED' } });
    expect(await s.types()).toEqual(['step.clicked', 'step.refused']);
    expect(await s.state()).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(/^refused: host not configured/),
    });
    expect(s.executor.started).toEqual([]);
  });

  it('ready → refused: a limit refuses the click', async () => {
    const s = await setup();
    s.scheduler.mode = { refuse: new PilotError('RATE_LIMITED', 'you ran 30 actions in the last minute') };
    const outcome = await runStep(s.deps, { incident: s.incident, step, action, user: 'U1' });
    expect(outcome).toMatchObject({ kind: 'refused', host: { name: 'lb-1' }, error: { code: 'RATE_LIMITED' } });
    expect(await s.types()).toEqual(['step.clicked', 'step.refused']);
    expect((await s.store.timeline(s.incident.id))[1].details).toMatchObject({ host: 'lb-1', code: 'RATE_LIMITED' });
  });

  it('ready → running → ok: the command starts before the caller is told, then ok is recorded with its event', async () => {
    const s = await setup();
    const seen: string[] = [];
    const done = runStep(
      s.deps,
      { incident: s.incident, step, action, user: 'U1', details: { reason: 'r' } },
      { started: () => seen.push(`told after ${s.executor.started.length} command(s)`) },
    );
    await s.settle();
    expect(seen).toEqual(['told after 1 command(s)']);
    expect(await s.state()).toMatchObject({ state: 'running', by: 'U1' });
    expect(s.inflight.size).toBe(1);
    s.executor.exit(exited(0));
    const outcome = await done;
    expect(outcome).toMatchObject({ kind: 'ran', host: { name: 'lb-1' }, result: { exitCode: 0 } });
    expect(await s.types()).toEqual(['step.clicked', 'step.started', 'step.finished']);
    const [clicked, started, finished] = await s.store.timeline(s.incident.id);
    // the fake clock: each write has its own time, in order
    expect([clicked.at < started.at, started.at < finished.at]).toEqual([true, true]);
    expect(started.details).toMatchObject({ host: 'lb-1', command: s.executor.started[0], reason: 'r' });
    expect(await s.state()).toEqual({
      state: 'ok',
      actionId: 'status-check',
      by: 'U1',
      at: finished.at,
      exitCode: 0,
      durationMs: 42,
    });
    await s.settle();
    expect(s.inflight.size).toBe(0);
  });

  it('ready → queued → running → failed: waits, is told how many are ahead, then exits 1', async () => {
    const s = await setup();
    s.scheduler.mode = 'hold';
    const queued: number[] = [];
    const done = runStep(s.deps, { incident: s.incident, step, action, user: 'U1' }, { queued: (n) => queued.push(n) });
    await s.settle();
    expect(queued).toEqual([1]);
    expect(await s.state()).toMatchObject({ state: 'queued', ahead: 1 });
    expect((await s.inflight.drain(0)).map((e) => e.started)).toEqual([false]);
    s.scheduler.held[0].go();
    await s.settle();
    expect(await s.state()).toMatchObject({ state: 'running' });
    s.executor.exit(exited(1));
    expect(await done).toMatchObject({ kind: 'ran', result: { exitCode: 1 } });
    expect(await s.types()).toEqual(['step.clicked', 'step.queued', 'step.started', 'step.failed']);
    expect(await s.state()).toMatchObject({ state: 'failed', exitCode: 1, error: 'exit 1' });
  });

  it('running → failed: the connection drops under the command', async () => {
    const s = await setup();
    const done = runStep(s.deps, { incident: s.incident, step, action, user: 'U1' });
    await s.settle();
    s.executor.fail(
      new PilotError(
        'SSH_CONNECTION_LOST',
        'the connection to lb-1 dropped while the command ran; its outcome is unknown',
      ),
    );
    expect(await done).toMatchObject({ kind: 'failed', error: { code: 'SSH_CONNECTION_LOST' } });
    expect(await s.types()).toEqual(['step.clicked', 'step.started', 'step.failed']);
    expect((await s.store.timeline(s.incident.id))[2].details).toMatchObject({
      code: 'SSH_CONNECTION_LOST',
      host: 'lb-1',
    });
  });

  it('queued → interrupted: the stop drops a waiting step; nothing ran', async () => {
    const s = await setup();
    s.scheduler.mode = 'hold';
    const done = runStep(s.deps, { incident: s.incident, step, action, user: 'U1' });
    await s.settle();
    s.inflight.beginStop();
    s.scheduler.held[0].drop(new Error('This limiter has been stopped.'));
    expect(await done).toMatchObject({ kind: 'refused', error: { code: 'SHUTTING_DOWN' } });
    expect(await s.types()).toEqual(['step.clicked', 'step.queued', 'step.interrupted']);
    expect((await s.store.timeline(s.incident.id))[2].details).toMatchObject({ ran: false, host: 'lb-1' });
    expect(s.executor.started).toEqual([]);
  });

  it('queued → interrupted: a slot that comes after the stop began does not start the command', async () => {
    const s = await setup();
    s.scheduler.mode = 'hold';
    const done = runStep(s.deps, { incident: s.incident, step, action, user: 'U1' });
    await s.settle();
    s.inflight.beginStop();
    s.scheduler.held[0].go();
    expect(await done).toMatchObject({ kind: 'refused', error: { code: 'SHUTTING_DOWN' } });
    expect(s.executor.started).toEqual([]);
    expect(await s.types()).toEqual(['step.clicked', 'step.queued', 'step.interrupted']);
  });

  it('running → interrupted: the cut-off ends the command; its exit says nothing about the host', async () => {
    const s = await setup();
    const done = runStep(s.deps, { incident: s.incident, step, action, user: 'U1' });
    await s.settle();
    s.inflight.cutOff();
    s.executor.exit(exited(null, { signal: 'TERM' }));
    expect(await done).toMatchObject({ kind: 'failed', error: { code: 'STEP_INTERRUPTED' } });
    expect(await s.types()).toEqual(['step.clicked', 'step.started', 'step.interrupted']);
    expect((await s.store.timeline(s.incident.id))[2].details).toMatchObject({ ran: true, host: 'lb-1' });
    expect(await s.state()).toMatchObject({ state: 'failed', error: expect.stringContaining('outcome is unknown') });
  });

  it('a step ends once: interrupted by the stop while running, its late exit writes nothing more', async () => {
    const s = await setup();
    const done = runStep(s.deps, { incident: s.incident, step, action, user: 'U1' });
    await s.settle();
    const [entry] = await s.inflight.drain(0);
    expect(entry.started).toBe(true);
    await entry.interrupt!({ reason: 'did not settle after its connection was closed' });
    s.executor.exit(exited(0));
    expect(await done).toMatchObject({ kind: 'failed', error: { code: 'STEP_INTERRUPTED' } });
    expect(await s.types()).toEqual(['step.clicked', 'step.started', 'step.interrupted']);
    expect(await s.state()).toMatchObject({ state: 'failed' });
  });

  it('a queued and a running step hold this replica’s lease (the clock’s now + its TTL), and give it up when they end', async () => {
    const s = await setup();
    s.deps.lease = { owner: 'replica-A', ttlMs: 30_000 };
    s.scheduler.mode = 'hold';
    const done = runStep(s.deps, { incident: s.incident, step, action, user: 'U1' });
    await s.settle();
    const FAR = '9999-12-31T00:00:00.000Z';
    const leased = async () => (await s.store.staleSteps(FAR, 'expired')).map((x) => [x.state.state, x.owner]);
    expect(await leased()).toEqual([['queued', 'replica-A']]);
    const queuedAt = (await s.state()) as { at: string };
    const [queuedLease] = await s.store.staleSteps(FAR, 'expired');
    // (the fake clock moves a second at every reading: the lease is read just after the state's time)
    const ttl = Date.parse(queuedLease.leaseUntil as string) - Date.parse(queuedAt.at);
    expect(ttl).toBeGreaterThanOrEqual(30_000);
    expect(ttl).toBeLessThanOrEqual(32_000);
    s.scheduler.held[0].go();
    await s.settle();
    expect(await leased()).toEqual([['running', 'replica-A']]);
    s.executor.exit(exited(0));
    await done;
    // ended: no lease left, nothing for a sweep to find
    expect(await s.store.staleSteps(FAR, 'all')).toEqual([]);
    expect(await s.state()).toMatchObject({ state: 'ok' });
  });
});
