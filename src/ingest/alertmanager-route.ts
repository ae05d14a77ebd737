/**
 * POST /alertmanager: Alertmanager's webhook receiver. Checks the credentials (bearer token or basic auth), validates the
 * payload and offers the alerts to the bounded intake queue: 202 only once the queue took them, 503 with Retry-After
 * when it is full (Alertmanager retries on any non-2xx), 413 for a batch that could never fit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asPilotError } from '../errors';
import { readBody, sendJson } from '../http/read-body';
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
  logger: Logger;
}

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
      let alerts: Alert[];
      try {
        const text = await readBody(req);
        alerts = deps.parse(JSON.parse(text));
      } catch (err) {
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
