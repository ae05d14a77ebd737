/**
 * A runbook's steps in full, for the thread: what the compact layout of a long runbook's incident message cuts (the
 * titles) is one click away here. Kept under Slack's limits itself (50 blocks, MESSAGE_TEXT_LIMIT of block text):
 * past them the whole list goes into a markdown file and the message shows its start. Pure.
 */
import type { KnownBlock } from '@slack/types';
import type { Incident } from '../../incident/types';
import type { Runbook, Step } from '../../runbook/types';
import { MESSAGE_TEXT_LIMIT } from './block-text';
import { escapeMrkdwn, escapePlain, truncate } from './format';
import type { SlackMessage } from './incident-message';

/** An action's title by id (the catalog's or the binding's), for the buttons' names in the list. */
export type ActionTitle = (actionId: string) => string | undefined;

const SECTION_TEXT = 3000;

/** The steps as one message, and a markdown file of all of them when the message cannot hold them. */
export function renderRunbookSteps(
  incident: Incident,
  runbook: Runbook,
  actionTitle: ActionTitle,
): { message: SlackMessage; file?: { filename: string; content: string; title: string } } {
  const heading = `*Steps of ${escapeMrkdwn(runbook.doc.alertname)}* (incident #${incident.id}; the buttons are on the incident message)`;
  const lines = runbook.steps.map((s) => stepLine(s, actionTitle));
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: heading } }];
  let used = heading.length;
  let shown = 0;
  let chunk = '';
  const flush = () => {
    if (chunk) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
    chunk = '';
  };
  // Room for the note that points at the file.
  const budget = MESSAGE_TEXT_LIMIT - 300;
  for (const line of lines) {
    const l = truncate(line, SECTION_TEXT);
    if (used + l.length + 1 > budget || blocks.length >= 48) break;
    if (chunk && chunk.length + 1 + l.length > SECTION_TEXT) flush();
    chunk = chunk ? `${chunk}\n${l}` : l;
    used += l.length + 1;
    shown++;
  }
  flush();
  const cut = shown < lines.length || lines.some((l) => l.length > SECTION_TEXT);
  if (!cut) return { message: { text: `Steps of incident #${incident.id}`, blocks } };
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `${shown < lines.length ? `${lines.length - shown} more step(s)` : 'Long steps are cut here'}: every step in full is in the attached file.`,
      },
    ],
  });
  return {
    message: { text: `Steps of incident #${incident.id}`, blocks },
    file: {
      filename: `incident-${incident.id}-steps.md`,
      title: `Steps of ${escapePlain(runbook.doc.alertname)} (incident #${incident.id})`,
      content: stepsMarkdown(runbook, actionTitle),
    },
  };
}

function stepLine(step: Step, actionTitle: ActionTitle): string {
  const n = step.number !== undefined ? `*${step.number}.*` : '*+*';
  const section = step.section === 'diagnosis' ? 'Diagnosis' : 'Mitigation';
  const how =
    step.kind === 'checklist'
      ? '_(done by a person)_'
      : `_(${step.actions.map((a) => escapeMrkdwn(actionTitle(a) ?? a)).join(', ')})_`;
  return `${section} ${n} ${escapeMrkdwn(step.text)} ${how}`;
}

/** Every step as markdown for the file (Slack previews it as text: alert-borne text made inert, not entity-escaped). */
function stepsMarkdown(runbook: Runbook, actionTitle: ActionTitle): string {
  const out = [`# ${escapePlain(runbook.doc.alertname)}`, ''];
  for (const section of ['diagnosis', 'mitigation'] as const) {
    const steps = runbook.steps.filter((s) => s.section === section);
    if (!steps.length) continue;
    out.push(`## ${section === 'diagnosis' ? 'Diagnosis' : 'Mitigation'}`, '');
    for (const s of steps) {
      const how =
        s.kind === 'checklist' ? 'done by a person' : s.actions.map((a) => escapePlain(actionTitle(a) ?? a)).join(', ');
      out.push(`${s.number ?? '+'}. ${escapePlain(s.text)} (${how})`);
    }
    out.push('');
  }
  return out.join('\n');
}
