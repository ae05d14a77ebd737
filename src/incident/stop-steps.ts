/**
 * The steps' part of a stop, after new clicks are refused and the host queues told to drop what waits: running steps
 * get `graceMs` to finish; then the SSH connections are closed, which ends what still runs on the hosts (those steps
 * settle as interrupted through their own lifecycle); a step that does not settle within `settleMs` after its
 * connection closed is recorded interrupted here, so none is left "running" in the store.
 */
import type { Executor } from '../exec/types';
import type { Logger } from '../logger';
import type { InflightSteps } from './inflight-steps';
import { type RunStepDeps, recordInterrupted } from './run-step';

export interface StopStepsDeps {
  inflight: Pick<InflightSteps, 'drain' | 'cutOff'>;
  executor: Pick<Executor, 'close'>;
  /** Where an unsettled step is recorded interrupted. */
  record: Pick<RunStepDeps, 'store' | 'now'>;
  /** shutdown.graceMs: how long running steps may take to finish. */
  graceMs: number;
  /** How long a step may take to settle once its connection is closed (default 3 s). */
  settleMs?: number;
  logger: Logger;
}

/** Drains, cuts off and records the steps in flight; resolves when none is left unrecorded. */
export async function stopSteps(deps: StopStepsDeps): Promise<void> {
  const { inflight, logger, graceMs } = deps;
  const running = await inflight.drain(graceMs);
  if (running.length > 0)
    logger.warn(
      { steps: running.length, graceMs },
      'steps still running at the end of the grace period: cutting them off',
    );
  inflight.cutOff();
  await deps.executor.close();
  // Closing the connections makes their commands settle as interrupted; one that does not is recorded here.
  for (const step of await inflight.drain(deps.settleMs ?? 3000)) {
    try {
      await recordInterrupted(deps.record, step, step.started, {
        reason: 'did not settle after its connection was closed',
      });
    } catch (err) {
      logger.error({ err, incidentId: step.incidentId, stepId: step.stepId }, 'could not record an interrupted step');
    }
  }
}
