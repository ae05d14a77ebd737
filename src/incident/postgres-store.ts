/**
 * The Postgres implementation of IncidentStore: the store several replicas share. The same contract as the SQLite
 * store (one contract test suite runs against both); what makes it safe across processes is in the statements: one
 * open incident per fingerprint is a partial unique index, and a lock is taken by one conditional upsert that takes over
 * an existing lock only once it expired.
 */
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { redactUrl } from '../config/redact-url';
import { PilotError } from '../errors';
import type {
  AuditFilter,
  IncidentPatch,
  IncidentStore,
  LockResult,
  OpenIncidentInput,
  PostClaim,
  StaleMode,
  StaleStep,
  StepEventRecord,
  StepLease,
  StoreTx,
  TransactionOptions,
  TriageClaim,
} from './store';
import {
  auditFromRow,
  auditRowValues,
  type IncidentRow,
  incidentFromRows,
  incidentPatchColumns,
  newIncidentValues,
  type SilenceRow,
  silenceRowValues,
  type TimelineRow,
  TYPED_COLUMNS,
  timelineFromRow,
} from './store-rows';
import type { AuditRecord, Incident, IncidentSilence, StepState, TimelineEvent, TimelineType } from './types';

/** Anything that runs a query: the pool, or the one client of a transaction. */
type Queryable = Pick<Pool, 'query'> | PoolClient;

/**
 * Versioned migrations, applied in order at start; `schema_migrations` records which ran. Append only: a released
 * migration is never edited. Timestamps are ISO-8601 text in UTC, as the SQLite store keeps them, so both compare the
 * same way and the bot's clock (not the database's) decides expiry.
 */
export const PG_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'incidents, steps, timeline, audit, event claims, locks, silences',
    sql: `
      CREATE TABLE incidents (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        alertname TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open','resolved')),
        alert_json JSONB NOT NULL,
        host_name TEXT,
        channel TEXT NOT NULL,
        thread_ts TEXT NOT NULL,
        message_ts TEXT,
        opened_at TEXT NOT NULL,
        resolved_at TEXT,
        resolved_by TEXT,
        last_repeat_at TEXT
      );
      -- One open incident per alert identity, whichever replica opens it.
      CREATE UNIQUE INDEX incidents_one_open_per_fingerprint ON incidents(fingerprint) WHERE status = 'open';
      CREATE INDEX incidents_latest ON incidents(fingerprint, id DESC);
      CREATE TABLE steps (
        incident_id BIGINT NOT NULL REFERENCES incidents(id),
        step_id TEXT NOT NULL,
        state_json JSONB NOT NULL,
        PRIMARY KEY (incident_id, step_id)
      );
      CREATE TABLE timeline (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        incident_id BIGINT NOT NULL REFERENCES incidents(id),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        type TEXT NOT NULL,
        details_json JSONB NOT NULL
      );
      CREATE INDEX timeline_by_incident ON timeline(incident_id, id);
      CREATE TABLE audit (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at TEXT NOT NULL,
        incident_id BIGINT,
        "user" TEXT NOT NULL,
        host TEXT NOT NULL,
        action_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT,
        command TEXT,
        exit_code INTEGER,
        verification TEXT,
        details_json JSONB
      );
      CREATE INDEX audit_by_host ON audit(host, at);
      -- Slack event ids claimed by a replica (a retry, or the same event at another replica, is handled once).
      CREATE TABLE seen_events (event_id TEXT PRIMARY KEY, at TEXT NOT NULL);
      CREATE INDEX seen_events_by_at ON seen_events(at);
      CREATE TABLE locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, since TEXT NOT NULL, until TEXT NOT NULL);
      CREATE TABLE silences (
        id TEXT NOT NULL,
        incident_id BIGINT NOT NULL REFERENCES incidents(id),
        created_by TEXT NOT NULL,
        created_by_name TEXT NOT NULL,
        matchers_json JSONB NOT NULL,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        comment TEXT NOT NULL,
        keep BOOLEAN NOT NULL DEFAULT FALSE,
        created_at TEXT NOT NULL,
        expired_at TEXT,
        expired_by TEXT,
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (incident_id, id)
      );`,
  },
  {
    version: 2,
    name: 'incident message post claims',
    sql: `
      -- Who is posting an incident's message, until when: one replica posts it (see claimPost).
      ALTER TABLE incidents ADD COLUMN post_claim_owner TEXT;
      ALTER TABLE incidents ADD COLUMN post_claim_until TEXT;`,
  },
  {
    version: 3,
    name: 'step leases',
    sql: `
      -- A queued or running step's lease: the replica running it renews it; once it expired another records it
      -- interrupted.
      ALTER TABLE steps ADD COLUMN owner TEXT;
      ALTER TABLE steps ADD COLUMN lease_until TEXT;
      CREATE INDEX steps_by_lease ON steps(lease_until) WHERE lease_until IS NOT NULL;`,
  },
  {
    version: 4,
    name: 'triage claims',
    sql: `
      -- Who took an incident's triage: one replica triages it, once (see claimTriage).
      CREATE TABLE triage_claims (
        incident_id BIGINT PRIMARY KEY REFERENCES incidents(id),
        owner TEXT NOT NULL,
        at TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('run','skip'))
      );`,
  },
];

/** Any constant both replicas agree on: the advisory lock that lets one replica migrate while the others wait. */
const MIGRATION_LOCK = 0x72627031; // "rbp1"

/**
 * The connection URL with `password` in it, percent-encoded as the URL needs: a password with `@ : / % #` written
 * into a URL by hand (or by compose's `${VAR}`) breaks it; DATABASE_PASSWORD passes it whole. Pure.
 */
export function withPassword(url: string, password: string | undefined): string {
  if (password === undefined || password === '') return url;
  const u = new URL(url);
  // encodeURIComponent, not the URL's own setter: that leaves `%` as it is, which the driver then decodes wrongly.
  return `${u.protocol}//${u.username}:${encodeURIComponent(password)}@${u.host}${u.pathname}${u.search}`;
}

export interface PostgresStoreOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long a start waits for another replica's migration (default 60 s). */
  migrationTimeoutMs?: number;
}

/** Opens the Postgres store: connects, applies the migrations (one replica at a time), and returns it. */
export async function openPostgresStore(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresIncidentStore> {
  const config: PoolConfig = { connectionString: url, max: opts.poolSize ?? 10, connectionTimeoutMillis: 10_000 };
  // pg loads here, when a Postgres store is configured: a bot on SQLite never pays its memory.
  const { Pool: PgPool } = await import('pg');
  const pool = new PgPool(config);
  // An idle client that loses its server (a failover, a restart) must not crash the bot: the next query reconnects.
  pool.on('error', () => undefined);
  try {
    await migrate(pool, opts.migrationTimeoutMs ?? 60_000);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new PilotError(
      'STORE_UNAVAILABLE',
      `cannot open the Postgres store at ${redactUrl(url)}: ${(err as Error).message}`,
      {
        hint: 'check store.url (or DATABASE_URL): host, port, user, password and database, and that the server accepts connections',
        cause: err,
      },
    );
  }
  return new PostgresIncidentStore(pool);
}

/**
 * Applies the migrations not yet recorded. Replicas starting together all get here: a session advisory lock makes
 * them take turns, and each re-reads what ran after it got the lock, so every migration runs exactly once. Each
 * migration and its record commit together.
 */
async function migrate(pool: Pool, timeoutMs: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
      );
      const done = new Set(
        (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
      );
      const known = Math.max(0, ...PG_MIGRATIONS.map((m) => m.version));
      const newer = [...done].filter((v) => v > known);
      if (newer.length > 0) {
        throw new Error(
          `the database has migration ${Math.max(...newer)}, newer than this bot knows (${known}): run the newer bot, or a database of its own`,
        );
      }
      for (const m of PG_MIGRATIONS) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            new Date().toISOString(),
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

/** The statements, over either the pool or one transaction's client. */
class PgOps implements StoreTx {
  constructor(protected readonly q: Queryable) {}

  async openOrGet(input: OpenIncidentInput): Promise<{ incident: Incident; created: boolean }> {
    // Insert-or-nothing against the partial unique index, not read-then-write: two replicas opening the same alert
    // at once get one row. The open row may resolve between the insert and the read: then try again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const inserted = await this.q.query<{ id: string }>(
        `INSERT INTO incidents (fingerprint, alertname, status, alert_json, host_name, channel, thread_ts, opened_at,
           post_claim_owner, post_claim_until)
         VALUES ($1, $2, 'open', $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (fingerprint) WHERE status = 'open' DO NOTHING
         RETURNING id`,
        newIncidentValues(input),
      );
      if (inserted.rows[0]) return { incident: await this.mustGet(Number(inserted.rows[0].id)), created: true };
      const existing = await this.findOpen(input.alert.fingerprint);
      if (existing) return { incident: existing, created: false };
    }
    throw new PilotError(
      'STORE_UNAVAILABLE',
      `could not open or find the incident for ${input.alert.fingerprint}: it kept changing`,
    );
  }

  async get(id: number): Promise<Incident | undefined> {
    const { rows } = await this.q.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
    return (await this.hydrate(rows))[0];
  }

  async findOpen(fingerprint: string): Promise<Incident | undefined> {
    const { rows } = await this.q.query<IncidentRow>(
      `SELECT * FROM incidents WHERE fingerprint = $1 AND status = 'open'`,
      [fingerprint],
    );
    return (await this.hydrate(rows))[0];
  }

  async findLatest(fingerprint: string): Promise<Incident | undefined> {
    const { rows } = await this.q.query<IncidentRow>(
      'SELECT * FROM incidents WHERE fingerprint = $1 ORDER BY id DESC LIMIT 1',
      [fingerprint],
    );
    return (await this.hydrate(rows))[0];
  }

  async listOpen(): Promise<Incident[]> {
    const { rows } = await this.q.query<IncidentRow>(`SELECT * FROM incidents WHERE status = 'open' ORDER BY id`);
    return this.hydrate(rows);
  }

  async update(id: number, patch: IncidentPatch): Promise<Incident> {
    const set = incidentPatchColumns(patch);
    if (set.length > 0) {
      await this.q.query(
        `UPDATE incidents SET ${set.map(([k], i) => `${k} = $${i + 1}`).join(', ')} WHERE id = $${set.length + 1}`,
        [...set.map(([, v]) => v), id],
      );
    }
    return this.mustGet(id);
  }

  async claimPost(id: number, claim: PostClaim, now: string): Promise<boolean> {
    const res = await this.q.query(
      `UPDATE incidents SET post_claim_owner = $1, post_claim_until = $2
       WHERE id = $3 AND message_ts IS NULL
         AND (post_claim_until IS NULL OR post_claim_until <= $4 OR post_claim_owner = $1)`,
      [claim.owner, claim.until, id, now],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async claimTriage(incidentId: number, claim: TriageClaim, opts: { afterSkip?: boolean } = {}): Promise<boolean> {
    // A skipped triage may be taken over once, by a run a person asked for; nothing else replaces a claim.
    const over = opts.afterSkip && claim.state === 'run' ? `WHERE triage_claims.state = 'skip'` : 'WHERE FALSE';
    const res = await this.q.query(
      `INSERT INTO triage_claims (incident_id, owner, at, state) VALUES ($1, $2, $3, $4)
       ON CONFLICT (incident_id) DO UPDATE SET owner = excluded.owner, at = excluded.at, state = excluded.state ${over}`,
      [incidentId, claim.owner, claim.at, claim.state],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async unpostedIncidents(now: string, limit = 50): Promise<Incident[]> {
    const { rows } = await this.q.query<IncidentRow>(
      `SELECT * FROM incidents WHERE status = 'open' AND message_ts IS NULL
         AND (post_claim_until IS NULL OR post_claim_until <= $1) ORDER BY id LIMIT $2`,
      [now, limit],
    );
    return this.hydrate(rows);
  }

  async resolveOpen(
    id: number,
    patch: Required<Pick<IncidentPatch, 'resolvedAt' | 'resolvedBy'>> & Pick<IncidentPatch, 'alert'>,
  ): Promise<Incident | undefined> {
    const set = incidentPatchColumns({ ...patch, status: 'resolved' });
    const res = await this.q.query(
      `UPDATE incidents SET ${set.map(([k], i) => `${k} = $${i + 1}`).join(', ')}
       WHERE id = $${set.length + 1} AND status = 'open'`,
      [...set.map(([, v]) => v), id],
    );
    return (res.rowCount ?? 0) > 0 ? this.mustGet(id) : undefined;
  }

  async markRepeatNotified(id: number, at: string, notBefore: string): Promise<boolean> {
    const res = await this.q.query(
      'UPDATE incidents SET last_repeat_at = $1 WHERE id = $2 AND COALESCE(last_repeat_at, opened_at) <= $3',
      [at, id, notBefore],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async setStep(id: number, stepId: string, state: StepState): Promise<Incident> {
    await this.upsertStep(id, stepId, state);
    return this.mustGet(id);
  }

  async recordStep(
    incidentId: number,
    stepId: string,
    state: StepState,
    event: StepEventRecord,
    lease?: StepLease,
  ): Promise<TimelineEvent> {
    // Both in one transaction: inside one already (this is a transaction's client) or a new one.
    return this.atomically(async (ops) => {
      await ops.upsertStep(incidentId, stepId, state, lease);
      return ops.appendTimeline(incidentId, event.type, event.actor, event.details, event.at);
    });
  }

  async renewStepLeases(owner: string, until: string): Promise<number> {
    const res = await this.q.query('UPDATE steps SET lease_until = $1 WHERE owner = $2', [until, owner]);
    return res.rowCount ?? 0;
  }

  async staleSteps(now: string, mode: StaleMode): Promise<StaleStep[]> {
    const which =
      mode === 'all' ? 'TRUE' : mode === 'unleased' ? '(lease_until IS NULL OR lease_until < $1)' : 'lease_until < $1';
    const { rows } = await this.q.query<{
      incident_id: string;
      step_id: string;
      state_json: StaleStep['state'];
      owner: string | null;
      lease_until: string | null;
    }>(
      `SELECT incident_id, step_id, state_json, owner, lease_until FROM steps
       WHERE state_json->>'state' IN ('queued', 'running') AND ${which}
       ORDER BY incident_id, step_id`,
      mode === 'all' ? [] : [now],
    );
    return rows.map((r) => ({
      incidentId: Number(r.incident_id),
      stepId: r.step_id,
      state: r.state_json,
      owner: r.owner,
      leaseUntil: r.lease_until,
    }));
  }

  async endStaleStep(step: StaleStep, state: StepState, event: StepEventRecord): Promise<boolean> {
    return this.atomically(async (ops) => {
      const res = await ops.q.query(
        `UPDATE steps SET state_json = $1, owner = NULL, lease_until = NULL
         WHERE incident_id = $2 AND step_id = $3 AND owner IS NOT DISTINCT FROM $4
           AND lease_until IS NOT DISTINCT FROM $5 AND state_json->>'state' IN ('queued', 'running')`,
        [JSON.stringify(state), step.incidentId, step.stepId, step.owner, step.leaseUntil],
      );
      if ((res.rowCount ?? 0) === 0) return false;
      await ops.appendTimeline(step.incidentId, event.type, event.actor, event.details, event.at);
      return true;
    });
  }

  async countOpen(): Promise<number> {
    const { rows } = await this.q.query<{ n: string }>(`SELECT count(*) AS n FROM incidents WHERE status = 'open'`);
    return Number(rows[0].n);
  }

  /** Runs `fn` in a transaction; the store overrides it, a transaction's own ops run `fn` on themselves. */
  protected atomically<T>(fn: (ops: PgOps) => Promise<T>): Promise<T> {
    return fn(this);
  }

  /** A step's state, with its lease while it is queued or running (none otherwise: it ended, nobody runs it). */
  protected async upsertStep(id: number, stepId: string, state: StepState, lease?: StepLease): Promise<void> {
    const leased = lease && (state.state === 'queued' || state.state === 'running') ? lease : undefined;
    await this.q.query(
      `INSERT INTO steps (incident_id, step_id, state_json, owner, lease_until) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (incident_id, step_id) DO UPDATE
         SET state_json = excluded.state_json, owner = excluded.owner, lease_until = excluded.lease_until`,
      [id, stepId, JSON.stringify(state), leased?.owner ?? null, leased?.until ?? null],
    );
  }

  async addSilence(incidentId: number, silence: Omit<IncidentSilence, 'expiredAt' | 'expiredBy'>): Promise<Incident> {
    await this.q.query(
      `INSERT INTO silences (id, incident_id, created_by, created_by_name, matchers_json, starts_at, ends_at, comment, keep, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      silenceRowValues(incidentId, silence, TYPED_COLUMNS),
    );
    return this.mustGet(incidentId);
  }

  async markSilenceExpired(
    incidentId: number,
    silenceId: string,
    by: string,
    at: string,
  ): Promise<Incident | undefined> {
    const res = await this.q.query(
      'UPDATE silences SET expired_at = COALESCE(expired_at, $1), expired_by = COALESCE(expired_by, $2) WHERE incident_id = $3 AND id = $4',
      [at, by, incidentId, silenceId],
    );
    return (res.rowCount ?? 0) > 0 ? this.mustGet(incidentId) : undefined;
  }

  async appendTimeline(
    incidentId: number,
    type: TimelineType,
    actor: string,
    details: Record<string, unknown> = {},
    at = new Date().toISOString(),
  ): Promise<TimelineEvent> {
    const { rows } = await this.q.query<{ id: string }>(
      'INSERT INTO timeline (incident_id, at, actor, type, details_json) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [incidentId, at, actor, type, JSON.stringify(details)],
    );
    return { id: Number(rows[0].id), incidentId, at, actor, type, details };
  }

  async timeline(incidentId: number): Promise<TimelineEvent[]> {
    const { rows } = await this.q.query<TimelineRow>('SELECT * FROM timeline WHERE incident_id = $1 ORDER BY id', [
      incidentId,
    ]);
    return rows.map((r) => timelineFromRow(r, TYPED_COLUMNS));
  }

  async appendAudit(record: AuditRecord): Promise<AuditRecord> {
    const { rows } = await this.q.query<{ id: string }>(
      `INSERT INTO audit (at, incident_id, "user", host, action_id, outcome, reason, command, exit_code, verification, details_json)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
      auditRowValues(record),
    );
    return { ...record, id: Number(rows[0].id) };
  }

  async audits(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (filter.host) where.push(`host = ${arg(filter.host)}`);
    if (filter.since) where.push(`at >= ${arg(filter.since)}`);
    if (filter.outcome) where.push(`outcome = ${arg(filter.outcome)}`);
    if (filter.actionIds?.length) where.push(`action_id = ANY(${arg(filter.actionIds)}::text[])`);
    const { rows } = await this.q.query<Record<string, unknown>>(
      `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`,
      args,
    );
    return rows.map((r) => auditFromRow(r, TYPED_COLUMNS));
  }

  async acquireLock(name: string, owner: string, ttlMs: number, now: Date): Promise<LockResult> {
    const since = now.toISOString();
    const until = new Date(now.getTime() + ttlMs).toISOString();
    // One statement decides: a new row, or taking over an expired one. Two replicas racing get one `acquired`.
    for (let attempt = 0; attempt < 5; attempt++) {
      const taken = await this.q.query(
        `INSERT INTO locks (name, owner, since, until) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, since = excluded.since, until = excluded.until WHERE locks.until <= $3`,
        [name, owner, since, until],
      );
      if ((taken.rowCount ?? 0) > 0) return { acquired: true };
      const { rows } = await this.q.query<{ owner: string; since: string }>(
        'SELECT owner, since FROM locks WHERE name = $1',
        [name],
      );
      if (rows[0]) return { acquired: false, owner: rows[0].owner, since: rows[0].since };
      // Released between the two statements: try again.
    }
    throw new PilotError('STORE_UNAVAILABLE', `could not take or read the lock ${name}`);
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    await this.q.query('DELETE FROM locks WHERE name = $1 AND owner = $2', [name, owner]);
  }

  protected async mustGet(id: number): Promise<Incident> {
    const incident = await this.get(id);
    if (!incident) throw new PilotError('INCIDENT_UNKNOWN', `incident #${id} does not exist`);
    return incident;
  }

  /** Rows to incidents, with their steps and silences (two queries for any number of incidents). */
  private async hydrate(rows: IncidentRow[]): Promise<Incident[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [steps, silences] = await Promise.all([
      this.q.query<{ incident_id: string; step_id: string; state_json: StepState }>(
        'SELECT incident_id, step_id, state_json FROM steps WHERE incident_id = ANY($1::bigint[])',
        [ids],
      ),
      this.q.query<SilenceRow>(
        'SELECT * FROM silences WHERE incident_id = ANY($1::bigint[]) ORDER BY created_at, seq',
        [ids],
      ),
    ]);
    return rows.map((row) =>
      incidentFromRows(
        row,
        steps.rows.filter((s) => s.incident_id === row.id),
        silences.rows.filter((s) => s.incident_id === row.id),
        TYPED_COLUMNS,
      ),
    );
  }
}

/** The Postgres store: a pool of connections; `transaction` holds one of them from BEGIN to COMMIT. */
export class PostgresIncidentStore extends PgOps implements IncidentStore {
  /** Replicas share it: a queued or running step may be another live replica's. */
  readonly shared = true;
  private closed = false;

  constructor(private readonly pool: Pool) {
    super(pool);
  }

  protected override atomically<T>(fn: (ops: PgOps) => Promise<T>): Promise<T> {
    return this.transaction((tx) => fn(tx as PgOps));
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        // Held until COMMIT or ROLLBACK, by one transaction in any replica at a time (released if the replica dies).
        if (opts.lockKey !== undefined)
          await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [opts.lockKey]);
        const result = await fn(new PgOps(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw err;
      }
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: drop it rather than hand it to the next caller.
      client.release(broken ? true : undefined);
    }
  }

  /**
   * Slack event claims in this database (the EventClaims of the message listener): an insert that conflicts, so of
   * the replicas a retried or doubly delivered event reaches, one handles it. Closed with the store.
   */
  eventClaims(): { claim(eventId: string, at: Date): Promise<boolean>; close(): void } {
    return {
      claim: async (eventId, at) => {
        const res = await this.pool.query(
          'INSERT INTO seen_events (event_id, at) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING',
          [eventId, at.toISOString()],
        );
        const fresh = (res.rowCount ?? 0) > 0;
        // Keep the table small: Slack retries within minutes, a day of ids is plenty. Now and then, not every time.
        if (fresh && Math.random() < 0.002)
          await this.pool.query('DELETE FROM seen_events WHERE at < $1', [
            new Date(at.getTime() - 86_400_000).toISOString(),
          ]);
        return fresh;
      },
      close: () => undefined,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
