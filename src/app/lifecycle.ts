/**
 * Start and stop. start: Bolt's init (auth.test) → the metrics port → listen (HTTP, or Socket Mode) → recover the
 * steps a previous process left → ready. stop: not ready → no new clicks → close the receiver → drain the steps
 * (grace, then cut off) → the webhook intake → Slack posts → graphs, claims, store. The order is here; what each part
 * decides lives with it (slack/connection.ts, incident/stop-steps.ts, slack/interrupted-steps.ts, ingest/intake.ts).
 */
import type { Server } from 'node:http';
import { closeServer, metricsHandler, startMetricsServer } from '../http/metrics-server';
import { stopSteps } from '../incident/stop-steps';
import { RepeatingTask } from '../repeating-task';
import { checkSlackToken, disconnectFromSlack, listenForSlack, type Receiving } from '../slack/connection';
import { tellInterrupted } from '../slack/interrupted-steps';
import type { Core } from './core';
import type { Readiness } from './receiver';
import type { Services } from './services';

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
  let metricsServer: Server | undefined;
  let stopped: Promise<void> | undefined;
  const tell = (swept: Parameters<typeof tellInterrupted>[1]) =>
    void tellInterrupted({ presenter, store, logger }, swept);
  // Incident messages nobody posted (the replica that opened them died first): posted on the replicas' heartbeat.
  const unposted = new RepeatingTask(
    () => flow.postUnposted(),
    (err) => logger.warn({ err }, 'could not look for unposted incident messages'),
  );

  async function start(): Promise<number> {
    await checkSlackToken(receiving, { apiUrl: env.apiUrl, retries: config.slack.retries });
    metricsServer = await startMetricsServer(env.metricsPort, metricsHandler(core, { perHost: true }));
    const port = await listenForSlack(receiving, env.port);
    // Steps a previous process (or a dead replica) left queued or running will never finish: say so, on the timeline,
    // the message and (a dead replica's) in the thread. Then renew this replica's leases and sweep, on a heartbeat.
    tell(await core.stepLeases.recover());
    core.stepLeases.start(tell);
    unposted.start(config.replicas.heartbeatSec * 1000);
    readiness.set(true);
    return port;
  }

  /**
   * No new clicks; steps queued but not started are dropped (recorded as interrupted, nothing ran); running steps get
   * `shutdown.graceMs` to finish, then are cut off (incident/stop-steps.ts). Replies under way are sent, then the
   * store is closed.
   */
  async function stopBot(): Promise<void> {
    readiness.set(false);
    const sweepStopped = unposted.stop();
    inflight.beginStop();
    await disconnectFromSlack(receiving, logger);
    await closeServer(metricsServer);
    const queueStopped = scheduler
      .stop({ dropWaiting: true })
      .catch((err: unknown) => logger.warn({ err }, 'host queues did not stop cleanly'));
    await stopSteps({ inflight, executor, record: core.runStepDeps, graceMs: config.shutdown.graceMs, logger });
    await queueStopped;
    // Every step of this replica has ended (its lease with it): the heartbeat may stop.
    await core.stepLeases.stop();
    // Alerts Alertmanager was told were taken: handled before the posts are flushed, within the same bound.
    await intake.drain(5000);
    // Slack messages read partially and still waiting for the webhook's alerts stand alone now (the store closes next);
    // webhook alerts waiting for their Slack message are in the store, posted by a replica once their claim expires.
    await flow.flushMeeting();
    await sweepStopped;
    await presenter.close(5000);
    await core.graphs.close();
    await core.sharedLimits?.close();
    await core.eventClaims.close();
    await store.close();
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
