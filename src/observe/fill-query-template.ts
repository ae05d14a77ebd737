/**
 * Fills a runbook binding's PromQL template (`haproxy_server_up{backend="{backend}",server="{server}"}`) with an
 * alert's label values. A placeholder may only stand inside a double-quoted string, and its value is escaped for
 * that string (and for the regex, in `=~` / `!~` matchers), so a label value can never change the query's shape.
 */
import { PilotError } from '../errors';
import { LABEL_NAME, quotePromqlString } from './quote-label-value';

const PLACEHOLDER = /^\{([a-zA-Z_][a-zA-Z0-9_]*)\}/;

/** RE2's metacharacters: escaped so a label value matches itself in a regex matcher. */
function quoteRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * Replaces each `{label}` placeholder with the alert's value for that label, escaped. Throws RUNBOOK_INVALID when a
 * placeholder stands outside a double-quoted string, PARAM_INVALID when the alert lacks a label the query needs.
 */
export function fillQueryTemplate(template: string, labels: Record<string, string>): string {
  let out = '';
  let quote: '"' | "'" | '`' | undefined;
  let regex = false;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (quote === undefined) {
      if (ch === '"' || ch === "'" || ch === '`') {
        quote = ch;
        regex = /[=!]~\s*$/.test(template.slice(0, i));
      } else if (PLACEHOLDER.test(template.slice(i))) {
        // `{backend}` outside a string is never a label selector PromQL accepts; a value there would be raw PromQL.
        const name = PLACEHOLDER.exec(template.slice(i))?.[1];
        throw new PilotError(
          'RUNBOOK_INVALID',
          `query template ${JSON.stringify(template)}: placeholder {${name}} must stand inside double quotes`,
        );
      }
      out += ch;
      continue;
    }
    if (ch === '\\' && quote !== '`') {
      out += template.slice(i, i + 2);
      i++;
      continue;
    }
    if (ch === quote) {
      quote = undefined;
      out += ch;
      continue;
    }
    const m = PLACEHOLDER.exec(template.slice(i));
    if (m) {
      if (quote !== '"') {
        throw new PilotError(
          'RUNBOOK_INVALID',
          `query template ${JSON.stringify(template)}: placeholder {${m[1]}} must stand inside double quotes, not ${quote}`,
        );
      }
      const value = labels[m[1]];
      if (value === undefined) {
        throw new PilotError('PARAM_INVALID', `the alert has no label "${m[1]}", which the graph query needs`, {
          hint: 'the label came from the alert; check the alert rule or the runbook binding’s query',
        });
      }
      out += quotePromqlString(regex ? quoteRegex(value) : value).slice(1, -1);
      i += m[0].length - 1;
      continue;
    }
    out += ch;
  }
  if (quote !== undefined)
    throw new PilotError('RUNBOOK_INVALID', `query template ${JSON.stringify(template)}: a string is not closed`);
  return out;
}

/** The placeholders a template uses, in order of appearance (for checking a binding at load time). */
export function templateLabels(template: string): string[] {
  const names = [...template.matchAll(/\{([a-zA-Z_][a-zA-Z0-9_]*)\}/g)]
    .map((m) => m[1])
    .filter((n) => LABEL_NAME.test(n));
  return [...new Set(names)];
}
