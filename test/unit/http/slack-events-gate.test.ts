/**
 * Issue #20 §3: the gate in front of Bolt's listener (moved out of app/receiver.ts): strangers and oversized bodies are
 * answered before Bolt reads a byte, other paths pass untouched, refusals are counted by reason.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyBudget } from '../../../src/http/request-gate';
import { gateSlackEvents } from '../../../src/http/slack-events-gate';
import { createLogger } from '../../../src/logger';

const NOW = new Date('2026-11-25T03:00:00.000Z');
const signed = (extra: Record<string, string> = {}) => ({
  'x-slack-signature': 'v0=abc',
  'x-slack-request-timestamp': String(Math.floor(NOW.getTime() / 1000)),
  'content-length': '100',
  ...extra,
});

/** A request and a response that write down the status sent. */
function exchange(method: string, url: string, headers: Record<string, string>) {
  const req = { method, url, headers } as unknown as IncomingMessage;
  const sent: number[] = [];
  const res = Object.assign(new EventEmitter(), {
    writeHead: (status: number) => void sent.push(status),
    end: () => undefined,
  }) as unknown as ServerResponse;
  return { req, res, sent };
}

function setup(maxBytes = 1000) {
  const toBolt: string[] = [];
  const refused: string[] = [];
  const gate = gateSlackEvents((req) => void toBolt.push(String(req.url)), {
    budget: new BodyBudget(maxBytes),
    now: () => NOW,
    logger: createLogger('silent'),
    refused: (reason) => void refused.push(reason),
  });
  return { gate, toBolt, refused };
}

describe('gateSlackEvents', () => {
  it.each<[string, string, string, Record<string, string>, number | 'bolt', string | undefined]>([
    ['a signed, current, small event', 'POST', '/slack/events', signed(), 'bolt', undefined],
    ['no signature', 'POST', '/slack/events', { 'content-length': '10' }, 401, '401'],
    [
      'dated six minutes ago',
      'POST',
      '/slack/events',
      signed({ 'x-slack-request-timestamp': String(Math.floor(NOW.getTime() / 1000) - 360) }),
      401,
      '401',
    ],
    [
      'a body declared over the cap',
      'POST',
      '/slack/events',
      signed({ 'content-length': String(2 * 1024 * 1024) }),
      413,
      '413',
    ],
    ['another path', 'GET', '/healthz', {}, 'bolt', undefined],
    ['a query string on the events path', 'POST', '/slack/events?x=1', { 'content-length': '10' }, 401, '401'],
  ])('%s', (_what, method, url, headers, expected, reason) => {
    const { gate, toBolt, refused } = setup();
    const { req, res, sent } = exchange(method, url, headers);
    gate(req, res);
    if (expected === 'bolt') {
      expect(toBolt).toEqual([url]);
      expect(sent).toEqual([]);
    } else {
      expect(toBolt).toEqual([]);
      expect(sent).toEqual([expected]);
    }
    expect(refused).toEqual(reason ? [reason] : []);
  });

  it('answers 503 (counted as busy) when the bytes in flight are spent, and gives them back when answered', () => {
    const { gate, toBolt, refused } = setup(150);
    const first = exchange('POST', '/slack/events', signed());
    gate(first.req, first.res);
    const second = exchange('POST', '/slack/events', signed());
    gate(second.req, second.res);
    expect(second.sent).toEqual([503]);
    expect(refused).toEqual(['busy']);
    // the first one answered: its bytes are free again
    first.res.emit('close');
    const third = exchange('POST', '/slack/events', signed());
    gate(third.req, third.res);
    expect(toBolt).toEqual(['/slack/events', '/slack/events']);
  });
});
