/** Runbooks and steps as data: markdown + YAML binding → steps bound to actions. */
export type { Runbook, RunbookBinding, RunbookDoc, RunbookItem, Section, Step } from './types';
export { parseRunbookMarkdown } from './parse-runbook-markdown';
export { RunbookBindingSchema, parseRunbookBinding, formatIssues } from './binding-schema';
export { resolveSteps, shortTitle, CHECKLIST } from './resolve-steps';
export { loadRunbooks, loadRunbookCollection, formatRunbookProblem, createRunbookRegistry, type RunbookRegistry, type RunbookProblem, type LoadedRunbooks } from './load-runbooks';
