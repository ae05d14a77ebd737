/**
 * The durable store's interface: incidents, step states, the timeline and the audit log. Two implementations:
 * SQLite (sqlite-store.ts, one process, the default) and Postgres (postgres-store.ts, shared by replicas); the rows
 * both write and read are mapped once, in store-rows.ts.
 */
import type { Alert } from '../ingest/alert';
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

/**
 * Every method of StoreOps, by name: the generic wrappers (SQLite's serialising one) are built from this list, and the
 * type below fails to compile when a method is added to StoreOps but not here.
 */
export const STORE_OPS = [
  'openOrGet',
  'get',
  'findOpen',
  'findLatest',
  'listOpen',
  'countOpen',
  'update',
  'claimPost',
  'unpostedIncidents',
  'claimTriage',
  'resolveOpen',
  'markRepeatNotified',
  'setStep',
  'recordStep',
  'renewStepLeases',
  'staleSteps',
  'endStaleStep',
  'addSilence',
  'markSilenceExpired',
  'appendTimeline',
  'timeline',
  'appendAudit',
  'audits',
  'acquireLock',
  'releaseLock',
] as const satisfies readonly (keyof StoreOps)[];

/** Compiles only while STORE_OPS names every method of StoreOps. */
const everyOpListed: Exclude<keyof StoreOps, (typeof STORE_OPS)[number]> extends never ? true : never = true;
void everyOpListed;
