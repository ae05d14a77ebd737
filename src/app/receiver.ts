/**
 * How requests reach the bot: the HTTP routes beside Slack's (`/healthz`, `/metrics`, `/alertmanager`), the receiver
 * (HTTP, or Socket Mode) and the Bolt App on it. Transport only: what a request does lives in the features.
 */
import { App, HTTPReceiver, type Receiver, SocketModeReceiver } from '@slack/bolt';
import type { CustomRoute } from '@slack/bolt/dist/receivers/custom-routes';
import type { WebClientOptions } from '@slack/web-api';
import { systemNow } from '../clock';
import { metricsHandler } from '../http/metrics-server';
import { sendJson } from '../http/read-body';
import { BodyBudget, SLACK_MAX_BODY_BYTES } from '../http/request-gate';
import { gateSlackEvents, SLACK_EVENTS_PATH, unroutedRequest } from '../http/slack-events-gate';
import { alertmanagerHandler, webhookMaxBodyBytes } from '../ingest/alertmanager-route';
import type { AlertIntake } from '../ingest/intake';
import { parseAlertmanagerWebhook } from '../ingest/parse-alertmanager-webhook';
import { webhookCredentials } from '../ingest/webhook-auth';
import { boltLogger } from '../logger';
import type { Receiving } from '../slack/connection';
import { instrumentedFetch } from '../slack/instrumented-fetch';
import { listenerErrorHandler, refuseFutureRequests, requestTimestampProperties } from '../slack/request-timestamp';
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

export type { Receiving };

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
  const budget = new BodyBudget(core.config.http.maxBytesInFlight, core.metrics.httpBytesInFlight);
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
  const receiver: Receiver = socketReceiver ?? gatedHttpReceiver(core, customRoutes, budget);
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
  app.use(refuseFutureRequests(systemNow, logger));
  app.error(listenerErrorHandler(logger));
  return socketReceiver ? { app, socketReceiver } : { app };
}

/**
 * The HTTP receiver for Slack's requests, with the request gate (src/http/slack-events-gate.ts) in front of Bolt's
 * listener. Bolt 5.1 keeps its listener in the public `requestListener` property, which its server calls for every
 * request.
 */
function gatedHttpReceiver(
  core: Pick<Core, 'env' | 'logger' | 'metrics'>,
  customRoutes: CustomRoute[],
  budget: BodyBudget,
): HTTPReceiver {
  const { env, logger, metrics } = core;
  const receiver = new HTTPReceiver({
    signingSecret: env.signingSecret,
    endpoints: SLACK_EVENTS_PATH,
    customRoutes,
    // A chunked body (no Content-Length) is cut here; a declared one was refused by the gate before it was read.
    bodyLimit: SLACK_MAX_BODY_BYTES,
    logger: boltLogger(logger),
    processBeforeResponse: false,
    customPropertiesExtractor: requestTimestampProperties,
    dispatchErrorHandler: unroutedRequest(logger),
  });
  receiver.requestListener = gateSlackEvents(receiver.requestListener, {
    budget,
    // Bolt verifies signatures against the real clock; the gate reads the same one.
    now: systemNow,
    logger,
    refused: (reason) => metrics.slackRequestsRefused.inc({ reason }),
  });
  return receiver;
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
