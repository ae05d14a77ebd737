/**
 * How requests reach the bot: the HTTP routes beside Slack's (`/healthz`, `/metrics`, `/alertmanager`), the receiver
 * (HTTP, or Socket Mode) and the Bolt App on it. Transport only: what a request does lives in the features.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, ErrorCode, HTTPReceiver, type Receiver, SocketModeReceiver } from '@slack/bolt';
import type { CustomRoute } from '@slack/bolt/dist/receivers/custom-routes';
import type { WebClientOptions } from '@slack/web-api';
import { Registry } from 'prom-client';
import { admitRequest, sendJson } from '../http/read-body';
import { BodyBudget, gateSlackRequest, SLACK_MAX_BODY_BYTES } from '../http/request-gate';
import { alertmanagerHandler, webhookMaxBodyBytes } from '../ingest/alertmanager-route';
import type { AlertIntake } from '../ingest/intake';
import { parseAlertmanagerWebhook } from '../ingest/parse-alertmanager-webhook';
import { webhookCredentials } from '../ingest/webhook-auth';
import { boltLogger } from '../logger';
import { instrumentedFetch } from '../slack/instrumented-fetch';
import { FutureRequestError, refuseFutureRequests, requestTimestampProperties } from '../slack/request-timestamp';
import type { Core } from './core';

/** Whether the bot is ready (`GET /healthz` answers 200): set by the lifecycle once started, cleared at stop. */
export class Readiness {
  private ready = false;
  get isReady(): boolean {
    return this.ready;
  }
  set(ready: boolean): void {
    this.ready = ready;
  }
}

/** The Bolt App and, in Socket Mode, its receiver (the lifecycle starts and stops its connection). */
export interface Receiving {
  app: App;
  socketReceiver?: SocketModeReceiver;
}

/**
 * The options of every Slack Web API client the bot makes (Bolt's own, one per listener, and the services'): a hung
 * call is abandoned and retried like a 5xx, a 429 waits its Retry-After, and every request goes through one fetch
 * that counts Slack's errors and 429s.
 */
export function slackClientOptions(core: Pick<Core, 'config' | 'env' | 'metrics'>): WebClientOptions {
  return {
    ...(core.env.apiUrl ? { slackApiUrl: core.env.apiUrl } : {}),
    timeout: core.config.slack.requestTimeoutMs,
    retryConfig: { retries: core.config.slack.retries, factor: 2, minTimeout: 500, maxTimeout: 30_000 },
    fetch: instrumentedFetch(core.metrics),
  };
}

/** Builds the receiver and the App on it; nothing listens until the lifecycle starts it. */
export function buildReceiver(
  core: Core,
  parts: { intake: Pick<AlertIntake, 'acceptAlerts'>; readiness: Readiness },
): Receiving {
  const { env, logger } = core;
  // One budget of bytes in flight for every route (Slack's and the webhook's).
  const budget = new BodyBudget(core.config.http.maxBytesInFlight, (held) => core.metrics.httpBytesInFlight.set(held));
  const customRoutes = httpRoutes(core, { ...parts, budget });
  // Bolt hands `installerOptions.clientOptions` to the Socket Mode client's own WebClient (apps.connections.open).
  const socketReceiver = env.socketMode
    ? new SocketModeReceiver({
        appToken: env.appToken as string,
        customRoutes,
        installerOptions: { port: env.port, ...(env.apiUrl ? { clientOptions: { slackApiUrl: env.apiUrl } } : {}) },
        logger: boltLogger(logger),
      })
    : undefined;
  const httpReceiver = socketReceiver
    ? undefined
    : new HTTPReceiver({
        signingSecret: env.signingSecret,
        endpoints: SLACK_EVENTS_PATH,
        customRoutes,
        // A chunked body (no Content-Length) is cut here; a declared one was refused by the gate before it was read.
        bodyLimit: SLACK_MAX_BODY_BYTES,
        logger: boltLogger(logger),
        processBeforeResponse: false,
        customPropertiesExtractor: requestTimestampProperties,
        // A request Bolt cannot route (an unknown path, a malformed URL such as `//`) is the client's error: 404/400
        // rather than Bolt's 500 for anything but a known-unhandled path.
        dispatchErrorHandler: async ({ error, request, response }) => {
          const unrouted = (error as { code?: string }).code === ErrorCode.HTTPReceiverDeferredRequestError;
          if (!unrouted)
            logger.warn(
              { err: error, method: request.method, url: String(request.url).slice(0, 200) },
              'request could not be routed',
            );
          response.writeHead(unrouted ? 404 : 400);
          response.end();
        },
      });
  if (httpReceiver) gateSlackEvents(httpReceiver, budget, core);
  const receiver: Receiver = socketReceiver ?? (httpReceiver as HTTPReceiver);
  const app = new App({
    token: env.botToken,
    // Bolt's own auth.test then runs in start() (app.init), awaited: built eagerly, an unreachable Slack rejects it
    // unhandled later, which ends the process.
    deferInitialization: true,
    receiver,
    logger: boltLogger(logger),
    clientOptions: slackClientOptions(core),
  });
  // Bolt verifies signatures against the real clock; the future side is checked against the same one.
  app.use(refuseFutureRequests(() => new Date(), logger));
  app.error(async (err) => {
    // Rethrown so the receiver answers 401 (before any ack) instead of acking a refused request.
    if (err instanceof FutureRequestError) throw err;
    logger.error({ err }, 'unhandled error in a listener');
  });
  return socketReceiver ? { app, socketReceiver } : { app };
}

const SLACK_EVENTS_PATH = '/slack/events';

/**
 * Puts the request gate (src/http/request-gate.ts) in front of Bolt's listener for POST /slack/events: a request
 * without a signature, dated more than five minutes off, or declaring a body over Slack's cap is answered before Bolt
 * reads a byte of it, and an admitted one holds its bytes from the shared budget until it is answered. Bolt 5.1 keeps
 * its listener in the public `requestListener` property, which its server calls for every request.
 */
function gateSlackEvents(receiver: HTTPReceiver, budget: BodyBudget, core: Pick<Core, 'logger' | 'metrics'>): void {
  const bolt = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    const path = String(req.url ?? '').split('?')[0];
    if (req.method === 'POST' && path === SLACK_EVENTS_PATH) {
      const decision = gateSlackRequest(req.headers, { now: new Date(), maxBodyBytes: SLACK_MAX_BODY_BYTES });
      const busy = { busy: 'too many request bodies in flight; retry shortly', retryAfterSec: 1, close: true };
      if (!admitRequest(res, decision, budget, busy)) {
        core.metrics.slackRequestsRefused.inc({ reason: decision.admit ? 'busy' : String(decision.status) });
        // A stranger's request is counted, not logged at warn: a flood of them must not become a flood of log lines.
        if (decision.admit)
          core.logger.warn({ budget: budget.maxBytes }, 'Slack request refused with 503: too many bodies in flight');
        else
          core.logger.debug(
            { status: decision.status, reason: decision.error },
            'Slack request refused before its body was read',
          );
        return;
      }
    }
    bolt(req, res);
  };
}

/** `/healthz`, `/metrics` (unless METRICS_PORT serves it on its own port) and the Alertmanager webhook. */
function httpRoutes(
  core: Core,
  parts: { intake: Pick<AlertIntake, 'acceptAlerts'>; readiness: Readiness; budget: BodyBudget },
): CustomRoute[] {
  const { config, env, logger } = core;
  const { intake, readiness, budget } = parts;
  return [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req, res) => sendJson(res, readiness.isReady ? 200 : 503, { ok: readiness.isReady }),
    },
    // With METRICS_PORT, /metrics is served there only, so the public port need not expose it.
    ...(env.metricsPort === undefined
      ? [{ path: '/metrics', method: ['GET'], handler: metricsHandler(core, { perHost: false }) }]
      : []),
    {
      path: '/alertmanager',
      method: ['POST'],
      handler: alertmanagerHandler({
        auth: webhookCredentials(config),
        parse: parseAlertmanagerWebhook,
        logger,
        offer: (alerts) => intake.acceptAlerts('webhook', alerts),
        retryAfterSec: config.ingest.retryAfterSec,
        capacity: config.ingest.maxQueuedAlerts,
        maxBodyBytes: webhookMaxBodyBytes({ ...config.ingest, maxBytesInFlight: config.http.maxBytesInFlight }),
        budget,
      }),
    },
  ];
}

/**
 * GET /metrics: the registry in Prometheus's text format (on PORT, or on METRICS_PORT's own server); `perHost` adds
 * the series labelled with host names, which only METRICS_PORT serves.
 */
export function metricsHandler(
  core: Pick<Core, 'metrics' | 'logger'>,
  opts: { perHost: boolean },
): (req: IncomingMessage, res: ServerResponse) => void {
  const { metrics, logger } = core;
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
