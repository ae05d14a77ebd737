/**
 * The core of the bot: what it knows and what it acts on, built from the settings without Slack. Settings a bot must
 * not start with stop here. Nothing listens and no timer runs; only the store (its file, or Postgres) and the shared
 * limits (Redis, when configured) are opened, because a bot that cannot reach them must not start. The SSH pool and
 * the graph worker connect or start on first use.
 */
import { resolve } from 'node:path';
import { buildCommand } from '../actions/build-command';
import { builtinActions } from '../actions/catalog';
import { systemNow, systemSleep } from '../clock';
import { configWarnings } from '../config/config-warnings';
import type { Settings } from '../config/load-config';
import type { Config } from '../config/schema';
import { countSshErrors } from '../exec/count-ssh-errors';
import { HostLimiter } from '../exec/host-limiter';
import { checkKeyFilesSync } from '../exec/key-permissions';
import { assertKeySources } from '../exec/key-sources';
import { limitsWarnings, openConfiguredLimits, type SharedLimits } from '../exec/shared-limits';
import { SshPool } from '../exec/ssh-pool';
import type { Executor } from '../exec/types';
import { AlertStateTracker } from '../incident/alert-state';
import type { EventClaims } from '../incident/event-claims';
import { hostChoicesOf } from '../incident/host-choices';
import { InflightSteps } from '../incident/inflight-steps';
import { openStore } from '../incident/open-store';
import { judgeStep, type RunStepDeps, toSshTarget } from '../incident/run-step';
import { StepLeases } from '../incident/step-leases';
import type { IncidentStore } from '../incident/store';
import type { Incident } from '../incident/types';
import { LabelMemory } from '../ingest/label-memory';
import { assertWebhookClosed } from '../ingest/webhook-auth';
import type { Logger } from '../logger';
import { Metrics } from '../metrics';
import { AlertmanagerClient } from '../observe/alertmanager-client';
import { GraphWorker } from '../observe/graph-worker';
import { PrometheusClient } from '../observe/prometheus-client';
import { serviceSettings } from '../observe/service-settings';
import { newReplicaId } from '../replica-id';
import { formatRunbookProblem, loadRunbooks, type RunbookRegistry } from '../runbook/load-runbooks';
import { describeNonCatalogCommand, nonCatalogCommands } from '../runbook/non-catalog-commands';

/** What createApp takes: the settings and a logger; tests pass their own store, claims, executor or clock. */
export interface CreateAppOptions {
  settings: Settings;
  logger: Logger;
  store?: IncidentStore;
  /** Where Slack event ids are claimed (default: the store's SQLite file). */
  eventClaims?: EventClaims;
  executor?: Executor;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** This process's id among the replicas sharing the store (default: a new random one, logged at start). */
  replicaId?: string;
}

/** The bot's core: settings, runbooks, store, SSH executor and limits, metrics. */
export interface Core {
  config: Readonly<Config>;
  env: Settings['env'];
  logger: Logger;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  runbooks: RunbookRegistry;
  store: IncidentStore;
  eventClaims: EventClaims;
  /** This process's id among the replicas sharing the store: its post claims and step leases carry it. */
  replicaId: string;
  /** The leases of this replica's queued and running steps, and the sweep for other replicas' expired ones. */
  stepLeases: StepLeases;
  /** The SSH pool, unless an executor was passed in; its connection counts feed /metrics. */
  pool?: SshPool;
  /** Runs commands on hosts (the pool, or the one passed in), its SSH failures counted. */
  executor: Executor;
  scheduler: HostLimiter;
  /** The limits replicas share through Redis (limits.redis.url or REDIS_URL); unset: per process. */
  sharedLimits?: SharedLimits;
  inflight: InflightSteps;
  metrics: Metrics;
  /** What running a step needs (store, executor, limits, hosts, commands). */
  runStepDeps: RunStepDeps;
  /** The hosts an incident may run on when its alert names none (the binding's `hosts:`); a user picks one. */
  hostChoices(incident: Incident): string[];
  /** Label names and values learned from sources that carry names, to read the default Slack title that does not. */
  labelMemory: LabelMemory;
  alertmanager: AlertmanagerClient;
  prometheus: PrometheusClient;
  /** Alertmanager's view of each incident's alert, cached. */
  alertState: AlertStateTracker;
  /** Graphs are made on a worker thread within a time budget: thousands of series never stall the acks. */
  graphs: GraphWorker;
}

/** Builds the core. Throws PilotError on settings the bot must not start with, or an unusable store. */
export async function buildCore(opts: CreateAppOptions): Promise<Core> {
  const { settings, logger } = opts;
  const { config, env } = settings;
  const now = opts.now ?? systemNow;
  const sleep = opts.sleep ?? systemSleep;
  checkSettings(settings, logger);
  // The SSH pool (its key sources checked) before anything is opened: a missing key is a start-up error, not a failed
  // click. An executor passed in (tests) needs none.
  const pool = opts.executor ? undefined : newSshPool(settings, logger);
  const runbooks = loadRunbooksLogged(config, logger);
  // limits.redis.url (or REDIS_URL): the limits replicas share; unreachable, start-up stops and says what to do.
  const sharedLimits = await openConfiguredLimits(config, env, logger);
  const { store, eventClaims, shared } = await openStore({ ...opts, config, env, logger }).catch(
    async (err: unknown) => {
      await sharedLimits?.close();
      throw err;
    },
  );
  for (const warning of limitsWarnings(shared, sharedLimits)) logger.warn(warning);
  const replicaId = opts.replicaId ?? newReplicaId();
  logger.info({ replicaId }, 'replica id (its post claims and step leases in the store carry it)');
  const metrics = new Metrics();
  const executor = countSshErrors(opts.executor ?? (pool as SshPool), metrics);
  const scheduler = new HostLimiter({
    perHost: config.limits.perHost,
    global: config.limits.global,
    perUser: config.limits.perUser,
    // Every click is counted once, at the door (registerFeatures): not again when its step is scheduled.
    countClicksOnSchedule: false,
    shared: sharedLimits,
  });
  const inflight = new InflightSteps();
  const stepLeases = new StepLeases({
    store,
    replicaId,
    leaseMs: config.replicas.leaseSec * 1000,
    heartbeatMs: config.replicas.heartbeatSec * 1000,
    now,
    logger: logger.child({ component: 'step-leases' }),
    counted: (reason) =>
      metrics.stepsInterrupted.inc({ reason: reason === 'lease-expired' ? 'lease_expired' : reason }),
    beat: (ok) => metrics.leaseHeartbeats.inc({ result: ok ? 'ok' : 'failed' }),
  });
  const choicesOf = hostChoicesOf(config.hosts, runbooks);
  const runStepDeps: RunStepDeps = {
    store,
    executor,
    scheduler,
    hosts: config.hosts,
    buildCommand,
    toSshTarget,
    now,
    logger,
    inflight,
    hostChoices: choicesOf,
    lease: stepLeases.lease(),
    judge: judgeStep,
  };
  const alertmanager = new AlertmanagerClient(serviceSettings(config, 'alertmanager'));
  return {
    config,
    env,
    logger,
    now,
    sleep,
    runbooks,
    store,
    eventClaims,
    replicaId,
    stepLeases,
    ...(pool ? { pool } : {}),
    executor,
    scheduler,
    ...(sharedLimits ? { sharedLimits } : {}),
    inflight,
    metrics,
    runStepDeps,
    hostChoices: choicesOf,
    labelMemory: new LabelMemory(),
    alertmanager,
    prometheus: new PrometheusClient(serviceSettings(config, 'prometheus')),
    alertState: new AlertStateTracker({ alertmanager, now, logger: logger.child({ component: 'alertmanager' }) }),
    graphs: new GraphWorker({
      settings: serviceSettings(config, 'prometheus'),
      timeoutMs: config.prometheus.renderTimeoutMs,
    }),
  };
}

/** Settings a bot must not start with stop here; the rest are warned about. */
function checkSettings(settings: Settings, logger: Logger): void {
  const { config } = settings;
  // An open webhook is a start-up error, not a warning, unless the operator chose it explicitly.
  assertWebhookClosed(config);
  // A key file others can read stops start-up, as ssh would refuse it (checked again before each connection).
  checkKeyFilesSync(config.hosts);
  for (const warning of configWarnings(config)) logger.warn({ config: settings.env.configPath }, warning);
}

/** The SSH pool, once every host's key source was found usable (start-up stops otherwise, naming each). */
function newSshPool(settings: Settings, logger: Logger): SshPool {
  const { config } = settings;
  assertKeySources(config.hosts, settings.environment ?? {}, settings.env.configPath);
  return new SshPool({
    keepaliveIntervalMs: config.ssh.keepaliveIntervalMs,
    idleCloseMs: config.ssh.idleCloseMs,
    logger: logger.child({ component: 'ssh' }),
    env: settings.environment ?? {},
  });
}

/** One unusable runbook file is skipped with one line naming it and the fix; the bot starts with the rest. */
function loadRunbooksLogged(config: Readonly<Config>, logger: Logger): RunbookRegistry {
  const runbooks = loadRunbooks(
    resolve(config.runbooks),
    builtinActions,
    (p) => logger.warn({ file: p.file, problem: p.level }, `runbook: ${formatRunbookProblem(p)}`),
    { displayDir: config.runbooks, readActions: config.mitigation.readActions },
  );
  // Commands a binding brings beside the catalog run like the catalog's: each is named at start, for a reviewer, with
  // how it is treated (a binding's `risk: read` holds only when mitigation.readActions trusts it).
  for (const c of nonCatalogCommands(runbooks.list(), config.mitigation.readActions))
    logger.warn(
      { runbook: c.alertname, action: c.actionId, risk: c.risk, declaredRisk: c.declaredRisk, file: c.file },
      describeNonCatalogCommand(c),
    );
  return runbooks;
}
