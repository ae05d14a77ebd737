/**
 * Runbook bindings may bring their own actions, i.e. their own shell commands beside the reviewed catalog. They are
 * allowed (runbooks are data), but never silently: start-up logs one warning line for each, and `runbook-pilot check`
 * lists them, so a reviewer sees every command the bot may run that is not in src/actions/catalog.ts.
 *
 * A binding cannot lower a guard. The runbook folder may be writable by more people than the config, so a binding's
 * own `risk: read` is not believed: its command is host-changing (the access list and the confirmation modal) unless
 * the config's `mitigation.readActions` lists its id with this very command. Pinning the command, not only the id,
 * keeps a later edit of the binding from turning a reviewed read command into a restart.
 */
import type { ActionSpec, Risk } from '../actions/types';
import type { Runbook } from './types';

/** `mitigation.readActions`: binding action id → the exact command template the config trusts as read-only. */
export type TrustedReadActions = Readonly<Record<string, string>>;

export interface NonCatalogCommand {
  alertname: string;
  /** The binding file that brings it. */
  file: string;
  actionId: string;
  /** What the binding says. */
  declaredRisk: Risk;
  /** How the bot treats it (see guardedBindingAction). */
  risk: Risk;
  /** Why, when it differs from what the binding says, or when the config vouches for it. */
  why?: 'trusted' | 'not-listed' | 'command-differs';
  /** The command template, as written. */
  command: string;
}

/** A command template with its whitespace runs folded (YAML folding and indentation do not change the command). */
function folded(command: string): string {
  return command.replace(/\s+/g, ' ').trim();
}

/** How the config judges a binding action declared read: trusted, not listed, or listed with another command. */
function readVerdict(
  action: Pick<ActionSpec, 'id' | 'command'>,
  trusted: TrustedReadActions,
): NonCatalogCommand['why'] {
  if (!Object.hasOwn(trusted, action.id)) return 'not-listed';
  return folded(trusted[action.id]) === folded(action.command) ? 'trusted' : 'command-differs';
}

/**
 * A binding's own action as the bot treats it: `risk: read` holds only when the config trusts it; otherwise the action
 * is host-changing. Pure; the same object back when nothing changes.
 */
export function guardedBindingAction(action: ActionSpec, trusted: TrustedReadActions): ActionSpec {
  if (action.risk !== 'read' || readVerdict(action, trusted) === 'trusted') return action;
  return { ...action, risk: 'change' };
}

/** Every action a binding brings (its own id, so not a catalog action), in runbook order. Pure. */
export function nonCatalogCommands(
  runbooks: readonly Runbook[],
  trusted: TrustedReadActions = {},
): NonCatalogCommand[] {
  return runbooks.flatMap((rb) =>
    (rb.binding?.actions ?? []).map((a) => {
      const why = a.risk === 'read' ? readVerdict(a, trusted) : undefined;
      return {
        alertname: rb.doc.alertname,
        file: rb.bindingFile ?? rb.file,
        actionId: a.id,
        declaredRisk: a.risk,
        risk: guardedBindingAction(a, trusted).risk,
        ...(why ? { why } : {}),
        command: a.command,
      };
    }),
  );
}

/** One line for a reviewer: which runbook brings which command, and whether the bot treats it as changing the host. */
export function describeNonCatalogCommand(c: NonCatalogCommand): string {
  const head = `runbook ${c.alertname} brings its own`;
  const command = folded(c.command);
  const tail = `(action ${c.actionId}, not in the catalog): ${command}`;
  switch (c.why) {
    case 'trusted':
      return `${head} read-only command (action ${c.actionId}, not in the catalog; trusted by mitigation.readActions): ${command}`;
    case 'not-listed':
      return `${head} command declared read, treated as host-changing (access list and confirmation) because mitigation.readActions does not list it ${tail}`;
    case 'command-differs':
      return `${head} command declared read, treated as host-changing (access list and confirmation) because mitigation.readActions lists another command for it ${tail}`;
    default:
      return `${head} host-changing command ${tail}`;
  }
}
