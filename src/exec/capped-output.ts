/**
 * Keeps a command's output under a byte cap without holding all of it: the first half of the cap (the head) and
 * the last half (the tail), with a marker between them saying how many bytes were cut. Both ends matter: the head
 * shows what the command started with, the tail shows how it ended (errors are usually last).
 */
import type { CappedOutput } from './types';

/** Collects chunks as they arrive; `result()` gives the kept text. */
export interface CappedOutputCollector {
  push(chunk: Buffer): void;
  result(): CappedOutput;
}

/** The marker put where bytes were cut. */
export function cutMarker(cutBytes: number): string {
  return `\n… [${cutBytes} bytes cut] …\n`;
}

/** A collector that keeps at most `cap` bytes of output (head + tail). */
export function cappedOutput(cap: number): CappedOutputCollector {
  if (!Number.isInteger(cap) || cap < 0) throw new RangeError(`output cap must be a non-negative integer, got ${cap}`);
  const headCap = Math.ceil(cap / 2);
  const tailCap = cap - headCap;
  const head: Buffer[] = [];
  let headBytes = 0;
  // The tail is a list of chunks whose total may exceed tailCap by less than one chunk; trimmed in result().
  let tail: Buffer[] = [];
  let tailBytes = 0;
  let total = 0;

  return {
    push(chunk: Buffer): void {
      total += chunk.length;
      let rest = chunk;
      if (headBytes < headCap) {
        const take = Math.min(headCap - headBytes, rest.length);
        head.push(rest.subarray(0, take));
        headBytes += take;
        rest = rest.subarray(take);
      }
      if (rest.length === 0 || tailCap === 0) return;
      // Copy: the stream may reuse its buffers, and we keep only a small slice of a big chunk.
      tail.push(Buffer.from(rest.length > tailCap ? rest.subarray(rest.length - tailCap) : rest));
      tailBytes += Math.min(rest.length, tailCap);
      while (tail.length > 1 && tailBytes - tail[0].length >= tailCap) {
        tailBytes -= tail[0].length;
        tail = tail.slice(1);
      }
    },
    result(): CappedOutput {
      return capBytes(Buffer.concat(head), Buffer.concat(tail), total, cap);
    },
  };
}

/**
 * Builds the kept text from the collected head and tail. When nothing was cut the bytes are decoded as they are;
 * otherwise the head is shortened to end on a whole UTF-8 character and the tail to start on one, so the cut never
 * produces a replacement character, and those bytes count as cut.
 */
function capBytes(head: Buffer, tailIn: Buffer, total: number, cap: number): CappedOutput {
  if (total <= cap) {
    return { text: Buffer.concat([head, tailIn]).toString('utf8'), bytes: total, truncatedBytes: 0 };
  }
  const tailCap = cap - Math.ceil(cap / 2);
  const tail = tailIn.length > tailCap ? tailIn.subarray(tailIn.length - tailCap) : tailIn;
  const keptHead = head.subarray(0, utf8PrefixEnd(head));
  const keptTail = tail.subarray(utf8SuffixStart(tail));
  const cut = total - keptHead.length - keptTail.length;
  return {
    text: keptHead.toString('utf8') + cutMarker(cut) + keptTail.toString('utf8'),
    bytes: total,
    truncatedBytes: cut,
  };
}

/** Length of the longest prefix of `buf` that does not end inside a multi-byte UTF-8 character. */
export function utf8PrefixEnd(buf: Buffer): number {
  // Look back at most 3 bytes for the lead byte of the last character.
  for (let i = buf.length - 1; i >= Math.max(0, buf.length - 4); i--) {
    const b = buf[i];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return buf.length - i >= need ? buf.length : i;
  }
  return buf.length; // not UTF-8 (only continuation bytes): keep the bytes as they are
}

/** Offset of the first byte of `buf` that starts a UTF-8 character (skips at most 3 continuation bytes). */
export function utf8SuffixStart(buf: Buffer): number {
  let i = 0;
  while (i < Math.min(3, buf.length) && (buf[i] & 0xc0) === 0x80) i++;
  return i;
}
