/**
 * Slack asks receivers to refuse a request whose signed timestamp differs from local time by more than five
 * minutes. Bolt 5.1's HTTPReceiver refuses only old ones: a request dated in the future passes, so when the bot's
 * clock runs behind, a captured request stays replayable for as long as the clock is off. This closes that side
 * with Bolt's own hooks: the receiver copies the signed timestamp into the context, a global middleware refuses a
 * future one before any listener runs, and the AuthorizationError it throws makes the receiver answer 401.
 */
import { type AnyMiddlewareArgs, AuthorizationError, type BufferedIncomingMessage, type Middleware } from '@slack/bolt';
import type { Logger } from '../logger';

/** Slack's allowed difference between the request timestamp and local time. */
export const MAX_CLOCK_SKEW_SEC = 5 * 60;

/** The context key the timestamp travels under (not one of Bolt's built-in keys). */
const KEY = 'slackRequestTimestampSec';

/** Thrown for a request dated too far in the future; app.error rethrows it so the receiver answers 401. */
export class FutureRequestError extends AuthorizationError {
  constructor(skewSec: number) {
    super(
      `request timestamp is ${skewSec} s in the future (at most ${MAX_CLOCK_SKEW_SEC} s)`,
      new Error('x-slack-request-timestamp in the future'),
    );
    this.name = 'FutureRequestError';
  }
}

/**
 * HTTPReceiver's customPropertiesExtractor: the signed X-Slack-Request-Timestamp, read exactly as Bolt 5.1 reads it
 * (`Number(header)` in parseAndVerifyHTTPRequest, and the signature is checked over that number), so `+<ts>`,
 * `<ts>.0`, ` <ts> `, `<ts>e0` or `0x…` cannot pass Bolt as one time and this check as another. A header that is not
 * one string becomes NaN, which the middleware refuses.
 */
export function requestTimestampProperties(req: BufferedIncomingMessage): Record<string, number> {
  const raw = req.headers['x-slack-request-timestamp'];
  return { [KEY]: typeof raw === 'string' ? Number(raw) : Number.NaN };
}

/**
 * Global middleware: a request whose timestamp is more than five minutes ahead of `now` runs nothing. Requests
 * without the property (Socket Mode) pass.
 */
export function refuseFutureRequests(now: () => Date, logger: Logger): Middleware<AnyMiddlewareArgs> {
  return async ({ context, next }) => {
    const sec = context[KEY];
    if (typeof sec === 'number') {
      const skew = sec - Math.floor(now().getTime() / 1000);
      // Written so NaN (no usable time) is refused too, and Infinity (which Bolt lets through) as well.
      if (!(skew <= MAX_CLOCK_SKEW_SEC)) {
        logger.warn(
          { skewSec: skew },
          'Slack request dated in the future refused; nothing ran (check the clock or a replay)',
        );
        throw new FutureRequestError(skew);
      }
    }
    await next();
  };
}

/**
 * The App's error handler: a FutureRequestError is rethrown so that the receiver answers 401 (before any ack) instead
 * of acking a refused request; any other listener error is logged.
 */
export function listenerErrorHandler(logger: Logger): (err: Error) => Promise<void> {
  return async (err) => {
    if (err instanceof FutureRequestError) throw err;
    logger.error({ err }, 'unhandled error in a listener');
  };
}
