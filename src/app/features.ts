/**
 * The features, registered on the App: each is a `register(app, deps)` given what it uses, from the core and the
 * services (which are all built by now).
 */
import type { App } from '@slack/bolt';
import { capAlert } from '../ingest/cap-alert';
import { completeAlert } from '../ingest/complete-alerts';
import { parseSlackAlertMessage } from '../ingest/parse-slack-alert';
import { alertParseOptions, registerAlerts } from '../slack/alerts';
import { registerCommands } from '../slack/commands';
import { registerCompleteLabels } from '../slack/complete-labels';
import { registerMitigation, requestMitigation } from '../slack/mitigation';
import { registerObserve } from '../slack/observe';
import { registerPickHost } from '../slack/pick-host';
import { registerSteps, type StepFeatureDeps } from '../slack/steps';
import { registerUnknownActions } from '../slack/unknown-actions';
import type { Core } from './core';
import type { Services } from './services';

/** Registers every feature's listeners on `app`. */
export function registerFeatures(app: App, core: Core, services: Services): void {
  const { config, store, runbooks, logger, metrics, labelMemory, alertmanager } = core;
  const { presenter, flow, access, client } = services;
  const base = { config, store, runbooks, executor: core.executor, scheduler: core.scheduler, logger, now: core.now };
  const limits = { maxValueChars: config.ingest.maxValueChars, maxAlertChars: config.ingest.maxAlertChars };
  const parseOpts = {
    ...alertParseOptions(runbooks, config.hosts, labelMemory),
    alertSenders: config.slack.alertSenders,
  };
  let botId: Promise<string | undefined> | undefined;
  registerObserve(app, services.observeDeps);
  registerAlerts(app, {
    ...base,
    flow,
    eventClaims: core.eventClaims,
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
    // The bot's own id, asked once (again after a failure), to ignore its own messages.
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
  const steps: StepFeatureDeps = {
    ...services.stepDeps,
    requestMitigation: (args) => requestMitigation(services.mitigationDeps, args),
  };
  registerSteps(app, steps);
  registerCompleteLabels(app, { ...base, presenter, learn: (labels) => labelMemory.learn(labels) });
  registerPickHost(app, { ...base, presenter, hostChoices: core.hostChoices });
  registerMitigation(app, services.mitigationDeps);
  registerCommands(app, { ...steps, flow, access });
  registerUnknownActions(app, { logger });
}
