/** The cooldown and the hourly restart budget, read from the audit log, on a fake clock (#4, #15). */
import type { Config } from '../../../src/config/schema';
import type { AuditRecord } from '../../../src/incident/types';
import { type AuditReader, checkRestartBudget } from '../../../src/mitigation/guards';

const NOW = new Date('2026-11-25T12:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
const cfg = (over: Partial<Config['mitigation']> = {}): Config['mitigation'] => ({
  dryRun: false,
  cooldownSec: 300,
  maxRestartsPerHour: 3,
  verifyDelayMs: 0,
  restartActions: ['restart', 'reload'],
  lockTtlSec: 600,
  ...over,
});

/** An audit log in memory that answers the filter as the store does. */
function auditLog(
  records: Array<Partial<AuditRecord> & Pick<AuditRecord, 'at' | 'outcome'>>,
): AuditReader & { sinces: string[] } {
  const all = records.map((r) => ({ user: 'U0ONCALL01', host: 'lb-1', actionId: 'restart', ...r }));
  const sinces: string[] = [];
  return {
    sinces,
    audits(filter) {
      if (filter.since) sinces.push(filter.since);
      return all.filter(
        (a) =>
          (!filter.host || a.host === filter.host) &&
          (!filter.since || a.at >= filter.since) &&
          (!filter.actionIds || filter.actionIds.includes(a.actionId)),
      );
    },
  };
}

describe('checkRestartBudget', () => {
  it('holds a cooldown longer than an hour (a restart 90 minutes ago, cooldown 2 hours)', async () => {
    const log = auditLog([{ at: minutesAgo(90), outcome: 'ok' }]);
    const e = await checkRestartBudget(log, cfg({ cooldownSec: 7200 }), 'lb-1', 'restart', NOW);
    expect(e?.code).toBe('COOLDOWN');
    expect(e?.details).toMatchObject({
      waitSec: 30 * 60,
      cooldownSec: 7200,
      lastOutcome: 'ok',
      lastActionId: 'restart',
      lastUser: 'U0ONCALL01',
    });
  });

  it('ends the cooldown on time', async () => {
    const log = auditLog([{ at: minutesAgo(121), outcome: 'ok' }]);
    expect(await checkRestartBudget(log, cfg({ cooldownSec: 7200 }), 'lb-1', 'restart', NOW)).toBeUndefined();
  });

  it('says a failed attempt failed, not that the host was restarted', async () => {
    const log = auditLog([{ at: minutesAgo(1), outcome: 'failed', exitCode: 1 }]);
    const e = await checkRestartBudget(log, cfg(), 'lb-1', 'restart', NOW);
    expect(e?.details).toMatchObject({ lastOutcome: 'failed', waitSec: 240 });
    expect(e?.message).not.toMatch(/was last restarted/);
  });

  it('counts only attempts that reached the host: refusals and dry runs neither cool down nor spend the budget', async () => {
    const log = auditLog([
      { at: minutesAgo(2), outcome: 'refused' },
      { at: minutesAgo(1), outcome: 'dry-run' },
    ]);
    expect(await checkRestartBudget(log, cfg({ maxRestartsPerHour: 1 }), 'lb-1', 'restart', NOW)).toBeUndefined();
  });

  it('spends the budget within the last hour only, even when it looks back further for a long cooldown', async () => {
    const log = auditLog([
      { at: minutesAgo(150), outcome: 'ok' },
      { at: minutesAgo(50), outcome: 'ok' },
      { at: minutesAgo(30), outcome: 'failed' },
    ]);
    const e = await checkRestartBudget(log, cfg({ cooldownSec: 60, maxRestartsPerHour: 2 }), 'lb-1', 'reload', NOW);
    expect(e?.code).toBe('RESTART_BUDGET');
    expect(e?.details).toMatchObject({ attempts: 2, limit: 2 });
    expect(
      await checkRestartBudget(log, cfg({ cooldownSec: 60, maxRestartsPerHour: 3 }), 'lb-1', 'reload', NOW),
    ).toBeUndefined();
  });

  it('leaves actions that are not restarts alone, and other hosts', async () => {
    const log = auditLog([{ at: minutesAgo(1), outcome: 'ok' }]);
    expect(await checkRestartBudget(log, cfg(), 'lb-1', 'drain', NOW)).toBeUndefined();
    expect(await checkRestartBudget(log, cfg(), 'lb-2', 'restart', NOW)).toBeUndefined();
  });
});
