/**
 * The services that speak to Slack, built from the core and a Slack Web API client, in dependency order: the
 * presenter, the observe hooks, the alert flow and its webhook intake, the step runner and the mitigation service.
 * Nothing here listens: the receiver and the feature listeners come after, from these.
 */

import type { WebClient } from '@slack/web-api';
import { buildCommand } from '../actions/build-command';
import { builtinActions } from '../actions/catalog';
import { MemoryClickWindow } from '../exec/click-window';
import { quietRunner, stepRunner } from '../incident/run-step';
import type { Alert } from '../ingest/alert';
import { AlertIntake } from '../ingest/intake';
import { IntakeQueue } from '../ingest/intake-queue';
import { AccessPolicy, slackGroupMembers } from '../mitigation/access';
import { ALERT_STATE_DEADLINE_MS, MitigationService } from '../mitigation/mitigation-service';
import { hostReader } from '../mitigation/read-back';
import { AlertFlow } from '../slack/alert-flow';
import { IncidentPresenter } from '../slack/incident-presenter';
import type { MitigationFeatureDeps } from '../slack/mitigation';
import { type ObserveDeps, observeFeature } from '../slack/observe';
import { type ReportedStepRunner, renderStepOutput, runAndReport, type StepRunnerDeps } from '../slack/steps';
import { TriageService } from '../slack/triage';
import type { Core } from './core';

/** The Slack-side services, each built once from the core. */
export interface Services {
  client: WebClient;
  presenter: IncidentPresenter;
  access: AccessPolicy;
  /** What the silence and graph listeners use (the alert flow calls the same feature when incidents open and close). */
  observeDeps: ObserveDeps;
  flow: AlertFlow;
  /**
   * Where alerts enter, by either door (capped, counted, learned from); webhook alerts wait in its queue between the
   * 202 and their work, and a full queue answers 503 so that Alertmanager retries.
   */
  intake: AlertIntake;
  /** Runs a step and shows it in the thread (buttons, /incident run, mitigation). */
  runAndReport: ReportedStepRunner;
  /** What the mitigation modal and its submission use (the service, the presenter, the click lookup). */
  mitigationDeps: MitigationFeatureDeps;
  /** Runs the triage steps when an incident opens (and a skipped triage when a person asks). */
  triage: TriageService;
}

/** Builds the services; `client` is the bot's Slack Web API client. */
export function buildServices(core: Core, client: WebClient): Services {
  const { config, store, runbooks, logger, now, alertState } = core;
  const presenter = buildPresenter(core, client);
  const access = new AccessPolicy(config.access, slackGroupMembers(client), now);
  const observeDeps: ObserveDeps = {
    config,
    store,
    runbooks,
    scheduler: core.scheduler,
    logger,
    now,
    presenter,
    access,
    alertmanager: core.alertmanager,
    prometheus: core.prometheus,
    alertState,
    graphs: core.graphs,
  };
  const observe = observeFeature(observeDeps);
  const triage = buildTriage(core, presenter);
  const flow = new AlertFlow(
    { config, store, runbooks, logger, now },
    presenter,
    {
      opened: (incident) => {
        observe.incidentOpened(incident);
        triage.incidentOpened(incident);
      },
      resolved: (incident) => observe.incidentResolved(incident),
    },
    { id: core.replicaId, postClaimTtlMs: core.config.replicas.postClaimSec * 1000 },
  );
  const intake = new AlertIntake({
    limits: { maxValueChars: config.ingest.maxValueChars, maxAlertChars: config.ingest.maxAlertChars },
    metrics: core.metrics,
    labelMemory: core.labelMemory,
    queue: new IntakeQueue<Alert>({
      capacity: config.ingest.maxQueuedAlerts,
      concurrency: config.ingest.concurrency,
      handle: (alert) => flow.fromWebhook(alert),
      onError: (err, alert) =>
        logger.error({ err, fingerprint: alert.fingerprint }, 'could not handle a webhook alert'),
    }),
    logger,
  });
  core.metrics.watch({
    // One count query per scrape, not every open incident loaded and parsed.
    openIncidents: async () => await store.countOpen(),
    hostQueues: () => core.scheduler.stats().hosts,
    sshStats: () => core.pool?.stats() ?? { connects: 0, reconnects: 0, failures: 0, open: 0 },
    slackQueued: () => presenter.queued(),
    intakeQueued: () => intake.depth(),
    alertsInProgress: () => flow.inProgress(),
    limitsErrors: () => core.sharedLimits?.errorCounts() ?? {},
  });
  const reporting = stepReporting(core, presenter);
  const reportedRun: ReportedStepRunner = (req) => runAndReport(reporting, req);
  const mitigation = buildMitigation(core, access);
  const mitigationDeps: MitigationFeatureDeps = { mitigation, presenter, reporting, store, runbooks, logger };
  return {
    client,
    presenter,
    access,
    observeDeps,
    flow,
    intake,
    runAndReport: reportedRun,
    mitigationDeps,
    triage,
  };
}

/** Triage on open: the runbook's read steps through the same runner and limits as a click, into one message. */
function buildTriage(core: Core, presenter: IncidentPresenter): TriageService {
  const { config, store, runbooks, logger, now } = core;
  const catalog = new Set(builtinActions.map((a) => a.id));
  return new TriageService({
    config,
    store,
    runbooks,
    presenter,
    runStepDeps: core.runStepDeps,
    // The budgets are sliding minutes like the click limit, in Redis when the replicas share their limits.
    window: core.sharedLimits?.clicks ?? new MemoryClickWindow(),
    inCatalog: (id) => catalog.has(id),
    alertState: core.alertState,
    replicaId: core.replicaId,
    logger: logger.child({ component: 'triage' }),
    now,
  });
}

/** Posts and keeps current the incident messages, paced per channel (shared between replicas with Redis). */
function buildPresenter(core: Core, client: WebClient): IncidentPresenter {
  const { config, store, runbooks, logger, now, alertState } = core;
  return new IncidentPresenter({
    client,
    store,
    runbooks,
    logger,
    hostChoices: core.hostChoices,
    pace: {
      perSecond: config.slack.postsPerSecond,
      burst: config.slack.postBurst,
      maxQueued: config.slack.maxQueuedPosts,
      shared: core.sharedLimits,
    },
    alertState,
    now,
  });
}

/** How a step's reply is shown in the thread (a plain step's and a mitigation's): the bot's one way to report a step. */
function stepReporting(core: Core, presenter: IncidentPresenter): StepRunnerDeps {
  return {
    presenter,
    runStepDeps: core.runStepDeps,
    metrics: core.metrics,
    logger: core.logger,
    formatOutput: renderStepOutput,
  };
}

/**
 * The guarded mitigation workflow: the same step runner as any step (the domain's, reporting to the observer the
 * Slack handler gives), the pre-check and read-back run quietly.
 */
function buildMitigation(core: Core, access: AccessPolicy): MitigationService {
  const { config, store, runbooks, now, alertState } = core;
  return new MitigationService({
    store,
    access,
    hosts: config.hosts,
    settings: config.mitigation,
    buildCommand,
    precheckAction: runbooks.action(undefined, 'config-check'),
    hostChoices: core.hostChoices,
    runQuietly: quietRunner(core.runStepDeps),
    runStep: stepRunner(core.runStepDeps),
    readBack: hostReader(core.runStepDeps),
    // Asked fresh before a mitigation; bounded so the modal still opens within Slack's 3 s trigger window.
    alertActive: alertState.stillFiringWithin(ALERT_STATE_DEADLINE_MS),
    submissions: core.eventClaims,
    now,
    sleep: core.sleep,
  });
}
