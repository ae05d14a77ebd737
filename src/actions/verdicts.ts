/**
 * A verdict per step, as data: a read action's `verdicts:` names a parser (a pure function from the command's output
 * to a few named facts) and rules over those facts and the exit code. The first rule that holds gives the level
 * (ok, warn, problem) and one line, its `{fact}` placeholders filled. A rule set is checked when the catalog or a
 * binding is loaded: an unknown parser, or a rule naming a fact its parser does not give, is an error then, not a
 * silent "no verdict" at 3 a.m.
 */
import { z } from 'zod';
import { type Facts, type ParserId, parserIds, verdictParsers } from './verdict-parsers';

export type VerdictLevel = 'ok' | 'warn' | 'problem';

/** A step's verdict: shown beside the step on the incident message and leading its result in the thread. */
export interface Verdict {
  level: VerdictLevel;
  text: string;
  /** The facts the rules saw (for cause rules and the timeline). */
  facts: Facts;
}

/** A condition on one fact: a value it must equal, or a comparison. */
export type Condition =
  | string
  | number
  | boolean
  | {
      eq?: string | number | boolean;
      ne?: string | number | boolean;
      lt?: number;
      le?: number;
      gt?: number;
      ge?: number;
      in?: Array<string | number>;
    };

export interface VerdictRule {
  /** Every condition must hold (none: always). Facts: the parser's, plus `exit` (a number, -1 when none) and `timedOut`. */
  when?: Record<string, Condition>;
  level: VerdictLevel;
  /** One line; `{fact}` is replaced by the fact's value. */
  say: string;
}

export interface VerdictSpec {
  parser: ParserId;
  rules: VerdictRule[];
}

const scalar = z.union([z.string(), z.number(), z.boolean()]);
export const ConditionSchema = z.union([
  scalar,
  z
    .strictObject({
      eq: scalar.optional(),
      ne: scalar.optional(),
      lt: z.number().optional(),
      le: z.number().optional(),
      gt: z.number().optional(),
      ge: z.number().optional(),
      in: z
        .array(z.union([z.string(), z.number()]))
        .min(1)
        .optional(),
    })
    .refine((c) => Object.keys(c).length > 0, 'a comparison needs one of eq, ne, lt, le, gt, ge, in'),
]);

export const LevelSchema = z.enum(['ok', 'warn', 'problem']);

/** Facts every verdict sees besides its parser's. */
export const COMMON_FACTS = ['exit', 'timedOut'] as const;

export const VerdictSpecSchema = z
  .strictObject({
    parser: z.enum(parserIds as [ParserId, ...ParserId[]]),
    rules: z
      .array(
        z.strictObject({
          when: z.record(z.string(), ConditionSchema).optional(),
          level: LevelSchema,
          say: z.string().min(1).max(300),
        }),
      )
      .min(1),
  })
  .superRefine((spec, ctx) => {
    const known = new Set<string>([...verdictParsers[spec.parser].facts, ...COMMON_FACTS]);
    spec.rules.forEach((rule, i) => {
      for (const fact of Object.keys(rule.when ?? {}))
        if (!known.has(fact))
          ctx.addIssue({
            code: 'custom',
            message: `fact "${fact}" is not given by parser ${spec.parser} (it gives ${[...known].join(', ')})`,
            path: ['rules', i, 'when', fact],
          });
      for (const m of rule.say.matchAll(/\{([A-Za-z][A-Za-z0-9]*)\}/g))
        if (!known.has(m[1]))
          ctx.addIssue({
            code: 'custom',
            message: `{${m[1]}} is not a fact of parser ${spec.parser}`,
            path: ['rules', i, 'say'],
          });
    });
  });

/** Whether one fact's value meets a condition. A missing fact meets nothing (but `ne`). Pure. */
export function holds(value: Facts[string] | undefined, cond: Condition): boolean {
  if (typeof cond !== 'object') return value === cond;
  if (cond.eq !== undefined && value !== cond.eq) return false;
  if (cond.ne !== undefined && value === cond.ne) return false;
  const n = typeof value === 'number' ? value : undefined;
  if (cond.lt !== undefined && !(n !== undefined && n < cond.lt)) return false;
  if (cond.le !== undefined && !(n !== undefined && n <= cond.le)) return false;
  if (cond.gt !== undefined && !(n !== undefined && n > cond.gt)) return false;
  if (cond.ge !== undefined && !(n !== undefined && n >= cond.ge)) return false;
  if (cond.in !== undefined && !(value !== undefined && typeof value !== 'boolean' && cond.in.includes(value)))
    return false;
  return true;
}

/** Replaces `{fact}` by the fact's value (`?` when the parser could not read it). Pure. */
export function fillSay(say: string, facts: Facts): string {
  return say.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (_, name: string) => {
    const v = facts[name];
    return v === undefined || v === '' ? '?' : String(v);
  });
}

/** What a command gave: its exit and output. */
export interface CommandResult {
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
}

/**
 * The verdict on one command's result: its parser's facts, then the first rule that holds. None holds: a `warn`
 * that says so, never a guess. Pure (parsers are pure).
 */
export function judge(spec: VerdictSpec, result: CommandResult, labels: Record<string, string>): Verdict {
  const parsed = verdictParsers[spec.parser].parse(result.stdout, labels);
  const facts: Facts = { ...parsed, exit: result.exitCode ?? -1, timedOut: result.timedOut };
  for (const rule of spec.rules) {
    if (Object.entries(rule.when ?? {}).every(([fact, cond]) => holds(facts[fact], cond)))
      return { level: rule.level, text: fillSay(rule.say, facts), facts };
  }
  return { level: 'warn', text: 'no verdict rule fits this output: read it below', facts };
}
