/**
 * Where alerts enter the bot, by either door: the alerts a Slack message was read as, and a batch Alertmanager's
 * webhook posted. Both doors once counted, learned and capped in their own closures, with two rules for what teaches
 * the label memory; here is the one place for each:
 * - cap: every alert is cleaned of control characters and cut to `ingest.maxValueChars` / `ingest.maxAlertChars`
 *   before anything keeps it (the queue, the label memory, the store);
 * - count: `runbook_pilot_alerts_received_total{source,status}` for each alert taken, by the alert's own source (the
 *   webhook's are `webhook`); `runbook_pilot_alerts_refused_total{reason}` for each webhook alert the queue refused;
 * - learn: an alert teaches its label set when it carries every label with its name (see `teachesLabels`).
 * Webhook alerts are offered to the intake queue whole or not at all; a refused batch is neither counted as received
 * nor learned from, since Alertmanager sends it again.
 */
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Alert } from './alert';
import { type AlertSizeLimits, capAlert } from './cap-alert';
import type { IntakeQueue, OfferResult } from './intake-queue';
import type { LabelMemory } from './label-memory';

/** The door an alert came in by. */
export type IntakeDoor = 'slack' | 'webhook';

export interface AlertIntakeDeps {
  limits: AlertSizeLimits;
  metrics: Pick<Metrics, 'alertsReceived' | 'alertsRefused'>;
  labelMemory: Pick<LabelMemory, 'learn'>;
  /** Webhook alerts wait here between the 202 and their work (Slack's are handled by the listener that read them). */
  queue: Pick<IntakeQueue<Alert>, 'offer' | 'depth' | 'drain'>;
  logger: Logger;
}

/**
 * Whether an alert's labels are a complete label set to learn from: the webhook's always (Alertmanager sends them all,
 * with names), a template that lists labels by name only when none the binding expects is missing. A title read by
 * inference does not teach itself (it would confirm its own guesses), nor does a person's message; and an alert whose
 * labels were cut does not teach values Alertmanager never sends.
 */
export function teachesLabels(alert: Alert): boolean {
  if (alert.truncated?.some((field) => field.startsWith('labels.'))) return false;
  return alert.source === 'webhook' || (alert.source === 'alertmanager-template' && alert.missingLabels.length === 0);
}

/** What the webhook's refusal is counted as (`reason` of runbook_pilot_alerts_refused_total). */
const REFUSAL_REASON: Record<Exclude<OfferResult, 'queued'>, string> = { full: 'queue_full', 'too-large': 'too_large' };

/** The bot's one intake of alerts, for both doors. */
export class AlertIntake {
  constructor(private readonly deps: AlertIntakeDeps) {}

  /** A Slack message's alerts: capped, counted and learned from; the listener handles the alerts returned. */
  acceptAlerts(door: 'slack', alerts: readonly Alert[]): Alert[];
  /** A webhook batch: capped and offered to the queue whole; counted and learned from only when it was queued. */
  acceptAlerts(door: 'webhook', alerts: readonly Alert[]): OfferResult;
  acceptAlerts(door: IntakeDoor, alerts: readonly Alert[]): Alert[] | OfferResult {
    const capped = alerts.map((a) => capAlert(a, this.deps.limits));
    if (door === 'slack') {
      this.received(capped);
      return capped;
    }
    const offered = this.deps.queue.offer(capped);
    if (offered === 'queued') this.received(capped);
    else this.deps.metrics.alertsRefused.inc({ reason: REFUSAL_REASON[offered] }, capped.length);
    return offered;
  }

  /** Webhook alerts waiting or being handled. */
  depth(): number {
    return this.deps.queue.depth();
  }

  /**
   * At stop: waits up to `ms` for the webhook alerts already answered 202 to be handled; true when they were. Those
   * left are logged (Alertmanager sends them again at its next repeat, nothing is lost for good).
   */
  async drain(ms: number): Promise<boolean> {
    const drained = await this.deps.queue.drain(ms);
    if (!drained)
      this.deps.logger.warn(
        { queued: this.deps.queue.depth() },
        'webhook alerts still queued at stop were not handled (Alertmanager sends them again)',
      );
    return drained;
  }

  private received(alerts: readonly Alert[]): void {
    for (const alert of alerts) {
      this.deps.metrics.alertsReceived.inc({ source: alert.source, status: alert.status });
      if (teachesLabels(alert)) this.deps.labelMemory.learn(alert.labels);
    }
  }
}
