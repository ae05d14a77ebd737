/**
 * The future side of Slack's five-minute window (#12 §7): the header is read exactly as Bolt 5.1 reads it
 * (`Number(header)`), so no spelling of a future time slips past as "no timestamp". Fake clock, fake requests.
 */
import type { BufferedIncomingMessage } from '@slack/bolt';
import { createLogger } from '../../../src/logger';
import {
  FutureRequestError,
  refuseFutureRequests,
  requestTimestampProperties,
} from '../../../src/slack/request-timestamp';

const NOW = 1_800_000_000;
const clock = () => new Date(NOW * 1000);
const request = (header: string | string[] | undefined) =>
  ({
    headers: header === undefined ? {} : { 'x-slack-request-timestamp': header },
  }) as unknown as BufferedIncomingMessage;

/** Runs the middleware on the properties the extractor gives for `header`; resolves with whether `next` ran. */
async function passes(header: string | string[] | undefined): Promise<boolean> {
  let ran = false;
  const middleware = refuseFutureRequests(clock, createLogger('silent'));
  try {
    await middleware({
      context: { ...requestTimestampProperties(request(header)) },
      next: async () => void (ran = true),
    } as never);
  } catch (err) {
    expect(err).toBeInstanceOf(FutureRequestError);
    return false;
  }
  return ran;
}

describe('the future-timestamp check reads the header as Bolt does', () => {
  const future = NOW + 301;
  it.each([
    ['now', String(NOW), true],
    ['five minutes ahead exactly', String(NOW + 300), true],
    ['a minute old (Bolt checks the old side)', String(NOW - 60), true],
    ['more than five minutes ahead', String(future), false],
    ['+<ts>', `+${future}`, false],
    ['<ts>.0', `${future}.0`, false],
    ['<ts> padded with spaces', ` ${future} `, false],
    ['<ts>e0', `${future}e0`, false],
    ['hex', `0x${future.toString(16)}`, false],
    ['Infinity', 'Infinity', false],
    ['not a number', 'soon', false],
    ['a header sent twice', [String(NOW), String(NOW)], false],
  ])('%s', async (_name, header, expected) => {
    expect(await passes(header as string | string[])).toBe(expected);
  });

  it('the value is the number Bolt verifies the signature over', () => {
    for (const h of [`+${future}`, `${future}.0`, ` ${future}`])
      expect(Object.values(requestTimestampProperties(request(h)))).toEqual([Number(h)]);
  });

  it('lets a request without the property pass (Socket Mode has no signed timestamp)', async () => {
    let ran = false;
    await refuseFutureRequests(
      clock,
      createLogger('silent'),
    )({ context: {}, next: async () => void (ran = true) } as never);
    expect(ran).toBe(true);
  });
});
