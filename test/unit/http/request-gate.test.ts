import { BodyBudget, gateBody, gateSlackRequest, SLACK_MAX_BODY_BYTES } from '../../../src/http/request-gate';

const NOW = new Date('2026-12-06T16:00:00Z');
const ts = (offsetSec: number) => String(Math.floor(NOW.getTime() / 1000) + offsetSec);
const signed = (extra: Record<string, string> = {}) => ({
  'x-slack-signature': 'v0=abc',
  'x-slack-request-timestamp': ts(0),
  ...extra,
});
const gate = (headers: Record<string, string | string[]>) =>
  gateSlackRequest(headers, { now: NOW, maxBodyBytes: SLACK_MAX_BODY_BYTES });

describe('gateSlackRequest (#19 §1, §11)', () => {
  it.each([
    ['no signature', { 'x-slack-request-timestamp': ts(0), 'content-length': '10' }],
    ['no timestamp', { 'x-slack-signature': 'v0=abc', 'content-length': '10' }],
    ['an empty signature', signed({ 'x-slack-signature': '' })],
    ['a repeated timestamp', { 'x-slack-signature': 'v0=abc', 'x-slack-request-timestamp': [ts(0), ts(0)] }],
    ['a timestamp six minutes ahead', signed({ 'x-slack-request-timestamp': ts(360) })],
    ['a timestamp six minutes old', signed({ 'x-slack-request-timestamp': ts(-360) })],
    ['a timestamp that is no number', signed({ 'x-slack-request-timestamp': 'soon' })],
    ['Infinity', signed({ 'x-slack-request-timestamp': 'Infinity' })],
  ])('refuses %s with 401', (_name, headers) => {
    expect(gate(headers as Record<string, string>)).toMatchObject({ admit: false, status: 401 });
  });

  it('reads the timestamp as Bolt does (Number(header)): `+<ts>` and `<ts>.0` within five minutes pass', () => {
    expect(gate(signed({ 'x-slack-request-timestamp': `+${ts(100)}` }))).toMatchObject({ admit: true });
    expect(gate(signed({ 'x-slack-request-timestamp': `${ts(-299)}.0` }))).toMatchObject({ admit: true });
  });

  it('the window is five minutes either way, to the second: 300 s off is admitted, 301 s off is refused', () => {
    for (const skew of [-300, 300])
      expect(gate(signed({ 'x-slack-request-timestamp': ts(skew) }))).toMatchObject({ admit: true });
    for (const skew of [-301, 301])
      expect(gate(signed({ 'x-slack-request-timestamp': ts(skew) }))).toMatchObject({ admit: false, status: 401 });
  });

  it('refuses a declared body over the cap with 413, and admits one within it for its declared length', () => {
    expect(gate(signed({ 'content-length': String(SLACK_MAX_BODY_BYTES + 1) }))).toMatchObject({
      admit: false,
      status: 413,
    });
    expect(gate(signed({ 'content-length': '1234' }))).toEqual({ admit: true, bytes: 1234 });
  });

  it('a body of undeclared length (chunked) may hold the whole cap', () => {
    expect(gate(signed())).toEqual({ admit: true, bytes: SLACK_MAX_BODY_BYTES });
  });
});

describe('gateBody', () => {
  it.each([['-1'], ['1e3'], ['12abc'], ['99999999999999999999']])('refuses Content-Length %s with 413', (v) => {
    expect(gateBody({ 'content-length': v }, 100, 'too large')).toEqual({
      admit: false,
      status: 413,
      error: 'too large',
    });
  });
});

describe('BodyBudget', () => {
  it('reserves up to its bound, refuses beyond without taking anything, and frees on release', () => {
    const seen: number[] = [];
    const budget = new BodyBudget(100, { set: (held) => void seen.push(held) });
    expect(budget.reserve(60)).toBe(true);
    expect(budget.reserve(41)).toBe(false);
    expect(budget.held).toBe(60);
    expect(budget.reserve(40)).toBe(true);
    budget.release(60);
    expect(budget.reserve(41)).toBe(true);
    expect(seen).toEqual([60, 100, 40, 81]);
  });
});
