/**
 * What Alertmanager says about each incident's alert, asked at most once per `ttlMs` per incident so that the many
 * refreshes of a busy incident message do not each cost a request. A slow or absent Alertmanager gives `unknown`,
 * never an error: the incident message and mitigation go on without it.
 */

import type { Logger } from '../logger';
import type { AlertmanagerClient, AlertState } from '../observe/alertmanager-client';
import { withDeadline } from '../with-deadline';
import type { Incident } from './types';

/** What Alertmanager says about the incident's alert, as the incident message shows it. */
export interface AlertStateView {
  kind: 'active' | 'resolved' | 'silenced' | 'unknown';
  /** Why it is unknown (`not configured`, `Alertmanager did not answer`), or who silenced it. */
  detail?: string;
  /** When Alertmanager was asked (ISO). */
  checkedAt?: string;
}

export interface AlertStateTrackerDeps {
  alertmanager: Pick<AlertmanagerClient, 'configured' | 'getAlertState'>;
  now: () => Date;
  logger: Logger;
  /** How long an answer is reused; default 15 s. */
  ttlMs?: number;
}

/** One answer: the view for the message, and Alertmanager's own record when it had one. */
export interface AlertStateCheck {
  view: AlertStateView;
  /** True when the view differs from the one shown before this check. */
  changed: boolean;
  state?: AlertState;
}

const NOT_CONFIGURED: AlertStateView = { kind: 'unknown', detail: 'not configured' };

export class AlertStateTracker {
  private readonly cache = new Map<number, { view: AlertStateView; state?: AlertState; at: number }>();
  private readonly inflight = new Map<number, Promise<AlertStateCheck>>();

  constructor(private readonly deps: AlertStateTrackerDeps) {}

  /** True when Alertmanager's URL is set. */
  get configured(): boolean {
    return this.deps.alertmanager.configured;
  }

  /** The last answer for the incident, without asking (undefined: never asked). */
  peek(incidentId: number): AlertStateView | undefined {
    // Without a URL the answer is known before asking: the first render shows it, and no update follows.
    if (!this.deps.alertmanager.configured) return NOT_CONFIGURED;
    return this.cache.get(incidentId)?.view;
  }

  /** True when the incident's answer is missing or older than the TTL. */
  stale(incidentId: number): boolean {
    if (!this.deps.alertmanager.configured) return false;
    const hit = this.cache.get(incidentId);
    return !hit || this.deps.now().getTime() - hit.at >= (this.deps.ttlMs ?? 15_000);
  }

  /**
   * Asks Alertmanager (unless a fresh answer is cached and `fresh` is not set). Concurrent calls for one incident
   * share one request. Never rejects.
   */
  check(incident: Pick<Incident, 'id' | 'alert'>, opts: { fresh?: boolean } = {}): Promise<AlertStateCheck> {
    const hit = this.cache.get(incident.id);
    if (hit && !opts.fresh && !this.stale(incident.id))
      return Promise.resolve({ view: hit.view, state: hit.state, changed: false });
    const running = this.inflight.get(incident.id);
    if (running) return running;
    const p = this.ask(incident).finally(() => this.inflight.delete(incident.id));
    this.inflight.set(incident.id, p);
    return p;
  }

  /**
   * Whether the incident's alert still fires, asked fresh but waited for at most `deadlineMs`: undefined when
   * Alertmanager is not configured, does not answer in time, or cannot say. A caller inside Slack's 3 s trigger window
   * then goes on with the state unknown instead of missing the window.
   */
  async stillFiring(incident: Pick<Incident, 'id' | 'alert'>, deadlineMs: number): Promise<boolean | undefined> {
    if (!this.configured) return undefined;
    const answer = await withDeadline(this.check(incident, { fresh: true }), deadlineMs);
    if (!answer || answer.view.kind === 'unknown') return undefined;
    return answer.view.kind !== 'resolved';
  }

  /** stillFiring with this deadline, as a function (the mitigation's `alertActive`). */
  stillFiringWithin(deadlineMs: number): (incident: Pick<Incident, 'id' | 'alert'>) => Promise<boolean | undefined> {
    return (incident) => this.stillFiring(incident, deadlineMs);
  }

  /** Forgets the incident's answer (e.g. after a silence was created or expired). */
  invalidate(incidentId: number): void {
    this.cache.delete(incidentId);
  }

  private async ask(incident: Pick<Incident, 'id' | 'alert'>): Promise<AlertStateCheck> {
    const before = this.cache.get(incident.id)?.view;
    const checkedAt = this.deps.now().toISOString();
    let view: AlertStateView;
    let state: AlertState | undefined;
    if (!this.deps.alertmanager.configured) {
      view = NOT_CONFIGURED;
    } else if (incident.alert.source === 'manual') {
      // Opened by hand: there is no alert to ask about, and "resolved" would mislead.
      view = { kind: 'unknown', detail: 'opened by hand, no alert' };
    } else {
      try {
        state = await this.deps.alertmanager.getAlertState(alertLabels(incident.alert));
        view = toView(state, checkedAt);
      } catch (err) {
        this.deps.logger.warn({ err, incidentId: incident.id }, 'could not ask Alertmanager for the alert state');
        view = { kind: 'unknown', detail: 'Alertmanager did not answer', checkedAt };
      }
    }
    this.cache.set(incident.id, { view, state, at: this.deps.now().getTime() });
    return { view, state, changed: !sameView(before, view) };
  }
}

/** The labels to ask Alertmanager about: the alert's, without those the message did not carry. */
export function alertLabels(
  alert: Pick<Incident['alert'], 'labels'> & { missingLabels?: string[] },
): Record<string, string> {
  const missing = new Set(alert.missingLabels ?? []);
  return Object.fromEntries(Object.entries(alert.labels).filter(([k, v]) => !missing.has(k) && v !== ''));
}

function toView(state: AlertState, checkedAt: string): AlertStateView {
  if (!state.firing) return { kind: 'resolved', checkedAt };
  if (state.silencedBy.length > 0) return { kind: 'silenced', checkedAt };
  return { kind: 'active', checkedAt, ...(state.inhibitedBy.length > 0 ? { detail: 'inhibited' } : {}) };
}

function sameView(a: AlertStateView | undefined, b: AlertStateView): boolean {
  return a !== undefined && a.kind === b.kind && a.detail === b.detail;
}
