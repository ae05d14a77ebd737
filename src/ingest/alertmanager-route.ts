/**
 * POST /alertmanager: Alertmanager's webhook receiver. Checks the credentials (bearer token or basic auth), validates the
 * payload and offers the alerts to the bounded intake queue: 202 only once the queue took them, 503 with Retry-After
 * when it is full (Alertmanager retries on any non-2xx), 413 for a batch that could never fit. The credentials are
 * checked on the headers, before a byte of the body is read; then the body is bounded (413 with what to set, never a
 * reset connection) and reserved from the budget of bytes in flight that every route shares (503 when spent).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asPilotError } from '../errors';
import { admitRequest, BodyTooLargeError, readBody, sendJson } from '../http/read-body';
import { type BodyBudget, gateBody } from '../http/request-gate';
import type { Logger } from '../logger';
import type { Alert } from './alert';
import type { OfferResult } from './intake-queue';
import { type WebhookCredentials, webhookAuthorized } from './webhook-auth';

export interface AlertmanagerRouteDeps {
  /** The credentials required (none: open, which start-up allows only when the operator said so). */
  auth: WebhookCredentials;
  parse(body: unknown): Alert[];
  /** Takes all the alerts for handling, or none (see IntakeQueue.offer). */
  offer(alerts: Alert[]): OfferResult;
  /** The Retry-After of a 503, in seconds. */
  retryAfterSec: number;
  /** How many alerts the queue holds at most (said in the 413's error). */
  capacity: number;
  /**
   * The largest body read (see `webhookMaxBodyBytes`); a larger one is answered 413 with what to set, before it is
   * read when its Content-Length says so.
   */
  maxBodyBytes: number;
  /** The bytes in flight every route shares: a request that finds it spent is answered 503 with Retry-After. */
  budget: BodyBudget;
  logger: Logger;
}

/**
 * The webhook's body cap: what the queue could hold at most (`maxQueuedAlerts` × `maxAlertChars`), at least 1 MiB (so
 * a few alerts with long values, which are cut at ingest, still come in) and at most the budget of bytes in flight.
 */
export function webhookMaxBodyBytes(opts: {
  maxQueuedAlerts: number;
  maxAlertChars: number;
  maxBytesInFlight: number;
}) {
  return Math.min(Math.max(opts.maxQueuedAlerts * opts.maxAlertChars, 1024 * 1024), opts.maxBytesInFlight);
}

/** The 413's words for a body over the cap: what Alertmanager's side must change. */
export function bodyTooLargeError(maxBodyBytes: number): string {
  return `request body larger than ${maxBodyBytes} bytes: set max_alerts in the webhook_configs entry so one batch stays under it (or raise ingest.maxQueuedAlerts × ingest.maxAlertChars and http.maxBytesInFlight)`;
}

const BUSY = 'too many webhook bodies in flight; Alertmanager retries, nothing is lost';

/** The route handler for Bolt's customRoutes. */
export function alertmanagerHandler(deps: AlertmanagerRouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      if (!webhookAuthorized(req.headers.authorization, deps.auth)) {
        res.setHeader('www-authenticate', deps.auth.basic ? 'Basic realm="runbook-pilot"' : 'Bearer');
        sendJson(res, 401, {
          error:
            "missing or wrong credentials: set the webhook_config's http_config.authorization.credentials to alertmanager.token (or basic_auth to alertmanager.basicAuth)",
        });
        return;
      }
      const tooLarge = bodyTooLargeError(deps.maxBodyBytes);
      const gate = gateBody(req.headers, deps.maxBodyBytes, tooLarge);
      if (!admitRequest(res, gate, deps.budget, { busy: BUSY, retryAfterSec: 1, close: false })) {
        if (gate.admit)
          deps.logger.warn({ budget: deps.budget.maxBytes }, 'webhook refused with 503: too many bodies in flight');
        return;
      }
      let alerts: Alert[];
      try {
        const text = await readBody(req, deps.maxBodyBytes);
        alerts = deps.parse(JSON.parse(text));
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          sendJson(res, 413, { error: tooLarge });
          return;
        }
        const e = asPilotError(err);
        sendJson(res, 400, {
          error:
            e.code === 'INTERNAL' ? 'body is not a valid Alertmanager webhook payload (version 4 JSON)' : e.message,
        });
        return;
      }
      const offered = deps.offer(alerts);
      if (offered === 'queued') {
        sendJson(res, 202, { accepted: alerts.length });
        return;
      }
      if (offered === 'too-large') {
        sendJson(res, 413, {
          error: `${alerts.length} alerts in one request, the bot queues at most ${deps.capacity}: set max_alerts in the webhook_config, or raise ingest.maxQueuedAlerts`,
        });
        return;
      }
      deps.logger.warn(
        { alerts: alerts.length, capacity: deps.capacity },
        'webhook refused with 503: the intake queue is full',
      );
      res.setHeader('retry-after', String(deps.retryAfterSec));
      sendJson(res, 503, {
        error: `the bot's alert queue is full (${deps.capacity}); Alertmanager retries, nothing is lost`,
      });
    })();
  };
}
