/**
 * Slack `action_id`s and view `callback_id`s, in one place. Slack wants action ids unique within a block, so a
 * step's buttons carry the step and action in the id after the `domain.verb` prefix; handlers match the prefix.
 */
export const ActionId = {
  RunStep: 'step.run',
  CheckStep: 'step.check',
  Timeline: 'incident.timeline',
  Refresh: 'incident.refresh',
  Silence: 'incident.silence',
  ExpireSilence: 'incident.expireSilence',
  Graph: 'incident.graph',
  CompleteLabels: 'incident.completeLabels',
  PickHost: 'incident.pickHost',
  RunTriage: 'triage.run',
  /** The runbook's steps in full, in the thread (the compact layout of a long runbook cuts their titles). */
  Steps: 'incident.steps',
  /** In the confirmation modal: every line of the commands, pushed over it. */
  ShowCommands: 'mitigation.showCommands',
} as const;

export const CallbackId = {
  ConfirmMitigation: 'mitigation.confirm',
  CreateSilence: 'silence.create',
  CompleteLabels: 'labels.complete',
} as const;

/** Builds `step.run:<stepId>:<actionId>`. */
export function runStepActionId(stepId: string, actionId: string): string {
  return `${ActionId.RunStep}:${stepId}:${actionId}`;
}

/** Reads `step.run:<stepId>:<actionId>` back; undefined for any other shape. */
export function parseRunStepActionId(actionId: string): { stepId: string; actionId: string } | undefined {
  const m = /^step\.run:([^:]+):([^:]+)$/.exec(actionId);
  return m ? { stepId: m[1], actionId: m[2] } : undefined;
}

/** Matches every action_id that no listener of the bot handles (each known prefix is excluded). */
export function unknownActionIdPattern(): RegExp {
  const known = Object.values(ActionId)
    .map((id) => id.replace(/\./g, '\\.'))
    .join('|');
  return new RegExp(`^(?!(?:${known})(?::|$))`);
}

/** Builds `step.check:<stepId>`. */
export function checkStepActionId(stepId: string): string {
  return `${ActionId.CheckStep}:${stepId}`;
}

/** A regex matching every action id with the given prefix. */
export function actionIdPattern(prefix: string): RegExp {
  return new RegExp(`^${prefix.replace(/\./g, '\\.')}(:|$)`);
}

/** What a step button's value carries. Never trusted: the handler looks incident and step up in its own store. */
export interface StepButtonValue {
  incidentId: number;
  stepId: string;
  actionId?: string;
}

/** Serialises a button value (kept short: Slack allows 2000 characters). */
export function encodeStepValue(v: StepButtonValue): string {
  return JSON.stringify({ i: v.incidentId, s: v.stepId, ...(v.actionId ? { a: v.actionId } : {}) });
}

/** Parses a button value; undefined for anything malformed. */
export function decodeStepValue(value: unknown): StepButtonValue | undefined {
  if (typeof value !== 'string' || value.length > 500) return undefined;
  try {
    const raw = JSON.parse(value) as { i?: unknown; s?: unknown; a?: unknown };
    if (!Number.isInteger(raw.i) || typeof raw.s !== 'string' || (raw.a !== undefined && typeof raw.a !== 'string'))
      return undefined;
    return { incidentId: raw.i as number, stepId: raw.s, actionId: raw.a as string | undefined };
  } catch {
    return undefined;
  }
}

/** What an "Expire silence" button carries. Never trusted: the handler looks the silence up among the incident's. */
export interface SilenceButtonValue {
  incidentId: number;
  silenceId: string;
}

/** Serialises an "Expire silence" button value. */
export function encodeSilenceValue(v: SilenceButtonValue): string {
  return JSON.stringify({ i: v.incidentId, sil: v.silenceId });
}

/** Parses an "Expire silence" button value; undefined for anything malformed. */
export function decodeSilenceValue(value: unknown): SilenceButtonValue | undefined {
  if (typeof value !== 'string' || value.length > 200) return undefined;
  try {
    const raw = JSON.parse(value) as { i?: unknown; sil?: unknown };
    if (!Number.isInteger(raw.i) || typeof raw.sil !== 'string' || raw.sil.length === 0 || raw.sil.length > 64)
      return undefined;
    return { incidentId: raw.i as number, silenceId: raw.sil };
  } catch {
    return undefined;
  }
}

/** What an option of the "Pick the host" select carries. Never trusted: the handler checks both in its own state. */
export function encodeHostPick(incidentId: number, host: string): string {
  return JSON.stringify({ i: incidentId, h: host });
}

/** Reads a "Pick the host" option value back; undefined for any other shape. */
export function decodeHostPick(value: unknown): { incidentId: number; host: string } | undefined {
  if (typeof value !== 'string' || value.length > 150) return undefined;
  try {
    const v = JSON.parse(value) as { i?: unknown; h?: unknown };
    return Number.isInteger(v.i) && typeof v.h === 'string' ? { incidentId: v.i as number, host: v.h } : undefined;
  } catch {
    return undefined;
  }
}
