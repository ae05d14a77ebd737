/**
 * Step leases: a queued or running step records the replica running it and until when that replica counts as alive.
 * The replica renews its leases on a heartbeat; every replica sweeps for steps whose lease expired (their replica died:
 * a crash, a kill -9, a lost host) and records them interrupted, once, through a conditional update. So a step is
 * never left "running", whichever replica dies, within `leaseMs` plus one heartbeat.
 */

import { PilotError } from '../errors';
import type { Logger } from '../logger';
import { finalRecord, type StepEnding } from './run-step';
import type { IncidentStore, StaleMode, StaleStep } from './store';

/** Why a swept step was recorded interrupted. */
export type SweepReason =
  /** Its replica stopped renewing its lease (it died or hangs). */
  | 'lease-expired'
  /** The bot (one process on SQLite) restarted, or an older bot left it without a lease. */
  | 'restart';

/** A step a sweep recorded interrupted. */
export interface SweptStep {
  step: StaleStep;
  reason: SweepReason;
  /** Whether its command had started: its outcome is then unknown. */
  ran: boolean;
}

export interface StepLeasesDeps {
  store: Pick<IncidentStore, 'shared' | 'renewStepLeases' | 'staleSteps' | 'endStaleStep'>;
  /** This replica's id: the owner of the leases it takes. */
  replicaId: string;
  /** How long a lease holds without renewal (replicas.leaseSec). */
  leaseMs: number;
  /** How often leases are renewed and expired ones swept (replicas.heartbeatSec). */
  heartbeatMs: number;
  now(): Date;
  logger: Logger;
  /** Counts each step recorded interrupted (metrics). */
  counted?(reason: SweepReason): void;
  /**
   * Called after each heartbeat of `start` has ended (renewed and swept, or failed): counted in the metrics, where a
   * stalled heartbeat shows before its leases expire under another replica; and the moment a test knows a sweep ran.
   */
  beat?(ok: boolean): void;
}

export class StepLeases {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<unknown> | undefined;

  constructor(private readonly deps: StepLeasesDeps) {}

  /** The lease a step of this replica takes while it is queued or running (see RunStepDeps.lease). */
  lease(): { owner: string; ttlMs: number } {
    return { owner: this.deps.replicaId, ttlMs: this.deps.leaseMs };
  }

  /** Renews this replica's leases; returns how many steps it holds. */
  renew(): Promise<number> {
    const until = new Date(this.deps.now().getTime() + this.deps.leaseMs).toISOString();
    return this.deps.store.renewStepLeases(this.deps.replicaId, until);
  }

  /**
   * At start-up: a store only this process uses (SQLite) has no live replica but this one, which has no step yet:
   * every queued or running step was left by the previous run. A shared store: the expired leases, and the steps an
   * older bot left without a lease.
   */
  recover(): Promise<SweptStep[]> {
    return this.sweep(this.deps.store.shared ? 'unleased' : 'all');
  }

  /** One heartbeat: renew this replica's leases, then record the expired ones of any replica interrupted. */
  async tick(): Promise<SweptStep[]> {
    await this.renew();
    return this.sweep('expired');
  }

  /** Records the stale steps interrupted; returns those this replica recorded (another may have, first). */
  async sweep(mode: StaleMode): Promise<SweptStep[]> {
    const { store, logger } = this.deps;
    const now = this.deps.now();
    const swept: SweptStep[] = [];
    for (const step of await store.staleSteps(now.toISOString(), mode)) {
      const reason: SweepReason = store.shared && step.owner !== null ? 'lease-expired' : 'restart';
      const ran = step.state.state === 'running';
      const extra =
        reason === 'lease-expired'
          ? {
              reason: 'its replica stopped renewing its lease',
              owner: step.owner,
              leaseUntil: step.leaseUntil,
              recordedBy: this.deps.replicaId,
            }
          : { reason: 'the bot restarted' };
      const ending: StepEnding = {
        kind: 'interrupted',
        error: new PilotError('SHUTTING_DOWN', 'the bot running it stopped'),
        extra,
      };
      const { state, event } = finalRecord({ ran }, ending, {
        stepId: step.stepId,
        actionId: step.state.actionId,
        user: step.state.by,
        at: now.toISOString(),
        timeoutMs: 0,
      });
      if (!(await store.endStaleStep(step, state, event))) continue;
      swept.push({ step, reason, ran });
      this.deps.counted?.(reason);
      logger.warn(
        {
          incidentId: step.incidentId,
          stepId: step.stepId,
          owner: step.owner,
          leaseUntil: step.leaseUntil,
          ran,
          reason,
        },
        'step recorded as interrupted: the process running it is gone',
      );
    }
    return swept;
  }

  /**
   * Starts the heartbeat: every `heartbeatMs`, renew and sweep; `tell` is called for each step recorded interrupted.
   * A heartbeat still running when the next is due is not doubled.
   */
  start(tell: (swept: SweptStep[]) => void): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = this.tick()
        .then((swept) => {
          if (swept.length > 0) tell(swept);
          return true;
        })
        .catch((err: unknown) => {
          this.deps.logger.warn({ err }, 'step lease heartbeat failed; retrying');
          return false;
        })
        .then((ok) => {
          this.ticking = undefined;
          this.deps.beat?.(ok);
        });
    }, this.deps.heartbeatMs);
    // The heartbeat alone must not keep the process alive.
    this.timer.unref();
  }

  /** Stops the heartbeat and waits for one under way (before the store closes). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }
}
