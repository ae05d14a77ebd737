/** The observe features' public surface: Alertmanager silences and alert state, Prometheus graphs. */

export type { AlertGraph, AlertGraphDeps, AlertGraphInput } from './alert-graph';
export { buildAlertGraph } from './alert-graph';
export type { AlertState, CreateSilenceInput, Silence, SilenceMatcher, SilenceState } from './alertmanager-client';
export { AlertmanagerClient, silenceMatchers } from './alertmanager-client';
export type { ChartInput, ChartSeries } from './chart';
export { renderSeriesChart, renderSeriesSvg, stateRuns, utcClock } from './chart';
export { exprFromGeneratorUrl } from './expr-from-generator-url';
export { fillQueryTemplate, templateLabels } from './fill-query-template';
export type { PromSeries } from './prometheus-client';
export { PrometheusClient } from './prometheus-client';
export { assertLabelName, LABEL_NAME, quoteMatcherValue, quotePromqlString } from './quote-label-value';
export type { ServerUpSummary, SummariseOptions } from './server-up-summary';
export {
  describeServerUp,
  FLAPPING_TRANSITIONS,
  findTargetSeries,
  formatDuration,
  summariseServerUp,
} from './server-up-summary';
export { serviceSettings } from './service-settings';
export type { SilenceDuration } from './silence-window';
export {
  MAX_SILENCE_MS,
  parseSilenceDuration,
  SILENCE_DURATIONS,
  silenceComment,
  silenceWindow,
} from './silence-window';
