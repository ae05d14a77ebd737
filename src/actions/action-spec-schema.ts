/**
 * The zod schema every action spec passes: the built-in catalog and the `actions:` a runbook binding brings.
 * Strict: an unknown key is an error, so a typo in a binding cannot silently drop a limit.
 */
import { z } from 'zod';
import { templatePlaceholders } from './command-template';
import type { ActionSpec, ParamSpec } from './types';
import { VerdictSpecSchema } from './verdicts';

/** Action and parameter ids: short, lower-case, safe in Slack action values and log lines. */
export const actionIdPattern = /^[a-z][a-z0-9-]{0,47}$/;
const paramNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;
/** `label:<name>` (or `label:<a>|<b>`: the first the alert has), `host:<dotted.path>`, `server:<field>`, `const:<value>` or `input`. */
const sourcePattern =
  /^(label:[A-Za-z_][A-Za-z0-9_]{0,63}(\|[A-Za-z_][A-Za-z0-9_]{0,63}){0,3}|host:[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*|server:(addr|port)|const:.{1,200}|input)$/;

export const ParamSpecSchema = z
  .strictObject({
    from: z
      .string()
      .regex(sourcePattern, 'must be label:<name>[|<name>…], host:<path>, server:addr|port, const:<value> or input'),
    type: z.enum(['name', 'host', 'port', 'path', 'int', 'enum']),
    optional: z.boolean().optional(),
    default: z.union([z.string(), z.number()]).optional(),
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    values: z.array(z.string().min(1)).min(1).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.type === 'enum' && !p.values)
      ctx.addIssue({ code: 'custom', message: 'an enum parameter needs `values`', path: ['values'] });
    if (p.type === 'int' && (p.min === undefined || p.max === undefined)) {
      // Unbounded integers would let a user ask for a million log lines.
      ctx.addIssue({ code: 'custom', message: 'an int parameter needs `min` and `max`', path: ['min'] });
    }
    if (p.min !== undefined && p.max !== undefined && p.min > p.max)
      ctx.addIssue({ code: 'custom', message: '`min` is above `max`', path: ['min'] });
  });

export const ActionSpecSchema = z
  .strictObject({
    id: z.string().regex(actionIdPattern, 'must be lower-case letters, digits and -, starting with a letter'),
    title: z.string().min(1).max(75),
    description: z.string().min(1),
    risk: z.enum(['read', 'change']),
    params: z.record(z.string().regex(paramNamePattern, 'parameter names are letters, digits and _'), ParamSpecSchema),
    command: z.string().min(1),
    timeoutMs: z.number().int().min(100).max(600_000),
    outputCap: z.number().int().min(256).max(1_048_576),
    render: z.enum(['text', 'backend-state']).optional(),
    verify: z.enum(['haproxy', 'command']).optional(),
    triage: z.boolean().optional(),
    verdicts: VerdictSpecSchema.optional(),
  })
  .superRefine((a, ctx) => {
    // Triage runs without a person: never a command that changes the host.
    if (a.triage === true && a.risk !== 'read')
      ctx.addIssue({ code: 'custom', message: 'only a read action may be marked triage: true', path: ['triage'] });
    for (const [name, p] of Object.entries(a.params)) {
      if (p.optional !== true && p.default === undefined && p.from === 'input') {
        ctx.addIssue({
          code: 'custom',
          message: `input parameter "${name}" needs a default or optional: true`,
          path: ['params', name],
        });
      }
    }
    let placeholders: ReturnType<typeof templatePlaceholders>;
    try {
      placeholders = templatePlaceholders(a.command, Object.keys(a.params));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message, path: ['command'] });
      return;
    }
    for (const { name, optional } of placeholders) {
      if (optional && a.params[name]?.optional !== true) {
        ctx.addIssue({
          code: 'custom',
          message: `{${name}?…} needs parameter "${name}" to be optional`,
          path: ['command'],
        });
      }
    }
  });

/** Checks the schema and the shared types agree (compile time only). */
type Assert<T extends true> = T;
export type SchemaMatchesTypes = Assert<z.infer<typeof ActionSpecSchema> extends ActionSpec ? true : false> &
  Assert<z.infer<typeof ParamSpecSchema> extends ParamSpec ? true : false>;
