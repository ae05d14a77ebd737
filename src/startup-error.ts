/**
 * What `npm start` prints when it cannot start. A user's mistake (a PilotError: config, environment, runbooks, store,
 * Slack refusing the token) is one line per problem naming the key and the fix, and never a stack trace; anything else
 * is a bug and keeps its stack. Pure, so the wording is tested without starting a process.
 */
import { PilotError } from './errors';

/** The text for stderr, ending in a newline. */
export function startupErrorText(err: unknown): string {
  if (!(err instanceof PilotError))
    return `runbook-pilot: could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`;
  const problems = err.details?.problems;
  if (Array.isArray(problems) && problems.length > 1) {
    // Every config problem at once, as `runbook-pilot check` lists them: fixing one at a time is a slow loop.
    const [head] = err.message.split('\n');
    return `runbook-pilot: ${head}\n${problems.map((p) => `  ${String(p)}\n`).join('')}`;
  }
  if (Array.isArray(problems) && problems.length === 1) return `runbook-pilot: ${String(problems[0])}\n`;
  const hint = err.hint ? ` ${err.hint[0].toUpperCase()}${err.hint.slice(1)}.` : '';
  return `runbook-pilot: ${err.message}.${hint}\n`;
}
