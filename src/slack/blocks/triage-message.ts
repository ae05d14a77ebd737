/**
 * The triage message: one message in the incident's thread that the bot keeps current while its read steps run —
 * the likely cause and its button on top once every step has finished, then one line per step with its verdict. And
 * the line that says a triage was skipped, with the button that runs it. Pure.
 */
import type { Button, KnownBlock } from '@slack/types';
import type { ActionSpec } from '../../actions/types';
import type { StepVerdict } from '../../incident/types';
import type { Step } from '../../runbook/types';
import type { LikelyCause } from '../../triage/causes';
import { ActionId, encodeStepValue, runStepActionId } from '../action-ids';
import { escapeMrkdwn, escapePlain, formatDuration, truncate } from './format';
import type { SlackMessage } from './incident-message';

export type TriageStepView =
  | { state: 'pending' | 'running' }
  | { state: 'judged'; verdict: StepVerdict; durationMs: number }
  /** It ran but its action has no verdict rules, or it could not run (SSH, a limit). */
  | { state: 'plain'; ok: boolean; text: string };

export interface TriageView {
  incidentId: number;
  hostName: string;
  /** `bot`, or the user who asked for a skipped triage. */
  by: string;
  steps: Array<{ step: Step; action: ActionSpec; view: TriageStepView }>;
  /** Set once every step has finished. */
  done?: { cause: LikelyCause; elapsedMs: number; button?: { step: Step; action: ActionSpec } };
  /** Steps the plan left out, with why. */
  left?: string[];
}

const ICON: Record<StepVerdict['level'], string> = { ok: '✅', warn: '⚠️', problem: '🔴' };

function stepLine(s: TriageView['steps'][number]): string {
  const title = `*${escapeMrkdwn(s.action.title)}*`;
  const v = s.view;
  switch (v.state) {
    case 'pending':
      return `⏳ ${title} — waiting`;
    case 'running':
      return `🔄 ${title} — running`;
    case 'judged':
      return `${ICON[v.verdict.level]} ${title} — ${escapeMrkdwn(truncate(v.verdict.text, 300))}`;
    case 'plain':
      return `${v.ok ? '✅' : '❌'} ${title} — ${escapeMrkdwn(truncate(v.text, 300))}`;
  }
}

function mention(user: string): string {
  return /^[UW][A-Z0-9]+$/.test(user) ? `<@${user}>` : 'the bot';
}

/** The triage message for its current state. */
export function renderTriageMessage(t: TriageView): SlackMessage {
  const finished = t.steps.filter((s) => s.view.state === 'judged' || s.view.state === 'plain').length;
  const host = `\`${escapeMrkdwn(t.hostName)}\``;
  const head = t.done
    ? `🔎 *Triage* on ${host}: ${t.steps.length} read step(s) in ${formatDuration(t.done.elapsedMs)}, run by ${mention(t.by)}`
    : `🔎 *Triage* on ${host}: ${finished} of ${t.steps.length} read step(s) done, run by ${mention(t.by)} …`;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: head } }];
  if (t.done) {
    const { cause, button } = t.done;
    const text = cause.rule
      ? `*Likely cause:* ${escapeMrkdwn(truncate(cause.text, 600))}`
      : `*Likely cause:* none known — ${escapeMrkdwn(cause.text)}`;
    const section: KnownBlock = { type: 'section', block_id: 'triage-cause', text: { type: 'mrkdwn', text } };
    if (button) section.accessory = causeButton(t.incidentId, button.step, button.action);
    blocks.push(section);
    if (cause.also.length)
      blocks.push({
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: truncate(`Also: ${cause.also.map((a) => escapeMrkdwn(a)).join(' · ')}`, 2000) },
        ],
      });
  }
  const lines = t.steps.map(stepLine).join('\n');
  blocks.push({ type: 'section', block_id: 'triage-steps', text: { type: 'mrkdwn', text: truncate(lines, 3000) } });
  const notes = ['Each step’s full output: its button on the incident message.'];
  if (t.left?.length) notes.push(`Not run: ${t.left.map((l) => escapeMrkdwn(l)).join('; ')}.`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(notes.join(' '), 2000) }] });
  const summary = t.done
    ? `Triage of incident #${t.incidentId}: ${t.done.cause.rule ? t.done.cause.text : 'no known cause'}`
    : `Triage of incident #${t.incidentId}: running`;
  return { text: escapeMrkdwn(truncate(summary, 300)), blocks };
}

/** The mitigation the cause points to: the same button (action id and value) as on the incident message. */
function causeButton(incidentId: number, step: Step, action: ActionSpec): Button {
  const b: Button = {
    type: 'button',
    text: { type: 'plain_text', text: truncate(escapePlain(action.title), 75), emoji: true },
    action_id: runStepActionId(step.id, action.id),
    value: encodeStepValue({ incidentId, stepId: step.id, actionId: action.id }),
  };
  if (action.risk === 'change') b.style = 'danger';
  return b;
}

/** "Triage skipped: …", with the button that runs it now. */
export function renderTriageSkipped(incidentId: number, reason: string): SlackMessage {
  const text = `⏭️ Triage skipped: ${escapeMrkdwn(reason)} — click to run`;
  return {
    text,
    blocks: [
      {
        type: 'section',
        block_id: 'triage-skipped',
        text: { type: 'mrkdwn', text: truncate(text, 3000) },
        accessory: {
          type: 'button',
          text: { type: 'plain_text', text: 'Run triage' },
          action_id: ActionId.RunTriage,
          value: encodeStepValue({ incidentId, stepId: '' }),
        },
      },
    ],
  };
}
