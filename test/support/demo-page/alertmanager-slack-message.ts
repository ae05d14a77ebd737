/**
 * The message Alertmanager's Slack integration posts with its default templates, as the bot then receives it from
 * Slack: one attachment whose title is `[FIRING:1] <alertname> (<other label values, sorted by label name>)`. The
 * shape follows the captured fixtures (test/fixtures/slack/single.slack-default.*.event.json): Slack numbers the
 * attachment, returns the colour as hex and stores &, <, > escaped. Pure.
 */
import type { SlackMessage } from '../slack-standin';

/** An alert as a person fires it from the demo page. */
export interface FiredAlert {
  alertname: string;
  /** All labels, `alertname` included or not (it is added). */
  labels: Record<string, string>;
  status: 'firing' | 'resolved';
}

/** Where "the alert" link of the title points; Alertmanager sets it to its own UI. */
const ALERTMANAGER_URL = 'http://127.0.0.1:9093/#/alerts?receiver=runbook-pilot-demo';

/** The fields of the alert message, ready for SlackStandIn.postAlertMessage. Grouped by alertname only. */
export function alertmanagerSlackMessage(
  alert: FiredAlert,
  opts: { alertmanagerUrl?: string } = {},
): Partial<SlackMessage> {
  const labels: Record<string, string> = { ...alert.labels, alertname: alert.alertname };
  const others = Object.keys(labels)
    .filter((k) => k !== 'alertname')
    .sort()
    .map((k) => labels[k]);
  const status = alert.status === 'firing' ? 'FIRING:1' : 'RESOLVED';
  const title = escapeSlack(`[${status}] ${alert.alertname}${others.length ? ` (${others.join(' ')})` : ''}`);
  const url = opts.alertmanagerUrl ?? ALERTMANAGER_URL;
  return {
    text: '',
    username: 'Alertmanager',
    icons: {},
    attachments: [
      {
        id: 1,
        title,
        title_link: url,
        fallback: `${title} | ${url}`,
        color: alert.status === 'firing' ? 'a30200' : '2eb886',
        mrkdwn_in: ['fallback', 'pretext', 'text'],
      },
    ],
  };
}

function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
