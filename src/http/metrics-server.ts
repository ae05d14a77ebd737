/**
 * GET /metrics: the registry in Prometheus's text format, on PORT beside Slack's routes, or on METRICS_PORT's own
 * server, which alone adds the series labelled with host names (a public port need not show them).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { PilotError } from '../errors';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { sendJson } from './read-body';

/** The handler of GET /metrics; `perHost` adds the series labelled with host names. */
export function metricsHandler(
  deps: { metrics: Pick<Metrics, 'registry' | 'hostRegistry'>; logger: Logger },
  opts: { perHost: boolean },
): (req: IncomingMessage, res: ServerResponse) => void {
  const { metrics, logger } = deps;
  return (_req, res) => {
    const registry = opts.perHost ? Registry.merge([metrics.registry, metrics.hostRegistry]) : metrics.registry;
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        logger.error({ err }, 'could not collect metrics');
        sendJson(res, 500, { error: 'could not collect metrics, see logs' });
      },
    );
  };
}

/**
 * /metrics on its own port (METRICS_PORT): GET /metrics answers, anything else is 404. Resolves once listening, with
 * no server when no port is set; a port in use rejects, and start-up stops.
 */
export function startMetricsServer(
  port: number | undefined,
  serveMetrics: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server | undefined> {
  if (port === undefined) return Promise.resolve(undefined);
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') return serveMetrics(req, res);
    sendJson(res, 404, { error: 'only GET /metrics is served on this port' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new PilotError(
          'PORT_UNAVAILABLE',
          `cannot listen for /metrics on METRICS_PORT ${port}: ${err.code ?? err.message}`,
          { hint: 'choose a free port for METRICS_PORT, or unset it to serve /metrics on PORT' },
        ),
      ),
    );
    server.listen(port, () => resolve(server));
  });
}

/** Closes the server, if there is one; resolves once it is closed. */
export function closeServer(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
