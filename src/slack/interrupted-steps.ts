/**
 * What the thread is told when a sweep records steps interrupted (at start, for those a previous process left; on the
 * heartbeat, for a dead replica's): each incident's message is refreshed, and for a replica that died, a line in the
 * thread, since its own "running …" reply will never be replaced. A step this process ended at its own stop was told
 * by its own reply.
 */

import type { SweptStep } from '../incident/step-leases';
import type { IncidentStore } from '../incident/store';
import type { Logger } from '../logger';
import type { IncidentPresenter } from './incident-presenter';

export interface InterruptedStepsDeps {
  presenter: Pick<IncidentPresenter, 'refresh' | 'reply'>;
  store: Pick<IncidentStore, 'get'>;
  logger: Logger;
}

/** Tells the threads of the swept steps; resolves once every refresh and line was sent or failed (logged). */
export async function tellInterrupted(deps: InterruptedStepsDeps, swept: readonly SweptStep[]): Promise<void> {
  const { presenter, store, logger } = deps;
  const refreshed = [...new Set(swept.map((s) => s.step.incidentId))].map((id) => presenter.refresh(id));
  const lines = swept
    .filter((s) => s.reason === 'lease-expired')
    .map(async (s) => {
      try {
        const incident = await store.get(s.step.incidentId);
        if (incident?.threadTs) await presenter.reply(incident, { text: interruptedLine(s) });
      } catch (err) {
        logger.warn({ err, incidentId: s.step.incidentId }, 'could not tell the thread of an interrupted step');
      }
    });
  await Promise.allSettled([...refreshed, ...lines]);
}

/** What the thread reads when a dead replica's step is recorded interrupted. */
export function interruptedLine(s: SweptStep): string {
  const { actionId } = s.step.state;
  const since = s.step.leaseUntil ? ` (its lease expired at ${s.step.leaseUntil.slice(11, 19)} UTC)` : '';
  return s.ran
    ? `⚠️ ${actionId} was interrupted: the bot process running it stopped${since}. Its outcome is unknown: check the host before running it again.`
    : `⚠️ ${actionId} was interrupted before it ran: the bot process that queued it stopped${since}. Nothing ran; run it again.`;
}
