/** Alert ingest: Slack messages and Alertmanager webhooks → Alert. Pure parsers; the route lives elsewhere. */
export type { Alert, AlertMessageRef, AlertSource, AlertStatus } from './alert';
export { labelsFingerprint } from './fingerprint';
export { parseAlertmanagerWebhook, AlertmanagerWebhookSchema, GO_ZERO_TIME, type AlertmanagerWebhook } from './parse-alertmanager-webhook';
export { parseSlackAlertMessage, type ParsedSlackAlert, type SlackAlertOptions } from './parse-slack-alert';
export { parseAlertmanagerTitle, alertmanagerLabelOrder, type ParsedTitle, type TitleOptions } from './parse-alertmanager-title';
export { parseTemplateText, parseGoLabelMap, looksLikeTemplateText, type TextAlert } from './parse-template-text';
export { parseLabelListText, looksLikeLabelListText } from './parse-label-list-text';
export { parsePlainAlert, type PlainAlert } from './parse-plain-alert';
export { slackMessageView, unescapeSlack, type SlackMessageView, type SlackAttachmentView } from './slack-message';
