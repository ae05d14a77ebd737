import { PilotError } from '../../../src/errors';
import { assertLabelName, quoteMatcherValue, quotePromqlString } from '../../../src/observe/quote-label-value';

describe('quotePromqlString', () => {
  it.each([
    ['web2', '"web2"'],
    ['a"b', '"a\\"b"'],
    ['a\\b', '"a\\\\b"'],
    ['line\nbreak', '"line\\nbreak"'],
    ['tab\there', '"tab\\there"'],
    ['bell\x07', '"bell\\x07"'],
    ['"} or vector(1) #', '"\\"} or vector(1) #"'],
    ['ünïcode', '"ünïcode"'],
  ])('%j → %s', (value, quoted) => {
    expect(quotePromqlString(value)).toBe(quoted);
    // Go's string literal rules are JSON's for these characters, except \x: check the round trip where JSON can.
    if (!quoted.includes('\\x')) expect(JSON.parse(quoted)).toBe(value);
  });

  it('refuses absurdly long values', () => {
    expect(() => quotePromqlString('x'.repeat(2000))).toThrow(PilotError);
  });
});

describe('quoteMatcherValue (Alertmanager knows only \\\\, \\" and \\n)', () => {
  it.each([
    ['web2', '"web2"'],
    ['a"b', '"a\\"b"'],
    ['a\\b', '"a\\\\b"'],
    ['line\nbreak', '"line\\nbreak"'],
    ['tab\there', '"tab\there"'],
  ])('%j → %s', (value, quoted) => {
    expect(quoteMatcherValue(value)).toBe(quoted);
  });
});

describe('assertLabelName', () => {
  it.each(['backend', 'server', '_x', 'a1_b'])('accepts %s', (name) =>
    expect(() => assertLabelName(name)).not.toThrow(),
  );
  it.each(['1a', 'a-b', 'a b', '', 'a="x"', 'a}'])('refuses %j', (name) => {
    expect(() => assertLabelName(name)).toThrow(expect.objectContaining({ code: 'PARAM_INVALID' }));
  });
});
