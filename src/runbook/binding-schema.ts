/**
 * The strict schema of a runbook binding (`<Alert>.yml` beside `<Alert>.md`). Unknown keys are errors reported with
 * the file and the key's path, so a typo never silently turns an action step into a checklist.
 */

import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ActionSpecSchema, actionIdPattern } from '../actions/action-spec-schema';
import { PilotError } from '../errors';
import { CauseRuleSchema } from './cause-rules';
import type { RunbookBinding, Section } from './types';

const labelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a Prometheus label name');
const actionRef = z.string().regex(actionIdPattern, 'must be an action id (lower-case letters, digits, -)');
/** `checklist`, one action id, or a list of them. */
const stepTarget = z.union([actionRef, z.array(actionRef).min(1)]);
const stepsOfSection = z.record(z.string().regex(/^[1-9][0-9]{0,2}$/, 'must be a runbook item number'), stepTarget);

export const RunbookBindingSchema = z.strictObject({
  alert: z.string().min(1).max(128),
  /**
   * The runbook this binding binds, relative to the binding file, when it is not the `.md` beside it. Naming it also
   * chooses it when several folders hold a runbook for the same alert.
   */
  runbook: z
    .string()
    .min(1)
    .max(500)
    .regex(/\.md$/, 'must be the path of a runbook .md file, relative to this binding file')
    .optional(),
  /**
   * Configured host names or host groups to run on when the alert names no host (its rule aggregates `instance`
   * away). With several, the user picks one; the bot never guesses.
   */
  hosts: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be a configured host name or group'))
    .min(1)
    .optional(),
  labels: z.array(labelName).optional(),
  /** A hint only (the title parser infers the grouping); `...` means every label, as in Alertmanager's route. */
  groupBy: z.array(z.union([labelName, z.literal('...')])).optional(),
  hostLabel: labelName.optional(),
  query: z.string().min(1).max(2000).optional(),
  steps: z.strictObject({ diagnosis: stepsOfSection.optional(), mitigation: stepsOfSection.optional() }).optional(),
  extra: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'must be lower-case letters, digits and -'),
        section: z.enum(['diagnosis', 'mitigation']),
        title: z.string().min(1).max(75, 'button titles are at most 75 characters'),
        text: z.string().optional(),
        actions: z.array(actionRef).min(1),
      }),
    )
    .optional(),
  titles: z.record(z.string().min(1), z.string().min(1).max(75, 'button titles are at most 75 characters')).optional(),
  actions: z.array(ActionSpecSchema).optional(),
  /**
   * Triage when an incident opens: `false` turns it off; `steps` lists the step ids to run (default: every step
   * whose action the catalog marks `triage: true`); `causes` combine their verdicts into the likely cause.
   */
  triage: z
    .union([
      z.literal(false),
      z.strictObject({
        steps: z
          .array(z.string().regex(/^(diagnosis|mitigation)-[a-z0-9-]+$/, 'must be a step id'))
          .min(1)
          .optional(),
        causes: z.array(CauseRuleSchema).optional(),
      }),
    ])
    .optional(),
});

/** Parses and validates a binding's YAML text; `file` is named in every error. Pure. */
export function parseRunbookBinding(yamlText: string, file: string): RunbookBinding {
  let raw: unknown;
  try {
    raw = parseYaml(yamlText);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new PilotError('RUNBOOK_INVALID', `${file}: invalid YAML${where}: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
    });
  }
  const parsed = RunbookBindingSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PilotError('RUNBOOK_INVALID', `${file}: ${formatIssues(parsed.error)}`, {
      details: { file, issues: parsed.error.issues },
    });
  }
  const b = parsed.data;
  // YAML keys `1:` arrive as strings; the contract has numbers.
  const steps = b.steps
    ? (Object.fromEntries(
        Object.entries(b.steps).map(([section, items]) => [
          section,
          Object.fromEntries(Object.entries(items ?? {}).map(([n, t]) => [Number(n), t])),
        ]),
      ) as Partial<Record<Section, Record<number, string | string[]>>>)
    : undefined;
  return { ...b, steps } as RunbookBinding;
}

/** A key from the file, JSON-quoted and cut to 40 characters: an error never carries more of the file (#19 §5). */
function keyExcerpt(key: string): string {
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
}

/** A path of keys, each a short excerpt unless it is a plain name or a number. */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((p) => (/^[A-Za-z0-9_-]{1,40}$/.test(String(p)) ? String(p) : keyExcerpt(String(p)))).join('.');
}

/**
 * One line per issue: `steps.diagnosis.1: must be …`, `unknown key "actoins" at extra.0`. At most three unknown keys
 * are named (a file that is not a binding at all has one per line) and at most five issues.
 */
export function formatIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 5).map((i) => {
    const at = pathText(i.path) || '(top level)';
    if (i.code === 'unrecognized_keys') {
      const named = i.keys.slice(0, 3).map(keyExcerpt).join(', ');
      const more = i.keys.length > 3 ? ` and ${i.keys.length - 3} more` : '';
      return `unknown key${i.keys.length > 1 ? 's' : ''} ${named}${more} at ${at}`;
    }
    if (i.code === 'invalid_key') return `${at}: ${i.issues.map((k) => k.message).join(', ')}`;
    return `${at}: ${i.message}`;
  });
  if (error.issues.length > 5) issues.push(`and ${error.issues.length - 5} more`);
  return issues.join('; ');
}
