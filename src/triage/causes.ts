/**
 * The likely cause: rules in a runbook's binding that combine the triage steps' verdicts into one sentence and the
 * mitigation it points to. The first rule that holds is the cause; the others that hold are shown as "also". When
 * none holds, the triage says so: a cause is never guessed.
 */
import { type Condition, holds, type Verdict } from '../actions/verdicts';
import type { CauseRule } from '../runbook/cause-rules';

export type { CauseRule } from '../runbook/cause-rules';

export interface LikelyCause {
  /** The cause that holds first, or none (then `text` says no rule fits). */
  rule?: CauseRule;
  text: string;
  action?: string;
  /** Further rules that hold too, their sentences filled. */
  also: string[];
}

function ruleHolds(rule: CauseRule, verdicts: Record<string, Verdict | undefined>): boolean {
  return Object.entries(rule.when).every(([key, cond]) => {
    const [actionId, fact] = key.split('.', 2);
    const v = verdicts[actionId];
    if (!v) return false;
    if (fact === undefined) {
      const levels = Array.isArray(cond) ? cond : [cond];
      return levels.includes(v.level as never);
    }
    return holds(v.facts[fact], cond as Condition);
  });
}

function fill(text: string, verdicts: Record<string, Verdict | undefined>): string {
  return text.replace(/\{([a-z][a-z0-9-]*)\.([A-Za-z][A-Za-z0-9]*)\}/g, (_, a: string, f: string) => {
    const value = verdicts[a]?.facts[f];
    return value === undefined || value === '' ? '?' : String(value);
  });
}

/** The likely cause from the verdicts by action id. Pure. */
export function likelyCause(rules: readonly CauseRule[], verdicts: Record<string, Verdict | undefined>): LikelyCause {
  const fitting = rules.filter((r) => ruleHolds(r, verdicts));
  const [first, ...rest] = fitting;
  if (!first)
    return {
      text: 'no cause rule fits these verdicts: read the steps below (the bot does not guess)',
      also: [],
    };
  return {
    rule: first,
    text: fill(first.cause, verdicts),
    ...(first.action ? { action: first.action } : {}),
    also: rest.map((r) => fill(r.cause, verdicts)),
  };
}
