/**
 * Label names and values as they appear inside PromQL and Alertmanager matchers. A value is never pasted into a
 * query as it came: it is quoted with the escapes the receiving parser understands.
 *
 * The two parsers differ: PromQL reads Go string literals (\n, \t, \xNN, …), Alertmanager's matcher parser knows
 * only \\, \" and \n and keeps any other backslash literally. Hence two functions.
 */
import { PilotError } from '../errors';

/** Prometheus' label name syntax (also accepted by Alertmanager's matcher parser). */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Longer label values are refused: no real label is this long, and a query should stay readable in errors. */
const MAX_VALUE_LENGTH = 1024;

/** Quotes `value` as a PromQL string literal: backslash, double quote and control characters escaped Go-style. */
export function quotePromqlString(value: string): string {
  checkLength(value);
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Quotes `value` for an Alertmanager matcher (`filter=name="value"`): backslash, double quote and newline escaped. */
export function quoteMatcherValue(value: string): string {
  checkLength(value);
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Throws PARAM_INVALID unless `name` is a valid label name. */
export function assertLabelName(name: string): void {
  if (!LABEL_NAME.test(name)) {
    throw new PilotError(
      'PARAM_INVALID',
      `${JSON.stringify(name.slice(0, 40))} is not a valid label name (letters, digits and _, not starting with a digit)`,
    );
  }
}

function checkLength(value: string): void {
  if (value.length > MAX_VALUE_LENGTH) {
    throw new PilotError(
      'PARAM_INVALID',
      `a label value is ${value.length} characters long (at most ${MAX_VALUE_LENGTH})`,
    );
  }
}
