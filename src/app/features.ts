/**
 * The features, registered on the App: each is a `register(app, deps)` given what it uses, from the core and the
 * services (which are all built by now).
 */
import type { App } from '@slack/bolt';
import { type AlertFeatureDeps, alertParseOptions, ownBotId, registerAlerts } from '../slack/alerts';
import { registerCommands } from '../slack/commands';
import { registerCompleteLabels } from '../slack/complete-labels';
import { countEveryClick } from '../slack/count-every-click';
import { mitigationRequester, registerMitigation } from '../slack/mitigation';
import { registerObserve } from '../slack/observe';
import { registerPickHost } from '../slack/pick-host';
import { registerSteps } from '../slack/steps';
import { registerTriage } from '../slack/triage';
import { registerUnknownActions } from '../slack/unknown-actions';
import type { Core } from './core';
import type { Services } from './services';

/** Registers every feature's listeners on `app`. */
export function registerFeatures(app: App, core: Core, services: Services): void {
  const { config, store, runbooks, scheduler, logger, now, labelMemory } = core;
  // Before any listener: every click, form and command counts against the user's limit, refused ones too.
  app.use(countEveryClick({ scheduler, logger }));
  const { presenter, flow, access, runAndReport } = services;
  registerObserve(app, services.observeDeps);
  registerAlerts(app, alertFeatureDeps(core, services));
  const askToMitigate = mitigationRequester(services.mitigationDeps);
  registerSteps(app, {
    store,
    runbooks,
    scheduler,
    presenter,
    logger,
    now,
    runAndReport,
    requestMitigation: askToMitigate,
  });
  registerCompleteLabels(app, { config, store, runbooks, logger, now, presenter, learn: (l) => labelMemory.learn(l) });
  registerPickHost(app, { config, store, runbooks, now, logger, presenter, hostChoices: core.hostChoices });
  registerMitigation(app, services.mitigationDeps);
  registerCommands(app, {
    config,
    store,
    runbooks,
    scheduler,
    presenter,
    logger,
    now,
    flow,
    access,
    mitigation: services.mitigationDeps.mitigation,
    hostChoices: core.hostChoices,
    runAndReport,
    requestMitigation: askToMitigate,
  });
  registerTriage(app, { triage: services.triage, store, logger });
  registerUnknownActions(app, { logger });
}

/**
 * What the message listener needs: the parser, the intake (the webhook's too: caps, counts, learns), where a message's
 * alerts are completed (Alertmanager, open incidents), and the bot's own id.
 */
function alertFeatureDeps(core: Core, services: Services): AlertFeatureDeps {
  const { config, store, logger, now, labelMemory, alertmanager, runbooks } = core;
  return {
    config,
    logger,
    now,
    flow: services.flow,
    eventClaims: core.eventClaims,
    parseOptions: {
      ...alertParseOptions(runbooks, config.hosts, labelMemory),
      alertSenders: config.slack.alertSenders,
    },
    intake: services.intake,
    completion: { alertmanager, store, labelMemory },
    botId: ownBotId(services.client, logger),
  };
}
