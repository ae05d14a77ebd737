/** Runbooks and steps as data: markdown + YAML binding → steps bound to actions. */

export { formatIssues, parseRunbookBinding, RunbookBindingSchema } from './binding-schema';
export {
  createRunbookRegistry,
  formatRunbookProblem,
  type LoadedRunbooks,
  loadRunbookCollection,
  loadRunbooks,
  type RunbookProblem,
  type RunbookRegistry,
} from './load-runbooks';
export { parseRunbookMarkdown } from './parse-runbook-markdown';
export { CHECKLIST, resolveSteps, shortTitle } from './resolve-steps';
export type { Runbook, RunbookBinding, RunbookDoc, RunbookItem, Section, Step } from './types';
