/**
 * What a request may cost before anyone knows who sent it (issue #19 §1, §3). Bolt 5.1's HTTPReceiver reads a body
 * (up to 4 MiB by default) before it checks the signature, and holds every such body at once: 100 unsigned 4 MiB
 * POSTs took a replica sized for 256 MB to 531 MB. So the decision is taken on the headers alone, before a byte of
 * the body is read:
 *
 * - `/slack/events` without `X-Slack-Signature` or with an `X-Slack-Request-Timestamp` more than five minutes off is
 *   refused with 401 (Slack always sends both; a request dated in the future is refused here rather than acked and
 *   dropped later, as the README promises);
 * - a declared `Content-Length` above the route's cap is refused with 413;
 * - every admitted request reserves its declared length (the cap when it declares none, i.e. chunked) from one budget
 *   of bytes in flight shared by all routes, and is answered 503 with Retry-After when the budget is spent; the
 *   reservation is given back when the response closes.
 *
 * The decisions are pure (`gateSlackRequest`, `gateBody`); `BodyBudget` is the one piece of state.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Slack's allowed difference between the request timestamp and local time. */
const MAX_SKEW_SEC = 5 * 60;

/**
 * The largest body Slack sends to `/slack/events`, with room to spare. Slack documents no byte limit, but every
 * payload is bounded by its documented content limits: a message's text is cut at 40,000 characters, a message holds
 * at most 50 blocks and a modal 100 (a block's text at most 3,000 characters), an input at most 3,000; url-encoded
 * (interactive payloads are `payload=<json>` form bodies) the largest real body stays well under 1 MiB.
 */
export const SLACK_MAX_BODY_BYTES = 1024 * 1024;

/** A request refused on its headers: the status and the one line the client reads. */
export interface Refusal {
  status: 401 | 413 | 503;
  error: string;
}

/** The result of a gate: refused, or admitted with the bytes it may hold (what it reserves from the budget). */
export type GateDecision = { admit: true; bytes: number } | ({ admit: false } & Refusal);

/** One header's single value (a repeated header is not one value). */
function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * The body-size part of every gate: a declared Content-Length above `maxBodyBytes` is refused (413, with `tooLarge`
 * as the error); otherwise the request may hold its declared length, or `maxBodyBytes` when it declares none.
 */
export function gateBody(headers: IncomingHttpHeaders, maxBodyBytes: number, tooLarge: string): GateDecision {
  const declared = single(headers, 'content-length');
  if (declared === undefined) return { admit: true, bytes: maxBodyBytes };
  const length = /^\d{1,16}$/.test(declared.trim()) ? Number(declared.trim()) : Number.NaN;
  // Node's parser has already refused a malformed Content-Length; this keeps the rule whole on its own.
  if (!Number.isSafeInteger(length)) return { admit: false, status: 413, error: tooLarge };
  if (length > maxBodyBytes) return { admit: false, status: 413, error: tooLarge };
  return { admit: true, bytes: length };
}

/**
 * Whether a POST to `/slack/events` may be read at all, from its headers and the clock. The timestamp is read as Bolt
 * reads it (`Number(header)`, over which the signature is checked), so a spelling cannot pass one and fail the other.
 */
export function gateSlackRequest(
  headers: IncomingHttpHeaders,
  opts: { now: Date; maxBodyBytes: number },
): GateDecision {
  const signature = single(headers, 'x-slack-signature');
  const timestamp = single(headers, 'x-slack-request-timestamp');
  if (!signature || timestamp === undefined)
    return { admit: false, status: 401, error: 'missing X-Slack-Signature or X-Slack-Request-Timestamp' };
  const skew = Number(timestamp) - Math.floor(opts.now.getTime() / 1000);
  // Written so NaN and ±Infinity are refused too.
  if (!(Math.abs(skew) <= MAX_SKEW_SEC))
    return {
      admit: false,
      status: 401,
      error: `X-Slack-Request-Timestamp is more than ${MAX_SKEW_SEC} s from the bot's clock`,
    };
  return gateBody(headers, opts.maxBodyBytes, `body larger than ${opts.maxBodyBytes} bytes`);
}

/**
 * The bytes held by requests in flight, across every route: a request reserves what it may read before reading it
 * and gives it back when its response closes. `reserve` refuses instead of waiting, so a flood costs 503s, not memory.
 */
export class BodyBudget {
  private inUse = 0;
  /** `gauge` is set to the bytes held after every change (the bot's runbook_pilot_http_bytes_in_flight). */
  constructor(
    readonly maxBytes: number,
    private readonly gauge: { set(held: number): void } = { set: () => undefined },
  ) {}

  /** Takes `bytes` from the budget; false (and nothing taken) when that would exceed it. */
  reserve(bytes: number): boolean {
    if (this.inUse + bytes > this.maxBytes) return false;
    this.inUse += bytes;
    this.gauge.set(this.inUse);
    return true;
  }

  /** Gives back what `reserve` took. */
  release(bytes: number): void {
    this.inUse = Math.max(0, this.inUse - bytes);
    this.gauge.set(this.inUse);
  }

  /** Bytes reserved now. */
  get held(): number {
    return this.inUse;
  }
}
