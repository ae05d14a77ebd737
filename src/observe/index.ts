/** The observe features' public surface: Alertmanager silences and alert state, Prometheus graphs. */
export { AlertmanagerClient, silenceMatchers } from './alertmanager-client';
export type { AlertState, CreateSilenceInput, Silence, SilenceMatcher, SilenceState } from './alertmanager-client';
export { PrometheusClient } from './prometheus-client';
export type { PromSeries } from './prometheus-client';
export { exprFromGeneratorUrl } from './expr-from-generator-url';
export { fillQueryTemplate, templateLabels } from './fill-query-template';
export { renderSeriesChart, renderSeriesSvg, stateRuns, utcClock } from './chart';
export type { ChartInput, ChartSeries } from './chart';
export { summariseServerUp, describeServerUp, findTargetSeries, formatDuration, FLAPPING_TRANSITIONS } from './server-up-summary';
export type { ServerUpSummary, SummariseOptions } from './server-up-summary';
export { buildAlertGraph } from './alert-graph';
export type { AlertGraph, AlertGraphDeps, AlertGraphInput } from './alert-graph';
export { silenceWindow, parseSilenceDuration, silenceComment, SILENCE_DURATIONS, MAX_SILENCE_MS } from './silence-window';
export type { SilenceDuration } from './silence-window';
export { serviceSettings } from './service-settings';
export { quotePromqlString, quoteMatcherValue, assertLabelName, LABEL_NAME } from './quote-label-value';
