/**
 * What an alert does to incidents: open one per fingerprint, note repeats, resolve. Pure decisions over the store;
 * the Slack layer turns the outcome into messages.
 */

import { findHost } from '../config/find-host';
import type { HostConfig } from '../config/schema';
import type { Alert } from '../ingest/alert';
import type { RunbookBinding } from '../runbook/types';
import { hostChoices } from './host-choices';
import type { IncidentStore } from './store';
import type { Incident } from './types';

export type AlertOutcome =
  | { kind: 'opened'; incident: Incident }
  | { kind: 'repeated'; incident: Incident; notify: boolean }
  | { kind: 'resolved'; incident: Incident }
  /** A resolved alert with no open incident (already resolved, or fired before the bot saw it). */
  | { kind: 'resolved-unknown'; incident?: Incident };

export interface AlertDeps {
  store: IncidentStore;
  hosts: readonly HostConfig[];
  stillFiringIntervalSec: number;
  now: () => Date;
  /** The alert's runbook binding, for the hosts it runs on when the alert names none (`hosts:`). */
  bindingOf?(alertname: string): RunbookBinding | undefined;
  /**
   * This replica's claim on posting the message of an incident it opens, written with the incident (see
   * `IncidentStore.claimPost`); absent: no claim (a replica that sees the incident unposted may post it).
   */
  postClaim?: { owner: string; ttlMs: number };
}

/** Where the incident for an alert lives: the channel and the thread (the alert message's ts). */
export interface IncidentPlace {
  channel: string;
  threadTs: string;
}

/** Applies one alert to the incidents and returns what happened. */
export async function applyAlert(
  deps: AlertDeps,
  alert: Alert,
  place: IncidentPlace,
  actor = 'alertmanager',
): Promise<AlertOutcome> {
  const at = deps.now().toISOString();
  // An alert that names no host runs on its binding's hosts: the one there is, or the one a user picks (never a guess).
  const choices = findHost(deps.hosts, alert.labels)
    ? []
    : hostChoices(deps.hosts, deps.bindingOf?.(alert.alertname), alert.labels);
  const host = findHost(deps.hosts, alert.labels) ?? (choices.length === 1 ? choices[0] : undefined);
  if (alert.status === 'resolved') {
    const open = await deps.store.findOpen(alert.fingerprint);
    // Resolved by one conditional update: of two replicas handling the same resolve, one closes the incident out.
    const resolved =
      open &&
      (await deps.store.resolveOpen(open.id, {
        alert: mergeAlert(open.alert, alert),
        resolvedAt: at,
        resolvedBy: actor,
      }));
    if (!open || !resolved)
      return { kind: 'resolved-unknown', incident: await deps.store.findLatest(alert.fingerprint) };
    await deps.store.appendTimeline(open.id, 'alert.resolved', actor, { source: alert.source }, at);
    await deps.store.appendTimeline(open.id, 'incident.resolved', actor, { reason: 'alert resolved' }, at);
    return { kind: 'resolved', incident: (await deps.store.get(open.id)) as Incident };
  }
  const { incident, created } = await deps.store.openOrGet({
    alert,
    hostName: host?.name,
    channel: place.channel,
    threadTs: place.threadTs,
    at,
    ...(deps.postClaim
      ? {
          postClaim: {
            owner: deps.postClaim.owner,
            until: new Date(Date.parse(at) + deps.postClaim.ttlMs).toISOString(),
          },
        }
      : {}),
  });
  if (created) {
    await deps.store.appendTimeline(
      incident.id,
      'alert.fired',
      actor,
      {
        source: alert.source,
        labels: alert.labels,
        host: host?.name ?? null,
        ...(choices.length > 1 ? { hostChoices: choices.map((h) => h.name) } : {}),
        missingLabels: alert.missingLabels,
      },
      at,
    );
    return { kind: 'opened', incident };
  }
  // Whether to post "still firing" is decided by one conditional update, not read-then-write: of replicas receiving
  // the same repeat at once, one posts it.
  const notBefore = new Date(Date.parse(at) - deps.stillFiringIntervalSec * 1000).toISOString();
  const notify = await deps.store.markRepeatNotified(incident.id, at, notBefore);
  const updated = await deps.store.update(incident.id, { alert: mergeAlert(incident.alert, alert) });
  await deps.store.appendTimeline(incident.id, 'alert.repeated', actor, { source: alert.source, notified: notify }, at);
  return { kind: 'repeated', incident: updated, notify };
}

/**
 * A later delivery of the same alert updates what it may: status, annotations, times. Never the labels: they are the
 * incident's identity and what its commands are built from, so an open incident keeps the labels it opened with
 * (a delivery whose labels differ is another alert, with another fingerprint).
 */
export function mergeAlert(previous: Alert, next: Alert): Alert {
  return {
    ...previous,
    ...next,
    alertname: previous.alertname,
    fingerprint: previous.fingerprint,
    labels: previous.labels,
    missingLabels: previous.missingLabels,
    annotations: { ...previous.annotations, ...next.annotations },
    startsAt: previous.startsAt ?? next.startsAt,
  };
}
