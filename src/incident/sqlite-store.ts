/**
 * The SQLite store (better-sqlite3): one process, the embedded default. `SqliteOps` holds the statements (synchronous);
 * `SqliteIncidentStore` serialises them against its transactions, every method through one generic wrapper.
 */
import { closeSync, fchmodSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { PilotError } from '../errors';
import {
  type AuditFilter,
  type IncidentPatch,
  type IncidentStore,
  type LockResult,
  type OpenIncidentInput,
  type PostClaim,
  STORE_OPS,
  type StaleMode,
  type StaleStep,
  type StepEventRecord,
  type StepLease,
  type StoreOps,
  type StoreTx,
  type TransactionOptions,
  type TriageClaim,
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
  TEXT_COLUMNS,
  type TimelineRow,
  timelineFromRow,
} from './store-rows';
import type { AuditRecord, Incident, IncidentSilence, StepState, TimelineEvent, TimelineType } from './types';

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
   -- Slack event ids: used by the event claims (incident/event-claims.ts), not by the store.
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
/** More distinct SQL texts than this (there are about 40) would mean texts built from data: start over rather than grow. */
const MAX_CACHED_STATEMENTS = 500;

class SqliteOps {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

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

  /**
   * The prepared statement for `sql`, compiled once per text: every method used to prepare its SQL on each call, and
   * a click's path (step record, incident reads, timeline) spent about 3 ms a click compiling the same dozen statements
   * (issue #20, the click path). The texts are the literals of this file plus a few column sets of `update`, so the
   * cache stays small; it is bounded anyway. No statement here is put in raw/pluck/expand mode, so sharing is safe.
   */
  statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
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
      const info = this.statement(
        `INSERT INTO incidents (fingerprint, alertname, status, alert_json, host_name, channel, thread_ts, opened_at,
             post_claim_owner, post_claim_until)
           VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)`,
      ).run(...newIncidentValues(input));
      return { incident: this.mustGet(Number(info.lastInsertRowid)), created: true };
    })();
  }

  get(id: number): Incident | undefined {
    const row = this.statement('SELECT * FROM incidents WHERE id = ?').get(id) as IncidentRow | undefined;
    return row && this.hydrate(row);
  }

  findOpen(fingerprint: string): Incident | undefined {
    const row = this.statement(`SELECT * FROM incidents WHERE fingerprint = ? AND status = 'open'`).get(fingerprint) as
      | IncidentRow
      | undefined;
    return row && this.hydrate(row);
  }

  findLatest(fingerprint: string): Incident | undefined {
    const row = this.statement('SELECT * FROM incidents WHERE fingerprint = ? ORDER BY id DESC LIMIT 1').get(
      fingerprint,
    ) as IncidentRow | undefined;
    return row && this.hydrate(row);
  }

  listOpen(): Incident[] {
    const rows = this.statement(`SELECT * FROM incidents WHERE status = 'open' ORDER BY id`).all() as IncidentRow[];
    return rows.map((r) => this.hydrate(r));
  }

  countOpen(): number {
    return (this.statement(`SELECT COUNT(*) AS n FROM incidents WHERE status = 'open'`).get() as { n: number }).n;
  }

  update(id: number, patch: IncidentPatch): Incident {
    const set = incidentPatchColumns(patch);
    if (set.length > 0) {
      this.statement(`UPDATE incidents SET ${set.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ?`).run(
        ...set.map(([, v]) => v),
        id,
      );
    }
    return this.mustGet(id);
  }

  claimPost(id: number, claim: PostClaim, now: string): boolean {
    const info = this.statement(
      `UPDATE incidents SET post_claim_owner = ?, post_claim_until = ?
         WHERE id = ? AND message_ts IS NULL
           AND (post_claim_until IS NULL OR post_claim_until <= ? OR post_claim_owner = ?)`,
    ).run(claim.owner, claim.until, id, now, claim.owner);
    return info.changes > 0;
  }

  claimTriage(incidentId: number, claim: TriageClaim, opts: { afterSkip?: boolean } = {}): boolean {
    // A skipped triage may be taken over once, by a run a person asked for; nothing else replaces a claim.
    const over = opts.afterSkip && claim.state === 'run' ? `WHERE triage_claims.state = 'skip'` : 'WHERE 0';
    const info = this.statement(
      `INSERT INTO triage_claims (incident_id, owner, at, state) VALUES (?, ?, ?, ?)
         ON CONFLICT (incident_id) DO UPDATE SET owner = excluded.owner, at = excluded.at, state = excluded.state ${over}`,
    ).run(incidentId, claim.owner, claim.at, claim.state);
    return info.changes > 0;
  }

  unpostedIncidents(now: string, limit = 50): Incident[] {
    const rows = this.statement(
      `SELECT * FROM incidents WHERE status = 'open' AND message_ts IS NULL
           AND (post_claim_until IS NULL OR post_claim_until <= ?) ORDER BY id LIMIT ?`,
    ).all(now, limit) as IncidentRow[];
    return rows.map((r) => this.hydrate(r));
  }

  resolveOpen(
    id: number,
    patch: Required<Pick<IncidentPatch, 'resolvedAt' | 'resolvedBy'>> & Pick<IncidentPatch, 'alert'>,
  ): Incident | undefined {
    const set = incidentPatchColumns({ ...patch, status: 'resolved' });
    const info = this.statement(
      `UPDATE incidents SET ${set.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ? AND status = 'open'`,
    ).run(...set.map(([, v]) => v), id);
    return info.changes > 0 ? this.mustGet(id) : undefined;
  }

  markRepeatNotified(id: number, at: string, notBefore: string): boolean {
    const info = this.statement(
      'UPDATE incidents SET last_repeat_at = ? WHERE id = ? AND COALESCE(last_repeat_at, opened_at) <= ?',
    ).run(at, id, notBefore);
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
    this.statement(
      `INSERT INTO steps (incident_id, step_id, state_json, owner, lease_until) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (incident_id, step_id) DO UPDATE
           SET state_json = excluded.state_json, owner = excluded.owner, lease_until = excluded.lease_until`,
    ).run(incidentId, stepId, JSON.stringify(state), leased?.owner ?? null, leased?.until ?? null);
  }

  renewStepLeases(owner: string, until: string): number {
    return this.statement('UPDATE steps SET lease_until = ? WHERE owner = ?').run(until, owner).changes;
  }

  staleSteps(now: string, mode: StaleMode): StaleStep[] {
    const which =
      mode === 'all' ? '1' : mode === 'unleased' ? '(lease_until IS NULL OR lease_until < ?)' : 'lease_until < ?';
    const rows = this.statement(
      `SELECT incident_id, step_id, state_json, owner, lease_until FROM steps
         WHERE json_extract(state_json, '$.state') IN ('queued', 'running') AND ${which}
         ORDER BY incident_id, step_id`,
    ).all(...(mode === 'all' ? [] : [now])) as Array<{
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
      const info = this.statement(
        `UPDATE steps SET state_json = ?, owner = NULL, lease_until = NULL
           WHERE incident_id = ? AND step_id = ? AND owner IS ? AND lease_until IS ?
             AND json_extract(state_json, '$.state') IN ('queued', 'running')`,
      ).run(JSON.stringify(state), step.incidentId, step.stepId, step.owner, step.leaseUntil);
      if (info.changes === 0) return false;
      this.appendTimeline(step.incidentId, event.type, event.actor, event.details, event.at);
      return true;
    })();
  }

  addSilence(incidentId: number, silence: Omit<IncidentSilence, 'expiredAt' | 'expiredBy'>): Incident {
    this.statement(
      `INSERT INTO silences (id, incident_id, created_by, created_by_name, matchers_json, starts_at, ends_at, comment, keep, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(...silenceRowValues(incidentId, silence, TEXT_COLUMNS));
    return this.mustGet(incidentId);
  }

  markSilenceExpired(incidentId: number, silenceId: string, by: string, at: string): Incident | undefined {
    const info = this.statement(
      'UPDATE silences SET expired_at = COALESCE(expired_at, ?), expired_by = COALESCE(expired_by, ?) WHERE incident_id = ? AND id = ?',
    ).run(at, by, incidentId, silenceId);
    return info.changes > 0 ? this.mustGet(incidentId) : undefined;
  }

  appendTimeline(
    incidentId: number,
    type: TimelineType,
    actor: string,
    details: Record<string, unknown> = {},
    at = new Date().toISOString(),
  ): TimelineEvent {
    const info = this.statement(
      'INSERT INTO timeline (incident_id, at, actor, type, details_json) VALUES (?, ?, ?, ?, ?)',
    ).run(incidentId, at, actor, type, JSON.stringify(details));
    return { id: Number(info.lastInsertRowid), incidentId, at, actor, type, details };
  }

  timeline(incidentId: number): TimelineEvent[] {
    const rows = this.statement('SELECT * FROM timeline WHERE incident_id = ? ORDER BY id').all(
      incidentId,
    ) as TimelineRow[];
    return rows.map((r) => timelineFromRow(r, TEXT_COLUMNS));
  }

  appendAudit(record: AuditRecord): AuditRecord {
    const info = this.statement(
      `INSERT INTO audit (at, incident_id, user, host, action_id, outcome, reason, command, exit_code, verification, details_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(...auditRowValues(record));
    return { ...record, id: Number(info.lastInsertRowid) };
  }

  audits(filter: AuditFilter = {}): AuditRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return '?';
    };
    if (filter.host) where.push(`host = ${arg(filter.host)}`);
    if (filter.since) where.push(`at >= ${arg(filter.since)}`);
    if (filter.outcome) where.push(`outcome = ${arg(filter.outcome)}`);
    if (filter.actionIds?.length) where.push(`action_id IN (${filter.actionIds.map(arg).join(',')})`);
    const rows = this.statement(
      `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`,
    ).all(...args) as Array<Record<string, unknown>>;
    return rows.map((r) => auditFromRow(r, TEXT_COLUMNS));
  }

  acquireLock(name: string, owner: string, ttlMs: number, now: Date): LockResult {
    return this.db.transaction(() => {
      const held = this.statement('SELECT owner, since, until FROM locks WHERE name = ?').get(name) as
        | { owner: string; since: string; until: string }
        | undefined;
      if (held && Date.parse(held.until) > now.getTime())
        return { acquired: false as const, owner: held.owner, since: held.since };
      this.statement(
        'INSERT INTO locks (name, owner, since, until) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, since = excluded.since, until = excluded.until',
      ).run(name, owner, now.toISOString(), new Date(now.getTime() + ttlMs).toISOString());
      return { acquired: true as const };
    })();
  }

  releaseLock(name: string, owner: string): void {
    this.statement('DELETE FROM locks WHERE name = ? AND owner = ?').run(name, owner);
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
    const steps = this.statement('SELECT step_id, state_json FROM steps WHERE incident_id = ?').all(row.id) as Array<{
      step_id: string;
      state_json: string;
    }>;
    const silences = this.statement('SELECT * FROM silences WHERE incident_id = ? ORDER BY created_at, rowid').all(
      row.id,
    ) as SilenceRow[];
    return incidentFromRows(row, steps, silences, TEXT_COLUMNS);
  }
}

/** SqliteOps' store methods: each StoreOps method, synchronous. */
type SyncOps = { [K in keyof StoreOps]: (...args: Parameters<StoreOps[K]>) => Awaited<ReturnType<StoreOps[K]>> };

/**
 * StoreOps from the synchronous ops: one generic wrapper instead of one hand-written method per operation. With
 * `busy` (the transaction in progress, if any), each call first waits until none is; the last check and the statement
 * run in the same tick, so a statement can never land inside a transaction that began in between.
 */
function asyncOps(ops: SyncOps, busy?: () => Promise<void> | undefined): StoreOps {
  const out: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of STORE_OPS) {
    const op = ops[name] as (...args: unknown[]) => unknown;
    out[name] = async (...args) => {
      for (let running = busy?.(); running; running = busy?.()) await running;
      return op.apply(ops, args);
    };
  }
  return out as unknown as StoreOps;
}

/**
 * SQLite implementation of IncidentStore (one process: the embedded default). `path` may be `:memory:` for tests.
 * better-sqlite3 is synchronous; the methods resolve at once. A transaction holds the one connection: calls from
 * outside it wait until it ends, so they never land inside it. The StoreOps methods are those of `asyncOps`, merged
 * into the class by the interface of the same name below.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor assigns every StoreOps method (from STORE_OPS)
export class SqliteIncidentStore {
  /** One process: a step queued or running at its start was left by a previous run, which is gone. */
  readonly shared = false;
  private readonly ops: SqliteOps;
  /**
   * Resolves when the transaction in progress ends; undefined when none is. Every call outside a transaction waits
   * for it in asyncOps.
   */
  private busy: Promise<void> | undefined;
  /** The operations inside a transaction: no waiting (the transaction holds the connection). */
  private readonly direct: StoreTx;

  constructor(path: string) {
    this.ops = new SqliteOps(path);
    this.direct = asyncOps(this.ops);
    Object.assign(
      this,
      asyncOps(this.ops, () => this.busy),
    );
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

// The StoreOps methods, assigned in the constructor from asyncOps (one generic wrapper rather than 24 written out).
export interface SqliteIncidentStore extends StoreOps {}

/** Type check: the class with its merged methods is an IncidentStore. */
const _isStore = (s: SqliteIncidentStore): IncidentStore => s;
void _isStore;
