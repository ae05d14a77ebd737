/** What both stores (SQLite and Postgres) write for the same change: one mapping, so the two cannot drift. */
import type { IncidentPatch } from './store';

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
