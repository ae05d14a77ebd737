/**
 * POST /alertmanager: Alertmanager's webhook receiver. Checks the credentials (bearer token or basic auth), validates the
 * payload, answers 202 at once and hands the alerts on; Alertmanager retries on any non-2xx.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asPilotError } from '../errors';
import { readBody, sendJson } from '../http/read-body';
import type { Logger } from '../logger';
import type { Alert } from './alert';
import { webhookAuthorized, type WebhookCredentials } from './webhook-auth';

export interface AlertmanagerRouteDeps {
  /** The credentials required (none: open, which start-up allows only when the operator said so). */
  auth: WebhookCredentials;
  parse(body: unknown): Alert[];
  onAlerts(alerts: Alert[]): Promise<void>;
  logger: Logger;
}

/** The route handler for Bolt's customRoutes. */
export function alertmanagerHandler(deps: AlertmanagerRouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      if (!webhookAuthorized(req.headers.authorization, deps.auth)) {
        res.setHeader('www-authenticate', deps.auth.basic ? 'Basic realm="runbook-pilot"' : 'Bearer');
        sendJson(res, 401, {
          error: 'missing or wrong credentials: set the webhook_config\'s http_config.authorization.credentials to alertmanager.token (or basic_auth to alertmanager.basicAuth)',
        });
        return;
      }
      let alerts: Alert[];
      try {
        const text = await readBody(req);
        alerts = deps.parse(JSON.parse(text));
      } catch (err) {
        const e = asPilotError(err);
        sendJson(res, 400, { error: e.code === 'INTERNAL' ? 'body is not a valid Alertmanager webhook payload (version 4 JSON)' : e.message });
        return;
      }
      sendJson(res, 202, { accepted: alerts.length });
      await deps.onAlerts(alerts).catch((err: unknown) => deps.logger.error({ err }, 'could not handle webhook alerts'));
    })();
  };
}
