/** Alert ingest: Slack messages and Alertmanager webhooks → Alert. Pure parsers; the route lives elsewhere. */
export type { Alert, AlertMessageRef, AlertSource, AlertStatus } from './alert';
export { labelsFingerprint } from './fingerprint';
export {
  alertmanagerLabelOrder,
  type ParsedTitle,
  parseAlertmanagerTitle,
  type TitleOptions,
} from './parse-alertmanager-title';
export {
  type AlertmanagerWebhook,
  AlertmanagerWebhookSchema,
  GO_ZERO_TIME,
  parseAlertmanagerWebhook,
} from './parse-alertmanager-webhook';
export { looksLikeLabelListText, parseLabelListText } from './parse-label-list-text';
export { type PlainAlert, parsePlainAlert } from './parse-plain-alert';
export { type ParsedSlackAlert, parseSlackAlertMessage, type SlackAlertOptions } from './parse-slack-alert';
export { looksLikeTemplateText, parseGoLabelMap, parseTemplateText, type TextAlert } from './parse-template-text';
export { type SlackAttachmentView, type SlackMessageView, slackMessageView, unescapeSlack } from './slack-message';
