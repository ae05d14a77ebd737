import { type ErrorCode, PilotError } from '../../src/errors';

/** Runs `fn`, expects it to throw a PilotError with `code` whose message contains every one of `parts`; returns it. */
export function expectPilotError(fn: () => unknown, code: ErrorCode, ...parts: string[]): PilotError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PilotError);
  const e = caught as PilotError;
  expect(e.code).toBe(code);
  for (const p of parts) expect(e.message).toContain(p);
  return e;
}
