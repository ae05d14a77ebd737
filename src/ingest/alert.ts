/** The normalised alert every ingest path produces. */
export type AlertStatus = 'firing' | 'resolved';

export type AlertSource =
  | 'alertmanager-slack' // Alertmanager's Slack integration, default templates
  | 'alertmanager-template' // Alertmanager with a community template listing labels in the text
  | 'grafana' // Grafana Alerting's Slack contact point
  | 'plain' // a message typed by a person
  | 'webhook' // Alertmanager's webhook (POST /alertmanager)
  | 'manual'; // opened by `/incident run` with no alert

export interface Alert {
  alertname: string;
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** ISO 8601, when known (the webhook and some templates carry it). */
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
  /** Stable identity of the alert: Alertmanager's fingerprint of its labels, always computed here from `labels`. */
  fingerprint: string;
  source: AlertSource;
  /** Label names the runbook binding expects that could not be recovered from the message. */
  missingLabels: string[];
  /** Number of alerts in the group, from `[FIRING:N]`. */
  groupSize?: number;
  /**
   * Set when this one alert stands for several the message could not tell apart (its labels are those they share):
   * how many. Unset for an alert that is one alert.
   */
  standsFor?: number;
  /** The default template's title the labels were read from, to find the alerts it names (Alertmanager, open incidents). */
  subject?: string;
  /** Fields cut to the size limits at ingest (`labels.server`, `annotations.description`, `generatorURL`). */
  truncated?: string[];
}

/** Where a Slack-borne alert was seen: the message it came in, used as the incident thread. */
export interface AlertMessageRef {
  channel: string;
  ts: string;
  /** Set when the alert message itself is a reply; the incident then lives in that thread. */
  threadTs?: string;
}
