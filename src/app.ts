/**
 * createApp(deps): builds the bot from settings and wires its features. Importing it has no side effects; nothing
 * listens until start(). Tests pass their own store, executor or clock.
 */
import { createServer, type IncomingMessage, Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { App, ErrorCode, HTTPReceiver, type Receiver, SocketModeReceiver } from '@slack/bolt';
import type { CustomRoute } from '@slack/bolt/dist/receivers/custom-routes';
import type { WebClient } from '@slack/web-api';
import { buildCommand } from './actions/build-command';
import { builtinActions } from './actions/catalog';
import { renderBackendState } from './actions/render-backend-table';
import type { ActionSpec } from './actions/types';
import { configWarnings } from './config/config-warnings';
import type { Settings } from './config/load-config';
import type { HostConfig } from './config/schema';
import { asPilotError, PilotError } from './errors';
import { HostLimiter } from './exec/host-limiter';
import { checkKeyFileSync } from './exec/key-permissions';
import { SshPool } from './exec/ssh-pool';
import type { Executor, SshTarget } from './exec/types';
import { sendJson } from './http/read-body';
import { hostChoices } from './incident/host-choices';
import { InflightSteps } from './incident/inflight-steps';
import { openPostgresStore, redactUrl } from './incident/postgres-store';
import type { RunStepDeps } from './incident/run-step';
import { recordInterrupted, recoverInterruptedSteps, runActionQuietly } from './incident/run-step';
import { type IncidentStore, SqliteIncidentStore } from './incident/store';
import type { Incident } from './incident/types';
import type { Alert } from './ingest/alert';
import { alertmanagerHandler } from './ingest/alertmanager-route';
import { capAlert } from './ingest/cap-alert';
import { completeAlert } from './ingest/complete-alerts';
import { IntakeQueue } from './ingest/intake-queue';
import { LabelMemory } from './ingest/label-memory';
import { parseAlertmanagerWebhook } from './ingest/parse-alertmanager-webhook';
import { parseSlackAlertMessage } from './ingest/parse-slack-alert';
import { assertWebhookClosed, webhookCredentials } from './ingest/webhook-auth';
import { boltLogger, type Logger } from './logger';
import { Metrics } from './metrics';
import { AccessPolicy } from './mitigation/access';
import { MitigationService } from './mitigation/mitigation-service';
import { parseReadBack, readBackAction } from './mitigation/read-back';
import type { HostSnapshot } from './mitigation/verify';
import { AlertmanagerClient } from './observe/alertmanager-client';
import { GraphWorker } from './observe/graph-worker';
import { PrometheusClient } from './observe/prometheus-client';
import { serviceSettings } from './observe/service-settings';
import { formatRunbookProblem, loadRunbooks } from './runbook/load-runbooks';
import { describeNonCatalogCommand, nonCatalogCommands } from './runbook/non-catalog-commands';
import { AlertFlow } from './slack/alert-flow';
import { AlertStateTracker } from './slack/alert-state';
import { alertParseOptions, registerAlerts } from './slack/alerts';
import { registerCommands } from './slack/commands';
import { registerCompleteLabels } from './slack/complete-labels';
import type { AppDeps, RunbookCatalog } from './slack/deps';
import { type EventClaims, SqliteEventClaims } from './slack/event-claims';
import { IncidentPresenter } from './slack/incident-presenter';
import { instrumentedFetch } from './slack/instrumented-fetch';
import { type MitigationFeatureDeps, registerMitigation, requestMitigation } from './slack/mitigation';
import { registerObserve } from './slack/observe';
import { registerPickHost } from './slack/pick-host';
import { FutureRequestError, refuseFutureRequests, requestTimestampProperties } from './slack/request-timestamp';
import { registerSteps, runAndReport, type StepFeatureDeps } from './slack/steps';
import { registerUnknownActions } from './slack/unknown-actions';

export interface CreateAppOptions {
  settings: Settings;
  logger: Logger;
  store?: IncidentStore;
  /** Where Slack event ids are claimed (default: the store's SQLite file). */
  eventClaims?: EventClaims;
  executor?: Executor;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export interface Pilot {
  app: App;
  client: WebClient;
  deps: StepFeatureDeps;
  metrics: Metrics;
  /** The port /metrics listens on when METRICS_PORT is set (useful with METRICS_PORT=0), once started. */
  metricsPort(): number | undefined;
  /** Starts listening; resolves with the bound port (useful with PORT=0) once /healthz answers 200. */
  start(): Promise<number>;
  /**
   * Stops taking clicks, lets running steps finish for `shutdown.graceMs` (the rest are recorded as interrupted),
   * closes SSH connections and the store. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
}

/** Builds the bot. Throws PilotError on a bad runbook folder or an unusable store. */
export async function createApp(opts: CreateAppOptions): Promise<Pilot> {
  const { settings, logger } = opts;
  const { config, env } = settings;
  const now = opts.now ?? (() => new Date());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  // An open webhook is a start-up error, not a warning, unless the operator chose it explicitly.
  assertWebhookClosed(config);
  // A key file others can read stops start-up, as ssh would refuse it (checked again before each connection).
  for (const host of config.hosts) if (host.ssh.privateKeyPath) checkKeyFileSync(host.ssh.privateKeyPath, host.name);
  for (const warning of configWarnings(config)) logger.warn({ config: settings.env.configPath }, warning);
  // One unusable runbook file is skipped with one line naming it and the fix; the bot starts with the rest.
  const runbooks: RunbookCatalog = loadRunbooks(
    resolve(config.runbooks),
    builtinActions,
    (p) => logger.warn({ file: p.file, problem: p.level }, `runbook: ${formatRunbookProblem(p)}`),
    { displayDir: config.runbooks },
  );
  // Commands a binding brings beside the catalog run like the catalog's: each is named at start, for a reviewer.
  for (const c of nonCatalogCommands(runbooks.list()))
    logger.warn({ runbook: c.alertname, action: c.actionId, risk: c.risk, file: c.file }, describeNonCatalogCommand(c));
  // store.url (or DATABASE_URL) selects the Postgres store replicas share; without it, the SQLite file of one process.
  const databaseUrl = config.store.url ?? env.databaseUrl;
  const pgStore = !opts.store && databaseUrl ? await openPostgresStore(databaseUrl) : undefined;
  if (pgStore) {
    logger.info(
      { store: redactUrl(databaseUrl as string) },
      'store: Postgres (incidents, timeline, audit, locks and Slack event claims are shared by every replica)',
    );
    // Issue #13 asks for the limits to be shared through Redis (limits.redis.url); until that lands, say what is not shared.
    logger.warn(
      'store: Postgres, but the per-host SSH limits, the per-user click limit and the per-channel post pace are kept per process: N replicas allow N times as much',
    );
  }
  const store = opts.store ?? pgStore ?? new SqliteIncidentStore(config.store.path);
  const eventClaims = opts.eventClaims ?? (pgStore ? pgStore.eventClaims() : new SqliteEventClaims(config.store.path));
  const pool = opts.executor
    ? undefined
    : new SshPool({
        keepaliveIntervalMs: config.ssh.keepaliveIntervalMs,
        idleCloseMs: config.ssh.idleCloseMs,
        logger: logger.child({ component: 'ssh' }),
      });
  const inflight = new InflightSteps();
  const scheduler = new HostLimiter({
    perHost: config.limits.perHost,
    global: config.limits.global,
    perUser: config.limits.perUser,
  });
  // Sources are read at scrape time only; the presenter is built below.
  const metrics: Metrics = new Metrics({
    // One count query per scrape, not every open incident loaded and parsed.
    openIncidents: async () => await store.countOpen(),
    hostQueues: () => scheduler.stats().hosts,
    sshStats: () => pool?.stats() ?? { connects: 0, reconnects: 0, failures: 0, open: 0 },
    slackQueued: (): number => presenter.queued(),
    intakeQueued: (): number => intake.depth(),
  });
  const executor = countSshErrors(opts.executor ?? (pool as SshPool), metrics);

  let ready = false;
  let stopped: Promise<void> | undefined;
  const serveMetrics = (_req: IncomingMessage, res: ServerResponse): void => {
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        logger.error({ err }, 'could not collect metrics');
        sendJson(res, 500, { error: 'could not collect metrics, see logs' });
      },
    );
  };
  const customRoutes: CustomRoute[] = [
    { path: '/healthz', method: ['GET'], handler: (_req, res) => sendJson(res, ready ? 200 : 503, { ok: ready }) },
    // With METRICS_PORT, /metrics is served there only, so the public port need not expose it.
    ...(env.metricsPort === undefined ? [{ path: '/metrics', method: ['GET'], handler: serveMetrics }] : []),
  ];
  let metricsServer: Server | undefined;
  const flowRef: { current?: AlertFlow } = {};
  // Label names and values learned from sources that carry names, to read the default Slack title that does not.
  const labelMemory = new LabelMemory();
  const limits = { maxValueChars: config.ingest.maxValueChars, maxAlertChars: config.ingest.maxAlertChars };
  // Webhook alerts wait here between the 202 and their work; a full queue answers 503 and Alertmanager retries.
  const intake = new IntakeQueue<Alert>({
    capacity: config.ingest.maxQueuedAlerts,
    concurrency: config.ingest.concurrency,
    handle: async (alert) => {
      await flowRef.current?.fromWebhook(alert);
    },
    onError: (err, alert) => logger.error({ err, fingerprint: alert.fingerprint }, 'could not handle a webhook alert'),
  });
  customRoutes.push({
    path: '/alertmanager',
    method: ['POST'],
    handler: alertmanagerHandler({
      auth: webhookCredentials(config),
      parse: (body) => parseAlertmanagerWebhook(body).map((a) => capAlert(a, limits)),
      logger,
      offer: (alerts) => {
        const offered = intake.offer(alerts);
        if (offered === 'queued') {
          for (const alert of alerts) {
            metrics.alertsReceived.inc({ source: 'webhook', status: alert.status });
            labelMemory.learn(alert.labels);
          }
        } else metrics.alertsRefused.inc({ reason: offered === 'full' ? 'queue_full' : 'too_large' }, alerts.length);
        return offered;
      },
      retryAfterSec: config.ingest.retryAfterSec,
      capacity: config.ingest.maxQueuedAlerts,
    }),
  });

  // Bolt hands `installerOptions.clientOptions` to the Socket Mode client's own WebClient (apps.connections.open).
  const socketReceiver = env.socketMode
    ? new SocketModeReceiver({
        appToken: env.appToken as string,
        customRoutes,
        installerOptions: { port: env.port, ...(env.apiUrl ? { clientOptions: { slackApiUrl: env.apiUrl } } : {}) },
        logger: boltLogger(logger),
      })
    : undefined;
  const receiver: Receiver =
    socketReceiver ??
    new HTTPReceiver({
      signingSecret: env.signingSecret,
      endpoints: '/slack/events',
      customRoutes,
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
  const app = new App({
    token: env.botToken,
    // Bolt's own auth.test then runs in start() (app.init), awaited: built eagerly, an unreachable Slack rejects it
    // unhandled later, which ends the process.
    deferInitialization: true,
    receiver,
    logger: boltLogger(logger),
    clientOptions: {
      ...(env.apiUrl ? { slackApiUrl: env.apiUrl } : {}),
      // A hung call is abandoned and retried like a 5xx; a 429 waits its Retry-After before the retry.
      timeout: config.slack.requestTimeoutMs,
      retryConfig: { retries: config.slack.retries, factor: 2, minTimeout: 500, maxTimeout: 30_000 },
      // Every WebClient Bolt builds (one per listener too) goes through this fetch: Slack errors and 429s are counted.
      fetch: instrumentedFetch(metrics),
    },
  });
  // Bolt verifies signatures against the real clock; the future side is checked against the same one.
  app.use(refuseFutureRequests(() => new Date(), logger));
  const client = app.client;

  const alertmanager = new AlertmanagerClient(serviceSettings(config, 'alertmanager'));
  const prometheus = new PrometheusClient(serviceSettings(config, 'prometheus'));
  const alertState = new AlertStateTracker({ alertmanager, now, logger: logger.child({ component: 'alertmanager' }) });
  // The hosts an incident may run on when its alert names none (the binding's `hosts:`); a user picks one.
  const choicesOf = (incident: Incident): string[] =>
    hostChoices(config.hosts, runbooks.get(incident.alertname)?.binding, incident.alert.labels).map((h) => h.name);
  const presenter = new IncidentPresenter({
    client,
    store,
    runbooks,
    logger,
    hostLabel: (name) => runbooks.get(name)?.binding?.hostLabel ?? 'instance',
    hostChoices: choicesOf,
    pace: {
      perSecond: config.slack.postsPerSecond,
      burst: config.slack.postBurst,
      maxQueued: config.slack.maxQueuedPosts,
    },
    alertState,
    now,
  });

  const runStepDeps: RunStepDeps = {
    store,
    executor,
    scheduler,
    hosts: config.hosts,
    buildCommand: (action, ctx) => buildCommand(action, ctx),
    toSshTarget,
    now,
    logger,
    inflight,
    hostChoices: choicesOf,
  };
  const base: AppDeps = { config, store, runbooks, executor, scheduler, logger, now };
  const access = new AccessPolicy(
    config.access,
    async (usergroup) => (await client.usergroups.users.list({ usergroup })).users ?? [],
  );
  const stepDeps = {
    ...base,
    presenter,
    runStepDeps,
    metrics,
    formatOutput: (action: ActionSpec, stdout: string, labels: Record<string, string>) =>
      action.render === 'backend-state' && (labels.backend ?? labels.proxy)
        ? renderBackendState(stdout, (labels.backend ?? labels.proxy) as string, labels.server)
        : undefined,
  };
  const mitigation = new MitigationService({
    store,
    access,
    hosts: config.hosts,
    settings: config.mitigation,
    buildCommand: (action, ctx) => buildCommand(action, ctx),
    precheckAction: runbooks.action(undefined, 'config-check'),
    hostChoices: choicesOf,
    runQuietly: (host, action, labels, user) => runActionQuietly(runStepDeps, host, action, labels, user),
    runStep: (req) => runAndReport(stepDeps, req),
    readBack: async (host: HostConfig, labels: Record<string, string>): Promise<HostSnapshot> => {
      // buildCommand applies a host's `commands.read-back` override, like any action's.
      const { result } = await runActionQuietly(runStepDeps, host, readBackAction, labels);
      return parseReadBack(result.stdout.text);
    },
    // Asked fresh before a mitigation; bounded so the modal still opens within Slack's 3 s trigger window.
    alertActive: async (incident) => {
      if (!alertState.configured) return undefined;
      const answer = await withDeadline(alertState.check(incident, { fresh: true }), ALERT_STATE_DEADLINE_MS);
      if (!answer || answer.view.kind === 'unknown') return undefined;
      return answer.view.kind !== 'resolved';
    },
    now,
    sleep,
  });
  const mitigationDeps: MitigationFeatureDeps = { mitigation, presenter, store, runbooks, logger };
  const deps: StepFeatureDeps = { ...stepDeps, requestMitigation: (args) => requestMitigation(mitigationDeps, args) };

  // Graphs are made on a worker thread within a time budget: thousands of series never stall the acks.
  const graphs = new GraphWorker({
    settings: serviceSettings(config, 'prometheus'),
    timeoutMs: config.prometheus.renderTimeoutMs,
  });
  const observe = registerObserve(app, { ...base, presenter, access, alertmanager, prometheus, alertState, graphs });
  const flow = new AlertFlow(base, presenter, {
    opened: (incident) => observe.incidentOpened(incident),
    resolved: (incident) => observe.incidentResolved(incident),
  });
  flowRef.current = flow;

  let botId: Promise<string | undefined> | undefined;
  const parseOpts = {
    ...alertParseOptions(runbooks, config.hosts, labelMemory),
    alertSenders: config.slack.alertSenders,
  };
  registerAlerts(app, {
    ...base,
    flow,
    eventClaims,
    parse: (event) => {
      const parsed = parseSlackAlertMessage(event, parseOpts);
      if (!parsed) return parsed;
      for (const a of parsed.alerts) {
        metrics.alertsReceived.inc({ source: a.source, status: a.status });
        // Templates that list labels by name teach them; a title read by inference does not teach itself.
        if (a.source === 'alertmanager-template' && a.missingLabels.length === 0) labelMemory.learn(a.labels);
      }
      return { ...parsed, alerts: parsed.alerts.map((a) => capAlert(a, limits)) };
    },
    complete: async (alert) =>
      (
        await completeAlert(alert, {
          listAlerts: alertmanager.configured ? (labels) => alertmanager.listAlerts(labels) : undefined,
          openAlerts: async (alertname) =>
            (await store.listOpen()).filter((i) => i.alertname === alertname).map((i) => i.alert),
          learn: (labels) => labelMemory.learn(labels),
          logger,
        })
      ).alerts,
    botId: () => {
      botId ??= client.auth.test().then(
        (r) => r.bot_id,
        (err: unknown) => {
          botId = undefined;
          logger.warn({ err }, 'auth.test failed: cannot tell the bot’s own messages yet');
          return undefined;
        },
      );
      return botId;
    },
  });
  registerSteps(app, deps);
  registerCompleteLabels(app, { ...base, presenter, learn: (labels) => labelMemory.learn(labels) });
  registerPickHost(app, { ...base, presenter, hostChoices: choicesOf });
  registerMitigation(app, mitigationDeps);
  registerCommands(app, { ...deps, flow, access });
  registerUnknownActions(app, deps);
  app.error(async (err) => {
    // Rethrown so the receiver answers 401 (before any ack) instead of acking a refused request.
    if (err instanceof FutureRequestError) throw err;
    logger.error({ err }, 'unhandled error in a listener');
  });

  return {
    app,
    client,
    deps,
    metrics,
    async start() {
      await app.init();
      if (env.metricsPort !== undefined) metricsServer = await startMetricsServer(env.metricsPort, serveMetrics);
      const port = socketReceiver ? await startSocketMode(socketReceiver) : await startHttp();
      // Steps a previous process left queued or running will never finish: say so, on the timeline and the message.
      for (const incidentId of await recoverInterruptedSteps({ store, now })) void presenter.refresh(incidentId);
      ready = true;
      return port;
    },
    stop() {
      stopped ??= stopBot();
      return stopped;
    },
    metricsPort() {
      const address = metricsServer?.address();
      return typeof address === 'object' && address ? address.port : undefined;
    },
  };

  async function startHttp(): Promise<number> {
    const server: unknown = await app.start(env.port);
    const address = server instanceof Server ? server.address() : null;
    return typeof address === 'object' && address ? address.port : env.port;
  }

  /**
   * Socket Mode: Bolt starts listening for the custom routes (/healthz, /metrics, /alertmanager) without waiting for it
   * and resolves once Slack's `hello` arrives. If either fails, what did start is stopped again: a token Slack refuses
   * becomes a PilotError that says which token to fix.
   */
  async function startSocketMode(socket: SocketModeReceiver): Promise<number> {
    // Bolt 5.1 keeps this server private; it exists whenever customRoutes are given, as they are here.
    const server = (socket as unknown as { httpServer: Server }).httpServer;
    const listening = new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const [listened, connected] = await Promise.allSettled([listening, app.start()]);
    const failed = [listened, connected].find((r) => r.status === 'rejected');
    if (failed) {
      await app.stop().catch(() => undefined);
      throw socketModeStartError(failed.reason);
    }
    const address = server.address();
    return typeof address === 'object' && address ? address.port : env.port;
  }

  /**
   * No new clicks; steps queued but not started are dropped (recorded as interrupted, nothing ran); running steps get
   * `shutdown.graceMs` to finish. Then the SSH connections are closed, which ends what still runs on the hosts; those
   * steps are recorded as interrupted. Replies under way are sent, then the store is closed.
   */
  async function stopBot(): Promise<void> {
    ready = false;
    inflight.beginStop();
    // Bolt's stop() does not wait for the WebSocket's close handshake; stop() resolves with the socket closed.
    const disconnected = socketReceiver
      ? new Promise<void>((r) => socketReceiver.client.once('disconnected', () => r()))
      : undefined;
    await app.stop().catch((err: unknown) => logger.warn({ err }, 'receiver did not stop cleanly'));
    if (metricsServer) await new Promise<void>((r) => metricsServer?.close(() => r()));
    if (
      disconnected &&
      !(await withDeadline(
        disconnected.then(() => true),
        5000,
      ))
    )
      logger.warn('the Socket Mode connection did not close within 5 s');
    const queueStopped = scheduler
      .stop({ dropWaiting: true })
      .catch((err: unknown) => logger.warn({ err }, 'host queues did not stop cleanly'));
    const running = await inflight.drain(config.shutdown.graceMs);
    if (running.length > 0)
      logger.warn(
        { steps: running.length, graceMs: config.shutdown.graceMs },
        'steps still running at the end of the grace period: cutting them off',
      );
    inflight.cutOff();
    await executor.close();
    // Closing the connections makes their commands settle as interrupted; one that does not is recorded here.
    for (const step of await inflight.drain(3000)) {
      try {
        await recordInterrupted(runStepDeps, step, step.started, {
          reason: 'did not settle after its connection was closed',
        });
      } catch (err) {
        logger.error({ err, incidentId: step.incidentId, stepId: step.stepId }, 'could not record an interrupted step');
      }
    }
    await queueStopped;
    // Alerts Alertmanager was told were taken: handled before the posts are flushed, within the same bound.
    if (!(await intake.drain(5000)))
      logger.warn(
        { queued: intake.depth() },
        'webhook alerts still queued at stop were not handled (Alertmanager sends them again)',
      );
    await presenter.close(5000);
    await graphs.close();
    await eventClaims.close();
    await store.close();
  }

  function toSshTarget(host: HostConfig): SshTarget {
    return { name: host.name, ...host.ssh };
  }
}

/**
 * What a failed Socket Mode start means for the operator: Slack's answer to apps.connections.open (invalid_auth for a
 * wrong or revoked app-level token) names the token to fix; anything else (a port in use, say) passes through.
 */
function socketModeStartError(err: unknown): unknown {
  const slackError =
    (err as { code?: string; data?: { error?: unknown } } | undefined)?.code === 'slack_webapi_platform_error'
      ? (err as { data: { error?: unknown } }).data.error
      : undefined;
  if (typeof slackError !== 'string') return err;
  return new PilotError(
    'SLACK_CONNECT_FAILED',
    `Slack refused the Socket Mode connection: apps.connections.open answered ${slackError}`,
    { cause: err },
  );
}

/**
 * /metrics on its own port (METRICS_PORT): GET /metrics answers, anything else is 404. Resolves once listening; a
 * port in use rejects, and start-up stops.
 */
function startMetricsServer(
  port: number,
  serveMetrics: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') return serveMetrics(req, res);
    sendJson(res, 404, { error: 'only GET /metrics is served on this port' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new PilotError(
          'CONFIG_MISSING_ENV',
          `cannot listen for /metrics on METRICS_PORT ${port}: ${err.code ?? err.message}`,
          { hint: 'choose a free port for METRICS_PORT, or unset it to serve /metrics on PORT' },
        ),
      ),
    );
    server.listen(port, () => resolve(server));
  });
}

/** How long a mitigation click waits for Alertmanager before it shows the modal with the alert state unknown. */
const ALERT_STATE_DEADLINE_MS = 1500;

/** The promise's value, or undefined when it takes longer than `ms`. */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Counts SSH failures (SSH_* errors from the executor) by host and code; results and other errors pass through. */
function countSshErrors(executor: Executor, metrics: Metrics): Executor {
  return {
    async run(target, command, opts) {
      try {
        return await executor.run(target, command, opts);
      } catch (err) {
        const code = asPilotError(err).code;
        if (code.startsWith('SSH_')) metrics.sshErrors.inc({ host: target.name, code });
        throw err;
      }
    },
    close: () => executor.close(),
  };
}
