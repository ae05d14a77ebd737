/**
 * A default-template message carries label values without names, and a grouped one only the labels its alerts
 * share. This finds the alerts it stands for, with every label: first in Alertmanager's API (full labels,
 * annotations, startsAt, generatorURL and Alertmanager's fingerprint, so the incident is the one the webhook opens),
 * then among the open incidents (a resolved message closes exactly those it names). When neither names them, the
 * message's own reading stands. An Alertmanager that does not answer costs at most its timeout.
 */

import type { Logger } from '../logger';
import type { Alert } from './alert';
import { labelsFingerprint } from './fingerprint';
import { commonLabels, matchNotification, matchNotificationGroup } from './match-notification';
import { titleAlertnameCandidates } from './parse-alertmanager-title';

/** An alert as Alertmanager's API returns it (see AlertmanagerClient.listAlerts). */
export interface HeldAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  fingerprint: string;
  generatorURL?: string;
}

export interface CompletionDeps {
  /** Alertmanager's alerts whose labels include these; undefined when `alertmanager.url` is not set. */
  listAlerts?: (labels: Record<string, string>) => Promise<HeldAlert[]>;
  /** The alerts of the open incidents for an alertname. */
  openAlerts: (alertname: string) => Promise<Alert[]>;
  /** Told every complete label set Alertmanager returned (see LabelMemory). */
  learn?: (labels: Record<string, string>) => void;
  logger: Logger;
}

export interface Completion {
  alerts: Alert[];
  /** Where the labels came from. */
  via: 'message' | 'alertmanager' | 'open-incidents';
}

/** True when the message's reading may stand for other alerts than it shows: labels missing, or several alerts. */
export function needsCompletion(alert: Alert): boolean {
  if (alert.source === 'plain' || alert.source === 'webhook' || alert.source === 'manual') return false;
  return (
    alert.missingLabels.length > 0 ||
    (alert.standsFor ?? 1) > 1 ||
    (alert.subject !== undefined && alert.status === 'resolved')
  );
}

/**
 * Without a default title to render, candidates explain a message only exactly: as many as the alerts it stands for,
 * each carrying every value it showed (the caller asked with those values as matchers). Anything looser is no answer.
 */
function explaining<T extends { labels: Readonly<Record<string, string>> }>(
  alert: Alert,
  candidates: readonly T[],
): T[] | undefined {
  const part = known(alert);
  const fit = candidates.filter((c) => includes(c.labels, part));
  return fit.length > 0 && fit.length === (alert.standsFor ?? 1) && fit.length === candidates.length ? fit : undefined;
}

function known(alert: Alert): Record<string, string> {
  const missing = new Set(alert.missingLabels);
  return Object.fromEntries(Object.entries(alert.labels).filter(([k, v]) => !missing.has(k) && v !== ''));
}

function includes(labels: Record<string, string>, part: Record<string, string>): boolean {
  return Object.entries(part).every(([k, v]) => labels[k] === v);
}

/**
 * A title read with nothing known but its alert name may hold the name in another word (under a group_by without
 * alertname, `[FIRING:1] web web2 (HaproxyServerDown …)`): the alerts of exactly one other candidate name that render
 * it, if any.
 */
async function otherName(
  subject: string,
  read: string,
  listAlerts: NonNullable<CompletionDeps['listAlerts']>,
): Promise<HeldAlert[] | undefined> {
  const found: HeldAlert[][] = [];
  for (const name of titleAlertnameCandidates(subject).filter((c) => c !== read)) {
    const named = matchNotification(subject, await listAlerts({ alertname: name }));
    if (named) found.push(named);
  }
  return found.length === 1 ? found[0] : undefined;
}

/** The alerts this message stands for (itself when nothing better is known). Never rejects. */
export async function completeAlert(alert: Alert, deps: CompletionDeps): Promise<Completion> {
  const subject = alert.subject;
  // A firing default-template message is always worth asking about when Alertmanager is known: even when every
  // label was read, only Alertmanager has the annotations, startsAt and generatorURL.
  // Any template's message too: a reading without a binding cannot know which labels it lacks.
  const ask =
    alert.status === 'firing' &&
    deps.listAlerts !== undefined &&
    (alert.source === 'alertmanager-slack' || alert.source === 'alertmanager-template');
  // A resolved template message read without a binding may lack labels it cannot know of: the open incident it
  // explains exactly closes.
  const resolvedTemplate =
    alert.status === 'resolved' && (alert.source === 'alertmanager-slack' || alert.source === 'alertmanager-template');
  if (!(needsCompletion(alert) || ask || resolvedTemplate)) return { alerts: [alert], via: 'message' };
  const part = known(alert);
  const log = deps.logger.child({ alertname: alert.alertname, subject });

  if (ask && deps.listAlerts) {
    try {
      const listAlerts = deps.listAlerts;
      const held = (await listAlerts(part)).filter((a) => a.labels.alertname === alert.alertname);
      let named = subject !== undefined ? matchNotification(subject, held) : explaining(alert, held);
      if (!named && subject !== undefined && alert.missingLabels.length === 0 && Object.keys(part).length === 1)
        named = await otherName(subject, alert.alertname, listAlerts);
      if (named) {
        for (const a of named) deps.learn?.(a.labels);
        return {
          via: 'alertmanager',
          alerts: named.map((a) => ({
            alertname: a.labels.alertname ?? alert.alertname,
            status: 'firing',
            labels: { ...a.labels },
            annotations: { ...a.annotations },
            startsAt: a.startsAt,
            ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
            // Computed from the labels like every other path's (#12): equal to Alertmanager's for a real answer.
            fingerprint: labelsFingerprint(a.labels),
            source: alert.source,
            missingLabels: [],
            groupSize: named.length,
          })),
        };
      }
      log.info({ held: held.length }, 'Alertmanager holds no alerts that render this title: going on with the message');
    } catch (err) {
      log.warn({ err }, 'Alertmanager did not answer: going on with the labels the message gave');
    }
  }

  if (!needsCompletion(alert) && !resolvedTemplate) return { alerts: [alert], via: 'message' };
  if (subject === undefined) {
    const named = explaining(
      alert,
      (await deps.openAlerts(alert.alertname)).filter((a) => a.missingLabels.length === 0 && includes(a.labels, part)),
    );
    return named
      ? {
          via: 'open-incidents',
          alerts: named.map((a) => ({ ...a, status: alert.status, source: alert.source, groupSize: named.length })),
        }
      : { alerts: [alert], via: 'message' };
  }
  // A resolved title may name only the last alerts of its group (see matchNotification), so its other labels need not
  // be every open alert's: the group is found among all open alerts of the name.
  const open = (await deps.openAlerts(alert.alertname)).filter(
    (a) => a.missingLabels.length === 0 && (alert.status === 'resolved' || includes(a.labels, part)),
  );
  let match = matchNotificationGroup(subject, open);
  if (!match && alert.missingLabels.length === 0 && Object.keys(part).length === 1) {
    // Read with nothing known but a name: another word of the title may be it (see otherName).
    const found = [];
    for (const name of titleAlertnameCandidates(subject).filter((c) => c !== alert.alertname)) {
      const m = matchNotificationGroup(
        subject,
        (await deps.openAlerts(name)).filter((a) => a.missingLabels.length === 0),
      );
      if (m) found.push(m);
    }
    if (found.length === 1) match = found[0];
  }
  if (match) {
    const named = [...match.named, ...(await resolvedUnseen(match, alert, deps, log))];
    return {
      via: 'open-incidents',
      alerts: named.map((a) => ({ ...a, status: alert.status, source: alert.source, groupSize: named.length })),
    };
  }
  return { alerts: [alert], via: 'message' };
}

/**
 * The other open alerts of a resolved title's group that Alertmanager no longer holds: their resolution went out
 * inside an earlier `[FIRING:N]` message, which does not say which alerts resolved. Alertmanager is asked because
 * the group the title implies may be wider than the route's (its matchers); without it, or when it does not
 * answer, they stay open (an open incident can be resolved by hand; a wrongly closed one hides a firing alert).
 */
async function resolvedUnseen(
  match: { named: Alert[]; group: Alert[] },
  alert: Alert,
  deps: CompletionDeps,
  log: Logger,
): Promise<Alert[]> {
  const rest = match.group.filter((a) => !match.named.includes(a));
  if (alert.status !== 'resolved' || rest.length === 0 || !deps.listAlerts) return [];
  const common = match.group.reduce((c, a) => commonLabels(c, a.labels), { ...match.group[0].labels });
  try {
    const held = new Set((await deps.listAlerts(common)).map((a) => labelsFingerprint(a.labels)));
    const gone = rest.filter((a) => !held.has(labelsFingerprint(a.labels)));
    log.info(
      { group: match.group.length, named: match.named.length, gone: gone.length },
      'resolved title names part of its group',
    );
    return gone;
  } catch (err) {
    log.warn({ err }, 'Alertmanager did not answer: only the alerts the resolved title names are closed');
    return [];
  }
}
