/**
 * Reads a Web API request the way Slack accepts it: form-encoded (what @slack/web-api sends), JSON (token only in
 * the Authorization header), multipart, or query string. Object-valued arguments arrive form-encoded as JSON strings
 * (WebClient's serializeBody JSON-stringifies them), so the known ones are decoded back.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseQuery } from 'node:querystring';

/** Arguments that Slack documents as "a JSON-based array/object" and that clients send as JSON strings. */
const JSON_ARGS = new Set(['blocks', 'attachments', 'files', 'view', 'metadata', 'user_auth_blocks']);

export interface ApiRequest {
  args: Record<string, unknown>;
  /** The token from `Authorization: Bearer …` or, failing that, the `token` argument. */
  token?: string;
}

/** Parses the arguments and token of one Web API call. */
export async function parseApiRequest(
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
  query: URLSearchParams,
): Promise<ApiRequest> {
  const contentType = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const args: Record<string, unknown> = {};
  for (const [k, v] of query) args[k] = v;

  if (contentType === 'application/json' && rawBody.length > 0) {
    Object.assign(args, JSON.parse(rawBody.toString('utf8')) as Record<string, unknown>);
  } else if (contentType === 'application/x-www-form-urlencoded') {
    for (const [k, v] of Object.entries(parseQuery(rawBody.toString('utf8'))))
      args[k] = Array.isArray(v) ? v[v.length - 1] : v;
  } else if (contentType === 'multipart/form-data') {
    const form = await readMultipart(headers, rawBody);
    for (const [k, v] of form) if (typeof v === 'string') args[k] = v;
  }

  for (const key of Object.keys(args)) {
    const value = args[key];
    if (JSON_ARGS.has(key) && typeof value === 'string' && value.length > 0) {
      try {
        args[key] = JSON.parse(value);
      } catch {
        // Slack answers invalid_blocks and the like; leaving the string lets the method handler decide.
      }
    }
  }

  const auth = headers.authorization;
  const bearer = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
  const bodyToken = typeof args.token === 'string' ? args.token : undefined;
  delete args.token;
  return { args, token: bearer ?? bodyToken };
}

/** Parses multipart/form-data with the platform's own parser (undici's Request), so no dependency is needed. */
export async function readMultipart(headers: IncomingHttpHeaders, rawBody: Buffer): Promise<FormData> {
  const request = new Request('http://stand-in.local/', {
    method: 'POST',
    headers: { 'content-type': String(headers['content-type']) },
    body: new Uint8Array(rawBody),
  });
  return request.formData();
}
