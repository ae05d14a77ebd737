/** What both stores (SQLite and Postgres) write for the same change: one mapping, so the two cannot drift. */
import type { Alert } from '../ingest/alert';
import type { IncidentPatch, OpenIncidentInput } from './store';
import type { AuditRecord, Incident, IncidentSilence, StepState, TimelineEvent, TimelineType } from './types';

/** The incidents columns a patch sets, in a fixed order, with their values; fields the patch leaves out are absent. */
export function incidentPatchColumns(patch: IncidentPatch): [column: string, value: unknown][] {
  const columns: Record<string, unknown> = {
    alert_json: patch.alert && JSON.stringify(patch.alert),
    status: patch.status,
    message_ts: patch.messageTs,
    resolved_at: patch.resolvedAt,
    resolved_by: patch.resolvedBy,
    last_repeat_at: patch.lastRepeatAt,
    host_name: patch.hostName,
    thread_ts: patch.threadTs,
  };
  return Object.entries(columns).filter(([, v]) => v !== undefined);
}

/** An incidents row as a driver returns it (SQLite: JSON as text, ids as numbers; Postgres: jsonb parsed, bigint as text). */
export interface IncidentRow {
  id: number | string;
  fingerprint: string;
  alertname: string;
  status: 'open' | 'resolved';
  alert_json: unknown;
  host_name: string | null;
  channel: string;
  thread_ts: string;
  message_ts: string | null;
  opened_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
  last_repeat_at: string | null;
}

/** A silences row as a driver returns it. */
export interface SilenceRow {
  id: string;
  incident_id: number | string;
  created_by: string;
  created_by_name: string;
  matchers_json: unknown;
  starts_at: string;
  ends_at: string;
  comment: string;
  keep: unknown;
  created_at: string;
  expired_at: string | null;
  expired_by: string | null;
}

/** How a driver returns a JSON column and a flag: the one difference between the stores' rows. */
export interface ColumnCodec {
  json(value: unknown): unknown;
  flag(value: unknown): boolean;
  /** A flag as the driver stores it. */
  toFlag(value: boolean): unknown;
}

/** SQLite: JSON stored as text, flags as 0/1. */
export const TEXT_COLUMNS: ColumnCodec = {
  json: (v) => JSON.parse(v as string),
  flag: (v) => v === 1,
  toFlag: (v) => (v ? 1 : 0),
};
/** Postgres: jsonb arrives parsed, booleans as booleans. */
export const TYPED_COLUMNS: ColumnCodec = { json: (v) => v, flag: (v) => v === true, toFlag: (v) => v };

/** One incident from its row, its steps' rows and its silences' rows (in display order). */
export function incidentFromRows(
  row: IncidentRow,
  steps: ReadonlyArray<{ step_id: string; state_json: unknown }>,
  silences: readonly SilenceRow[],
  codec: ColumnCodec,
): Incident {
  return {
    id: Number(row.id),
    fingerprint: row.fingerprint,
    alertname: row.alertname,
    status: row.status,
    alert: codec.json(row.alert_json) as Alert,
    hostName: row.host_name ?? undefined,
    channel: row.channel,
    threadTs: row.thread_ts,
    messageTs: row.message_ts ?? undefined,
    openedAt: row.opened_at,
    resolvedAt: row.resolved_at ?? undefined,
    resolvedBy: row.resolved_by ?? undefined,
    lastRepeatAt: row.last_repeat_at ?? undefined,
    steps: Object.fromEntries(steps.map((s) => [s.step_id, codec.json(s.state_json) as StepState])),
    silences: silences.map((r) => ({
      id: r.id,
      createdBy: r.created_by,
      createdByName: r.created_by_name,
      matchers: codec.json(r.matchers_json) as Record<string, string>,
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      comment: r.comment,
      keep: codec.flag(r.keep),
      createdAt: r.created_at,
      expiredAt: r.expired_at ?? undefined,
      expiredBy: r.expired_by ?? undefined,
    })),
  };
}

/**
 * The values of an audit row in the order both stores insert them: at, incident_id, user, host, action_id, outcome,
 * reason, command, exit_code, verification, details_json.
 */
export function auditRowValues(record: AuditRecord): unknown[] {
  return [
    record.at,
    record.incidentId ?? null,
    record.user,
    record.host,
    record.actionId,
    record.outcome,
    record.reason ?? null,
    record.command ?? null,
    record.exitCode ?? null,
    record.verification ?? null,
    record.details ? JSON.stringify(record.details) : null,
  ];
}

/**
 * The values of a silences row in the order both stores insert them: id, incident_id, created_by, created_by_name,
 * matchers_json, starts_at, ends_at, comment, keep, created_at.
 */
export function silenceRowValues(
  incidentId: number,
  silence: Omit<IncidentSilence, 'expiredAt' | 'expiredBy'>,
  codec: ColumnCodec,
): unknown[] {
  return [
    silence.id,
    incidentId,
    silence.createdBy,
    silence.createdByName,
    JSON.stringify(silence.matchers),
    silence.startsAt,
    silence.endsAt,
    silence.comment,
    codec.toFlag(silence.keep),
    silence.createdAt,
  ];
}

/**
 * The values of a new incidents row in the order both stores insert them: fingerprint, alertname, alert_json,
 * host_name, channel, thread_ts, opened_at, post_claim_owner, post_claim_until (status is 'open' in the statement).
 */
export function newIncidentValues(input: OpenIncidentInput): unknown[] {
  return [
    input.alert.fingerprint,
    input.alert.alertname,
    JSON.stringify(input.alert),
    input.hostName ?? null,
    input.channel,
    input.threadTs,
    input.at,
    input.postClaim?.owner ?? null,
    input.postClaim?.until ?? null,
  ];
}

/** A timeline row as either driver returns it (Postgres: bigint ids as strings, jsonb parsed). */
export interface TimelineRow {
  id: number | string;
  incident_id: number | string;
  at: string;
  actor: string;
  type: TimelineType;
  details_json: unknown;
}

/** One timeline event from its row. */
export function timelineFromRow(r: TimelineRow, codec: ColumnCodec): TimelineEvent {
  return {
    id: Number(r.id),
    incidentId: Number(r.incident_id),
    at: r.at,
    actor: r.actor,
    type: r.type,
    details: codec.json(r.details_json) as Record<string, unknown>,
  };
}

/** One audit record from its row (the columns of auditRowValues). */
export function auditFromRow(r: Record<string, unknown>, codec: ColumnCodec): AuditRecord {
  return {
    id: Number(r.id),
    at: r.at as string,
    incidentId: r.incident_id === null || r.incident_id === undefined ? undefined : Number(r.incident_id),
    user: r.user as string,
    host: r.host as string,
    actionId: r.action_id as string,
    outcome: r.outcome as AuditRecord['outcome'],
    reason: (r.reason as string | null) ?? undefined,
    command: (r.command as string | null) ?? undefined,
    exitCode: r.exit_code as number | null,
    verification: (r.verification as string | null) ?? undefined,
    details:
      r.details_json === null || r.details_json === undefined
        ? undefined
        : (codec.json(r.details_json) as Record<string, unknown>),
  };
}
