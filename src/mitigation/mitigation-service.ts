/**
 * Guarded mitigation as a domain service. A click asks `prepare` for what the confirmation must show (or why it is
 * refused); a confirmed submission asks `confirm`, which checks everything again from our own state (the modal
 * carries no authority) and, cheapest refusal first: the incident, the host, who may, the exact commands, the alert
 * state, the cooldown and budget, then the host lock with the cooldown and budget again under it (decided in one
 * transaction across replicas, see host-decision.ts), the pre-check, the run, the read-back and the verification. Every attempt, allowed or not, lands in the audit log and on the timeline as
 * plain facts; the outcome is a typed value that only the Slack layer turns into words.
 */
import { createHash } from 'node:crypto';
import type { ActionSpec, BuiltCommand } from '../actions/types';
import type { Config, HostConfig } from '../config/schema';
import { asPilotError, type ErrorCode, PilotError } from '../errors';
import type { ExecResult } from '../exec/types';
import { assertLabelsPresent } from '../incident/complete-labels';
import { hostOf, type RunStepOutcome, type RunStepRequest } from '../incident/run-step';
import type { AuditRecord, Incident, TimelineEvent, TimelineType } from '../incident/types';
import type { Step } from '../runbook/types';
import type { AccessDecision } from './access';
import { checkRestartBudget } from './guards';
import { type DecisionStore, decideHostMitigation } from './host-decision';
import { type HostSnapshot, type Verification, verifyMitigation } from './verify';

type MaybeAsync<T> = T | Promise<T>;

/** What the service reads and writes in the store (sync or async: either store fits). */
export interface MitigationStore extends DecisionStore {
  get(id: number): MaybeAsync<Incident | undefined>;
  audits(filter: { host?: string; actionIds?: string[]; since?: string }): MaybeAsync<AuditRecord[]>;
  appendAudit(record: AuditRecord): MaybeAsync<AuditRecord>;
  appendTimeline(
    incidentId: number,
    type: TimelineType,
    actor: string,
    details?: Record<string, unknown>,
    at?: string,
  ): MaybeAsync<TimelineEvent>;
}

export interface MitigationServiceDeps {
  store: MitigationStore;
  access: { check(user: string, host: Pick<HostConfig, 'name' | 'group'>): Promise<AccessDecision> };
  hosts: readonly HostConfig[];
  settings: Config['mitigation'];
  buildCommand(action: ActionSpec, ctx: { labels: Record<string, string>; host: HostConfig }): BuiltCommand;
  /** The action that validates the config before a restart or reload (`config-check`), if the catalog has one. */
  precheckAction?: ActionSpec;
  /** Runs an action on a host without a step or a reply (the pre-check), under the host's limits. */
  runQuietly(
    host: HostConfig,
    action: ActionSpec,
    labels: Record<string, string>,
    user: string,
  ): Promise<{ built: BuiltCommand; result: ExecResult }>;
  /** Runs the mitigation's step as any step runs (its state, timeline and progress reply). */
  runStep(req: RunStepRequest): Promise<RunStepOutcome>;
  /** The hosts a user may pick for an incident whose alert names none (see hostChoices). */
  hostChoices?(incident: Incident): string[];
  /** Reads the host's process, frontends and servers (HAProxy runtime API). */
  readBack(host: HostConfig, labels: Record<string, string>): Promise<HostSnapshot>;
  /** Asks Alertmanager whether the alert is still active (undefined: unknown). */
  alertActive?(incident: Incident): Promise<boolean | undefined>;
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** A click on a mitigation button. */
export interface MitigationClick {
  incident: Incident;
  step: Step;
  action: ActionSpec;
  user: string;
}

/** A confirmed submission of the modal. */
export interface MitigationRequest extends MitigationClick {
  /** Why, as the user typed it (recorded on the timeline and in the audit log). */
  reason: string;
  /** Show the commands, run nothing. The service also dry-runs when `mitigation.dryRun` is set. */
  dryRun: boolean;
  /** The user ticked "I know the alert is resolved; run anyway". */
  resolvedAck: boolean;
  /**
   * The digest of the exact commands the modal showed. When given, `confirm` refuses unless the commands it would run
   * now have the same digest (see `commandsDigest`).
   */
  shownDigest?: string;
}

/** The exact commands of a mitigation: the pre-check (restart-like actions) and the action. */
export interface MitigationCommands {
  precheck?: BuiltCommand;
  action: BuiltCommand;
}

/** A refusal: nothing ran on the host (the pre-check aside). `error` carries the code and structured details. */
export interface Refused {
  kind: 'refused';
  code: ErrorCode;
  error: PilotError;
  /** The host's name when it was known. */
  host?: string;
  /** The failed pre-check's command, exit code and output. */
  precheck?: { command: string; exitCode: number | null; output: string };
}

export type PrepareOutcome =
  | Refused
  | { kind: 'confirm'; host: HostConfig; commands: MitigationCommands; alertActive?: boolean; dryRunOnly: boolean };

export type MitigationOutcome =
  | Refused
  /** Nothing ran: these commands would have. */
  | { kind: 'dry-run'; host: string; commands: MitigationCommands }
  /**
   * The action ran and failed (non-zero exit or timeout), or could not run / lost its connection (`error`): the step's
   * own reply has shown its output or error. Nothing was verified.
   */
  | { kind: 'failed'; host: string; command: string; exitCode?: number | null; timedOut?: boolean; error?: PilotError }
  /** The action exited 0; `verification` says whether the host now is as it should be. */
  | { kind: 'ran'; host: string; command: string; verification: Verification };

/** The mitigation workflow: prepare on the click, confirm on the submission. */
export class MitigationService {
  constructor(private readonly deps: MitigationServiceDeps) {}

  /** The click: who may, the exact commands, and the alert's state, for the confirmation. Refusals are recorded. */
  async prepare(click: MitigationClick): Promise<PrepareOutcome> {
    const { deps } = this;
    const { incident, action } = click;
    if (incident.status === 'resolved') return this.refuse(click, undefined, closed(incident, action));
    let host: HostConfig;
    try {
      assertLabelsPresent(incident, action, deps.hosts);
      host = hostOf(incident, deps.hosts, deps.hostChoices?.(incident));
    } catch (err) {
      return this.refuse(click, undefined, asPilotError(err));
    }
    const denied = await this.checkAccess(click, host);
    if (denied) return this.refuse(click, host.name, denied);
    let commands: MitigationCommands;
    try {
      commands = this.commands(incident, action, host);
    } catch (err) {
      return this.refuse(click, host.name, asPilotError(err));
    }
    const alertActive = deps.alertActive ? await deps.alertActive(incident).catch(() => undefined) : undefined;
    return { kind: 'confirm', host, commands, alertActive, dryRunOnly: deps.settings.dryRun };
  }

  /** The confirmed submission: every guard again, then run, read back, verify and record. */
  async confirm(req: MitigationRequest): Promise<MitigationOutcome> {
    const { deps } = this;
    const incident = (await deps.store.get(req.incident.id)) ?? req.incident;
    const r: MitigationRequest = { ...req, incident };
    const { action, user, reason } = r;
    if (incident.status === 'resolved') return this.refuse(r, incident.hostName, closed(incident, action), { reason });
    let host: HostConfig;
    try {
      assertLabelsPresent(incident, action, deps.hosts);
      host = hostOf(incident, deps.hosts, deps.hostChoices?.(incident));
    } catch (err) {
      return this.refuse(r, incident.hostName, asPilotError(err), { reason });
    }
    const denied = await this.checkAccess(r, host);
    if (denied) return this.refuse(r, host.name, denied, { reason });
    let commands: MitigationCommands;
    try {
      commands = this.commands(incident, action, host);
    } catch (err) {
      return this.refuse(r, host.name, asPilotError(err), { reason });
    }
    const command = commands.action.command;
    // What runs is what was shown: the commands are rebuilt now (the config or the alert's labels may have changed
    // since the modal opened) and must match the digest the modal carried.
    if (req.shownDigest !== undefined && req.shownDigest !== commandsDigest(commands)) {
      const e = new PilotError(
        'CONFIRMATION_CHANGED',
        `the incident changed since you opened this; open it again (the commands of ${action.title} on ${host.name} are not the ones shown: nothing was run)`,
        { details: { host: host.name } },
      );
      return this.refuse(r, host.name, e, { reason, command });
    }
    const dryRun = req.dryRun || deps.settings.dryRun;
    // Asked again now, not trusted from when the modal opened: the alert may have resolved in between. A dry run
    // changes nothing, so it needs no second confirmation.
    if (
      !dryRun &&
      !req.resolvedAck &&
      deps.alertActive &&
      (await deps.alertActive(incident).catch(() => undefined)) === false
    ) {
      const e = new PilotError(
        'ALERT_RESOLVED',
        `Alertmanager says the alert of incident #${incident.id} is no longer active: ${action.title} was not run`,
      );
      return this.refuse(r, host.name, e, { reason, command });
    }

    if (dryRun) {
      await deps.store.appendAudit({ ...this.audit(r, host.name), outcome: 'dry-run', command });
      await deps.store.appendTimeline(
        incident.id,
        'mitigation.dry-run',
        user,
        { actionId: action.id, host: host.name, command, reason },
        deps.now().toISOString(),
      );
      return { kind: 'dry-run', host: host.name, commands };
    }

    // Cheap refusals first, without the lock: a submission refused for the cooldown must not make another one read
    // "another mitigation is running". Checked again under the lock, where the answer is authoritative.
    const early = await checkRestartBudget(deps.store, deps.settings, host.name, action.id, deps.now());
    if (early) return this.refuse(r, host.name, early, { reason, command });

    // The decision: the host's lock, the cooldown and the budget, in one transaction that holds the host against every
    // other replica (two submissions at once to two replicas: one runs, the other is told why not).
    const since = deps.now();
    const decision = await decideHostMitigation(
      deps.store,
      deps.settings,
      host.name,
      { user, actionId: action.id, incidentId: incident.id, since: since.toISOString() },
      since,
    );
    if (!decision.go) return this.refuse(r, host.name, decision.error, { reason, command });
    try {
      return await this.runLocked(r, host, commands);
    } finally {
      await decision.release();
    }
  }

  private async runLocked(
    r: MitigationRequest,
    host: HostConfig,
    commands: MitigationCommands,
  ): Promise<MitigationOutcome> {
    const { deps } = this;
    const { incident, action, user, reason } = r;
    const command = commands.action.command;

    if (commands.precheck && deps.precheckAction) {
      const pre = await deps
        .runQuietly(host, deps.precheckAction, incident.alert.labels, user)
        .catch((err: unknown) => asPilotError(err));
      if (pre instanceof PilotError) return this.refuse(r, host.name, pre, { reason, command });
      if (pre.result.exitCode !== 0) {
        const output = `${pre.result.stdout.text}\n${pre.result.stderr.text}`.trim();
        const e = new PilotError(
          'PRECHECK_FAILED',
          `the config check failed (${deps.precheckAction.id} exit ${pre.result.exitCode ?? pre.result.signal ?? '?'}): ${action.title} was not run`,
          {
            details: { precheckCommand: pre.built.command, exitCode: pre.result.exitCode },
          },
        );
        const out = this.refuse(r, host.name, e, { reason, command });
        return { ...(await out), precheck: { command: pre.built.command, exitCode: pre.result.exitCode, output } };
      }
    }

    // An action that checks its own result (restart-unit: the unit is active) is not read back through HAProxy, which a
    // plain host does not run.
    const selfChecked = action.verify === 'command';
    const unread: HostSnapshot = { answered: false, frontends: [], servers: [] };
    const before = selfChecked ? unread : await this.readBack(host, incident);
    await deps.store.appendTimeline(
      incident.id,
      'mitigation.confirmed',
      user,
      { actionId: action.id, stepId: r.step.id, host: host.name, reason, command },
      deps.now().toISOString(),
    );
    const started = deps.now().getTime();
    const outcome = await deps.runStep({ incident, step: r.step, action, user, details: { reason } });
    if (outcome.kind !== 'ran') {
      // Refused by the step runner (a limit), nothing reached the host; or it could not run or lost its connection.
      await deps.store.appendAudit({
        ...this.audit(r, host.name),
        outcome: outcome.kind === 'refused' ? 'refused' : 'failed',
        command,
        details: { code: outcome.error.code, error: outcome.error.message },
      });
      return { kind: 'failed', host: host.name, command, error: outcome.error };
    }
    const { result } = outcome;
    if (result.exitCode !== 0 || result.timedOut) {
      const why = result.timedOut
        ? 'the command timed out'
        : `the command exited ${result.exitCode ?? result.signal ?? '?'}`;
      await deps.store.appendAudit({
        ...this.audit(r, host.name),
        outcome: 'failed',
        command,
        exitCode: result.exitCode,
        verification: `not verified: ${why}`,
      });
      await deps.store.appendTimeline(
        incident.id,
        'mitigation.not-verified',
        user,
        { actionId: action.id, host: host.name, why },
        deps.now().toISOString(),
      );
      return { kind: 'failed', host: host.name, command, exitCode: result.exitCode, timedOut: result.timedOut };
    }
    if (!selfChecked) await deps.sleep(deps.settings.verifyDelayMs);
    const after = selfChecked ? unread : await this.readBack(host, incident);
    const restartLike = deps.settings.restartActions.includes(action.id);
    const labels = incident.alert.labels;
    const verification: Verification = selfChecked
      ? {
          verified: true,
          why: `the command checked it: ${
            result.stdout.text
              .trim()
              .split('\n')
              .find((l) => l.trim()) ?? 'exit 0'
          }`,
        }
      : verifyMitigation(
          action.id,
          restartLike,
          before,
          after,
          { backend: labels.backend ?? labels.proxy, server: labels.server },
          (deps.now().getTime() - started) / 1000,
        );
    await deps.store.appendAudit({
      ...this.audit(r, host.name),
      outcome: 'ok',
      command,
      exitCode: 0,
      verification: `${verification.verified ? 'verified' : 'not verified'}: ${verification.why}`,
    });
    await deps.store.appendTimeline(
      incident.id,
      verification.verified ? 'mitigation.verified' : 'mitigation.not-verified',
      'bot',
      { actionId: action.id, host: host.name, why: verification.why },
      deps.now().toISOString(),
    );
    return { kind: 'ran', host: host.name, command, verification };
  }

  /** NOT_ALLOWED with the grantees as data, or undefined when the user may. A failed group lookup refuses too. */
  private async checkAccess(click: MitigationClick, host: HostConfig): Promise<PilotError | undefined> {
    let decision: AccessDecision;
    try {
      decision = await this.deps.access.check(click.user, host);
    } catch (err) {
      return asPilotError(err);
    }
    if (decision.allowed) return undefined;
    return new PilotError('NOT_ALLOWED', `you may not run ${click.action.title} on ${host.name}`, {
      details: { host: host.name, grantees: decision.grantees },
    });
  }

  private commands(incident: Incident, action: ActionSpec, host: HostConfig): MitigationCommands {
    const ctx = { labels: incident.alert.labels, host };
    const needsPrecheck =
      this.deps.precheckAction !== undefined && this.deps.settings.restartActions.includes(action.id);
    return {
      ...(needsPrecheck ? { precheck: this.deps.buildCommand(this.deps.precheckAction as ActionSpec, ctx) } : {}),
      action: this.deps.buildCommand(action, ctx),
    };
  }

  private async readBack(host: HostConfig, incident: Incident): Promise<HostSnapshot> {
    return this.deps
      .readBack(host, incident.alert.labels)
      .catch((err: unknown) => ({ answered: false, error: asPilotError(err).message, frontends: [], servers: [] }));
  }

  private audit(r: MitigationClick & { reason?: string }, host: string): Omit<AuditRecord, 'outcome'> {
    return {
      at: this.deps.now().toISOString(),
      incidentId: r.incident.id,
      user: r.user,
      host,
      actionId: r.action.id,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
    };
  }

  /** Records a refused attempt, whatever refused it, in the audit log and on the timeline, and returns it. */
  private async refuse(
    click: MitigationClick,
    host: string | undefined,
    error: PilotError,
    extra: { reason?: string; command?: string } = {},
  ): Promise<Refused> {
    const at = this.deps.now().toISOString();
    const hostName = host ?? click.incident.hostName ?? '?';
    const details = { ...error.details, code: error.code, error: error.message };
    await this.deps.store.appendAudit({
      ...this.audit({ ...click, reason: extra.reason }, hostName),
      at,
      outcome: 'refused',
      ...(extra.command ? { command: extra.command } : {}),
      details,
    });
    await this.deps.store.appendTimeline(
      click.incident.id,
      'mitigation.refused',
      click.user,
      { actionId: click.action.id, host: hostName, ...details, ...(extra.reason ? { reason: extra.reason } : {}) },
      at,
    );
    return { kind: 'refused', code: error.code, error, ...(host ? { host } : {}) };
  }
}

/** A digest of the exact commands, to bind a confirmation to what it showed. */
export function commandsDigest(commands: MitigationCommands): string {
  return createHash('sha256')
    .update(JSON.stringify([commands.precheck?.command ?? null, commands.action.command]))
    .digest('hex');
}

function closed(incident: Incident, action: ActionSpec): PilotError {
  return new PilotError('INCIDENT_CLOSED', `incident #${incident.id} is resolved: ${action.title} is disabled`);
}
