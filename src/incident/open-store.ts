/**
 * Which store the bot keeps its incidents in: store.url (or DATABASE_URL) selects the Postgres store replicas share
 * (its Slack event claims with it); without it, the SQLite file of one process (the claims in the same file). A store
 * passed in (tests) is used as it is.
 */
import { redactUrl } from '../config/redact-url';
import type { Config } from '../config/schema';
import type { Logger } from '../logger';
import { type EventClaims, SqliteEventClaims } from './event-claims';
import { openPostgresStore, withPassword } from './postgres-store';
import { SqliteIncidentStore } from './sqlite-store';
import type { IncidentStore } from './store';

export interface OpenStoreOptions {
  config: Pick<Config, 'store'>;
  env: { databaseUrl?: string; databasePassword?: string };
  /** A store (and claims) given by the caller: nothing is opened for it. */
  store?: IncidentStore;
  eventClaims?: EventClaims;
  logger: Logger;
}

/** The opened store and claims; `shared` when they are the Postgres that every replica uses. */
export async function openStore(
  opts: OpenStoreOptions,
): Promise<{ store: IncidentStore; eventClaims: EventClaims; shared: boolean }> {
  const { config, env, logger } = opts;
  const databaseUrl = config.store.url ?? env.databaseUrl;
  const pgStore =
    !opts.store && databaseUrl ? await openPostgresStore(withPassword(databaseUrl, env.databasePassword)) : undefined;
  if (pgStore && databaseUrl)
    logger.info(
      { store: redactUrl(databaseUrl) },
      'store: Postgres (incidents, timeline, audit, locks and Slack event claims are shared by every replica)',
    );
  const store = opts.store ?? pgStore ?? new SqliteIncidentStore(config.store.path);
  const eventClaims = opts.eventClaims ?? (pgStore ? pgStore.eventClaims() : new SqliteEventClaims(config.store.path));
  return { store, eventClaims, shared: pgStore !== undefined };
}
