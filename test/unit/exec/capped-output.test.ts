import { cappedOutput, cutMarker, utf8PrefixEnd, utf8SuffixStart } from '../../../src/exec/capped-output';

/** Feeds `input` to a collector in chunks of `chunk` bytes. */
function collect(input: Buffer, cap: number, chunk = input.length || 1) {
  const c = cappedOutput(cap);
  for (let i = 0; i < input.length; i += chunk) c.push(input.subarray(i, i + chunk));
  return c.result();
}

describe('cappedOutput', () => {
  it.each([
    // name, input, cap, expected text, truncated
    ['empty', '', 10, '', 0],
    ['under the cap', 'hello', 10, 'hello', 0],
    ['exactly the cap', '0123456789', 10, '0123456789', 0],
    ['one byte over: head 6, tail 5', '0123456789A', 10, `01234${cutMarker(1)}6789A`, 1],
    ['far over: head and tail kept', 'abcdefghijklmnopqrstuvwxyz', 6, `abc${cutMarker(20)}xyz`, 20],
    ['odd cap: head gets the extra byte', 'abcdefghijklmnopqrstuvwxyz', 5, `abc${cutMarker(21)}yz`, 21],
    ['cap 0 keeps only the marker', 'abc', 0, cutMarker(3), 3],
  ])('%s', (_name, input, cap, text, truncated) => {
    // when
    const r = collect(Buffer.from(input), cap);
    // then
    expect(r).toEqual({ text, bytes: Buffer.byteLength(input), truncatedBytes: truncated });
  });

  it('gives the same result whatever the chunk sizes', () => {
    // given: 10 kB of numbered lines
    const input = Buffer.from(Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join(''));
    const whole = collect(input, 1000);
    // when / then
    for (const chunk of [1, 7, 64, 499, 500, 501, 4096]) expect(collect(input, 1000, chunk)).toEqual(whole);
    expect(whole.text.startsWith('line 0\nline 1\n')).toBe(true);
    expect(whole.text.endsWith('line 998\nline 999\n')).toBe(true);
    expect(whole.truncatedBytes).toBe(input.length - 1000);
  });

  it('never cuts inside a UTF-8 character, and counts the dropped bytes as cut', () => {
    // given: "€" is 3 bytes; the head boundary (5) and the tail boundary fall inside one
    const input = Buffer.from('ab€€€€€€€d€'); // 2 + 21 + 1 + 3 = 27 bytes
    // when
    const r = collect(input, 10, 3);
    // then: head "ab€" is 5 bytes; the last 5 bytes are one continuation byte (dropped) and "d€"
    expect(r.text).toBe(`ab€${cutMarker(27 - 5 - 4)}d€`);
    expect(r.text).not.toContain('\uFFFD');
    expect(r.bytes).toBe(27);
    expect(r.truncatedBytes).toBe(27 - 5 - 4);
  });

  it('keeps text that is not UTF-8 as it is when it fits', () => {
    const r = collect(Buffer.from([0x41, 0xff, 0x42]), 10);
    expect(r).toEqual({ text: 'A\uFFFDB', bytes: 3, truncatedBytes: 0 });
  });

  it('refuses a negative cap', () => {
    expect(() => cappedOutput(-1)).toThrow(RangeError);
  });
});

describe('UTF-8 boundaries', () => {
  it.each([
    ['ascii', [0x61, 0x62], 2],
    ['ends with a whole 2-byte char', [0x61, 0xc3, 0xa9], 3],
    ['ends inside a 2-byte char', [0x61, 0xc3], 1],
    ['ends inside a 3-byte char', [0x61, 0xe2, 0x82], 1],
    ['ends with a whole 4-byte char', [0xf0, 0x9f, 0x98, 0x80], 4],
    ['ends inside a 4-byte char', [0x61, 0xf0, 0x9f, 0x98], 1],
  ])('utf8PrefixEnd: %s', (_n, bytes, end) => {
    expect(utf8PrefixEnd(Buffer.from(bytes))).toBe(end);
  });

  it.each([
    ['ascii', [0x61], 0],
    ['starts with one continuation byte', [0xa9, 0x61], 1],
    ['starts with three continuation bytes', [0x9f, 0x98, 0x80, 0x61], 3],
    ['starts with a lead byte', [0xe2, 0x82, 0xac], 0],
  ])('utf8SuffixStart: %s', (_n, bytes, start) => {
    expect(utf8SuffixStart(Buffer.from(bytes))).toBe(start);
  });
});
