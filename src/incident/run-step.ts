/**
 * Runs one automated step of an incident on its host: build the command from the catalog and the alert, queue it
 * under the host's limits, run it over SSH, and keep the step's state and the timeline current at every phase.
 *
 * The step is an explicit state machine (clicked → ready → [queued →] running → finished; any phase but finished
 * may end), with one place that ends it and writes its final state and timeline event in one transaction, once. A
 * step never stays "running": whatever happens, it ends ok or failed.
 */
import type { ActionSpec, BuiltCommand } from '../actions/types';
import { judge } from '../actions/verdicts';
import type { HostConfig } from '../config/schema';
import { asPilotError, PilotError } from '../errors';
import type { ExecResult, Executor } from '../exec/types';
import type { Logger } from '../logger';
import type { Step } from '../runbook/types';
import { assertLabelsPresent } from './complete-labels';
import type { InflightStep, InflightSteps } from './inflight-steps';
import type { IncidentStore, StepEventRecord } from './store';
import type { Incident, StepState, StepVerdict, TimelineType } from './types';

export interface StepScheduler {
  schedule<T>(
    key: { host: string; user?: string; maxRunMs?: number },
    fn: () => Promise<T>,
    hooks?: { onQueued?(ahead: number): void; onStart?(): void },
  ): Promise<T>;
  /**
   * Counts a click that runs no command against the user's per-minute limit; throws (or rejects) RATE_LIMITED when
   * over it. Returns a promise when the limit is shared through Redis.
   */
  countClick?(user: string): void | Promise<void>;
}

export interface RunStepDeps {
  store: IncidentStore;
  executor: Executor;
  scheduler: StepScheduler;
  hosts: readonly HostConfig[];
  buildCommand(
    action: ActionSpec,
    ctx: { labels: Record<string, string>; host: HostConfig; input?: Record<string, string | number> },
  ): BuiltCommand;
  toSshTarget(host: HostConfig): Parameters<Executor['run']>[0];
  now: () => Date;
  logger: Logger;
  /** Steps in flight, so a stop can wait for them; once it is stopping, steps not yet started do not start. */
  inflight?: InflightSteps;
  /** The hosts a user may pick for an incident whose alert names none (see hostChoices). */
  hostChoices?(incident: Incident): string[];
  /**
   * The lease a queued or running step takes (this replica, for how long unless renewed: see StepLeases); absent, it
   * takes none.
   */
  lease?: { owner: string; ttlMs: number };
  /** The verdict on a command's result, for actions with verdict rules (shown beside the step); absent: none. */
  judge?(action: ActionSpec, result: ExecResult, labels: Record<string, string>): StepVerdict | undefined;
}

export interface RunStepRequest {
  incident: Incident;
  step: Step;
  action: ActionSpec;
  user: string;
  input?: Record<string, string | number>;
  /** Extra details recorded on the timeline (e.g. the mitigation's reason). */
  details?: Record<string, unknown>;
  /**
   * The host and the exact command already resolved and shown (a confirmed mitigation's plan): run as they are,
   * nothing is resolved or built again.
   */
  planned?: { host: HostConfig; built: BuiltCommand };
  /**
   * Run by the bot, not a click (triage): `user` is who the timeline names, and the per-user click limit does not
   * count it (the triage has budgets of its own). The host's limits apply as to any step.
   */
  automated?: boolean;
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
export function hostOf(incident: Incident, hosts: readonly HostConfig[], choices: readonly string[] = []): HostConfig {
  const host = incident.hostName ? hosts.find((h) => h.name === incident.hostName) : undefined;
  if (!host && choices.length > 1) {
    throw new PilotError(
      'HOST_NOT_CONFIGURED',
      `alert ${incident.alertname} names no host (its rule sums over instances): it may be on ${choices.join(', ')}; nothing was run`,
      {
        hint: `pick the host in the menu on the incident message (or with \`/incident host ${incident.id} <name>\`), then click again`,
      },
    );
  }
  if (!host) {
    const instance = incident.alert.labels.instance;
    throw new PilotError(
      'HOST_NOT_CONFIGURED',
      `host not configured: no entry under hosts: matches ${instance ? `instance=${instance}` : 'this alert'}`,
      {
        hint: `add it to the config: hosts: [{ name: …, match: { instance: ["${instance ?? '…'}"] }, ssh: { host: …, user: …, privateKeyPath: …, hostKey: "SHA256:…" } }], then restart the bot`,
      },
    );
  }
  return host;
}

// ---- the step's life, as data --------------------------------------------------------------------------------

/**
 * Where a step is. Each phase carries what is known by then; a finished step carries its outcome, and nothing moves
 * it again.
 */
export type StepPhase =
  | { phase: 'clicked' }
  /** The host and the exact command are known. */
  | { phase: 'ready'; host: HostConfig; built: BuiltCommand }
  | { phase: 'queued'; host: HostConfig; built: BuiltCommand; ahead: number }
  | { phase: 'running'; host: HostConfig; built: BuiltCommand }
  | { phase: 'finished'; outcome: RunStepOutcome };

/** What can happen to a step. `end` is any way it can finish. */
export type StepEvent =
  | { type: 'resolved'; host: HostConfig; built: BuiltCommand }
  | { type: 'queued'; ahead: number }
  | { type: 'started' }
  | { type: 'end'; ending: StepEnding };

/** How a step ends. */
export type StepEnding =
  /** The command ran to an exit (any code) or to its timeout. */
  | { kind: 'exited'; result: ExecResult }
  /** The command started but its connection failed: its outcome is unknown. */
  | { kind: 'failed'; error: PilotError }
  /** Nothing ran: no host, a bad parameter, a limit. */
  | { kind: 'refused'; error: PilotError }
  /** The bot stopped: before the command started (nothing ran) or while it ran (outcome unknown). */
  | { kind: 'interrupted'; error: PilotError; extra?: Record<string, unknown> };

/**
 * The step's state machine: the next phase, or an error for a move the lifecycle does not allow (a bug, not a user
 * error). Pure.
 */
export function nextPhase(phase: StepPhase, event: StepEvent, action: Pick<ActionSpec, 'id' | 'timeoutMs'>): StepPhase {
  const illegal = () =>
    new PilotError(
      'INTERNAL',
      `step lifecycle: ${event.type}${event.type === 'end' ? `/${event.ending.kind}` : ''} is not allowed when ${phase.phase}`,
    );
  switch (event.type) {
    case 'resolved':
      if (phase.phase !== 'clicked') throw illegal();
      return { phase: 'ready', host: event.host, built: event.built };
    case 'queued':
      if (phase.phase !== 'ready') throw illegal();
      return { phase: 'queued', host: phase.host, built: phase.built, ahead: event.ahead };
    case 'started':
      if (phase.phase !== 'ready' && phase.phase !== 'queued') throw illegal();
      return { phase: 'running', host: phase.host, built: phase.built };
    case 'end':
      if (phase.phase === 'finished') throw illegal();
      return { phase: 'finished', outcome: outcomeOf(phase, event.ending, action) };
  }
}

function outcomeOf(
  phase: Exclude<StepPhase, { phase: 'finished' }>,
  ending: StepEnding,
  action: Pick<ActionSpec, 'id'>,
): RunStepOutcome {
  const host = phase.phase === 'clicked' ? undefined : phase.host;
  switch (ending.kind) {
    case 'exited':
      if (phase.phase !== 'running') break;
      return { kind: 'ran', host: phase.host, built: phase.built, result: ending.result };
    case 'failed':
      if (phase.phase !== 'running') break;
      return { kind: 'failed', host: phase.host, built: phase.built, error: ending.error };
    case 'refused':
      if (phase.phase === 'running') break;
      return { kind: 'refused', host, error: ending.error };
    case 'interrupted':
      if (phase.phase === 'running') {
        const shown = new PilotError(
          'STEP_INTERRUPTED',
          `the bot stopped while ${action.id} ran on ${phase.host.name}; its outcome is unknown`,
          { cause: ending.error },
        );
        return { kind: 'failed', host: phase.host, built: phase.built, error: shown };
      }
      return {
        kind: 'refused',
        host,
        error: new PilotError(
          'SHUTTING_DOWN',
          `the bot stopped before ${action.id} ran${host ? ` on ${host.name}` : ''}; nothing ran`,
          { cause: ending.error },
        ),
      };
  }
  throw new PilotError('INTERNAL', `step lifecycle: a step cannot end ${ending.kind} when ${phase.phase}`);
}

/**
 * What a step's end writes: its final state and its timeline event. Pure; the one description of how a step ends,
 * used by the one place that finishes a step.
 */
export function finalRecord(
  from: { ran: boolean; host?: string },
  ending: StepEnding,
  ctx: {
    stepId: string;
    actionId: string;
    user: string;
    at: string;
    timeoutMs: number;
    details?: Record<string, unknown>;
    /** The verdict on the command's output (an exited step only). */
    verdict?: StepVerdict;
  },
): { state: StepState; event: StepEventRecord } {
  const { stepId, actionId, user: by, at } = ctx;
  const base = { stepId, actionId, ...ctx.details };
  const { host } = from;
  const event = (type: TimelineType, details: Record<string, unknown>): StepEventRecord => ({
    type,
    actor: by,
    details,
    at,
  });
  switch (ending.kind) {
    case 'exited': {
      const r = ending.result;
      const durationMs = Math.round(r.durationMs);
      const verdict = ctx.verdict ? { verdict: ctx.verdict } : {};
      const summary = { ...base, host, exitCode: r.exitCode, durationMs, timedOut: r.timedOut, ...verdict };
      if (r.exitCode === 0 && !r.timedOut)
        return {
          state: { state: 'ok', actionId, by, at, exitCode: 0, durationMs, ...verdict },
          event: event('step.finished', summary),
        };
      const error = r.timedOut
        ? `timed out after ${Math.round(ctx.timeoutMs / 1000)} s`
        : `exit ${r.exitCode ?? r.signal ?? '?'}`;
      return {
        state: { state: 'failed', actionId, by, at, exitCode: r.exitCode, durationMs, error, ...verdict },
        event: event('step.failed', { ...summary, error }),
      };
    }
    case 'failed':
      return {
        state: { state: 'failed', actionId, by, at, error: ending.error.message },
        event: event('step.failed', { ...base, host, code: ending.error.code, error: ending.error.message }),
      };
    case 'refused':
      return {
        state: { state: 'failed', actionId, by, at, error: `refused: ${ending.error.message}` },
        // The refusal's details (who holds the lock, who restarted last) let the timeline name people, not ids.
        event: event('step.refused', {
          ...ending.error.details,
          stepId,
          actionId,
          host: host ?? null,
          code: ending.error.code,
          error: ending.error.message,
        }),
      };
    case 'interrupted': {
      const { ran } = from;
      const error = ran
        ? 'interrupted: the bot stopped while it ran; its outcome is unknown'
        : 'interrupted: the bot stopped before it ran; nothing ran';
      return {
        state: { state: 'failed', actionId, by, at, error },
        event: event('step.interrupted', { stepId, actionId, ran, ...(host ? { host } : {}), ...ending.extra, error }),
      };
    }
  }
}

// ---- running it ---------------------------------------------------------------------------------------------

/** Runs the step; resolves with the outcome (it does not throw for expected failures). */
export async function runStep(
  deps: RunStepDeps,
  req: RunStepRequest,
  progress: RunStepProgress = {},
): Promise<RunStepOutcome> {
  const run = new StepRun(deps, req, progress);
  const done = run.run();
  deps.inflight?.track(run.inflight(), done);
  return done;
}

/**
 * One step from click to end. Its phase is the only state; `finish` is the only place that ends it, and writes the
 * final state with its timeline event in one transaction, once.
 */
class StepRun {
  private phase: StepPhase = { phase: 'clicked' };
  private log: Logger;
  /** The step's writes, in order: with a store over the network, a later write must not overtake an earlier one. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: RunStepDeps,
    private readonly req: RunStepRequest,
    private readonly progress: RunStepProgress,
  ) {
    // Every line about this step carries the incident, step, action, user and (once known) host.
    this.log = deps.logger.child({
      incidentId: req.incident.id,
      stepId: req.step.id,
      actionId: req.action.id,
      user: req.user,
    });
  }

  /** What a stop needs to know of this step while it is in flight. */
  inflight(): InflightStep {
    const { incident, step, action, user } = this.req;
    const self = this;
    return {
      incidentId: incident.id,
      stepId: step.id,
      actionId: action.id,
      user,
      get started() {
        return self.phase.phase === 'running';
      },
      interrupt: (extra: Record<string, unknown>) =>
        this.finish({ kind: 'interrupted', error: new PilotError('SHUTTING_DOWN', 'the bot stopped'), extra }).then(
          () => undefined,
        ),
    };
  }

  async run(): Promise<RunStepOutcome> {
    const { deps, req } = this;
    const { incident, action, user } = req;
    const base = { stepId: req.step.id, actionId: action.id, ...req.details };
    const clickedAt = deps.now().toISOString();
    await this.write(() => deps.store.appendTimeline(incident.id, 'step.clicked', user, base, clickedAt));

    let host: HostConfig;
    let built: BuiltCommand;
    try {
      if (req.planned) {
        ({ host, built } = req.planned);
      } else {
        assertLabelsPresent(incident, action, deps.hosts);
        host = hostOf(incident, deps.hosts, deps.hostChoices?.(incident));
        built = deps.buildCommand(action, { labels: incident.alert.labels, host, input: req.input });
      }
    } catch (err) {
      return this.finish({ kind: 'refused', error: asPilotError(err) });
    }
    this.move({ type: 'resolved', host, built });
    this.log = this.log.child({ host: host.name });

    try {
      const result = await deps.scheduler.schedule(
        { host: host.name, ...(req.automated ? {} : { user }), maxRunMs: maxRunMs(host, action) },
        () => this.start(host, built),
        {
          onQueued: (ahead) => void this.queued(host, ahead),
        },
      );
      // The stop ended the command (TERM/KILL): its exit says nothing about the host.
      const cutOff = deps.inflight?.cuttingOff && !(result.exitCode === 0 && !result.timedOut);
      return await this.finish(
        cutOff
          ? {
              kind: 'interrupted',
              error: new PilotError('STEP_INTERRUPTED', `the bot stopped and ended ${action.id} on ${host.name}`),
              extra: { code: 'STEP_INTERRUPTED' },
            }
          : { kind: 'exited', result },
      );
    } catch (err) {
      const error = asPilotError(err);
      // A stop ended the host's queue or the connection under the command: say so, not "failed".
      if (deps.inflight?.stopping) return this.finish({ kind: 'interrupted', error, extra: { code: error.code } });
      return this.finish(this.phase.phase === 'running' ? { kind: 'failed', error } : { kind: 'refused', error });
    }
  }

  private async queued(host: HostConfig, ahead: number): Promise<void> {
    if (this.phase.phase !== 'ready') return;
    this.move({ type: 'queued', ahead });
    const { deps, req } = this;
    const at = deps.now().toISOString();
    await this.record(
      { state: 'queued', actionId: req.action.id, by: req.user, at, ahead },
      {
        type: 'step.queued',
        actor: req.user,
        details: { stepId: req.step.id, actionId: req.action.id, ...req.details, host: host.name, ahead },
        at,
      },
    );
    this.progress.queued?.(ahead);
  }

  /** Runs in the host's slot. The command starts before anything is shown: showing it must not delay it. */
  private async start(host: HostConfig, built: BuiltCommand): Promise<ExecResult> {
    const { deps, req } = this;
    if (deps.inflight?.stopping)
      throw new PilotError('SHUTTING_DOWN', 'the bot is stopping: this step did not start, nothing ran');
    if (this.phase.phase === 'finished')
      throw new PilotError('SHUTTING_DOWN', 'this step was ended before it started; nothing ran');
    this.move({ type: 'started' });
    const at = deps.now().toISOString();
    // Recorded before the command goes out: every attempt is on the timeline, even one whose end is never known.
    await this.record(
      { state: 'running', actionId: req.action.id, by: req.user, at },
      {
        type: 'step.started',
        actor: req.user,
        details: {
          stepId: req.step.id,
          actionId: req.action.id,
          ...req.details,
          host: host.name,
          command: built.command,
        },
        at,
      },
    );
    const running = deps.executor.run(deps.toSshTarget(host), built.command, {
      timeoutMs: req.action.timeoutMs,
      outputCap: req.action.outputCap,
    });
    this.progress.started?.(built);
    return running;
  }

  /** The step's state and its timeline event, in one transaction, after the step's earlier writes. */
  private record(state: StepState, event: StepEventRecord): Promise<void> {
    const { lease, now } = this.deps;
    // Queued and running carry this replica's lease (the store drops it from the final state): if this process dies,
    // another replica records the step interrupted once the lease expires.
    const held = lease && { owner: lease.owner, until: new Date(now().getTime() + lease.ttlMs).toISOString() };
    return this.write(() => this.deps.store.recordStep(this.req.incident.id, this.req.step.id, state, event, held));
  }

  private write(fn: () => unknown): Promise<void> {
    const done = this.writes.then(fn);
    this.writes = done.catch(() => undefined);
    return done.then(() => undefined);
  }

  private move(event: StepEvent): void {
    this.phase = nextPhase(this.phase, event, this.req.action);
  }

  /** The one place a step ends: its final state and timeline event in one transaction, once. */
  private async finish(ending: StepEnding): Promise<RunStepOutcome> {
    if (this.phase.phase === 'finished') return this.phase.outcome;
    const from = {
      ran: this.phase.phase === 'running',
      host: this.phase.phase === 'clicked' ? undefined : this.phase.host.name,
    };
    const next = nextPhase(this.phase, { type: 'end', ending }, this.req.action);
    if (next.phase !== 'finished') throw new PilotError('INTERNAL', 'step lifecycle: an end did not finish the step');
    this.phase = next;
    const { outcome } = next;
    const { deps, req } = this;
    const { state, event } = finalRecord(from, ending, {
      stepId: req.step.id,
      actionId: req.action.id,
      user: req.user,
      at: deps.now().toISOString(),
      timeoutMs: req.action.timeoutMs,
      details: req.details,
      verdict: ending.kind === 'exited' ? this.verdictOf(ending.result) : undefined,
    });
    await this.record(state, event);
    this.logEnd(ending, outcome);
    return outcome;
  }

  /** The action's verdict on its output; a judge that fails leaves the step without one (logged), never failed. */
  private verdictOf(result: ExecResult): StepVerdict | undefined {
    try {
      return this.deps.judge?.(this.req.action, result, this.req.incident.alert.labels);
    } catch (err) {
      this.log.warn({ err }, 'could not judge the output; the step has no verdict');
      return undefined;
    }
  }

  private logEnd(ending: StepEnding, outcome: RunStepOutcome): void {
    switch (ending.kind) {
      case 'exited': {
        const r = ending.result;
        this.log.info(
          { exitCode: r.exitCode, durationMs: Math.round(r.durationMs), openMs: r.openMs, timedOut: r.timedOut },
          'step ran',
        );
        return;
      }
      case 'failed':
        this.log.warn({ code: ending.error.code, err: ending.error }, 'step failed');
        return;
      case 'refused':
        this.log.info({ code: ending.error.code, reason: ending.error.message }, 'step refused, nothing ran');
        return;
      case 'interrupted':
        this.log.warn({ started: outcome.kind === 'failed', code: ending.error.code }, 'step interrupted by the stop');
    }
  }
}

/**
 * Records a step the bot gave up on when it stopped: nothing ran (`ran: false`), or its command was cut off and its
 * outcome is unknown. A step still in flight in this process is ended through its own lifecycle (once); one left by
 * a process that is gone is written here, the same way.
 */
export async function recordInterrupted(
  deps: Pick<RunStepDeps, 'store' | 'now'>,
  step: Omit<InflightStep, 'started'>,
  ran: boolean,
  extra: Record<string, unknown> = {},
): Promise<void> {
  if (step.interrupt) return step.interrupt(extra);
  // A step of a process that is gone: whether it ran is all we know (its host and command are on the timeline).
  const ending: StepEnding = { kind: 'interrupted', error: new PilotError('SHUTTING_DOWN', 'the bot stopped'), extra };
  const { state, event } = finalRecord({ ran }, ending, {
    stepId: step.stepId,
    actionId: step.actionId,
    user: step.user,
    at: deps.now().toISOString(),
    timeoutMs: 0,
  });
  await deps.store.recordStep(step.incidentId, step.stepId, state, event);
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
  /** The command already built (a mitigation plan's pre-check): run as it is. */
  prebuilt?: BuiltCommand,
): Promise<{ built: BuiltCommand; result: ExecResult }> {
  const built = prebuilt ?? deps.buildCommand(action, { labels, host });
  const result = await deps.scheduler.schedule({ host: host.name, user, maxRunMs: maxRunMs(host, action) }, () =>
    deps.executor.run(deps.toSshTarget(host), built.command, {
      timeoutMs: action.timeoutMs,
      outputCap: action.outputCap,
    }),
  );
  return { built, result };
}

/** runStep over these deps, as a function (the mitigation service's `runStep`). */
export function stepRunner(
  deps: RunStepDeps,
): (req: RunStepRequest, progress?: RunStepProgress) => Promise<RunStepOutcome> {
  return (req, progress) => runStep(deps, req, progress);
}

/** runActionQuietly over these deps, without labels, as a function (the mitigation's pre-check runner). */
export function quietRunner(
  deps: Pick<RunStepDeps, 'executor' | 'scheduler' | 'buildCommand' | 'toSshTarget'>,
): (
  host: HostConfig,
  action: ActionSpec,
  built: BuiltCommand,
  user?: string,
) => Promise<{ built: BuiltCommand; result: ExecResult }> {
  return (host, action, built, user) => runActionQuietly(deps, host, action, {}, user, built);
}

/** Where a configured host is reached over SSH: its name (for limits and logs) and its `ssh` settings. */
export function toSshTarget(host: HostConfig): Parameters<Executor['run']>[0] {
  return { name: host.name, ...host.ssh };
}

/**
 * A step's verdict, kept in its state: its action's rules (catalog-verdicts.ts, or a binding's own) applied to what the
 * command gave; undefined for an action without rules (the output speaks for itself). Only the level and the line are
 * kept: the facts are for the rules.
 */
export function judgeStep(
  action: Pick<ActionSpec, 'verdicts'>,
  result: { exitCode: number | null; timedOut: boolean; stdout: { text: string } },
  labels: Record<string, string>,
): StepVerdict | undefined {
  if (!action.verdicts) return undefined;
  const { level, text } = judge(
    action.verdicts,
    { exitCode: result.exitCode, timedOut: result.timedOut, stdout: result.stdout.text },
    labels,
  );
  return { level, text };
}

/** The longest a command may hold its host's slot: connecting, then running to its timeout (plus closing). */
function maxRunMs(host: HostConfig, action: ActionSpec): number {
  return host.ssh.connectTimeoutMs + action.timeoutMs + 5000;
}
