/**
 * Issue #20 §3: what a thread is told when a sweep records steps interrupted, decided in slack/ rather than in the
 * lifecycle: every incident refreshed once, a line only for a dead replica's step (lease expired), only in a thread.
 */
import type { SweptStep } from '../../../src/incident/step-leases';
import type { Incident } from '../../../src/incident/types';
import { createLogger } from '../../../src/logger';
import { interruptedLine, tellInterrupted } from '../../../src/slack/interrupted-steps';
import { openIncident } from '../../support/domain-fixtures';

function swept(incidentId: number, reason: SweptStep['reason'], ran: boolean): SweptStep {
  return {
    step: {
      incidentId,
      stepId: `s${incidentId}`,
      state: { state: 'running', actionId: 'restart-haproxy' } as SweptStep['step']['state'],
      owner: 'replica-a',
      leaseUntil: '2026-11-25T03:12:35.000Z',
    },
    reason,
    ran,
  };
}

function setup(incidents: Record<number, Incident | undefined>) {
  const refreshed: number[] = [];
  const replies: Array<[number, string]> = [];
  const presenter = {
    refresh: async (id: number) => void refreshed.push(id),
    reply: async (incident: Incident, msg: { text: string }) => void replies.push([incident.id, msg.text]),
  };
  const store = { get: async (id: number) => incidents[id] };
  const deps = { presenter, store, logger: createLogger('silent') } as unknown as Parameters<typeof tellInterrupted>[0];
  return { deps, refreshed, replies };
}

describe('tellInterrupted', () => {
  it('refreshes each incident once and posts a line for a dead replica’s steps only', async () => {
    const t = setup({ 7: openIncident({ id: 7 }), 8: openIncident({ id: 8 }) });
    // when: at start, a previous process's step (restart) and a dead replica's two steps
    await tellInterrupted(t.deps, [
      swept(7, 'lease-expired', true),
      swept(7, 'lease-expired', false),
      swept(8, 'restart', true),
    ]);
    // then
    expect(t.refreshed.sort()).toEqual([7, 8]);
    expect(t.replies).toEqual([
      [7, interruptedLine(swept(7, 'lease-expired', true))],
      [7, interruptedLine(swept(7, 'lease-expired', false))],
    ]);
  });

  it('posts no line for an incident without a thread, or gone from the store', async () => {
    const t = setup({ 7: openIncident({ id: 7, threadTs: undefined }) });
    await tellInterrupted(t.deps, [swept(7, 'lease-expired', true), swept(9, 'lease-expired', true)]);
    expect(t.replies).toEqual([]);
    expect(t.refreshed.sort()).toEqual([7, 9]);
  });
});

describe('interruptedLine', () => {
  it('says whether the command ran (outcome unknown) or not (nothing ran), and when the lease expired', () => {
    expect(interruptedLine(swept(7, 'lease-expired', true))).toBe(
      '⚠️ restart-haproxy was interrupted: the bot process running it stopped (its lease expired at 03:12:35 UTC). Its outcome is unknown: check the host before running it again.',
    );
    expect(interruptedLine(swept(7, 'lease-expired', false))).toBe(
      '⚠️ restart-haproxy was interrupted before it ran: the bot process that queued it stopped (its lease expired at 03:12:35 UTC). Nothing ran; run it again.',
    );
  });
});
