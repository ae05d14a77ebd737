/**
 * Labels a person gives for an incident whose alert message did not carry them (the Complete labels modal). The
 * values are validated by the caller against the actions' own patterns; here they are applied: the alert's labels
 * and missing list, the host they now point to, and the timeline entry with who gave them.
 */

import type { ActionSpec } from '../actions/types';
import { findHost } from '../config/find-host';
import type { HostConfig } from '../config/schema';
import { PilotError } from '../errors';
import type { IncidentStore } from './store';
import type { Incident } from './types';

export interface CompleteLabelsDeps {
  store: IncidentStore;
  hosts: readonly HostConfig[];
  now: () => Date;
}

/** Applies the labels (only names the incident is missing); returns the updated incident. */
export async function completeIncidentLabels(
  deps: CompleteLabelsDeps,
  incident: Incident,
  given: Record<string, string>,
  user: string,
): Promise<Incident> {
  const current = await deps.store.get(incident.id);
  if (!current) throw new PilotError('INCIDENT_UNKNOWN', `incident #${incident.id} no longer exists`);
  const missing = new Set(current.alert.missingLabels);
  const labels = Object.fromEntries(Object.entries(given).filter(([k, v]) => missing.has(k) && v !== ''));
  if (Object.keys(labels).length === 0)
    throw new PilotError('PARAM_INVALID', 'none of these labels is missing any more: nothing was changed');
  const alertLabels = { ...current.alert.labels, ...labels };
  const host = findHost(deps.hosts, alertLabels);
  const at = deps.now().toISOString();
  const updated = await deps.store.update(current.id, {
    alert: {
      ...current.alert,
      labels: alertLabels,
      missingLabels: current.alert.missingLabels.filter((n) => labels[n] === undefined),
    },
    ...(host && !current.hostName ? { hostName: host.name } : {}),
  });
  await deps.store.appendTimeline(current.id, 'labels.completed', user, { labels, host: host?.name ?? null }, at);
  return updated;
}

/** Labels an action takes from the alert (`label:<name>` parameters that are not optional). */
export function labelsNeeded(action: ActionSpec): string[] {
  return Object.values(action.params)
    .filter((p) => p.from.startsWith('label:') && !p.optional)
    .map((p) => p.from.slice('label:'.length));
}

/**
 * Refuses a step whose action needs a label the alert message did not carry, or whose host cannot be known because
 * its label is missing: said on the click, instead of failing on the host.
 */
export function assertLabelsPresent(incident: Incident, action: ActionSpec, hosts: readonly HostConfig[]): void {
  const missing = new Set(incident.alert.missingLabels);
  // `label:backend|proxy` is present when any of its labels is; missing, it is asked for by its first name.
  const needed = labelsNeeded(action)
    .filter((n) => n.split('|').every((a) => incident.alert.labels[a] === undefined))
    .map((n) => n.split('|')[0]);
  // The labels hosts are matched on: when one is missing and no host is known, the host is what is missing.
  const hostLabels = [...new Set(hosts.flatMap((h) => Object.keys(h.match)))].filter(
    (n) => missing.has(n) && !needed.includes(n),
  );
  if (!incident.hostName) needed.unshift(...hostLabels);
  if (needed.length === 0) return;
  throw new PilotError(
    'LABELS_MISSING',
    `this step needs the label${needed.length > 1 ? 's' : ''} ${needed.map((n) => `\`${n}\``).join(', ')}, which the alert message did not carry`,
    {
      details: { labels: needed },
    },
  );
}
