/** The incident's timeline as a readable list, and as markdown for a file when it is long. Pure. */

import { ErrorCatalog, type ErrorCode, PilotError } from '../../errors';
import type { Incident, TimelineEvent } from '../../incident/types';
import type { Runbook } from '../../runbook/types';
import { errorSaid } from './error-text';
import { escapeMrkdwn, escapePlain, formatDuration, truncate } from './format';
import type { SlackMessage } from './incident-message';

/** Past this many characters the list is attached as a markdown file, with its tail shown inline. */
export const TIMELINE_INLINE_CHARS = 2800;

/** `2026-11-25 03:12:04 UTC` */
function stamp(iso: string): string {
  return `${iso.slice(0, 19).replace('T', ' ')} UTC`;
}

/** An action's title by id (the runbook registry's), so the timeline names a step as its button does. */
export type ActionTitle = (actionId: string) => string | undefined;

/** One event in words (markdown-safe, without the time and actor). */
export function describeEvent(e: TimelineEvent, runbook?: Runbook, actionTitle?: ActionTitle): string {
  const d = e.details as Record<string, unknown>;
  const step = (id: unknown) => runbook?.steps.find((s) => s.id === id)?.title ?? String(id ?? '');
  const actionId = String(d.actionId ?? '');
  // The button shows the action's title ("Tail the HAProxy log"): the timeline says the same.
  const action = (actionId && actionTitle?.(actionId)) || actionId;
  switch (e.type) {
    case 'alert.fired':
      return `alert fired${d.host ? ` on ${String(d.host)}` : Array.isArray(d.hostChoices) ? `, naming no host (one of ${d.hostChoices.map(String).join(', ')})` : ''} (${String(d.source ?? '')})`;
    case 'alert.repeated':
      return `alert repeated${d.notified ? ' (still firing, said in the thread)' : ''}`;
    case 'alert.resolved':
      return 'alert resolved';
    case 'step.clicked':
      return action !== actionId ? `asked for ${action}` : `asked for ${step(d.stepId)} (${actionId})`;
    case 'step.queued':
      return `${action} queued on ${String(d.host ?? '')}, ${String(d.ahead ?? 0)} ahead`;
    case 'step.started':
      return `${action} started on ${String(d.host ?? '')}`;
    case 'step.finished':
      return `${action} finished: exit ${String(d.exitCode)}, ${formatDuration(Number(d.durationMs ?? 0))}${verdictOf(d)}`;
    case 'step.failed':
      return `${action} failed: ${String(d.error ?? d.code ?? '')}`;
    case 'step.refused':
      return `${action} refused, nothing ran: ${String(d.error ?? d.code ?? '')}`;
    case 'step.interrupted':
      return `${action} interrupted by a bot restart${d.ran === false ? ', nothing ran' : ', outcome unknown'}`;
    case 'checklist.done':
      return `checked off: ${step(d.stepId)}`;
    case 'mitigation.confirmed':
      return `confirmed ${action} on ${String(d.host ?? '')}: “${String(d.reason ?? '')}”`;
    case 'mitigation.refused':
      return `${action} refused (${String(d.code ?? '')})${d.error ? `: ${String(d.error)}` : ''}`;
    case 'mitigation.dry-run':
      return `dry run of ${action} on ${String(d.host ?? '')}: nothing ran`;
    case 'mitigation.verified':
      return `${action} verified: ${String(d.why ?? '')}`;
    case 'mitigation.not-verified':
      return `${action} NOT verified: ${String(d.why ?? '')}`;
    case 'silence.created':
      return `silenced until ${String(d.endsAt ?? '')} (silence ${String(d.silenceId ?? '')})`;
    case 'silence.expired':
      return `silence ${String(d.silenceId ?? '')} expired`;
    case 'note.added':
      return `note: ${String(d.text ?? '')}`;
    case 'incident.resolve-refused':
      return `resolve refused (${String(d.error ?? 'not allowed')})`;
    case 'labels.completed':
      return `labels completed: ${Object.entries((d.labels ?? {}) as Record<string, unknown>)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')}${d.host ? ` (host ${String(d.host)})` : ''}`;
    case 'host.chosen':
      return `picked ${String(d.host ?? '')} as the incident's host`;
    case 'incident.resolved':
      return `incident resolved (${String(d.reason ?? '')})`;
    case 'triage.started':
      return `triage started: ${Array.isArray(d.steps) ? d.steps.map((s) => step(s)).join(', ') : ''}`;
    case 'triage.finished':
      return `triage finished in ${formatDuration(Number(d.durationMs ?? 0))}: ${d.cause ? `likely cause: ${String(d.cause)}` : 'no cause rule fits'}`;
    case 'triage.skipped':
      return `triage skipped: ${String(d.reason ?? '')}`;
  }
}

/** `: <verdict>` when the step's action gave one. */
function verdictOf(d: Record<string, unknown>): string {
  const v = d.verdict as { level?: unknown; text?: unknown } | undefined;
  return v && typeof v.text === 'string' ? ` — ${String(v.level)}: ${v.text}` : '';
}

function actorText(actor: string, mrkdwn: boolean): string {
  if (/^[UW][A-Z0-9]+$/.test(actor)) return mrkdwn ? `<@${actor}>` : `@${actor}`;
  return mrkdwn ? escapeMrkdwn(actor) : escapePlain(actor);
}

/**
 * One event as mrkdwn. A refusal is told from its structured details (who holds the lock, who restarted last, who
 * may), so the people in it are mentions (Slack shows their names), never the raw ids its plain message carries.
 */
function eventMrkdwn(e: TimelineEvent, runbook?: Runbook, actionTitle?: ActionTitle): string {
  const d = e.details as Record<string, unknown>;
  const code = typeof d.code === 'string' ? d.code : undefined;
  // Only the refusals that name who did something (HOST_BUSY, COOLDOWN): a user mention. A NOT_ALLOWED's grantees
  // stay out of the timeline, where a group mention would page the whole group at every refused click.
  if (
    (e.type === 'mitigation.refused' || e.type === 'step.refused') &&
    (code === 'HOST_BUSY' || code === 'COOLDOWN') &&
    code in ErrorCatalog
  ) {
    const actionId = String(d.actionId ?? '');
    const action = (actionId && actionTitle?.(actionId)) || actionId;
    const error = new PilotError(code as ErrorCode, String(d.error ?? code), { details: d });
    const prefix = e.type === 'step.refused' ? `${action} refused, nothing ran: ` : `${action} refused (${code}): `;
    const said = errorSaid(error);
    // Cut without leaving half a mention or entity behind.
    const cut = said.length > 300 ? `${said.slice(0, 299).replace(/<[^>]*$|&[a-z]*$/, '')}…` : said;
    return `${escapeMrkdwn(prefix)}${cut}`;
  }
  return escapeMrkdwn(truncate(describeEvent(e, runbook, actionTitle), 300));
}

/** The timeline as markdown lines (for the file; Slack previews it as text, so alert text is made inert, not entity-escaped). */
export function timelineMarkdown(
  incident: Incident,
  events: TimelineEvent[],
  runbook?: Runbook,
  actionTitle?: ActionTitle,
): string {
  const header = `# Incident #${incident.id}: ${escapePlain(incident.alertname)}\n\n- Host: ${escapePlain(incident.hostName ?? 'not configured')}\n- Opened: ${stamp(incident.openedAt)}\n- Status: ${incident.status}${incident.resolvedAt ? ` (${stamp(incident.resolvedAt)})` : ''}\n\n## Timeline (UTC)\n`;
  return (
    header +
    events
      .map(
        (e) =>
          `- ${stamp(e.at)} · ${actorText(e.actor, false)} · ${escapePlain(describeEvent(e, runbook, actionTitle))}`,
      )
      .join('\n') +
    '\n'
  );
}

/** The timeline as a Slack message; `file` is set when the list is too long to show whole. */
export function renderTimeline(
  incident: Incident,
  events: TimelineEvent[],
  runbook?: Runbook,
  actionTitle?: ActionTitle,
): { message: SlackMessage; file?: { filename: string; content: string; title: string } } {
  const lines = events.map(
    (e) => `\`${stamp(e.at)}\` ${actorText(e.actor, true)} ${eventMrkdwn(e, runbook, actionTitle)}`,
  );
  const title = `*Timeline of incident #${incident.id}* (${escapeMrkdwn(incident.alertname)}, ${events.length} events, times in UTC)`;
  let body = lines.join('\n');
  let file: { filename: string; content: string; title: string } | undefined;
  if (body.length > TIMELINE_INLINE_CHARS) {
    const tail: string[] = [];
    let size = 0;
    for (let i = lines.length - 1; i >= 0 && size + lines[i].length + 1 < TIMELINE_INLINE_CHARS - 100; i--) {
      tail.unshift(lines[i]);
      size += lines[i].length + 1;
    }
    body = `… ${lines.length - tail.length} earlier events in the attached file\n${tail.join('\n')}`;
    file = {
      filename: `incident-${incident.id}-timeline.md`,
      content: timelineMarkdown(incident, events, runbook, actionTitle),
      title: `Timeline of incident #${incident.id}`,
    };
  }
  return {
    message: {
      text: `Timeline of incident #${incident.id}`,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: title } },
        { type: 'section', text: { type: 'mrkdwn', text: truncate(body || '_no events_', 3000) } },
      ],
    },
    file,
  };
}
