/**
 * One plan per mitigation: every entry point (a button, `/incident run`, the confirmation modal and its submission)
 * asks `planMitigation` the same questions in the same order, cheapest first: is the incident open, are the labels
 * the action needs there, which host, may this user change it, and the exact commands. Resolved once, the answer is a
 * `Plan` that carries the built commands: the modal shows them, its digest binds them, and the runner executes those
 * very objects. Pure but for the access check (a Slack group lookup); the refusal is returned, never recorded here:
 * the mitigation service audits every refusal in one place.
 */
import { createHash } from 'node:crypto';
import type { ActionSpec, BuiltCommand } from '../actions/types';
import type { HostConfig } from '../config/schema';
import { asPilotError, PilotError } from '../errors';
import { assertLabelsPresent } from '../incident/complete-labels';
import { hostOf } from '../incident/run-step';
import type { Incident } from '../incident/types';
import type { Step } from '../runbook/types';
import type { AccessDecision } from './access';

/** A user asks to run a mitigation: the one request every entry point builds. */
export interface MitigationRequest {
  user: string;
  step: Step;
  action: ActionSpec;
  incident: Incident;
  /** The host the user means (the one the modal showed): a plan that lands on another host is refused. */
  host?: string;
}

/** `/incident run` before it opens an incident: only the host and who asks are known yet. */
export interface HostRequest {
  user: string;
  action: ActionSpec;
  host: HostConfig;
}

/** The exact commands of a mitigation: the pre-check (restart-like actions) and the action. */
export interface MitigationCommands {
  precheck?: BuiltCommand;
  action: BuiltCommand;
}

/** What will run, where, for whom: shown by the modal, bound by its digest, executed as it is. */
export interface Plan {
  kind: 'plan';
  request: MitigationRequest;
  incident: Incident;
  host: HostConfig;
  commands: MitigationCommands;
  /** planDigest of the incident, host, action and command texts. */
  digest: string;
}

/** `/incident run`'s early answer: this user may change this host (the full plan follows once an incident exists). */
export interface HostClearance {
  kind: 'cleared';
  host: HostConfig;
}

/** What planning needs. */
export interface PlanDeps {
  access: { check(user: string, host: Pick<HostConfig, 'name' | 'group'>): Promise<AccessDecision> };
  hosts: readonly HostConfig[];
  /** The hosts a user may pick for an incident whose alert names none (see hostChoices). */
  hostChoices?(incident: Incident): string[];
  buildCommand(action: ActionSpec, ctx: { labels: Record<string, string>; host: HostConfig }): BuiltCommand;
  /** The action that validates the config before a restart-like action (`config-check`), if the catalog has one. */
  precheckAction?: ActionSpec;
  /** Actions that restart the service: they get the pre-check. */
  restartActions: readonly string[];
}

/** A refusal before anything ran, with the host when it was known (for the audit record). */
export interface PlanRefusal {
  kind: 'refused';
  error: PilotError;
  host?: string;
}

/**
 * Plans a mitigation, or says why not. With an incident: closed → labels → host → the host asked for → access →
 * commands. With only a host (`/incident run` before an incident opens): access alone.
 */
export async function planMitigation(deps: PlanDeps, req: MitigationRequest): Promise<PlanRefusal | Plan>;
export async function planMitigation(deps: PlanDeps, req: HostRequest): Promise<PlanRefusal | HostClearance>;
export async function planMitigation(
  deps: PlanDeps,
  req: MitigationRequest | HostRequest,
): Promise<PlanRefusal | Plan | HostClearance> {
  if (!('incident' in req)) {
    const denied = await checkAccess(deps, req.user, req.action, req.host);
    return denied ? { kind: 'refused', error: denied, host: req.host.name } : { kind: 'cleared', host: req.host };
  }
  const { incident, action } = req;
  if (incident.status === 'resolved')
    return {
      kind: 'refused',
      error: new PilotError('INCIDENT_CLOSED', `incident #${incident.id} is resolved: ${action.title} is disabled`),
      host: incident.hostName,
    };
  let host: HostConfig;
  try {
    assertLabelsPresent(incident, action, deps.hosts);
    host = hostOf(incident, deps.hosts, deps.hostChoices?.(incident));
  } catch (err) {
    return { kind: 'refused', error: asPilotError(err), host: incident.hostName };
  }
  if (req.host !== undefined && req.host !== host.name)
    return {
      kind: 'refused',
      error: new PilotError(
        'CONFIRMATION_CHANGED',
        `the incident changed since you opened this; open it again (${action.title} was confirmed for ${req.host}, incident #${incident.id} is on ${host.name}: nothing was run)`,
        { details: { host: host.name, shownHost: req.host } },
      ),
      host: host.name,
    };
  const denied = await checkAccess(deps, req.user, action, host);
  if (denied) return { kind: 'refused', error: denied, host: host.name };
  let commands: MitigationCommands;
  try {
    const ctx = { labels: incident.alert.labels, host };
    const precheck =
      deps.precheckAction && deps.restartActions.includes(action.id)
        ? deps.buildCommand(deps.precheckAction, ctx)
        : undefined;
    commands = { ...(precheck ? { precheck } : {}), action: deps.buildCommand(action, ctx) };
  } catch (err) {
    return { kind: 'refused', error: asPilotError(err), host: host.name };
  }
  return {
    kind: 'plan',
    request: req,
    incident,
    host,
    commands,
    digest: planDigest({ incidentId: incident.id, host: host.name, actionId: action.id, commands }),
  };
}

/**
 * A digest of everything a confirmation shows: the incident, the host, the action and the exact command texts. A
 * submission runs only when the plan made at submission has the digest the modal carried.
 */
export function planDigest(p: {
  incidentId: number;
  host: string;
  actionId: string;
  commands: MitigationCommands;
}): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        'runbook-pilot/mitigation/v2',
        p.incidentId,
        p.host,
        p.actionId,
        p.commands.precheck?.command ?? null,
        p.commands.action.command,
      ]),
    )
    .digest('hex');
}

/** NOT_ALLOWED with the grantees as data, or undefined when the user may. A failed group lookup refuses too. */
async function checkAccess(
  deps: Pick<PlanDeps, 'access'>,
  user: string,
  action: Pick<ActionSpec, 'title'>,
  host: HostConfig,
): Promise<PilotError | undefined> {
  let decision: AccessDecision;
  try {
    decision = await deps.access.check(user, host);
  } catch (err) {
    return asPilotError(err);
  }
  if (decision.allowed) return undefined;
  return new PilotError('NOT_ALLOWED', `you may not run ${action.title} on ${host.name}`, {
    details: { host: host.name, grantees: decision.grantees },
  });
}
