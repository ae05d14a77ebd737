/**
 * Cause rules as a binding writes them (`triage.causes`): data of the runbook, read by triage (triage/causes.ts
 * judges them). They live here so that runbook/ needs nothing from triage/: the dependency runs one way.
 */
import { z } from 'zod';
import { type Condition, ConditionSchema, LevelSchema, type VerdictLevel } from '../actions/verdicts';

/**
 * One rule. `when` keys: an action id (its verdict's level: one level or a list) or `<action id>.<fact>` (a
 * condition on that verdict's fact, as in verdict rules). Every key must hold; an action that did not run (or gave
 * no verdict) holds nothing.
 */
export interface CauseRule {
  when: Record<string, VerdictLevel | VerdictLevel[] | Condition>;
  /** The likely cause, one sentence; `{action.fact}` placeholders are filled from the verdicts. */
  cause: string;
  /** The action whose button the triage message shows with the cause (a mitigation step's action). */
  action?: string;
}

export const CauseRuleSchema = z.strictObject({
  when: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]{0,47}(\.[A-Za-z][A-Za-z0-9]*)?$/, 'must be an action id or <action id>.<fact>'),
      z.union([LevelSchema, z.array(LevelSchema).min(1), ConditionSchema]),
    )
    .refine((w) => Object.keys(w).length > 0, 'a cause rule needs at least one condition'),
  cause: z.string().min(1).max(300),
  action: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,47}$/)
    .optional(),
});
