/**
 * The steps the bot is running or has queued, so stopping can wait for them (for a bounded time) instead of cutting
 * them off, and can tell the ones it had to give up on. New steps are refused once a stop has begun.
 */

/** What is known of a step in flight: enough to record it as interrupted. */
export interface InflightStep {
  incidentId: number;
  stepId: string;
  actionId: string;
  user: string;
  /** Whether its command had started on the host (false while it waits in the host's queue). */
  readonly started: boolean;
  /** Ends the step as interrupted through its own lifecycle (a step ends once, whoever ends it). */
  interrupt?(extra: Record<string, unknown>): Promise<void>;
}

export class InflightSteps {
  private readonly steps = new Map<Promise<unknown>, InflightStep>();
  private stoppingSince?: number;
  private cutting = false;

  /** True once a stop has begun: a step that has not started must not start any more. */
  get stopping(): boolean {
    return this.stoppingSince !== undefined;
  }

  /** True once the grace period is over and running commands are being ended: their results are not theirs. */
  get cuttingOff(): boolean {
    return this.cutting;
  }

  /** Marks the end of the grace period: the commands still running are about to be ended. */
  cutOff(): void {
    this.beginStop();
    this.cutting = true;
  }

  /** Steps in flight now. */
  get size(): number {
    return this.steps.size;
  }

  /** Marks the start of a stop. */
  beginStop(): void {
    this.stoppingSince ??= Date.now();
  }

  /** Follows a step until `done` settles; `step.started` says, when asked, whether its command has started. */
  track(step: InflightStep, done: Promise<unknown>): InflightStep {
    const entry = step;
    const key = done.then(
      () => undefined,
      () => undefined,
    );
    this.steps.set(key, entry);
    void key.then(() => this.steps.delete(key));
    return entry;
  }

  /** Waits until no step is in flight or `ms` have passed; returns the steps still in flight. */
  async drain(ms: number): Promise<InflightStep[]> {
    const deadline = Date.now() + ms;
    while (this.steps.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.steps.keys()]),
        new Promise<void>((r) => (timer = setTimeout(r, left))),
      ]);
      clearTimeout(timer);
    }
    return [...this.steps.values()];
  }
}
