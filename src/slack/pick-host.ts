/**
 * Picking the host of an incident whose alert names none (its rule summed `instance` away and its binding lists
 * several hosts): from the select on the incident message, or `/incident host <id> <name>`. Both end here, so the
 * rules are one: only a host the binding lists (any configured host when the alert has no host label and the binding
 * lists none), never one that replaces the host an alert names, never a second time (a step may have run on the
 * first). Recorded on the timeline and said in the thread.
 */
import type { App, BlockAction, StaticSelectAction } from '@slack/bolt';
import type { Config } from '../config/schema';
import { PilotError } from '../errors';
import type { IncidentStore } from '../incident/store';
import type { Incident } from '../incident/types';
import type { Logger } from '../logger';
import type { RunbookRegistry } from '../runbook/load-runbooks';
import { ActionId, actionIdPattern, decodeHostPick } from './action-ids';
import { escapeMrkdwn, truncate } from './blocks/format';
import type { IncidentPresenter } from './incident-presenter';
import { onClick } from './on-click';

/** What picking an incident's host needs (the select, and `/incident host`). */
export interface PickHostDeps {
  config: Pick<Config, 'hosts'>;
  store: Pick<IncidentStore, 'get' | 'update' | 'appendTimeline'>;
  runbooks: Pick<RunbookRegistry, 'get'>;
  now: () => Date;
  logger: Logger;
  presenter: Pick<IncidentPresenter, 'reply' | 'refresh'>;
  /** The hosts an incident's binding offers (see hostChoices). */
  hostChoices?(incident: Incident): string[];
}

/** Sets `name` as the host of `incident`; returns the confirmation for the user. Throws HOST_PICK_REFUSED. */
export async function pickIncidentHost(
  deps: PickHostDeps,
  incident: Incident,
  name: string,
  user: string,
): Promise<string> {
  const refuse = (message: string) =>
    new PilotError('HOST_PICK_REFUSED', message, { details: { incidentId: incident.id } });
  const shown = truncate(name, 64);
  if (incident.status === 'resolved') throw refuse(`#${incident.id} is resolved: its host can no longer be picked`);
  if (incident.hostName)
    throw refuse(`#${incident.id} already runs on ${incident.hostName}; open a new incident for another host`);
  const hostLabel = deps.runbooks.get(incident.alertname)?.binding?.hostLabel ?? 'instance';
  const named = incident.alert.labels[hostLabel];
  if (named) {
    throw refuse(
      `the alert of #${incident.id} names its host (${hostLabel}=${truncate(named, 80)}), which no configured host matches: add it under hosts: with that match rather than picking another host`,
    );
  }
  const choices = deps.hostChoices?.(incident) ?? [];
  const allowed = choices.length ? choices : deps.config.hosts.map((h) => h.name);
  if (!allowed.includes(name)) {
    throw refuse(
      `${shown} is not a host #${incident.id} may run on (${choices.length ? 'its runbook lists' : 'configured'}: ${allowed.join(', ') || 'none'})`,
    );
  }
  const at = deps.now().toISOString();
  await deps.store.update(incident.id, { hostName: name });
  await deps.store.appendTimeline(incident.id, 'host.chosen', user, { host: name, choices: allowed }, at);
  await deps.presenter.reply(incident, {
    text: `🖐️ <@${user}> picked \`${escapeMrkdwn(name)}\` as the host of #${incident.id}: its steps run there now.`,
  });
  await deps.presenter.refresh(incident.id);
  return `#${incident.id} now runs on \`${escapeMrkdwn(shown)}\`.`;
}

/** Registers the "Pick the host" select of the incident message. */
export function registerPickHost(app: App, deps: PickHostDeps): void {
  app.action<BlockAction<StaticSelectAction>>(
    actionIdPattern(ActionId.PickHost),
    onClick(deps, async ({ action, user, place }) => {
      // The option's value is never trusted: the incident is looked up in this channel, the host checked against
      // the incident's own choices.
      const pick = decodeHostPick(action.selected_option?.value);
      const incident = pick ? await deps.store.get(pick.incidentId) : undefined;
      if (!pick || !incident || incident.channel !== place.channel)
        throw new PilotError('INCIDENT_UNKNOWN', 'this menu does not belong to a known incident in this channel');
      await pickIncidentHost(deps, incident, pick.host, user);
    }),
  );
}
