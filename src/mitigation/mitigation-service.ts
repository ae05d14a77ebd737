/**
 * Guarded mitigation as a domain service. Every entry point plans through `plan` (plan.ts: closed → labels → host →
 * access → commands, resolved once); a click asks `prepare` for the plan the confirmation shows (or why it is refused);
 * a confirmed submission asks `confirm`, which plans again from our own state (the modal carries no authority), runs
 * only when that plan has the digest the modal showed (incident, host, action, exact commands) and only once per
 * submitted view, then, cheapest refusal first: the alert state, the cooldown and budget, then the host lock with the
 * cooldown and budget again under it (decided in one transaction across replicas, see host-decision.ts), the
 * pre-check, the run of the plan's own command object, the read-back and the verification. Every refusal, whatever
 * refused it, is recorded by `refuse`, the one place: the audit log and the timeline as plain facts. Progress goes to
 * the observer the caller gives; the outcome is a typed value that only the Slack layer turns into words.
 */
import type { ActionSpec, BuiltCommand } from '../actions/types';
import type { Config, HostConfig } from '../config/schema';
import { asPilotError, type ErrorCode, PilotError } from '../errors';
import type { ExecResult } from '../exec/types';
import type { RunStepOutcome, RunStepProgress, RunStepRequest } from '../incident/run-step';
import type { StoreOps } from '../incident/store';
import type { AuditRecord, Incident } from '../incident/types';
import type { AccessDecision } from './access';
import { checkRestartBudget } from './guards';
import { type DecisionStore, decideHostMitigation } from './host-decision';
import {
  type HostClearance,
  type HostRequest,
  type MitigationCommands,
  type MitigationRequest,
  type Plan,
  planMitigation,
} from './plan';
import { type HostSnapshot, type Verification, verifyMitigation } from './verify';

export type { HostClearance, HostRequest, MitigationCommands, MitigationRequest, Plan } from './plan';
export { planDigest } from './plan';

/** What the service reads and writes in the store, besides the host decision's lock and transaction. */
export interface MitigationStore
  extends DecisionStore,
    Pick<StoreOps, 'get' | 'audits' | 'appendAudit' | 'appendTimeline'> {}

export interface MitigationServiceDeps {
  store: MitigationStore;
  access: { check(user: string, host: Pick<HostConfig, 'name' | 'group'>): Promise<AccessDecision> };
  hosts: readonly HostConfig[];
  settings: Config['mitigation'];
  buildCommand(action: ActionSpec, ctx: { labels: Record<string, string>; host: HostConfig }): BuiltCommand;
  /** The action that validates the config before a restart or reload (`config-check`), if the catalog has one. */
  precheckAction?: ActionSpec;
  /** Runs the plan's pre-check command on a host without a step or a reply, under the host's limits. */
  runQuietly(
    host: HostConfig,
    action: ActionSpec,
    built: BuiltCommand,
    user: string,
  ): Promise<{ built: BuiltCommand; result: ExecResult }>;
  /** Runs the mitigation's step as any step runs (its state and timeline), reporting progress to `progress`. */
  runStep(req: RunStepRequest, progress?: RunStepProgress): Promise<RunStepOutcome>;
  /** The hosts a user may pick for an incident whose alert names none (see hostChoices). */
  hostChoices?(incident: Incident): string[];
  /** Reads the host's process, frontends and servers (HAProxy runtime API). */
  readBack(host: HostConfig, labels: Record<string, string>): Promise<HostSnapshot>;
  /**
   * Asks Alertmanager whether the alert is still active (undefined: unknown), within ALERT_STATE_DEADLINE_MS.
   */
  alertActive?(incident: Incident): Promise<boolean | undefined>;
  /** Where submitted views are claimed, once across replicas (absent: a replay is not detected). */
  submissions?: SubmissionClaims;
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** A confirmed submission of the modal: the request, and what the modal showed and the user ticked. */
export interface MitigationSubmission extends MitigationRequest {
  /** Why, as the user typed it (recorded on the timeline and in the audit log). */
  reason: string;
  /** Show the commands, run nothing. The service also dry-runs when `mitigation.dryRun` is set. */
  dryRun: boolean;
  /** The user ticked "I know the alert is resolved; run anyway". */
  resolvedAck: boolean;
  /**
   * The digest the modal carried (see planDigest): it covers the incident, the host, the action and the exact
   * commands. `confirm` refuses unless the plan it makes now has the same one.
   */
  shownDigest: string;
  /**
   * The submitted view (Slack's view id and hash): a submission is run once, however often it is delivered (a replay
   * within Slack's five minutes is refused, on every replica sharing the store's claims).
   */
  view?: { id: string; hash: string };
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

/** How long a mitigation click waits for Alertmanager before it shows the modal with the alert state unknown. */
export const ALERT_STATE_DEADLINE_MS = 1500;

/** The click's answer: the plan to confirm, with Alertmanager's word on the alert. */
export type PrepareOutcome = Refused | (Plan & { alertActive?: boolean; dryRunOnly: boolean });

/** Told as a confirmed mitigation moves on, so the caller can show it (the domain never calls up into Slack). */
export interface MitigationObserver {
  /** The action waits for its host's slot. */
  queued?(ahead: number): void;
  /** The action's command went out (the very object the modal showed). */
  started?(built: BuiltCommand): void;
  /** The action's command ended (or could not run): its output, before any read-back. */
  ran?(outcome: RunStepOutcome): void;
  /** The host is being read back to verify the action. */
  verifying?(): void;
}

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

/** Claims a key once across replicas (the store's event claims): false when it was claimed before. */
export interface SubmissionClaims {
  claim(key: string, at: Date): Promise<boolean>;
}

/** The mitigation workflow: plan on every entry point, prepare on the click, confirm on the submission. */
export class MitigationService {
  constructor(private readonly deps: MitigationServiceDeps) {}

  /**
   * The one plan: what would run where for this request, or why not (recorded). A request with only a host
   * (`/incident run` before it opens an incident) is cleared or refused on access alone.
   */
  plan(req: MitigationRequest, extra?: { reason?: string }): Promise<Refused | Plan>;
  plan(req: HostRequest): Promise<Refused | HostClearance>;
  async plan(
    req: MitigationRequest | HostRequest,
    extra: { reason?: string } = {},
  ): Promise<Refused | Plan | HostClearance> {
    const { deps } = this;
    const planDeps = {
      access: deps.access,
      hosts: deps.hosts,
      hostChoices: deps.hostChoices,
      buildCommand: deps.buildCommand,
      precheckAction: deps.precheckAction,
      restartActions: deps.settings.restartActions,
    };
    const planned = 'incident' in req ? await planMitigation(planDeps, req) : await planMitigation(planDeps, req);
    if (planned.kind !== 'refused') return planned;
    return this.refuse(attempt(req), planned.host, planned.error, { reason: extra.reason });
  }

  /** The click: the plan to confirm, and the alert's state for the modal. Refusals are recorded. */
  async prepare(req: MitigationRequest): Promise<PrepareOutcome> {
    const { deps } = this;
    const planned = await this.plan(req);
    if (planned.kind === 'refused') return planned;
    const alertActive = deps.alertActive ? await deps.alertActive(planned.incident).catch(() => undefined) : undefined;
    return { ...planned, alertActive, dryRunOnly: deps.settings.dryRun };
  }

  /**
   * The confirmed submission: planned again from our own state, bound to what the modal showed, run once, then every
   * guard, run, read back, verify and record. `observer` is told each phase.
   */
  async confirm(sub: MitigationSubmission, observer: MitigationObserver = {}): Promise<MitigationOutcome> {
    const { deps } = this;
    const { reason } = sub;
    const incident = (await deps.store.get(sub.incident.id)) ?? sub.incident;
    const planned = await this.plan({ ...sub, incident }, { reason });
    if (planned.kind === 'refused') return planned;
    const { host, commands, request: r } = planned;
    const { action } = r;
    const command = commands.action.command;
    const refuse = (e: PilotError) => this.refuse(attempt(r), host.name, e, { reason, command });
    // What runs is what was shown: the plan made now must have the digest the modal carried, which covers the
    // incident, the host, the action and the exact command texts (the config or the alert's labels may have changed
    // since the modal opened, or the submission may name another incident).
    if (sub.shownDigest !== planned.digest)
      return refuse(
        new PilotError(
          'CONFIRMATION_CHANGED',
          `the incident changed since you opened this; open it again (what ${action.title} would run on ${host.name} for incident #${incident.id} is not what was shown: nothing was run)`,
          { details: { host: host.name } },
        ),
      );
    // Once per submitted view: Slack may deliver a submission again, and a captured one may be replayed while its
    // signature is fresh. Claimed in the store, so a second replica refuses it too.
    if (sub.view && deps.submissions) {
      const first = await deps.submissions.claim(`mitigation-view:${sub.view.id}:${sub.view.hash}`, deps.now());
      if (!first)
        return refuse(
          new PilotError(
            'CONFIRMATION_REPLAYED',
            `this confirmation of ${action.title} on ${host.name} was already submitted: it runs once, nothing more was run`,
            { details: { host: host.name, viewId: sub.view.id } },
          ),
        );
    }
    const dryRun = sub.dryRun || deps.settings.dryRun;
    // Asked again now, not trusted from when the modal opened: the alert may have resolved in between. A dry run
    // changes nothing, so it needs no second confirmation.
    if (
      !dryRun &&
      !sub.resolvedAck &&
      deps.alertActive &&
      (await deps.alertActive(incident).catch(() => undefined)) === false
    )
      return refuse(
        new PilotError(
          'ALERT_RESOLVED',
          `Alertmanager says the alert of incident #${incident.id} is no longer active: ${action.title} was not run`,
        ),
      );

    if (dryRun) {
      await deps.store.appendAudit({ ...this.audit(r, host.name, reason), outcome: 'dry-run', command });
      await deps.store.appendTimeline(
        incident.id,
        'mitigation.dry-run',
        r.user,
        { actionId: action.id, host: host.name, command, reason },
        deps.now().toISOString(),
      );
      return { kind: 'dry-run', host: host.name, commands };
    }

    // Cheap refusals first, without the lock: a submission refused for the cooldown must not make another one read
    // "another mitigation is running". Checked again under the lock, where the answer is authoritative.
    const early = await checkRestartBudget(deps.store, deps.settings, host.name, action.id, deps.now());
    if (early) return refuse(early);

    // The decision: the host's lock, the cooldown and the budget, in one transaction that holds the host against every
    // other replica (two submissions at once to two replicas: one runs, the other is told why not).
    const since = deps.now();
    const decision = await decideHostMitigation(
      deps.store,
      deps.settings,
      host.name,
      { user: r.user, actionId: action.id, incidentId: incident.id, since: since.toISOString() },
      since,
    );
    if (!decision.go) return refuse(decision.error);
    try {
      return await this.runLocked(planned, reason, observer);
    } finally {
      await decision.release();
    }
  }

  private async runLocked(plan: Plan, reason: string, observer: MitigationObserver): Promise<MitigationOutcome> {
    const { deps } = this;
    const { incident, host, commands, request: r } = plan;
    const { action, user } = r;
    const command = commands.action.command;

    if (commands.precheck && deps.precheckAction) {
      const pre = await deps
        .runQuietly(host, deps.precheckAction, commands.precheck, user)
        .catch((err: unknown) => asPilotError(err));
      if (pre instanceof PilotError) return this.refuse(attempt(r), host.name, pre, { reason, command });
      if (pre.result.exitCode !== 0) {
        const output = `${pre.result.stdout.text}\n${pre.result.stderr.text}`.trim();
        const e = new PilotError(
          'PRECHECK_FAILED',
          `the config check failed (${deps.precheckAction.id} exit ${pre.result.exitCode ?? pre.result.signal ?? '?'}): ${action.title} was not run`,
          {
            details: { precheckCommand: pre.built.command, exitCode: pre.result.exitCode },
          },
        );
        const out = await this.refuse(attempt(r), host.name, e, { reason, command });
        return { ...out, precheck: { command: pre.built.command, exitCode: pre.result.exitCode, output } };
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
    // The runner executes the plan's own command object on the plan's host: nothing is built again.
    const outcome = await deps.runStep(
      { incident, step: r.step, action, user, details: { reason }, planned: { host, built: commands.action } },
      { queued: (ahead) => observer.queued?.(ahead), started: (built) => observer.started?.(built) },
    );
    observer.ran?.(outcome);
    if (outcome.kind !== 'ran') {
      // Refused by the step runner (a limit), nothing reached the host; or it could not run or lost its connection.
      await deps.store.appendAudit({
        ...this.audit(r, host.name, reason),
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
        ...this.audit(r, host.name, reason),
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
    if (!selfChecked) {
      observer.verifying?.();
      await deps.sleep(deps.settings.verifyDelayMs);
    }
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
      ...this.audit(r, host.name, reason),
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

  private async readBack(host: HostConfig, incident: Incident): Promise<HostSnapshot> {
    return this.deps
      .readBack(host, incident.alert.labels)
      .catch((err: unknown) => ({ answered: false, error: asPilotError(err).message, frontends: [], servers: [] }));
  }

  private audit(a: Attempt, host: string, reason?: string): Omit<AuditRecord, 'outcome'> {
    return {
      at: this.deps.now().toISOString(),
      ...(a.incident ? { incidentId: a.incident.id } : {}),
      user: a.user,
      host,
      actionId: a.action.id,
      ...(reason !== undefined ? { reason } : {}),
    };
  }

  /**
   * The one place a refusal is recorded, whatever refused it: the audit log, and the incident's timeline when there is
   * an incident. Returns it.
   */
  private async refuse(
    a: Attempt,
    host: string | undefined,
    error: PilotError,
    extra: { reason?: string; command?: string } = {},
  ): Promise<Refused> {
    const at = this.deps.now().toISOString();
    const hostName = host ?? a.incident?.hostName ?? '?';
    const details = { ...error.details, code: error.code, error: error.message };
    await this.deps.store.appendAudit({
      ...this.audit(a, hostName, extra.reason),
      at,
      outcome: 'refused',
      ...(extra.command ? { command: extra.command } : {}),
      details,
    });
    if (a.incident)
      await this.deps.store.appendTimeline(
        a.incident.id,
        'mitigation.refused',
        a.user,
        { actionId: a.action.id, host: hostName, ...details, ...(extra.reason ? { reason: extra.reason } : {}) },
        at,
      );
    return { kind: 'refused', code: error.code, error, ...(host ? { host } : {}) };
  }
}

/** Who attempted what, on which incident when there is one: what an audit record names. */
interface Attempt {
  user: string;
  action: Pick<ActionSpec, 'id'>;
  incident?: Incident;
}

function attempt(req: MitigationRequest | HostRequest): Attempt {
  return { user: req.user, action: req.action, ...('incident' in req ? { incident: req.incident } : {}) };
}
