/**
 * Pre-checks that need no host: the cooldown since the host's last restart attempt and the hourly restart budget,
 * both read from the audit log so they hold across bot restarts and replicas.
 */
import type { Config } from '../config/schema';
import { PilotError } from '../errors';
import type { AuditRecord } from '../incident/types';

const HOUR_MS = 3_600_000;

/** Reads the audit log (the store's `audits`, sync or async). */
export interface AuditReader {
  audits(filter: { host?: string; actionIds?: string[]; since?: string }): AuditRecord[] | Promise<AuditRecord[]>;
}

/**
 * Returns the error that blocks `actionId` on `host` now, or undefined when the cooldown and the budget allow it.
 * Attempts that reached the host count (`ok` and `failed`); refusals and dry runs do not.
 */
export async function checkRestartBudget(
  store: AuditReader,
  cfg: Config['mitigation'],
  host: string,
  actionId: string,
  now: Date,
): Promise<PilotError | undefined> {
  if (!cfg.restartActions.includes(actionId)) return undefined;
  // Far enough back for both rules: the budget's hour and a cooldown that may be longer than an hour.
  const lookBackMs = Math.max(HOUR_MS, cfg.cooldownSec * 1000);
  const since = new Date(now.getTime() - lookBackMs).toISOString();
  const ran = (await store.audits({ host, actionIds: cfg.restartActions, since })).filter(
    (a) => a.outcome === 'ok' || a.outcome === 'failed',
  );
  const last = ran[ran.length - 1];
  if (last && cfg.cooldownSec > 0) {
    const waitMs = Date.parse(last.at) + cfg.cooldownSec * 1000 - now.getTime();
    if (waitMs > 0) {
      const waitSec = Math.ceil(waitMs / 1000);
      const when = `${last.at.slice(11, 19)} UTC`;
      // Say what happened: a restart that ran, or an attempt that failed (and may have changed nothing).
      const what =
        last.outcome === 'ok'
          ? `${host} was last restarted (${last.actionId} by ${last.user}) at ${when}`
          : `the last restart attempt on ${host} (${last.actionId} by ${last.user}) failed at ${when}`;
      return new PilotError('COOLDOWN', `${what}; the cooldown of ${cfg.cooldownSec} s has ${waitSec} s left`, {
        details: {
          host,
          waitSec,
          cooldownSec: cfg.cooldownSec,
          lastAt: last.at,
          lastActionId: last.actionId,
          lastUser: last.user,
          lastOutcome: last.outcome,
        },
      });
    }
  }
  const hourAgo = now.getTime() - HOUR_MS;
  const inHour = ran.filter((a) => Date.parse(a.at) >= hourAgo);
  if (inHour.length >= cfg.maxRestartsPerHour) {
    return new PilotError(
      'RESTART_BUDGET',
      `${host} had ${inHour.length} restart attempts in the last hour (the limit is ${cfg.maxRestartsPerHour})`,
      {
        details: { host, attempts: inHour.length, limit: cfg.maxRestartsPerHour },
      },
    );
  }
  return undefined;
}
