/** Short thread replies: still firing, resolved with a summary, notices. Pure. */
import type { KnownBlock } from '@slack/types';
import type { Incident, TimelineEvent } from '../../incident/types';
import type { Runbook } from '../../runbook/types';
import { escapeMrkdwn, formatDuration, formatUtc, inlineCode, truncate } from './format';
import type { SlackMessage } from './incident-message';
import type { ActionTitle } from './timeline';

/** "Still firing" reply for a repeated alert. */
export function renderStillFiring(incident: Incident, at: string): SlackMessage {
  const text = `🔁 ${escapeMrkdwn(incident.alertname)} is still firing (seen again ${formatUtc(at)}; open since ${formatUtc(incident.openedAt)}).`;
  return { text, blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text }] }] };
}

/**
 * The reply under a new alert message whose alert already has an open incident (Alertmanager's repeat, a second
 * rule, the demo's alert fired twice): which incident, and a link to its thread where the buttons are.
 */
export function renderAlreadyOpen(incident: Incident, threadLink: string | undefined): SlackMessage {
  const where = threadLink ? `<${threadLink}|its thread>` : 'its thread (the first message of this alert)';
  const text = `🔁 Already open: incident #${incident.id} (${escapeMrkdwn(incident.alertname)}, since ${formatUtc(incident.openedAt)}). The steps and the timeline are in ${where}.`;
  return { text, blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text }] }] };
}

/** The closing summary: duration, steps run and by whom, mitigation and verification, who resolved it. */
export function renderResolution(
  incident: Incident,
  timeline: TimelineEvent[],
  runbook: Runbook | undefined,
  actionTitle?: ActionTitle,
): SlackMessage {
  const end = incident.resolvedAt ?? new Date().toISOString();
  const duration = formatDuration(Date.parse(end) - Date.parse(incident.alert.startsAt ?? incident.openedAt));
  const stepTitle = (id: unknown) => runbook?.steps.find((s) => s.id === id)?.title ?? String(id);
  const ran = timeline.filter((e) => e.type === 'step.finished' || e.type === 'step.failed');
  const lines = ran.map((e) => {
    const d = e.details as {
      stepId?: string;
      actionId?: string;
      exitCode?: number;
      durationMs?: number;
      error?: string;
    };
    const result =
      e.type === 'step.finished'
        ? `exit ${d.exitCode}`
        : `failed${d.error ? `: ${escapeMrkdwn(truncate(String(d.error), 80))}` : ''}`;
    // Named as its button was: the action's title when known.
    const name = (d.actionId && actionTitle?.(d.actionId)) || stepTitle(d.stepId);
    return `• ${formatUtc(e.at)} ${escapeMrkdwn(name)} (\`${escapeMrkdwn(String(d.actionId ?? ''))}\`, ${result}) — <@${e.actor}>`;
  });
  const checklist = timeline
    .filter((e) => e.type === 'checklist.done')
    .map(
      (e) =>
        `• ${formatUtc(e.at)} ☑️ ${escapeMrkdwn(stepTitle((e.details as { stepId?: string }).stepId))} — <@${e.actor}>`,
    );
  const mitigation = timeline
    .filter((e) => e.type === 'mitigation.verified' || e.type === 'mitigation.not-verified')
    .map(
      (e) =>
        `• ${formatUtc(e.at)} ${e.type === 'mitigation.verified' ? '✅ verified' : '⚠️ not verified'}: ${escapeMrkdwn(String((e.details as { actionId?: string }).actionId ?? ''))}${(e.details as { why?: string }).why ? ` (${escapeMrkdwn(String((e.details as { why?: string }).why))})` : ''}`,
    );
  const by =
    incident.resolvedBy && /^[UW][A-Z0-9]+$/.test(incident.resolvedBy)
      ? `<@${incident.resolvedBy}>`
      : escapeMrkdwn(incident.resolvedBy ?? 'Alertmanager');
  const header = `✅ *${escapeMrkdwn(incident.alertname)} resolved* (incident #${incident.id}) after ${duration}, by ${by} at ${formatUtc(end)}.`;
  const body = [
    lines.length ? `*Steps run*\n${lines.join('\n')}` : '_No automated step was run._',
    checklist.length ? `*Checklist*\n${checklist.join('\n')}` : undefined,
    mitigation.length ? `*Mitigation*\n${mitigation.join('\n')}` : undefined,
  ].filter((s): s is string => Boolean(s));
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: truncate(header, 3000) } },
    ...body.map((t): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: truncate(t, 3000) } })),
  ];
  return { text: `${escapeMrkdwn(incident.alertname)} resolved after ${duration} (incident #${incident.id})`, blocks };
}

/** The alert message the bot posts itself for a webhook alert (the incident then opens in its thread). */
export function renderWebhookAlert(alert: {
  alertname: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}): SlackMessage {
  const summary = alert.annotations.summary ?? alert.annotations.description ?? '';
  const labels = Object.entries(alert.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${escapeMrkdwn(k)}=${inlineCode(truncate(v, 200))}`)
    .join(' ');
  const text = `🔥 [FIRING] ${escapeMrkdwn(alert.alertname)}${summary ? `: ${escapeMrkdwn(summary)}` : ''}`;
  return {
    text: truncate(text, 3000),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: truncate(
            `*🔥 [FIRING] ${escapeMrkdwn(alert.alertname)}*${summary ? `\n${escapeMrkdwn(summary)}` : ''}`,
            3000,
          ),
        },
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(labels || 'no labels', 3000) }] },
    ],
  };
}
