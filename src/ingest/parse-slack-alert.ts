/**
 * Slack `message` event → alerts, recognised by content: a bot's message with attachments from Alertmanager
 * (default templates or a community template) or Grafana, or a person's message naming a known alert.
 * Pure: everything it needs to know about runbooks and hosts comes in through `opts`.
 */
import type { Alert, AlertMessageRef, AlertSource, AlertStatus } from './alert';
import { labelsFingerprint } from './fingerprint';
import { type ParsedTitle, parseAlertmanagerTitle, type TitleOptions } from './parse-alertmanager-title';
import { looksLikeLabelListText, parseLabelListText } from './parse-label-list-text';
import { parsePlainAlert } from './parse-plain-alert';
import { looksLikeTemplateText, parseTemplateText, type TextAlert } from './parse-template-text';
import { type SlackAttachmentView, type SlackMessageView, slackMessageView, statusFromColour } from './slack-message';

export interface SlackAlertOptions extends TitleOptions {
  /** Bot, app and user ids whose messages are alerts (`slack.alertSenders`); undefined: any bot's message. */
  alertSenders?: readonly string[];
  /** True when a runbook exists for the alertname; a typed message is an alert only then. Default: none is. */
  knownAlert?: (alertname: string) => boolean;
}

export interface ParsedSlackAlert {
  alerts: Alert[];
  ref: AlertMessageRef;
  /** Set when a person (not an alert sender) typed it: the incident is recorded under this user id. */
  postedBy?: string;
  /** Why a person's message was not applied (it said "resolved"): to tell them, not to act on. */
  refused?: string;
}

/**
 * Who posted a message, as far as alerts go: an alert sender (read as alerts, firing and resolved), a person (may open
 * an incident for a known runbook, never resolve one) or neither (another bot, when `alertSenders` is set).
 */
export type SenderKind = { kind: 'alert-sender' } | { kind: 'person'; user: string } | { kind: 'ignored' };

/**
 * Classifies the poster of a message view. Without `alertSenders` (undefined) every bot's message is an alert
 * sender's, as Alertmanager's and Grafana's are; with it, only the listed bot, app or user ids are.
 */
export function senderOf(
  view: Pick<SlackMessageView, 'botId' | 'appId' | 'userId'>,
  alertSenders?: readonly string[],
): SenderKind {
  if (alertSenders === undefined) {
    if (view.botId) return { kind: 'alert-sender' };
  } else {
    if ([view.botId, view.appId, view.userId].some((id) => id !== undefined && alertSenders.includes(id)))
      return { kind: 'alert-sender' };
    if (view.botId) return { kind: 'ignored' };
  }
  return view.userId ? { kind: 'person', user: view.userId } : { kind: 'ignored' };
}

interface Draft {
  alertname: string;
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL?: string;
  missingLabels?: string[];
  groupSize?: number;
}

function finish(d: Draft, source: AlertSource, opts: SlackAlertOptions): Alert {
  const labels: Record<string, string> = { ...d.labels, alertname: d.alertname };
  const learned = opts.learnedLabelNames?.(d.alertname) ?? [];
  const declared = opts.labelNames?.(d.alertname) ?? learned[learned.length - 1] ?? [];
  const missing = new Set(d.missingLabels ?? []);
  for (const n of declared) if (labels[n] === undefined) missing.add(n);
  const order = [...declared, ...[...missing].filter((n) => !declared.includes(n))];
  const alert: Alert = {
    alertname: d.alertname,
    status: d.status,
    labels,
    annotations: d.annotations,
    fingerprint: labelsFingerprint(labels),
    source,
    missingLabels: order.filter((n) => missing.has(n) && labels[n] === undefined),
  };
  if (d.generatorURL) alert.generatorURL = d.generatorURL;
  if (d.groupSize !== undefined) alert.groupSize = d.groupSize;
  return alert;
}

function fromTextAlerts(
  list: TextAlert[],
  title: ParsedTitle | undefined,
  status: AlertStatus | undefined,
  source: AlertSource,
  opts: SlackAlertOptions,
): Alert[] {
  return list.flatMap((t): Alert[] => {
    const alertname = t.labels.alertname ?? (list.length === 1 ? title?.alertname : undefined);
    const s = t.status ?? status;
    if (!alertname || !s) return [];
    return [
      finish(
        {
          alertname,
          status: s,
          labels: t.labels,
          annotations: t.annotations,
          generatorURL: t.generatorURL,
          groupSize: title?.groupSize ?? list.length,
        },
        source,
        opts,
      ),
    ];
  });
}

function fromAttachment(a: SlackAttachmentView, opts: SlackAlertOptions): Alert[] {
  // The fallback (`<title> | <link>`) keeps the title's trailing space, which tells a `...` grouping from a common
  // part in parentheses; Slack may trim the title itself.
  const fallbackTitle = a.fallback.split(' | ')[0];
  const titleText =
    fallbackTitle.trimEnd() === a.title.trimEnd() && fallbackTitle.length > a.title.length ? fallbackTitle : a.title;
  const title = parseAlertmanagerTitle(titleText, opts) ?? parseAlertmanagerTitle(fallbackTitle, opts);
  const status = title?.status ?? statusFromColour(a.color);
  const grafana = a.footer.startsWith('Grafana') || /^\*\*(Firing|Resolved)\*\*$/m.test(a.text);

  if (looksLikeLabelListText(a.text)) {
    const alerts = fromTextAlerts(
      parseLabelListText(a.text),
      title,
      status,
      grafana ? 'grafana' : 'alertmanager-template',
      opts,
    );
    if (alerts.length > 0) return alerts;
  }
  if (looksLikeTemplateText(a.text)) {
    const alerts = fromTextAlerts(parseTemplateText(a.text), title, status, 'alertmanager-template', opts);
    if (alerts.length > 0) return alerts;
  }
  // Default template: only the title, values without names.
  if (title?.alertname) {
    const alert = finish(
      {
        alertname: title.alertname,
        status: title.status,
        labels: title.labels,
        annotations: {},
        missingLabels: title.missingLabels,
        groupSize: title.groupSize,
      },
      grafana ? 'grafana' : 'alertmanager-slack',
      opts,
    );
    if (!grafana) alert.subject = titleText;
    return [alert];
  }
  return [];
}

/**
 * Recognises an alert in a Slack `message` event (the `event` of an event_callback) and returns its alerts and
 * the message to thread under; null for anything else (chatter, deletions, a bot message without attachments).
 * Never throws on malformed input.
 */
export function parseSlackAlertMessage(event: unknown, opts: SlackAlertOptions = {}): ParsedSlackAlert | null {
  const view = slackMessageView(event);
  if (!view) return null;
  const sender = senderOf(view, opts.alertSenders);
  if (sender.kind === 'ignored') return null;
  if (sender.kind === 'alert-sender' && (view.botId || view.attachments.length > 0)) {
    if (view.attachments.length === 0) return null;
    const alerts = view.attachments.flatMap((a) => fromAttachment(a, opts));
    return alerts.length > 0 ? { alerts, ref: view.ref } : null;
  }
  const plain = parsePlainAlert(view.text, opts.knownAlert ?? (() => false));
  if (!plain) return null;
  const alert = finish({ ...plain, annotations: {} }, 'plain', opts);
  if (sender.kind === 'alert-sender') return { alerts: [alert], ref: view.ref };
  // A person may open an incident (for a known runbook: parsePlainAlert checked), under their name; only an alert
  // sender's message resolves one.
  if (alert.status === 'resolved') {
    return {
      alerts: [],
      ref: view.ref,
      postedBy: sender.user,
      refused: `a typed message does not resolve an incident: use \`/incident resolve <id>\`, or let the alert resolve it`,
    };
  }
  return { alerts: [alert], ref: view.ref, postedBy: sender.user };
}
