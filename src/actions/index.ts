/** The action catalog: specs as data, their schema, command building and output rendering. */

export { ActionSpecSchema, actionIdPattern, ParamSpecSchema } from './action-spec-schema';
export { type BuildContext, buildCommand } from './build-command';
export { builtinActions } from './catalog';
export { fillTemplate, type Placeholder, templatePlaceholders } from './command-template';
export { parseServersState, type ServerStateRow } from './parse-servers-state';
export { parseShowStat, type StatRow } from './parse-show-stat';
export {
  type BackendTableRow,
  formatAge,
  renderBackendState,
  renderBackendTable,
  tableRowsFromServersState,
  tableRowsFromStat,
} from './render-backend-table';
export { shellQuote } from './shell-quote';
export type { ActionSpec, BuiltCommand, ParamSource, ParamSpec, ParamType, Risk } from './types';
