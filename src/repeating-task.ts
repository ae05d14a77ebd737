/**
 * A task run on a heartbeat, one run at a time: a beat that finds the previous run still going is skipped rather than
 * stacked (a slow store must not pile up sweeps). Stopping clears the timer and waits for the run under way, so what
 * the task uses may be closed next. A failed run is reported and the next beat runs again.
 */
export class RepeatingTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly task: () => Promise<unknown>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs the task every `intervalMs` (the timer does not keep the process alive). */
  start(intervalMs: number): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.beat(), intervalMs);
    this.timer.unref();
  }

  /** One beat: runs the task unless a run is under way; resolves when the run (this one or that one) ends. */
  beat(): Promise<void> {
    this.running ??= this.task()
      .then(
        () => undefined,
        (err: unknown) => this.onError(err),
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** No more beats; resolves once the run under way, if any, has ended. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
