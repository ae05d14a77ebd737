/**
 * Runbook bindings may bring their own actions, i.e. their own shell commands beside the reviewed catalog. They are
 * allowed (runbooks are data), but never silently: start-up logs one warning line for each, and `runbook-pilot check`
 * lists them, so a reviewer sees every command the bot may run that is not in src/actions/catalog.ts.
 */
import type { Risk } from '../actions/types';
import type { Runbook } from './types';

export interface NonCatalogCommand {
  alertname: string;
  /** The binding file that brings it. */
  file: string;
  actionId: string;
  risk: Risk;
  /** The command template, as written. */
  command: string;
}

/** Every action a binding brings (its own id, so not a catalog action), in runbook order. Pure. */
export function nonCatalogCommands(runbooks: readonly Runbook[]): NonCatalogCommand[] {
  return runbooks.flatMap((rb) =>
    (rb.binding?.actions ?? []).map((a) => ({
      alertname: rb.doc.alertname,
      file: rb.bindingFile ?? rb.file,
      actionId: a.id,
      risk: a.risk,
      command: a.command,
    })),
  );
}

/** One line for a reviewer: which runbook brings which command, and whether it changes the host. */
export function describeNonCatalogCommand(c: NonCatalogCommand): string {
  return `runbook ${c.alertname} brings its own ${c.risk === 'change' ? 'host-changing ' : ''}command (action ${c.actionId}, not in the catalog): ${c.command.replace(/\s+/g, ' ').trim()}`;
}
