/**
 * POST /alertmanager: Alertmanager's webhook receiver. Checks the bearer token (when configured), validates the
 * payload, answers 202 at once and hands the alerts on; Alertmanager retries on any non-2xx.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asPilotError } from '../errors';
import { readBody, sendJson } from '../http/read-body';
import type { Logger } from '../logger';
import type { Alert } from './alert';

export interface AlertmanagerRouteDeps {
  /** Bearer token required when non-empty. */
  token: string;
  parse(body: unknown): Alert[];
  onAlerts(alerts: Alert[]): Promise<void>;
  logger: Logger;
}

/** The route handler for Bolt's customRoutes. */
export function alertmanagerHandler(deps: AlertmanagerRouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      if (deps.token && !bearerMatches(req.headers.authorization, deps.token)) {
        sendJson(res, 401, { error: 'missing or wrong bearer token: set http_config.authorization.credentials in the webhook_config to alertmanager.token' });
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

function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1].trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
