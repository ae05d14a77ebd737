/**
 * Joins a parsed runbook with its binding into the steps of an incident: every Diagnosis and Mitigation item becomes
 * a step with its own text; bound items run actions, the rest are checklist steps a person ticks off.
 */

import type { ActionSpec } from '../actions/types';
import { PilotError } from '../errors';
import type { RunbookBinding, RunbookDoc, Section, Step } from './types';

/** Word used in a binding for "no action: a person does it". */
export const CHECKLIST = 'checklist';
const MAX_TITLE = 75;

/**
 * Resolves the steps of `doc` with `binding` (optional). Every bound action id must exist in `catalog` or in the
 * binding's own `actions`, else PilotError RUNBOOK_INVALID naming `file` and the step. Pure.
 */
export function resolveSteps(
  doc: RunbookDoc,
  binding: RunbookBinding | undefined,
  catalog: readonly ActionSpec[],
  file = doc.alertname,
): Step[] {
  const known = new Set([...catalog.map((a) => a.id), ...(binding?.actions ?? []).map((a) => a.id)]);
  const fail = (msg: string): never => {
    throw new PilotError('RUNBOOK_INVALID', `${file}: ${msg}`);
  };
  const checkIds = (stepId: string, ids: string[]): string[] => {
    for (const id of ids)
      if (!known.has(id))
        fail(`step ${stepId} names action "${id}", which is neither in the catalog nor in the binding's actions`);
    return ids;
  };

  const steps: Step[] = [];
  for (const section of ['diagnosis', 'mitigation'] as const satisfies readonly Section[]) {
    const items = doc[section];
    const bound = binding?.steps?.[section] ?? {};
    for (const n of Object.keys(bound).map(Number)) {
      if (!items.some((it) => it.number === n))
        fail(`binding names ${section} item ${n}, but the runbook's ${section} has ${items.length} item(s)`);
    }
    for (const item of items) {
      const id = `${section}-${item.number}`;
      const target = bound[item.number];
      const ids =
        target === undefined ? [] : (Array.isArray(target) ? target : [target]).filter((t) => t !== CHECKLIST);
      if (target !== undefined && Array.isArray(target) && target.includes(CHECKLIST) && target.length > 1) {
        fail(`step ${id} mixes "checklist" with actions`);
      }
      steps.push({
        id,
        section,
        number: item.number,
        title: binding?.titles?.[id] ?? shortTitle(item.lead ?? item.text),
        text: item.text,
        kind: ids.length ? 'action' : 'checklist',
        actions: checkIds(id, ids),
      });
    }
    for (const extra of binding?.extra?.filter((e) => e.section === section) ?? []) {
      const id = `${section}-${extra.id}`;
      if (steps.some((s) => s.id === id)) fail(`extra step ${id} clashes with another step id`);
      steps.push({
        id,
        section,
        title: binding?.titles?.[id] ?? extra.title, // written for the button, already <= 75 by the schema
        text: extra.text ?? extra.title,
        kind: 'action',
        actions: checkIds(id, extra.actions),
      });
    }
  }
  for (const key of Object.keys(binding?.titles ?? {})) {
    if (!steps.some((s) => s.id === key)) fail(`titles names step "${key}", which does not exist`);
  }
  if (binding?.triage) checkTriage(binding.triage, steps, [...catalog, ...(binding.actions ?? [])], fail);
  return steps;
}

/**
 * A binding's triage must name steps that exist and read (triage runs without a person), and its cause rules must
 * name actions of this runbook: a typo would otherwise make a rule that never holds.
 */
function checkTriage(
  triage: Exclude<NonNullable<RunbookBinding['triage']>, false>,
  steps: readonly Step[],
  actions: readonly ActionSpec[],
  fail: (msg: string) => never,
): void {
  const spec = (id: string) => actions.find((a) => a.id === id);
  for (const id of triage.steps ?? []) {
    const step = steps.find((s) => s.id === id);
    if (!step) fail(`triage.steps names step "${id}", which does not exist`);
    else if (!step.actions.some((a) => spec(a)?.risk === 'read'))
      fail(`triage.steps names step "${id}", which has no read action: triage never runs a host-changing step`);
  }
  const used = new Set(steps.flatMap((s) => s.actions));
  (triage.causes ?? []).forEach((rule, i) => {
    for (const key of Object.keys(rule.when)) {
      const actionId = key.split('.')[0];
      if (!used.has(actionId)) fail(`triage.causes.${i} tests "${actionId}", which is no step's action here`);
    }
    if (rule.action && !used.has(rule.action))
      fail(`triage.causes.${i} points to action "${rule.action}", which is no step's action here`);
  });
}

/**
 * A button label of at most 75 characters: the text up to its first colon or sentence end, cut at a word boundary
 * with `…` when still too long.
 */
export function shortTitle(text: string): string {
  const clause = /^(.{8,}?)(?::\s|\.\s|\.$|;\s)/.exec(text)?.[1] ?? text;
  const t = clause.trim().replace(/[.:;,]+$/, '');
  if (t.length <= MAX_TITLE) return t;
  const cut = t.slice(0, MAX_TITLE - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > 40 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, '')}…`;
}
