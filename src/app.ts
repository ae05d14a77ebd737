/**
 * createApp(deps): builds the bot from settings and wires its features. Importing it has no side effects; nothing
 * listens until start(). Tests pass their own store, executor or clock.
 *
 * Built in dependency order, each part from the ones before it, nothing used before it is built:
 * the core (settings checks, runbooks, store, SSH executor and limits, metrics; no Slack) → the services that speak to
 * Slack (presenter, alert flow and webhook intake, step runner, mitigation) → the receiver and its HTTP routes →
 * the features' listeners → the start/stop lifecycle.
 */
import type { App } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { buildCore, type CreateAppOptions } from './app/core';
import { registerFeatures } from './app/features';
import { createLifecycle, type Lifecycle } from './app/lifecycle';
import { buildReceiver, Readiness, slackClientOptions } from './app/receiver';
import { buildServices } from './app/services';
import type { Config } from './config/schema';
import type { Executor } from './exec/types';
import type { StepScheduler } from './incident/run-step';
import type { IncidentStore } from './incident/store';
import { boltLogger, type Logger } from './logger';
import type { Metrics } from './metrics';
import type { RunbookRegistry } from './runbook/load-runbooks';
import type { IncidentPresenter } from './slack/incident-presenter';

export type { CreateAppOptions } from './app/core';

/** The parts of a built bot that tests and benchmarks look into (the same objects the features use). */
export interface PilotParts {
  config: Readonly<Config>;
  store: IncidentStore;
  runbooks: RunbookRegistry;
  executor: Executor;
  scheduler: StepScheduler;
  presenter: IncidentPresenter;
  logger: Logger;
  now: () => Date;
}

export interface Pilot extends Lifecycle {
  app: App;
  client: WebClient;
  deps: PilotParts;
  metrics: Metrics;
  /**
   * Stops taking clicks, lets running steps finish for `shutdown.graceMs` (the rest are recorded as interrupted),
   * closes SSH connections and the store. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
}

/** Builds the bot. Throws PilotError on a bad runbook folder or an unusable store. */
export async function createApp(opts: CreateAppOptions): Promise<Pilot> {
  const core = await buildCore(opts);
  // The services' own client, configured as Bolt's (the receiver, built next, needs the webhook intake built here).
  const client = new WebClient(core.env.botToken, { ...slackClientOptions(core), logger: boltLogger(core.logger) });
  const services = buildServices(core, client);
  const readiness = new Readiness();
  const receiving = buildReceiver(core, { intake: services.intake, readiness });
  registerFeatures(receiving.app, core, services);
  const lifecycle = createLifecycle(core, services, receiving, readiness);
  const { config, store, runbooks, executor, scheduler, logger, now } = core;
  return {
    app: receiving.app,
    client,
    deps: { config, store, runbooks, executor, scheduler, presenter: services.presenter, logger, now },
    metrics: core.metrics,
    start: lifecycle.start,
    stop: lifecycle.stop,
    metricsPort: lifecycle.metricsPort,
  };
}
