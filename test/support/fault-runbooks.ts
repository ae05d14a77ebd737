/**
 * A runbook folder for fault tests and benchmarks: the repo's HaproxyServerDown runbook and binding, plus steps whose
 * actions (brought by the binding, as any operator's binding may) are slow, hang or run long on purpose.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

const REPO = join(__dirname, '..', '..');

/** Distinctive sleep lengths, so a test can find (or miss) exactly its own remote process with pgrep -f. */
export const HANG_SLEEP = 'sleep 86.25';
export const LONG_SLEEP = 'sleep 47.75';
/** What the slow step prints at its end: also in its shell's command line on the host while it runs (pgrep -f). */
export const SLOW_DONE = 'slow step done';

/**
 * Ends the long steps' remote commands the host user still runs. A test that kills a bot with SIGKILL leaves its
 * command running on the host (nothing can end it): the next test that looks for its own would find that one.
 */
export function endLongSleeps(user: string): void {
  spawnSync('pkill', ['-KILL', '-u', user, '-f', LONG_SLEEP]);
}

/** The extra steps: id in the binding, step id (section-prefixed, as on the buttons), action id. */
export const FaultSteps = {
  /** Sleeps `slowSec` (3 s by default), then prints `slow step done`. */
  slow: { id: 'fault-slow', stepId: 'diagnosis-fault-slow', actionId: 'slow-step' },
  /** Hangs far past its 1.5 s timeout. */
  hang: { id: 'fault-hang', stepId: 'diagnosis-fault-hang', actionId: 'hang-step' },
  /** Runs for about 48 s, within its 120 s timeout: only a stop cuts it off. */
  long: { id: 'fault-long', stepId: 'diagnosis-fault-long', actionId: 'long-step' },
} as const;

/** The fault steps' commands, by action id. */
function faultCommands(opts: { slowSec?: number }): Record<string, string> {
  return {
    [FaultSteps.slow.actionId]: `sleep ${opts.slowSec ?? 3}; echo ${SLOW_DONE}`,
    [FaultSteps.hang.actionId]: `${HANG_SLEEP}; echo never`,
    [FaultSteps.long.actionId]: `${LONG_SLEEP}; echo long step done`,
  };
}

/**
 * The config's `mitigation.readActions` that trusts the fault steps as read-only (a binding's own `risk: read` is not
 * believed without it, #19 §6): give it with the same `opts` as writeFaultRunbooks.
 */
export function faultReadActions(opts: { slowSec?: number } = {}): Record<string, string> {
  return faultCommands(opts);
}

/**
 * Writes the folder under `dir` and returns its path. Its steps are read-only only for a config that trusts them
 * (`mitigation: { readActions: faultReadActions(opts) }`).
 */
export function writeFaultRunbooks(dir: string, opts: { slowSec?: number } = {}): string {
  const out = join(dir, 'runbooks');
  mkdirSync(out, { recursive: true });
  copyFileSync(join(REPO, 'runbooks', 'HaproxyServerDown.md'), join(out, 'HaproxyServerDown.md'));
  const binding = parse(readFileSync(join(REPO, 'runbooks', 'HaproxyServerDown.yml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const action = (id: string, title: string, command: string, timeoutMs: number) => ({
    id,
    title,
    description: `${title} (fault test)`,
    risk: 'read',
    params: {},
    command,
    timeoutMs,
    outputCap: 4096,
  });
  const commands = faultCommands(opts);
  binding.actions = [
    action(FaultSteps.slow.actionId, 'Slow step', commands[FaultSteps.slow.actionId], 30_000),
    action(FaultSteps.hang.actionId, 'Hanging step', commands[FaultSteps.hang.actionId], 1500),
    action(FaultSteps.long.actionId, 'Long step', commands[FaultSteps.long.actionId], 120_000),
  ];
  binding.extra = [
    ...((binding.extra as unknown[]) ?? []),
    { id: FaultSteps.slow.id, section: 'diagnosis', title: 'Slow step', actions: [FaultSteps.slow.actionId] },
    { id: FaultSteps.hang.id, section: 'diagnosis', title: 'Hanging step', actions: [FaultSteps.hang.actionId] },
    { id: FaultSteps.long.id, section: 'diagnosis', title: 'Long step', actions: [FaultSteps.long.actionId] },
  ];
  writeFileSync(join(out, 'HaproxyServerDown.yml'), stringify(binding));
  return out;
}
