/**
 * Start and stop. start: Bolt's init (auth.test) → the metrics port → listen (HTTP, or Socket Mode) → recover the
 * steps a previous process left → ready. stop: not ready → no new clicks → close the receiver → drain the steps
 * (grace, then cut off) → the webhook intake → Slack posts → graphs, claims, store.
 */
import { createServer, type IncomingMessage, Server, type ServerResponse } from 'node:http';
import type { SocketModeReceiver } from '@slack/bolt';
import { PilotError } from '../errors';
import { sendJson } from '../http/read-body';
import { recordInterrupted } from '../incident/run-step';
import type { SweptStep } from '../incident/step-leases';
import { withDeadline } from '../with-deadline';
import type { Core } from './core';
import { metricsHandler, type Readiness, type Receiving } from './receiver';
import type { Services } from './services';
import { slackStartError } from './slack-start-error';

export interface Lifecycle {
  /** Starts listening; resolves with the bound port (useful with PORT=0) once /healthz answers 200. */
  start(): Promise<number>;
  /** Stops (see stopBot); calling it again returns the same promise. */
  stop(): Promise<void>;
  /** The port /metrics listens on when METRICS_PORT is set, once started. */
  metricsPort(): number | undefined;
}

/** The bot's start and stop, over what createApp built. */
export function createLifecycle(
  core: Core,
  services: Pick<Services, 'presenter' | 'intake' | 'flow'>,
  receiving: Receiving,
  readiness: Readiness,
): Lifecycle {
  const { config, env, logger, store, inflight, scheduler, executor } = core;
  const { presenter, intake, flow } = services;
  const { app, socketReceiver } = receiving;
  let metricsServer: Server | undefined;
  let unposted: NodeJS.Timeout | undefined;
  let postingUnposted: Promise<unknown> | undefined;
  let stopped: Promise<void> | undefined;

  async function start(): Promise<number> {
    // Bolt's auth.test of the bot token: a refusal or an unreachable Slack is one line that names the variable.
    await app.init().catch((err: unknown) => {
      throw slackStartError(err, {
        variable: 'SLACK_BOT_TOKEN',
        method: 'auth.test',
        ...(env.apiUrl ? { apiUrl: env.apiUrl } : {}),
        retries: config.slack.retries,
      });
    });
    if (env.metricsPort !== undefined)
      metricsServer = await startMetricsServer(env.metricsPort, metricsHandler(core, { perHost: true }));
    const port = socketReceiver ? await startSocketMode(socketReceiver) : await startHttp();
    // Steps a previous process (or a dead replica) left queued or running will never finish: say so, on the timeline,
    // the message and (a dead replica's) in the thread. Then renew this replica's leases and sweep, on a heartbeat.
    tellInterrupted(await core.stepLeases.recover());
    core.stepLeases.start(tellInterrupted);
    // Incident messages nobody posted (the replica that opened them died first): posted on the same heartbeat.
    unposted = setInterval(() => {
      if (postingUnposted) return;
      postingUnposted = flow
        .postUnposted()
        .catch((err: unknown) => logger.warn({ err }, 'could not look for unposted incident messages'))
        .finally(() => {
          postingUnposted = undefined;
        });
    }, config.replicas.heartbeatSec * 1000);
    unposted.unref();
    readiness.set(true);
    return port;
  }

  /**
   * No new clicks; steps queued but not started are dropped (recorded as interrupted, nothing ran); running steps get
   * `shutdown.graceMs` to finish. Then the SSH connections are closed, which ends what still runs on the hosts; those
   * steps are recorded as interrupted. Replies under way are sent, then the store is closed.
   */
  async function stopBot(): Promise<void> {
    readiness.set(false);
    clearInterval(unposted);
    inflight.beginStop();
    await closeReceiver();
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
        await recordInterrupted(core.runStepDeps, step, step.started, {
          reason: 'did not settle after its connection was closed',
        });
      } catch (err) {
        logger.error({ err, incidentId: step.incidentId, stepId: step.stepId }, 'could not record an interrupted step');
      }
    }
    await queueStopped;
    // Every step of this replica has ended (its lease with it): the heartbeat may stop.
    await core.stepLeases.stop();
    // Alerts Alertmanager was told were taken: handled before the posts are flushed, within the same bound.
    await intake.drain(5000);
    // Slack messages read partially and still waiting for the webhook's alerts stand alone now (the store closes next);
    // webhook alerts waiting for their Slack message are in the store, posted by a replica once their claim expires.
    await flow.flushMeeting();
    await postingUnposted;
    await presenter.close(5000);
    await core.graphs.close();
    await core.sharedLimits?.close();
    await core.eventClaims.close();
    await store.close();
  }

  /**
   * The incidents whose steps a sweep recorded interrupted: their messages refreshed, and for a replica that died, a
   * line in the thread (its own "running …" reply will never be replaced).
   */
  function tellInterrupted(swept: SweptStep[]): void {
    for (const incidentId of new Set(swept.map((s) => s.step.incidentId))) void presenter.refresh(incidentId);
    for (const s of swept) {
      if (s.reason !== 'lease-expired') continue;
      void (async () => {
        const incident = await store.get(s.step.incidentId);
        if (!incident?.threadTs) return;
        await presenter.reply(incident, { text: interruptedLine(s) });
      })().catch((err: unknown) =>
        logger.warn({ err, incidentId: s.step.incidentId }, 'could not tell the thread of an interrupted step'),
      );
    }
  }

  /** The receiver, the metrics port and (Socket Mode) the WebSocket, closed: no request reaches the bot any more. */
  async function closeReceiver(): Promise<void> {
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
  }

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

  return {
    start,
    stop() {
      stopped ??= stopBot();
      return stopped;
    },
    metricsPort() {
      const address = metricsServer?.address();
      return typeof address === 'object' && address ? address.port : undefined;
    },
  };
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
          'PORT_UNAVAILABLE',
          `cannot listen for /metrics on METRICS_PORT ${port}: ${err.code ?? err.message}`,
          { hint: 'choose a free port for METRICS_PORT, or unset it to serve /metrics on PORT' },
        ),
      ),
    );
    server.listen(port, () => resolve(server));
  });
}

/** What the thread reads when a dead replica's step is recorded interrupted. */
export function interruptedLine(s: SweptStep): string {
  const { actionId } = s.step.state;
  const since = s.step.leaseUntil ? ` (its lease expired at ${s.step.leaseUntil.slice(11, 19)} UTC)` : '';
  return s.ran
    ? `⚠️ ${actionId} was interrupted: the bot process running it stopped${since}. Its outcome is unknown: check the host before running it again.`
    : `⚠️ ${actionId} was interrupted before it ran: the bot process that queued it stopped${since}. Nothing ran; run it again.`;
}
