/**
 * Runs one automated step of an incident on its host: build the command from the catalog and the alert, queue it
 * under the host's limits, run it over SSH, and keep the step's state and the timeline current at every phase. A
 * step never stays "running": whatever happens, it ends ok or failed.
 */
import type { ActionSpec, BuiltCommand } from '../actions/types';
import type { HostConfig } from '../config/schema';
import { asPilotError, ErrorCatalog, PilotError } from '../errors';
import type { ExecResult, Executor } from '../exec/types';
import type { Logger } from '../logger';
import type { Step } from '../runbook/types';
import type { InflightSteps, InflightStep } from './inflight-steps';
import { assertLabelsPresent } from './complete-labels';
import type { IncidentStore } from './store';
import type { Incident } from './types';

export interface StepScheduler {
  schedule<T>(key: { host: string; user?: string }, fn: () => Promise<T>, hooks?: { onQueued?(ahead: number): void; onStart?(): void }): Promise<T>;
}

export interface RunStepDeps {
  store: IncidentStore;
  executor: Executor;
  scheduler: StepScheduler;
  hosts: readonly HostConfig[];
  buildCommand(action: ActionSpec, ctx: { labels: Record<string, string>; host: HostConfig; input?: Record<string, string | number> }): BuiltCommand;
  toSshTarget(host: HostConfig): Parameters<Executor['run']>[0];
  now: () => Date;
  logger: Logger;
  /** Steps in flight, so a stop can wait for them; once it is stopping, steps not yet started do not start. */
  inflight?: InflightSteps;
}

export interface RunStepRequest {
  incident: Incident;
  step: Step;
  action: ActionSpec;
  user: string;
  input?: Record<string, string | number>;
  /** Extra details recorded on the timeline (e.g. the mitigation's reason). */
  details?: Record<string, unknown>;
}

/** Called as the step moves on, so the caller can show it. */
export interface RunStepProgress {
  queued?(ahead: number): void;
  started?(built: BuiltCommand): void;
}

export type RunStepOutcome =
  /** The command ran (its exit code may be non-zero). */
  | { kind: 'ran'; host: HostConfig; built: BuiltCommand; result: ExecResult }
  /** Nothing ran: the host is not configured, a parameter failed validation, or a limit refused the click. */
  | { kind: 'refused'; host?: HostConfig; error: PilotError }
  /** The command could not run or its connection failed (SSH errors). */
  | { kind: 'failed'; host: HostConfig; built: BuiltCommand; error: PilotError };

/** Resolves the configured host of an incident, or throws HOST_NOT_CONFIGURED with how to add it. */
export function hostOf(incident: Incident, hosts: readonly HostConfig[]): HostConfig {
  const host = incident.hostName ? hosts.find((h) => h.name === incident.hostName) : undefined;
  if (!host) {
    const instance = incident.alert.labels.instance;
    throw new PilotError('HOST_NOT_CONFIGURED', `host not configured: no entry under hosts: matches ${instance ? `instance=${instance}` : 'this alert'}`, {
      hint: `add it to the config: hosts: [{ name: …, match: { instance: ["${instance ?? '…'}"] }, ssh: { host: …, user: …, privateKeyPath: …, hostKey: "SHA256:…" } }], then restart the bot`,
    });
  }
  return host;
}

/** Runs the step; resolves with the outcome (it does not throw for expected failures). */
export function runStep(deps: RunStepDeps, req: RunStepRequest, progress: RunStepProgress = {}): Promise<RunStepOutcome> {
  const tracker = deps.inflight;
  if (!tracker) return runTrackedStep(deps, req, progress);
  let entry: InflightStep | undefined;
  const done = Promise.resolve().then(() => runTrackedStep(deps, req, progress, entry));
  entry = tracker.track({ incidentId: req.incident.id, stepId: req.step.id, actionId: req.action.id, user: req.user }, done);
  return done;
}

/**
 * Records a step the bot gave up on when it stopped: nothing ran (`ran: false`), or its command was cut off and its
 * outcome is unknown.
 */
export function recordInterrupted(deps: Pick<RunStepDeps, 'store' | 'now'>, step: Omit<InflightStep, 'started'>, ran: boolean, extra: Record<string, unknown> = {}): void {
  const at = deps.now().toISOString();
  const error = ran ? 'interrupted: the bot stopped while it ran; its outcome is unknown' : 'interrupted: the bot stopped before it ran; nothing ran';
  deps.store.setStep(step.incidentId, step.stepId, { state: 'failed', actionId: step.actionId, by: step.user, at, error });
  deps.store.appendTimeline(step.incidentId, 'step.interrupted', step.user, { stepId: step.stepId, actionId: step.actionId, ran, ...extra, error }, at);
}

async function runTrackedStep(deps: RunStepDeps, req: RunStepRequest, progress: RunStepProgress, entry?: InflightStep): Promise<RunStepOutcome> {
  const { store, now } = deps;
  const { incident, step, action, user } = req;
  // Every line about this step carries the incident, step, action, user and (once known) host.
  let log = deps.logger.child({ incidentId: incident.id, stepId: step.id, actionId: action.id, user });
  const base = { stepId: step.id, actionId: action.id, ...req.details };
  store.appendTimeline(incident.id, 'step.clicked', user, base, now().toISOString());

  let host: HostConfig;
  let built: BuiltCommand;
  try {
    assertLabelsPresent(incident, action, deps.hosts);
    host = hostOf(incident, deps.hosts);
    log = log.child({ host: host.name });
    built = deps.buildCommand(action, { labels: incident.alert.labels, host, input: req.input });
  } catch (err) {
    const error = asPilotError(err);
    return refuse(deps, req, error, undefined, log);
  }

  let started = false;
  try {
    const result = await deps.scheduler.schedule(
      { host: host.name, user },
      async () => {
        if (deps.inflight?.stopping) {
          throw new PilotError('SHUTTING_DOWN', 'the bot is stopping: this step did not start, nothing ran');
        }
        started = true;
        if (entry) entry.started = true;
        const at = now().toISOString();
        store.setStep(incident.id, step.id, { state: 'running', actionId: action.id, by: user, at });
        store.appendTimeline(incident.id, 'step.started', user, { ...base, host: host.name, command: built.command }, at);
        // The command starts before anything is shown: showing it is the caller's business and must not delay it.
        const running = deps.executor.run(deps.toSshTarget(host), built.command, { timeoutMs: action.timeoutMs, outputCap: action.outputCap });
        progress.started?.(built);
        return running;
      },
      {
        onQueued: (ahead) => {
          const at = now().toISOString();
          store.setStep(incident.id, step.id, { state: 'queued', actionId: action.id, by: user, at, ahead });
          store.appendTimeline(incident.id, 'step.queued', user, { ...base, host: host.name, ahead }, at);
          progress.queued?.(ahead);
        },
      },
    );
    const at = now().toISOString();
    const ok = result.exitCode === 0 && !result.timedOut;
    if (!ok && deps.inflight?.cuttingOff) {
      // The stop ended the command (TERM/KILL): its exit says nothing about the host.
      throw new PilotError('SSH_CONNECTION_LOST', `the bot stopped and ended ${action.id} on ${host.name}`, { details: { exitCode: result.exitCode, signal: result.signal } });
    }
    const summary = { ...base, host: host.name, exitCode: result.exitCode, durationMs: Math.round(result.durationMs), timedOut: result.timedOut };
    if (ok) {
      store.setStep(incident.id, step.id, { state: 'ok', actionId: action.id, by: user, at, exitCode: 0, durationMs: Math.round(result.durationMs) });
      store.appendTimeline(incident.id, 'step.finished', user, summary, at);
    } else {
      const error = result.timedOut ? `timed out after ${Math.round(action.timeoutMs / 1000)} s` : `exit ${result.exitCode ?? result.signal ?? '?'}`;
      store.setStep(incident.id, step.id, { state: 'failed', actionId: action.id, by: user, at, exitCode: result.exitCode, durationMs: Math.round(result.durationMs), error });
      store.appendTimeline(incident.id, 'step.failed', user, { ...summary, error }, at);
    }
    log.info({ exitCode: result.exitCode, durationMs: Math.round(result.durationMs), timedOut: result.timedOut }, 'step ran');
    return { kind: 'ran', host, built, result };
  } catch (err) {
    const error = asPilotError(err);
    if (deps.inflight?.stopping) {
      // A stop ended the host's queue or the connection under the command: say so, not "failed".
      recordInterrupted(deps, { incidentId: incident.id, stepId: step.id, actionId: action.id, user }, started, { host: host.name, code: error.code });
      log.warn({ host: host.name, started, code: error.code }, 'step interrupted by the stop');
      const shown = started
        ? new PilotError('SSH_CONNECTION_LOST', `the bot stopped while ${action.id} ran on ${host.name}; its outcome is unknown`, { hint: ErrorCatalog.SHUTTING_DOWN.hint, cause: err })
        : new PilotError('SHUTTING_DOWN', `the bot stopped before ${action.id} ran on ${host.name}; nothing ran`, { cause: err });
      return started ? { kind: 'failed', host, built, error: shown } : { kind: 'refused', host, error: shown };
    }
    if (!started) return refuse(deps, req, error, host, log);
    const at = now().toISOString();
    store.setStep(incident.id, step.id, { state: 'failed', actionId: action.id, by: user, at, error: error.message });
    store.appendTimeline(incident.id, 'step.failed', user, { ...base, host: host.name, code: error.code, error: error.message }, at);
    log.warn({ code: error.code, err: error }, 'step failed');
    return { kind: 'failed', host, built, error };
  }
}

function refuse(deps: RunStepDeps, req: RunStepRequest, error: PilotError, host: HostConfig | undefined, log: Logger): RunStepOutcome {
  const at = deps.now().toISOString();
  deps.store.setStep(req.incident.id, req.step.id, { state: 'failed', actionId: req.action.id, by: req.user, at, error: `refused: ${error.message}` });
  deps.store.appendTimeline(req.incident.id, 'step.refused', req.user, { stepId: req.step.id, actionId: req.action.id, host: host?.name ?? null, code: error.code, error: error.message }, at);
  log.info({ code: error.code, reason: error.message }, 'step refused, nothing ran');
  return { kind: 'refused', host, error };
}

/**
 * Runs an action on a host without touching any step or the thread: for pre-checks and read-backs around a
 * mitigation. Goes through the same limiter and validation as a click.
 */
export async function runActionQuietly(
  deps: Pick<RunStepDeps, 'executor' | 'scheduler' | 'buildCommand' | 'toSshTarget'>,
  host: HostConfig,
  action: ActionSpec,
  labels: Record<string, string>,
  user?: string,
): Promise<{ built: BuiltCommand; result: ExecResult }> {
  const built = deps.buildCommand(action, { labels, host });
  const result = await deps.scheduler.schedule({ host: host.name, user }, () =>
    deps.executor.run(deps.toSshTarget(host), built.command, { timeoutMs: action.timeoutMs, outputCap: action.outputCap }),
  );
  return { built, result };
}

/**
 * At start-up: steps the store still shows queued or running belong to a bot process that is gone (a crash, a
 * kill -9): nothing will finish them. Each is recorded as interrupted, so no step stays "running" forever and the
 * timeline says what happened. Returns the incidents that changed, to refresh their messages.
 */
export function recoverInterruptedSteps(deps: Pick<RunStepDeps, 'store' | 'now'>): number[] {
  const changed: number[] = [];
  for (const incident of deps.store.listOpen()) {
    for (const [stepId, state] of Object.entries(incident.steps)) {
      if (state.state !== 'queued' && state.state !== 'running') continue;
      recordInterrupted(deps, { incidentId: incident.id, stepId, actionId: state.actionId, user: state.by }, state.state === 'running', { reason: 'the bot restarted' });
      if (!changed.includes(incident.id)) changed.push(incident.id);
    }
  }
  return changed;
}
