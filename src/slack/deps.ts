/** What the Slack features need, passed in (no module-level singletons): tests hand in fakes or real parts. */
import type { Config } from '../config/schema';
import type { Executor } from '../exec/types';
import type { StepScheduler } from '../incident/run-step';
import type { IncidentStore } from '../incident/store';
import type { Logger } from '../logger';
import type { RunbookRegistry } from '../runbook/load-runbooks';

/** The loaded runbooks and the actions they may run (the runbook registry, under the name the Slack layer uses). */
export type RunbookCatalog = RunbookRegistry;

export interface AppDeps {
  config: Readonly<Config>;
  store: IncidentStore;
  runbooks: RunbookCatalog;
  executor: Executor;
  scheduler: StepScheduler;
  logger: Logger;
  now: () => Date;
}
