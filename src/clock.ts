/** The real clock and timer, the defaults of every `now` and `sleep` a test may replace. */

/** Now, by the system clock. */
export function systemNow(): Date {
  return new Date();
}

/** Resolves after `ms`, by the system timer. */
export function systemSleep(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms));
}
