/**
 * Which steps a triage runs: the binding's `triage.steps`, or by default every step whose action the catalog marks
 * `triage: true`, once per action, in runbook order. Never a host-changing action; a command a binding brings (not
 * in the catalog) only when the config's `mitigation.readActions` pins it with its command, i.e. an operator vouched
 * that it only reads (the same trust that spares it the access list and the confirmation).
 */
import type { ActionSpec } from '../actions/types';
import type { Runbook, Step } from '../runbook/types';

export interface TriageStep {
  step: Step;
  action: ActionSpec;
}

export interface TriagePlan {
  steps: TriageStep[];
  /** Steps left out, each with why (logged; the triage message lists them). */
  left: string[];
}

export interface PlanContext {
  action(runbook: Runbook, actionId: string): ActionSpec | undefined;
  /** True for the built-in catalog's actions (reviewed code), false for those a binding brings. */
  inCatalog(actionId: string): boolean;
  /** Actions a binding brings that the config trusts as read-only (the ids of mitigation.readActions). */
  readActions: readonly string[];
}

/** The triage plan of a runbook. Pure. */
export function triagePlan(runbook: Runbook, ctx: PlanContext): TriagePlan {
  const setting = runbook.binding?.triage;
  if (setting === false) return { steps: [], left: [] };
  const out: TriageStep[] = [];
  const left: string[] = [];
  const allowed = (a: ActionSpec) => a.risk === 'read' && (ctx.inCatalog(a.id) || ctx.readActions.includes(a.id));
  if (setting?.steps) {
    for (const id of setting.steps) {
      const step = runbook.steps.find((s) => s.id === id);
      const reads = (step?.actions ?? []).map((a) => ctx.action(runbook, a)).filter((a): a is ActionSpec => !!a);
      const action = reads.find(allowed);
      if (step && action) out.push({ step, action });
      else if (reads.some((a) => a.risk === 'read'))
        left.push(
          `${id}: its command is not in the catalog; list it in mitigation.readActions with its command if it only reads`,
        );
      else left.push(`${id}: no read action`);
    }
    return { steps: out, left };
  }
  const seen = new Set<string>();
  for (const step of runbook.steps) {
    const action = step.actions
      .map((a) => ctx.action(runbook, a))
      .find((a): a is ActionSpec => !!a && a.triage === true && allowed(a));
    if (!action || seen.has(action.id)) continue;
    seen.add(action.id);
    out.push({ step, action });
  }
  return { steps: out, left };
}
