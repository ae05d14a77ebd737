/** The action catalog: specs as data, their schema, command building and output rendering. */
export type { ActionSpec, BuiltCommand, ParamSpec, ParamSource, ParamType, Risk } from './types';
export { ActionSpecSchema, ParamSpecSchema, actionIdPattern } from './action-spec-schema';
export { builtinActions } from './catalog';
export { buildCommand, type BuildContext } from './build-command';
export { shellQuote } from './shell-quote';
export { templatePlaceholders, fillTemplate, type Placeholder } from './command-template';
export { parseServersState, type ServerStateRow } from './parse-servers-state';
export { parseShowStat, type StatRow } from './parse-show-stat';
export {
  renderBackendTable,
  renderBackendState,
  tableRowsFromStat,
  tableRowsFromServersState,
  formatAge,
  type BackendTableRow,
} from './render-backend-table';
