/**
 * The durable store: incidents, step states, the timeline and the audit log. SQLite (better-sqlite3) by default,
 * behind `IncidentStore` so a shared store can serve several replicas later.
 */
import { closeSync, fchmodSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { PilotError } from '../errors';
import type { Alert } from '../ingest/alert';
import {
  auditRowValues,
  type IncidentRow,
  incidentFromRows,
  incidentPatchColumns,
  newIncidentValues,
  type SilenceRow,
  silenceRowValues,
  TEXT_COLUMNS,
} from './store-rows';
import type { AuditRecord, Incident, IncidentSilence, StepState, TimelineEvent, TimelineType } from './types';

export interface OpenIncidentInput {
  alert: Alert;
  hostName?: string;
  channel: string;
  threadTs: string;
  at: string;
  /**
   * The opener's claim to post the incident message, written with the row: a replica that sees the incident before
   * its message is posted must not post a second one (see `claimPost`).
   */
  postClaim?: PostClaim;
}

/** A step's lease: the replica running it, and until when (ISO) it counts as alive unless renewed. */
export interface StepLease {
  owner: string;
  until: string;
}

/** A queued or running step whose owner may be gone: what a sweeper needs to record it interrupted. */
export interface StaleStep {
  incidentId: number;
  stepId: string;
  state: Extract<StepState, { state: 'queued' | 'running' }>;
  /** The lease as read (null: the step was recorded without one, by an older bot). */
  owner: string | null;
  leaseUntil: string | null;
}

/**
 * Which queued or running steps count as stale: `expired` (their lease ran out), `unleased` (also those recorded
 * without a lease, by an older bot), `all` (every one: a single process starting, whose previous run is gone).
 */
export type StaleMode = 'expired' | 'unleased' | 'all';

/** Who may post an incident's message, until when (ISO time): a claim that expires lets another replica post it. */
export interface PostClaim {
  owner: string;
  until: string;
}

/** Who takes an incident's triage, when, and whether it runs or is skipped (a storm, the host's budget). */
export interface TriageClaim {
  owner: string;
  at: string;
  state: 'run' | 'skip';
}

/** The timeline event written with a step's state. */
export interface StepEventRecord {
  type: TimelineType;
  actor: string;
  details: Record<string, unknown>;
  at: string;
}

/** The reads and writes of the store; inside `transaction` they all commit or roll back together. */
export interface StoreOps {
  /** Returns the open incident for the alert's fingerprint, or opens one. Atomic: one incident per fingerprint. */
  openOrGet(input: OpenIncidentInput): Promise<{ incident: Incident; created: boolean }>;
  get(id: number): Promise<Incident | undefined>;
  findOpen(fingerprint: string): Promise<Incident | undefined>;
  /** The most recent incident (open or not) for a fingerprint. */
  findLatest(fingerprint: string): Promise<Incident | undefined>;
  listOpen(): Promise<Incident[]>;
  /** How many incidents are open: one count query (for /metrics), not every incident loaded. */
  countOpen(): Promise<number>;
  update(id: number, patch: IncidentPatch): Promise<Incident>;
  /**
   * Claims the posting of an incident's message for `claim.owner`: true when the incident has no message yet and no
   * one else holds an unexpired claim (at `now`, ISO). One conditional update: of replicas asking at once, one wins.
   */
  claimPost(id: number, claim: PostClaim, now: string): Promise<boolean>;
  /**
   * Open incidents whose message is not posted and whose post claim expired (or none was taken) at `now`: their
   * opener died before posting, or its post failed. Oldest first, at most `limit`.
   */
  unpostedIncidents(now: string, limit?: number): Promise<Incident[]>;
  /**
   * Claims an incident's triage: `run` when it has had none (or, with `afterSkip`, when it was skipped and a person
   * asks for it), `skip` when it has had none. One conditional write: of replicas asking at once, one gets it, so an
   * incident is triaged (or skipped) once.
   */
  claimTriage(incidentId: number, claim: TriageClaim, opts?: { afterSkip?: boolean }): Promise<boolean>;
  /**
   * Resolves an incident that is still open; undefined when it is not (any more): of two replicas resolving the same
   * incident at once, one gets it and posts the summary.
   */
  resolveOpen(
    id: number,
    patch: Required<Pick<IncidentPatch, 'resolvedAt' | 'resolvedBy'>> & Pick<IncidentPatch, 'alert'>,
  ): Promise<Incident | undefined>;
  /**
   * Records a "still firing" reply at `at` unless one was recorded (or the incident opened) after `notBefore`: true
   * when this caller should post it. Of replicas receiving the same repeat at once, one posts.
   */
  markRepeatNotified(id: number, at: string, notBefore: string): Promise<boolean>;
  setStep(id: number, stepId: string, state: StepState): Promise<Incident>;
  /**
   * Sets a step's state and appends the timeline event that says why, in one transaction: nobody reads a step
   * "failed" without the event that says so, and a crash between the two cannot split them.
   */
  recordStep(
    incidentId: number,
    stepId: string,
    state: StepState,
    event: StepEventRecord,
    lease?: StepLease,
  ): Promise<TimelineEvent>;
  /**
   * Renews the leases of every step `owner` holds until `until`: the heartbeat of a replica. Returns how many. A step
   * that ended (or that another replica recorded interrupted) holds no lease and is not touched.
   */
  renewStepLeases(owner: string, until: string): Promise<number>;
  /** Queued or running steps whose owner may be gone, at `now` (ISO): see StaleMode. */
  staleSteps(now: string, mode: StaleMode): Promise<StaleStep[]>;
  /**
   * Records a stale step's end (its state and timeline event, in one transaction) only if it is still as read: queued
   * or running, with the same lease. Of replicas sweeping at once, one records it; false for the others, and when the
   * owner renewed or ended it meanwhile.
   */
  endStaleStep(step: StaleStep, state: StepState, event: StepEventRecord): Promise<boolean>;
  /** Records a silence the bot created for the incident. */
  addSilence(incidentId: number, silence: Omit<IncidentSilence, 'expiredAt' | 'expiredBy'>): Promise<Incident>;
  /** Marks a silence expired (idempotent: the first expiry is kept). Undefined when the incident has no such silence. */
  markSilenceExpired(incidentId: number, silenceId: string, by: string, at: string): Promise<Incident | undefined>;
  appendTimeline(
    incidentId: number,
    type: TimelineType,
    actor: string,
    details?: Record<string, unknown>,
    at?: string,
  ): Promise<TimelineEvent>;
  timeline(incidentId: number): Promise<TimelineEvent[]>;
  appendAudit(record: AuditRecord): Promise<AuditRecord>;
  audits(filter?: AuditFilter): Promise<AuditRecord[]>;
  /**
   * Takes a named lock (e.g. `mitigation:lb-1`) unless someone else holds it and it has not expired. Returns the
   * holder when refused. Kept in the store so replicas sharing it share the lock, and an expiry so a crash cannot
   * hold it forever.
   */
  acquireLock(name: string, owner: string, ttlMs: number, now: Date): Promise<LockResult>;
  releaseLock(name: string, owner: string): Promise<void>;
}

export interface TransactionOptions {
  /** A name the transaction holds against every other transaction asking for it (e.g. `mitigation:lb-1`). */
  lockKey?: string;
}

/** The same operations inside a transaction (no nested transaction, no close). */
export type StoreTx = StoreOps;

export interface IncidentStore extends StoreOps {
  /**
   * Whether other processes may share this store (Postgres): then a queued or running step may belong to a live
   * replica, and only an expired lease says its owner is gone.
   */
  readonly shared: boolean;
  /**
   * Runs `fn` in one transaction: everything it does through `tx` commits together, or nothing does when it throws
   * (e.g. a step's state and its timeline event). Keep `fn` short and free of network calls other than the store's:
   * the transaction holds the store's write lock while it runs.
   *
   * With `lockKey`, the transaction also holds that key against every other transaction with the same key, in any
   * replica, until it ends (Postgres: a transaction-level advisory lock; SQLite: every write transaction already runs
   * alone), so a read-then-decide-then-write on one thing (a host's mitigation) is decided by one replica at a time.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

export type IncidentPatch = Partial<
  Pick<
    Incident,
    'alert' | 'status' | 'messageTs' | 'resolvedAt' | 'resolvedBy' | 'lastRepeatAt' | 'hostName' | 'threadTs'
  >
>;
export interface AuditFilter {
  host?: string;
  actionIds?: string[];
  since?: string;
  outcome?: AuditRecord['outcome'];
}
export type LockResult = { acquired: true } | { acquired: false; owner: string; since: string };

/** Schema migrations, applied in order; `user_version` records how many ran. Append only. */
const MIGRATIONS: string[] = [
  `CREATE TABLE incidents (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     fingerprint TEXT NOT NULL,
     alertname TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('open','resolved')),
     alert_json TEXT NOT NULL,
     host_name TEXT,
     channel TEXT NOT NULL,
     thread_ts TEXT NOT NULL,
     message_ts TEXT,
     opened_at TEXT NOT NULL,
     resolved_at TEXT,
     resolved_by TEXT,
     last_repeat_at TEXT
   );
   CREATE UNIQUE INDEX incidents_one_open_per_fingerprint ON incidents(fingerprint) WHERE status = 'open';
   CREATE TABLE steps (
     incident_id INTEGER NOT NULL REFERENCES incidents(id),
     step_id TEXT NOT NULL,
     state_json TEXT NOT NULL,
     PRIMARY KEY (incident_id, step_id)
   );
   CREATE TABLE timeline (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     incident_id INTEGER NOT NULL REFERENCES incidents(id),
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     type TEXT NOT NULL,
     details_json TEXT NOT NULL
   );
   CREATE INDEX timeline_by_incident ON timeline(incident_id, id);
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL,
     incident_id INTEGER,
     user TEXT NOT NULL,
     host TEXT NOT NULL,
     action_id TEXT NOT NULL,
     outcome TEXT NOT NULL,
     reason TEXT,
     command TEXT,
     exit_code INTEGER,
     verification TEXT,
     details_json TEXT
   );
   CREATE INDEX audit_by_host ON audit(host, at);
   -- Slack event ids: used by the event claims (slack/event-claims.ts), not by the store.
   CREATE TABLE seen_events (event_id TEXT PRIMARY KEY, at TEXT NOT NULL);`,
  `CREATE TABLE locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, since TEXT NOT NULL, until TEXT NOT NULL);`,
  `CREATE TABLE silences (
     id TEXT NOT NULL,
     incident_id INTEGER NOT NULL REFERENCES incidents(id),
     created_by TEXT NOT NULL,
     created_by_name TEXT NOT NULL,
     matchers_json TEXT NOT NULL,
     starts_at TEXT NOT NULL,
     ends_at TEXT NOT NULL,
     comment TEXT NOT NULL,
     keep INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL,
     expired_at TEXT,
     expired_by TEXT,
     PRIMARY KEY (incident_id, id)
   );`,
  // Who is posting an incident's message, until when: one replica posts it (see claimPost).
  `ALTER TABLE incidents ADD COLUMN post_claim_owner TEXT;
   ALTER TABLE incidents ADD COLUMN post_claim_until TEXT;`,
  // A queued or running step's lease: the replica running it renews it; once it expired another records it interrupted.
  `ALTER TABLE steps ADD COLUMN owner TEXT;
   ALTER TABLE steps ADD COLUMN lease_until TEXT;
   CREATE INDEX steps_by_lease ON steps(lease_until) WHERE lease_until IS NOT NULL;`,
  // Who took an incident's triage: one replica triages it, once (see claimTriage).
  `CREATE TABLE triage_claims (
     incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),
     owner TEXT NOT NULL,
     at TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('run','skip'))
   );`,
];

/**
 * Creates a new store file readable by the bot's user only (0600): it holds the timeline, the audit log and whatever
 * the alerts said. SQLite gives its -wal and -shm files the same mode. An existing file is left as the operator set it.
 */
function createPrivately(path: string): void {
  if (path === ':memory:' || path === '' || path.startsWith('file:')) return;
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  try {
    fchmodSync(fd, 0o600); // whatever the umask
  } finally {
    closeSync(fd);
  }
}

/** The SQLite statements, synchronous (better-sqlite3); `SqliteIncidentStore` puts the async contract over them. */
class SqliteOps {
  readonly db: Database.Database;

  constructor(path: string) {
    try {
      createPrivately(path);
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
      this.migrate();
    } catch (err) {
      throw new PilotError('STORE_UNAVAILABLE', `cannot open the store at ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  openOrGet(input: OpenIncidentInput): { incident: Incident; created: boolean } {
    return this.db.transaction(() => {
      const existing = this.findOpen(input.alert.fingerprint);
      if (existing) return { incident: existing, created: false };
      const info = this.db
        .prepare(
          `INSERT INTO incidents (fingerprint, alertname, status, alert_json, host_name, channel, thread_ts, opened_at,
             post_claim_owner, post_claim_until)
           VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(...newIncidentValues(input));
      return { incident: this.mustGet(Number(info.lastInsertRowid)), created: true };
    })();
  }

  get(id: number): Incident | undefined {
    const row = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as IncidentRow | undefined;
    return row && this.hydrate(row);
  }

  findOpen(fingerprint: string): Incident | undefined {
    const row = this.db.prepare(`SELECT * FROM incidents WHERE fingerprint = ? AND status = 'open'`).get(fingerprint) as
      | IncidentRow
      | undefined;
    return row && this.hydrate(row);
  }

  findLatest(fingerprint: string): Incident | undefined {
    const row = this.db
      .prepare('SELECT * FROM incidents WHERE fingerprint = ? ORDER BY id DESC LIMIT 1')
      .get(fingerprint) as IncidentRow | undefined;
    return row && this.hydrate(row);
  }

  listOpen(): Incident[] {
    const rows = this.db.prepare(`SELECT * FROM incidents WHERE status = 'open' ORDER BY id`).all() as IncidentRow[];
    return rows.map((r) => this.hydrate(r));
  }

  countOpen(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM incidents WHERE status = 'open'`).get() as { n: number }).n;
  }

  update(id: number, patch: IncidentPatch): Incident {
    const set = incidentPatchColumns(patch);
    if (set.length > 0) {
      this.db
        .prepare(`UPDATE incidents SET ${set.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ?`)
        .run(...set.map(([, v]) => v), id);
    }
    return this.mustGet(id);
  }

  claimPost(id: number, claim: PostClaim, now: string): boolean {
    const info = this.db
      .prepare(
        `UPDATE incidents SET post_claim_owner = ?, post_claim_until = ?
         WHERE id = ? AND message_ts IS NULL
           AND (post_claim_until IS NULL OR post_claim_until <= ? OR post_claim_owner = ?)`,
      )
      .run(claim.owner, claim.until, id, now, claim.owner);
    return info.changes > 0;
  }

  claimTriage(incidentId: number, claim: TriageClaim, opts: { afterSkip?: boolean } = {}): boolean {
    // A skipped triage may be taken over once, by a run a person asked for; nothing else replaces a claim.
    const over = opts.afterSkip && claim.state === 'run' ? `WHERE triage_claims.state = 'skip'` : 'WHERE 0';
    const info = this.db
      .prepare(
        `INSERT INTO triage_claims (incident_id, owner, at, state) VALUES (?, ?, ?, ?)
         ON CONFLICT (incident_id) DO UPDATE SET owner = excluded.owner, at = excluded.at, state = excluded.state ${over}`,
      )
      .run(incidentId, claim.owner, claim.at, claim.state);
    return info.changes > 0;
  }

  unpostedIncidents(now: string, limit = 50): Incident[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM incidents WHERE status = 'open' AND message_ts IS NULL
           AND (post_claim_until IS NULL OR post_claim_until <= ?) ORDER BY id LIMIT ?`,
      )
      .all(now, limit) as IncidentRow[];
    return rows.map((r) => this.hydrate(r));
  }

  resolveOpen(
    id: number,
    patch: Required<Pick<IncidentPatch, 'resolvedAt' | 'resolvedBy'>> & Pick<IncidentPatch, 'alert'>,
  ): Incident | undefined {
    const set = incidentPatchColumns({ ...patch, status: 'resolved' });
    const info = this.db
      .prepare(`UPDATE incidents SET ${set.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ? AND status = 'open'`)
      .run(...set.map(([, v]) => v), id);
    return info.changes > 0 ? this.mustGet(id) : undefined;
  }

  markRepeatNotified(id: number, at: string, notBefore: string): boolean {
    const info = this.db
      .prepare('UPDATE incidents SET last_repeat_at = ? WHERE id = ? AND COALESCE(last_repeat_at, opened_at) <= ?')
      .run(at, id, notBefore);
    return info.changes > 0;
  }

  setStep(id: number, stepId: string, state: StepState): Incident {
    this.upsertStep(id, stepId, state);
    return this.mustGet(id);
  }

  recordStep(
    incidentId: number,
    stepId: string,
    state: StepState,
    event: StepEventRecord,
    lease?: StepLease,
  ): TimelineEvent {
    return this.db.transaction(() => {
      this.upsertStep(incidentId, stepId, state, lease);
      return this.appendTimeline(incidentId, event.type, event.actor, event.details, event.at);
    })();
  }

  /** A step's state, with its lease while it is queued or running (none otherwise: it ended, nobody runs it). */
  private upsertStep(incidentId: number, stepId: string, state: StepState, lease?: StepLease): void {
    const leased = lease && (state.state === 'queued' || state.state === 'running') ? lease : undefined;
    this.db
      .prepare(
        `INSERT INTO steps (incident_id, step_id, state_json, owner, lease_until) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (incident_id, step_id) DO UPDATE
           SET state_json = excluded.state_json, owner = excluded.owner, lease_until = excluded.lease_until`,
      )
      .run(incidentId, stepId, JSON.stringify(state), leased?.owner ?? null, leased?.until ?? null);
  }

  renewStepLeases(owner: string, until: string): number {
    return this.db.prepare('UPDATE steps SET lease_until = ? WHERE owner = ?').run(until, owner).changes;
  }

  staleSteps(now: string, mode: StaleMode): StaleStep[] {
    const which =
      mode === 'all' ? '1' : mode === 'unleased' ? '(lease_until IS NULL OR lease_until < ?)' : 'lease_until < ?';
    const rows = this.db
      .prepare(
        `SELECT incident_id, step_id, state_json, owner, lease_until FROM steps
         WHERE json_extract(state_json, '$.state') IN ('queued', 'running') AND ${which}
         ORDER BY incident_id, step_id`,
      )
      .all(...(mode === 'all' ? [] : [now])) as Array<{
      incident_id: number;
      step_id: string;
      state_json: string;
      owner: string | null;
      lease_until: string | null;
    }>;
    return rows.map((r) => ({
      incidentId: r.incident_id,
      stepId: r.step_id,
      state: JSON.parse(r.state_json) as StaleStep['state'],
      owner: r.owner,
      leaseUntil: r.lease_until,
    }));
  }

  endStaleStep(step: StaleStep, state: StepState, event: StepEventRecord): boolean {
    return this.db.transaction(() => {
      const info = this.db
        .prepare(
          `UPDATE steps SET state_json = ?, owner = NULL, lease_until = NULL
           WHERE incident_id = ? AND step_id = ? AND owner IS ? AND lease_until IS ?
             AND json_extract(state_json, '$.state') IN ('queued', 'running')`,
        )
        .run(JSON.stringify(state), step.incidentId, step.stepId, step.owner, step.leaseUntil);
      if (info.changes === 0) return false;
      this.appendTimeline(step.incidentId, event.type, event.actor, event.details, event.at);
      return true;
    })();
  }

  addSilence(incidentId: number, silence: Omit<IncidentSilence, 'expiredAt' | 'expiredBy'>): Incident {
    this.db
      .prepare(
        `INSERT INTO silences (id, incident_id, created_by, created_by_name, matchers_json, starts_at, ends_at, comment, keep, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...silenceRowValues(incidentId, silence, TEXT_COLUMNS));
    return this.mustGet(incidentId);
  }

  markSilenceExpired(incidentId: number, silenceId: string, by: string, at: string): Incident | undefined {
    const info = this.db
      .prepare(
        'UPDATE silences SET expired_at = COALESCE(expired_at, ?), expired_by = COALESCE(expired_by, ?) WHERE incident_id = ? AND id = ?',
      )
      .run(at, by, incidentId, silenceId);
    return info.changes > 0 ? this.mustGet(incidentId) : undefined;
  }

  appendTimeline(
    incidentId: number,
    type: TimelineType,
    actor: string,
    details: Record<string, unknown> = {},
    at = new Date().toISOString(),
  ): TimelineEvent {
    const info = this.db
      .prepare('INSERT INTO timeline (incident_id, at, actor, type, details_json) VALUES (?, ?, ?, ?, ?)')
      .run(incidentId, at, actor, type, JSON.stringify(details));
    return { id: Number(info.lastInsertRowid), incidentId, at, actor, type, details };
  }

  timeline(incidentId: number): TimelineEvent[] {
    const rows = this.db.prepare('SELECT * FROM timeline WHERE incident_id = ? ORDER BY id').all(incidentId) as Array<{
      id: number;
      incident_id: number;
      at: string;
      actor: string;
      type: TimelineType;
      details_json: string;
    }>;
    return rows.map((r) => ({
      id: r.id,
      incidentId: r.incident_id,
      at: r.at,
      actor: r.actor,
      type: r.type,
      details: JSON.parse(r.details_json),
    }));
  }

  appendAudit(record: AuditRecord): AuditRecord {
    const info = this.db
      .prepare(
        `INSERT INTO audit (at, incident_id, user, host, action_id, outcome, reason, command, exit_code, verification, details_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...auditRowValues(record));
    return { ...record, id: Number(info.lastInsertRowid) };
  }

  audits(filter: AuditFilter = {}): AuditRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.host) where.push('host = ?'), args.push(filter.host);
    if (filter.since) where.push('at >= ?'), args.push(filter.since);
    if (filter.outcome) where.push('outcome = ?'), args.push(filter.outcome);
    if (filter.actionIds?.length)
      where.push(`action_id IN (${filter.actionIds.map(() => '?').join(',')})`), args.push(...filter.actionIds);
    const rows = this.db
      .prepare(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`)
      .all(...args) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      id: r.id as number,
      at: r.at as string,
      incidentId: (r.incident_id as number | null) ?? undefined,
      user: r.user as string,
      host: r.host as string,
      actionId: r.action_id as string,
      outcome: r.outcome as AuditRecord['outcome'],
      reason: (r.reason as string | null) ?? undefined,
      command: (r.command as string | null) ?? undefined,
      exitCode: r.exit_code as number | null,
      verification: (r.verification as string | null) ?? undefined,
      details: r.details_json ? JSON.parse(r.details_json as string) : undefined,
    }));
  }

  acquireLock(name: string, owner: string, ttlMs: number, now: Date): LockResult {
    return this.db.transaction(() => {
      const held = this.db.prepare('SELECT owner, since, until FROM locks WHERE name = ?').get(name) as
        | { owner: string; since: string; until: string }
        | undefined;
      if (held && Date.parse(held.until) > now.getTime())
        return { acquired: false as const, owner: held.owner, since: held.since };
      this.db
        .prepare(
          'INSERT INTO locks (name, owner, since, until) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, since = excluded.since, until = excluded.until',
        )
        .run(name, owner, now.toISOString(), new Date(now.getTime() + ttlMs).toISOString());
      return { acquired: true as const };
    })();
  }

  releaseLock(name: string, owner: string): void {
    this.db.prepare('DELETE FROM locks WHERE name = ? AND owner = ?').run(name, owner);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private mustGet(id: number): Incident {
    const incident = this.get(id);
    if (!incident) throw new PilotError('INCIDENT_UNKNOWN', `incident #${id} does not exist`);
    return incident;
  }

  private hydrate(row: IncidentRow): Incident {
    const steps = this.db.prepare('SELECT step_id, state_json FROM steps WHERE incident_id = ?').all(row.id) as Array<{
      step_id: string;
      state_json: string;
    }>;
    const silences = this.db
      .prepare('SELECT * FROM silences WHERE incident_id = ? ORDER BY created_at, rowid')
      .all(row.id) as SilenceRow[];
    return incidentFromRows(row, steps, silences, TEXT_COLUMNS);
  }
}

/**
 * SQLite implementation of IncidentStore (one process: the embedded default). `path` may be `:memory:` for tests.
 * better-sqlite3 is synchronous; the methods resolve at once. A transaction holds the one connection: calls from
 * outside it wait until it ends, so they never land inside it.
 */
export class SqliteIncidentStore implements IncidentStore {
  /** One process: a step queued or running at its start was left by a previous run, which is gone. */
  readonly shared = false;
  private readonly ops: SqliteOps;
  /**
   * Resolves when the transaction in progress ends; undefined when none is. Every method waits with
   * `while (this.busy) await this.busy;` inline: its statement then runs in the same tick as the check, so it can never
   * land inside a transaction that began in between.
   */
  private busy: Promise<void> | undefined;
  private readonly direct: StoreTx;

  constructor(path: string) {
    this.ops = new SqliteOps(path);
    const ops = this.ops;
    this.direct = {
      openOrGet: async (input) => ops.openOrGet(input),
      get: async (id) => ops.get(id),
      findOpen: async (fp) => ops.findOpen(fp),
      findLatest: async (fp) => ops.findLatest(fp),
      listOpen: async () => ops.listOpen(),
      countOpen: async () => ops.countOpen(),
      update: async (id, patch) => ops.update(id, patch),
      claimPost: async (id, claim, now) => ops.claimPost(id, claim, now),
      unpostedIncidents: async (now, limit) => ops.unpostedIncidents(now, limit),
      claimTriage: async (id, claim, opts) => ops.claimTriage(id, claim, opts),
      resolveOpen: async (id, patch) => ops.resolveOpen(id, patch),
      markRepeatNotified: async (id, at, notBefore) => ops.markRepeatNotified(id, at, notBefore),
      setStep: async (id, stepId, state) => ops.setStep(id, stepId, state),
      recordStep: async (id, stepId, state, event, lease) => ops.recordStep(id, stepId, state, event, lease),
      renewStepLeases: async (owner, until) => ops.renewStepLeases(owner, until),
      staleSteps: async (now, mode) => ops.staleSteps(now, mode),
      endStaleStep: async (step, state, event) => ops.endStaleStep(step, state, event),
      addSilence: async (id, silence) => ops.addSilence(id, silence),
      markSilenceExpired: async (id, silenceId, by, at) => ops.markSilenceExpired(id, silenceId, by, at),
      appendTimeline: async (id, type, actor, details, at) => ops.appendTimeline(id, type, actor, details, at),
      timeline: async (id) => ops.timeline(id),
      appendAudit: async (record) => ops.appendAudit(record),
      audits: async (filter) => ops.audits(filter),
      acquireLock: async (name, owner, ttlMs, now) => ops.acquireLock(name, owner, ttlMs, now),
      releaseLock: async (name, owner) => ops.releaseLock(name, owner),
    };
  }

  async openOrGet(input: OpenIncidentInput): Promise<{ incident: Incident; created: boolean }> {
    while (this.busy) await this.busy;
    return this.ops.openOrGet(input);
  }
  async get(id: number): Promise<Incident | undefined> {
    while (this.busy) await this.busy;
    return this.ops.get(id);
  }
  async findOpen(fingerprint: string): Promise<Incident | undefined> {
    while (this.busy) await this.busy;
    return this.ops.findOpen(fingerprint);
  }
  async findLatest(fingerprint: string): Promise<Incident | undefined> {
    while (this.busy) await this.busy;
    return this.ops.findLatest(fingerprint);
  }
  async listOpen(): Promise<Incident[]> {
    while (this.busy) await this.busy;
    return this.ops.listOpen();
  }
  async countOpen(): Promise<number> {
    while (this.busy) await this.busy;
    return this.ops.countOpen();
  }
  async update(id: number, patch: IncidentPatch): Promise<Incident> {
    while (this.busy) await this.busy;
    return this.ops.update(id, patch);
  }
  async claimPost(id: number, claim: PostClaim, now: string): Promise<boolean> {
    while (this.busy) await this.busy;
    return this.ops.claimPost(id, claim, now);
  }
  async claimTriage(incidentId: number, claim: TriageClaim, opts?: { afterSkip?: boolean }): Promise<boolean> {
    while (this.busy) await this.busy;
    return this.ops.claimTriage(incidentId, claim, opts);
  }
  async unpostedIncidents(now: string, limit?: number): Promise<Incident[]> {
    while (this.busy) await this.busy;
    return this.ops.unpostedIncidents(now, limit);
  }
  async resolveOpen(
    id: number,
    patch: Required<Pick<IncidentPatch, 'resolvedAt' | 'resolvedBy'>> & Pick<IncidentPatch, 'alert'>,
  ): Promise<Incident | undefined> {
    while (this.busy) await this.busy;
    return this.ops.resolveOpen(id, patch);
  }
  async markRepeatNotified(id: number, at: string, notBefore: string): Promise<boolean> {
    while (this.busy) await this.busy;
    return this.ops.markRepeatNotified(id, at, notBefore);
  }
  async setStep(id: number, stepId: string, state: StepState): Promise<Incident> {
    while (this.busy) await this.busy;
    return this.ops.setStep(id, stepId, state);
  }
  async recordStep(
    incidentId: number,
    stepId: string,
    state: StepState,
    event: StepEventRecord,
    lease?: StepLease,
  ): Promise<TimelineEvent> {
    while (this.busy) await this.busy;
    return this.ops.recordStep(incidentId, stepId, state, event, lease);
  }
  async renewStepLeases(owner: string, until: string): Promise<number> {
    while (this.busy) await this.busy;
    return this.ops.renewStepLeases(owner, until);
  }
  async staleSteps(now: string, mode: StaleMode): Promise<StaleStep[]> {
    while (this.busy) await this.busy;
    return this.ops.staleSteps(now, mode);
  }
  async endStaleStep(step: StaleStep, state: StepState, event: StepEventRecord): Promise<boolean> {
    while (this.busy) await this.busy;
    return this.ops.endStaleStep(step, state, event);
  }
  async addSilence(incidentId: number, silence: Omit<IncidentSilence, 'expiredAt' | 'expiredBy'>): Promise<Incident> {
    while (this.busy) await this.busy;
    return this.ops.addSilence(incidentId, silence);
  }
  async markSilenceExpired(
    incidentId: number,
    silenceId: string,
    by: string,
    at: string,
  ): Promise<Incident | undefined> {
    while (this.busy) await this.busy;
    return this.ops.markSilenceExpired(incidentId, silenceId, by, at);
  }
  async appendTimeline(
    incidentId: number,
    type: TimelineType,
    actor: string,
    details?: Record<string, unknown>,
    at?: string,
  ): Promise<TimelineEvent> {
    while (this.busy) await this.busy;
    return this.ops.appendTimeline(incidentId, type, actor, details, at);
  }
  async timeline(incidentId: number): Promise<TimelineEvent[]> {
    while (this.busy) await this.busy;
    return this.ops.timeline(incidentId);
  }
  async appendAudit(record: AuditRecord): Promise<AuditRecord> {
    while (this.busy) await this.busy;
    return this.ops.appendAudit(record);
  }
  async audits(filter?: AuditFilter): Promise<AuditRecord[]> {
    while (this.busy) await this.busy;
    return this.ops.audits(filter);
  }
  async acquireLock(name: string, owner: string, ttlMs: number, now: Date): Promise<LockResult> {
    while (this.busy) await this.busy;
    return this.ops.acquireLock(name, owner, ttlMs, now);
  }
  async releaseLock(name: string, owner: string): Promise<void> {
    while (this.busy) await this.busy;
    this.ops.releaseLock(name, owner);
  }

  /** `lockKey` needs nothing more here: BEGIN IMMEDIATE already makes every write transaction run alone. */
  async transaction<T>(fn: (tx: StoreTx) => Promise<T>, _opts?: TransactionOptions): Promise<T> {
    // No await may come between seeing no transaction and starting this one, or
    // two transactions starting together would both begin.
    while (this.busy) await this.busy;
    let end!: () => void;
    this.busy = new Promise<void>((r) => (end = r));
    const db = this.ops.db;
    try {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.busy = undefined;
      end();
    }
  }

  async close(): Promise<void> {
    while (this.busy) await this.busy;
    this.ops.close();
  }
}
