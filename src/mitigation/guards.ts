/**
 * Pre-checks that need no host: the cooldown since the host's last restart and the hourly restart budget, both read
 * from the audit log so they hold across bot restarts and replicas.
 */
import type { Config } from '../config/schema';
import { PilotError } from '../errors';
import type { IncidentStore } from '../incident/store';

/** Returns the error that blocks `actionId` on `host` now, or undefined when the budget allows it. */
export function checkRestartBudget(
  store: Pick<IncidentStore, 'audits'>,
  cfg: Config['mitigation'],
  host: string,
  actionId: string,
  now: Date,
): PilotError | undefined {
  if (!cfg.restartActions.includes(actionId)) return undefined;
  const hourAgo = new Date(now.getTime() - 3_600_000).toISOString();
  // Attempts that reached the host count; refusals and dry runs do not.
  const ran = store.audits({ host, actionIds: cfg.restartActions, since: hourAgo }).filter((a) => a.outcome === 'ok' || a.outcome === 'failed');
  const last = ran[ran.length - 1];
  if (last && cfg.cooldownSec > 0) {
    const waitMs = Date.parse(last.at) + cfg.cooldownSec * 1000 - now.getTime();
    if (waitMs > 0) {
      return new PilotError(
        'COOLDOWN',
        `${host} was last restarted (${last.actionId} by ${last.user}) at ${last.at.slice(11, 19)} UTC; the cooldown of ${cfg.cooldownSec} s has ${Math.ceil(waitMs / 1000)} s left`,
      );
    }
  }
  if (ran.length >= cfg.maxRestartsPerHour) {
    return new PilotError('RESTART_BUDGET', `${host} was restarted ${ran.length} times in the last hour (the limit is ${cfg.maxRestartsPerHour})`);
  }
  return undefined;
}
