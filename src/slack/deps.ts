/** What the Slack features need, passed in (no module-level singletons): tests hand in fakes or real parts. */
import type { ActionSpec } from '../actions/types';
import type { Config } from '../config/schema';
import type { Executor } from '../exec/types';
import type { IncidentStore } from '../incident/store';
import type { Logger } from '../logger';
import type { Runbook } from '../runbook/types';

/** The loaded runbooks and the actions they may run. */
export interface RunbookCatalog {
  get(alertname: string): Runbook | undefined;
  list(): Runbook[];
  /** An action by id: the runbook binding's own actions first, then the built-in catalog. */
  action(runbook: Runbook | undefined, actionId: string): ActionSpec | undefined;
}

/** Queues work per host and per user (bottleneck underneath). */
export interface HostScheduler {
  schedule<T>(key: { host: string; user?: string }, fn: () => Promise<T>, hooks?: { onQueued?(ahead: number): void; onStart?(): void }): Promise<T>;
}

export interface AppDeps {
  config: Readonly<Config>;
  store: IncidentStore;
  runbooks: RunbookCatalog;
  executor: Executor;
  scheduler: HostScheduler;
  logger: Logger;
  now: () => Date;
}
