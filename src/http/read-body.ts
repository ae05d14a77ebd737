import type { IncomingMessage, ServerResponse } from 'node:http';
import { PilotError } from '../errors';
import type { BodyBudget, GateDecision } from './request-gate';

/** Thrown by readBody when a body grows past its limit (a chunked body whose length was not declared). */
export class BodyTooLargeError extends PilotError {
  constructor(readonly limit: number) {
    super('PARAM_INVALID', `request body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads a request body up to `limit` bytes. A larger body is refused rather than buffered: what came is dropped and
 * the rest is read and discarded, so the caller can still answer (413) instead of the client seeing a reset.
 */
export function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks = [];
        req.off('data', onData);
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Sends a JSON answer. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Acts on a gate's decision before the body is read: a refusal is answered at once; an admitted request reserves its
 * bytes from the budget until its response closes, or is answered 503 when the budget is spent. True when the request
 * may go on. An unread body is never held: with `close` the connection is closed after the answer (for strangers:
 * their bytes are not even read, and a client still sending sees the connection end), without it Node reads the rest
 * and discards it, so a client still sending (Alertmanager with a batch too large) reads the answer and what to set.
 */
export function admitRequest(
  res: ServerResponse,
  decision: GateDecision,
  budget: BodyBudget,
  opts: { busy: string; retryAfterSec: number; close: boolean },
): boolean {
  const close: Record<string, string> = opts.close ? { connection: 'close' } : {};
  if (!decision.admit) {
    sendJson(res, decision.status, { error: decision.error }, close);
    return false;
  }
  if (!budget.reserve(decision.bytes)) {
    sendJson(res, 503, { error: opts.busy }, { ...close, 'retry-after': String(opts.retryAfterSec) });
    return false;
  }
  res.once('close', () => budget.release(decision.bytes));
  return true;
}
