/** The reply for a step: "queued", "running", then its result or why it did not run. Pure. */
import type { KnownBlock } from '@slack/types';
import type { ActionSpec } from '../../actions/types';
import { userText } from '../../errors';
import type { RunStepOutcome } from '../../incident/run-step';
import type { StepVerdict } from '../../incident/types';
import type { Step } from '../../runbook/types';
import { codeBlock, escapeMrkdwn, formatDuration, truncate } from './format';
import type { SlackMessage } from './incident-message';

const VERDICT_ICON = { ok: '🟢', warn: '🟠', problem: '🔴' } as const;

/** Inline output budget: a section's text is at most 3000 characters, the fence and a title take some. */
export const INLINE_OUTPUT_CHARS = 2700;

export interface StepView {
  step: Step;
  action: ActionSpec;
  hostName?: string;
  user: string;
}

/** "queued, N ahead". */
export function renderQueued(v: StepView, ahead: number): SlackMessage {
  const text = `⏳ *${escapeMrkdwn(v.action.title)}* on \`${escapeMrkdwn(v.hostName ?? '?')}\` for <@${v.user}>: queued, ${ahead} ahead.`;
  return {
    text: `${escapeMrkdwn(v.action.title)}: queued, ${ahead} ahead`,
    blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text }] }],
  };
}

/** "running …", with the exact command. */
export function renderRunning(v: StepView, command?: string): SlackMessage {
  const text = `🔄 *${escapeMrkdwn(v.action.title)}* on \`${escapeMrkdwn(v.hostName ?? '?')}\` for <@${v.user}>: running …`;
  const blocks: KnownBlock[] = [{ type: 'context', elements: [{ type: 'mrkdwn', text }] }];
  if (command)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncate(`\`${escapeMrkdwn(command.replace(/`/g, "'"))}\``, 3000) }],
    });
  return { text: `${escapeMrkdwn(v.action.title)}: running`, blocks };
}

export interface RenderedResult {
  message: SlackMessage;
  /** Output too long to show inline, to upload into the thread as a file. */
  upload?: { filename: string; content: string; title: string };
  logId?: string;
}

/**
 * The result: action, host, who clicked, exit code, duration and the output in a code block. `formatted` replaces
 * the raw stdout when the action has a renderer (e.g. the backend table).
 */
export function renderStepResult(
  v: StepView,
  outcome: RunStepOutcome,
  formatted?: string,
  verdict?: StepVerdict,
): RenderedResult {
  const who = `<@${v.user}>`;
  const host = `\`${escapeMrkdwn(outcome.host?.name ?? v.hostName ?? '?')}\``;
  if (outcome.kind === 'refused' || outcome.kind === 'failed') {
    const { text, logId } = userText(outcome.error);
    const verb = outcome.kind === 'refused' ? 'did not run' : 'failed';
    const headline = `${outcome.kind === 'refused' ? '🚫' : '❌'} *${escapeMrkdwn(v.action.title)}* on ${host} ${verb} (${who}): ${escapeMrkdwn(text)}`;
    return {
      message: {
        text: `${escapeMrkdwn(v.action.title)} ${verb}: ${escapeMrkdwn(text)}`,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(headline, 3000) } }],
      },
      logId,
    };
  }
  const { result } = outcome;
  const ok = result.exitCode === 0 && !result.timedOut;
  const status = result.timedOut
    ? `⏱️ timed out after ${formatDuration(result.durationMs)} (the command was ended; partial output below). Check the host's load.`
    : ok
      ? `✅ exit 0`
      : `❌ exit ${result.exitCode ?? `signal ${result.signal ?? '?'}`}`;
  // The verdict leads: what the output means, before the output itself.
  const lead = verdict ? `${VERDICT_ICON[verdict.level]} *${escapeMrkdwn(truncate(verdict.text, 400))}*\n` : '';
  const headline = `${lead}*${escapeMrkdwn(v.action.title)}* on ${host} — ${status} in ${formatDuration(result.durationMs)} — ${who}`;
  const stdout = formatted ?? result.stdout.text;
  const full = [stdout.trimEnd(), result.stderr.text.trim() ? `--- stderr ---\n${result.stderr.text.trimEnd()}` : '']
    .filter(Boolean)
    .join('\n');
  const cut = result.stdout.truncatedBytes + result.stderr.truncatedBytes;
  const notes: string[] = [];
  if (cut > 0) notes.push(`${cut} bytes of output were cut on the host side (head and tail kept).`);
  let inline = full;
  let upload: RenderedResult['upload'];
  if (full.length > INLINE_OUTPUT_CHARS) {
    inline = headOf(full, INLINE_OUTPUT_CHARS);
    upload = {
      filename: `${v.action.id}-${outcome.host.name}.txt`,
      content: full,
      title: `${v.action.title} on ${outcome.host.name} (full output)`,
    };
    notes.push(`Output is ${full.length} characters: the head is shown, the full output is attached as a file.`);
  }
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: truncate(headline, 3000) } },
    { type: 'section', text: { type: 'mrkdwn', text: codeBlock(inline || '(no output)', 3000) } },
  ];
  if (notes.length)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(notes.join(' '), 3000) }] });
  return {
    message: {
      text: `${escapeMrkdwn(v.action.title)} on ${escapeMrkdwn(outcome.host.name)}: ${ok ? 'ok' : 'failed'}`,
      blocks,
    },
    upload,
  };
}

function headOf(text: string, max: number): string {
  const cut = text.slice(0, max);
  const lastNl = cut.lastIndexOf('\n');
  return `${lastNl > max / 2 ? cut.slice(0, lastNl) : cut}\n… (continued in the attached file)`;
}
