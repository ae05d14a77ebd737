/**
 * Loads the runbook folder at start-up: every `*.md`, with `<name>.yml` beside it when present. The only I/O of the
 * runbook module; parsing and resolving are pure. Any invalid file stops start-up with its name.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PilotError } from '../errors';
import type { ActionSpec } from '../actions/types';
import { parseRunbookMarkdown } from './parse-runbook-markdown';
import { parseRunbookBinding } from './binding-schema';
import { resolveSteps } from './resolve-steps';
import type { Runbook, RunbookBinding } from './types';

export interface RunbookRegistry {
  /** The runbook of an alert, by its exact alert name. */
  get(alertname: string): Runbook | undefined;
  list(): Runbook[];
  /** An action a runbook may run: the binding's own actions first, then the catalog (alone without a runbook). */
  action(runbook: Runbook | undefined, actionId: string): ActionSpec | undefined;
}

/** Reads `dir` (sync, at start-up) and returns the registry; throws PilotError RUNBOOK_INVALID naming the bad file. */
export function loadRunbooks(dir: string, catalog: readonly ActionSpec[]): RunbookRegistry {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new PilotError('RUNBOOK_INVALID', `cannot read the runbook folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const isDoc = (n: string): boolean => n.endsWith('.md') && !n.startsWith('_') && !n.startsWith('.') && n.toLowerCase() !== 'readme.md';
  const docs = names.filter(isDoc);
  for (const n of names.filter((n) => /\.ya?ml$/.test(n))) {
    if (!docs.includes(n.replace(/\.ya?ml$/, '.md'))) {
      throw new PilotError('RUNBOOK_INVALID', `${join(dir, n)}: binding without a runbook (expected ${n.replace(/\.ya?ml$/, '.md')} beside it)`);
    }
  }
  const runbooks = docs.map((n) => loadOne(dir, n, catalog));
  return createRunbookRegistry(runbooks, catalog);
}

/** A registry over runbooks already loaded (tests and tools build one without a folder). */
export function createRunbookRegistry(runbooks: readonly Runbook[], catalog: readonly ActionSpec[]): RunbookRegistry {
  const byName = new Map<string, Runbook>();
  for (const rb of runbooks) {
    const other = byName.get(rb.doc.alertname);
    if (other) throw new PilotError('RUNBOOK_INVALID', `${rb.file}: alert ${rb.doc.alertname} already has a runbook in ${other.file}`);
    byName.set(rb.doc.alertname, rb);
  }
  const builtin = new Map(catalog.map((a) => [a.id, a]));
  return {
    get: (alertname) => byName.get(alertname),
    list: () => [...byName.values()],
    action: (runbook, actionId) => runbook?.binding?.actions?.find((a) => a.id === actionId) ?? builtin.get(actionId),
  };
}

function loadOne(dir: string, name: string, catalog: readonly ActionSpec[]): Runbook {
  const file = join(dir, name);
  const doc = parseRunbookMarkdown(readFileSync(file, 'utf8'), file);
  const base = name.slice(0, -3);
  const bindingFile = [`${base}.yml`, `${base}.yaml`].map((n) => join(dir, n)).find((f) => existsSync(f));
  let binding: RunbookBinding | undefined;
  if (bindingFile) {
    binding = parseRunbookBinding(readFileSync(bindingFile, 'utf8'), bindingFile);
    if (binding.alert !== doc.alertname) {
      throw new PilotError('RUNBOOK_INVALID', `${bindingFile}: alert is "${binding.alert}" but ${file} is the runbook of "${doc.alertname}"`);
    }
    const clash = binding.actions?.find((a) => catalog.some((c) => c.id === a.id));
    if (clash) {
      // Replacing a built-in from one runbook would change it silently for that alert only: use a new id instead.
      throw new PilotError('RUNBOOK_INVALID', `${bindingFile}: actions: "${clash.id}" is already a built-in action; give it another id`);
    }
  }
  const steps = resolveSteps(doc, binding, catalog, bindingFile ?? file);
  return { doc, binding, steps, file };
}
