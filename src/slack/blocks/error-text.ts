/**
 * An error in Slack's words, for the one user who caused it or the thread. Errors below the Slack layer carry plain
 * messages and structured details (who may, who holds a lock, who restarted last); here, and only here, the ids in
 * those details become mentions. Pure: an internal error gets a log id for the caller to log.
 */
import { asPilotError, type PilotError, userText } from '../../errors';
import type { LockHolder } from '../../mitigation/host-lock';
import { escapeMrkdwn } from './format';

/** Slack mrkdwn for a list of grantees: `<@U…>` and `<!subteam^S…>`. */
export function formatGrantees(ids: readonly string[]): string {
  if (!ids.length) return 'nobody (access.mitigate is empty in the config)';
  return ids.map((id) => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`)).join(', ');
}

/** `03:12:04 UTC` */
function clock(iso: string): string {
  return `${iso.slice(11, 19)} UTC`;
}

/**
 * The error as mrkdwn with what to do: built from the structured details where they name people, else the plain
 * message escaped. An internal error shows only a log id (returned, for the caller to log with the error).
 */
export function errorText(err: unknown): { text: string; logId?: string } {
  const error = asPilotError(err);
  if (!error.userFacing) return userText(error);
  return { text: `${errorSaid(error)}. ${escapeMrkdwn(error.hint.charAt(0).toUpperCase() + error.hint.slice(1))}.` };
}

/**
 * What a user-facing error says, as mrkdwn without its hint (the timeline's refusals): the people in its details (who
 * holds the lock, who restarted last, who may) as mentions, never as raw ids.
 */
export function errorSaid(error: PilotError): string {
  const d = (error.details ?? {}) as Record<string, unknown>;
  const host = `\`${escapeMrkdwn(String(d.host ?? '?'))}\``;
  let said = escapeMrkdwn(error.message);
  if (error.code === 'NOT_ALLOWED' && Array.isArray(d.grantees)) {
    said = `${escapeMrkdwn(error.message)}: only ${formatGrantees(d.grantees as string[])} may`;
  } else if (error.code === 'HOST_BUSY' && typeof d.since === 'string') {
    const holder = d.holder as LockHolder | undefined;
    const who = holder
      ? ` (${escapeMrkdwn(holder.actionId)} by <@${holder.user}> for incident #${holder.incidentId})`
      : '';
    said = `another mitigation is running on ${host}${who} since ${clock(d.since)}; nothing was run`;
  } else if (error.code === 'COOLDOWN' && typeof d.lastAt === 'string') {
    const by = `${escapeMrkdwn(String(d.lastActionId))} by <@${String(d.lastUser)}>`;
    const what =
      d.lastOutcome === 'ok'
        ? `${host} was last restarted (${by}) at ${clock(d.lastAt)}`
        : `the last restart attempt on ${host} (${by}) failed at ${clock(d.lastAt)}`;
    said = `${what}; the cooldown of ${String(d.cooldownSec)} s has ${String(d.waitSec)} s left`;
  }
  return said;
}
