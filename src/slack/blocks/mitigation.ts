/**
 * Mitigation in Slack's words: the confirmation modal, a refusal, and the outcome of a confirmed submission. Pure:
 * the service's typed outcomes and structured details in, Block Kit out. Only here do ids become mentions.
 */
import type { KnownBlock, View } from '@slack/types';
import type { ActionSpec } from '../../actions/types';
import type { MitigationCommands, MitigationOutcome, Plan, Refused } from '../../mitigation/mitigation-service';
import { ActionId, CallbackId, encodeStepValue } from '../action-ids';
import { errorText } from './error-text';
import { codeBlock, escapeMrkdwn, truncate } from './format';
import type { SlackMessage } from './incident-message';

export { formatGrantees } from './error-text';

/** Block and action id of the "I know the alert is resolved; run anyway" checkbox (and its option's value). */
export const RESOLVED_ACK = 'resolved-ack';

/** What the modal carries back to the submission handler (no authority: everything is looked up again). */
export interface ConfirmationMetadata {
  /** The step value (incident, step, action) as the button carried it. */
  v: string;
  /** The incident's channel. */
  c: string;
  /** Set when the alert was shown resolved: the submission needs the second confirmation. */
  r?: 1;
  /** The digest of what was shown: incident, host, action and the exact commands (see planDigest). */
  d: string;
  /** The host shown: a submission whose plan lands on another host is refused. */
  h: string;
}

/** Reads the modal's metadata; undefined when it is not ours. */
export function parseConfirmationMetadata(raw: string | undefined): Partial<ConfirmationMetadata> {
  try {
    const v = JSON.parse(raw || '{}') as Record<string, unknown>;
    return {
      ...(typeof v.v === 'string' ? { v: v.v } : {}),
      ...(typeof v.c === 'string' ? { c: v.c } : {}),
      ...(v.r === 1 ? { r: 1 as const } : {}),
      ...(typeof v.d === 'string' ? { d: v.d } : {}),
      ...(typeof v.h === 'string' ? { h: v.h } : {}),
    };
  } catch {
    return {};
  }
}

/** What a mitigation looks like in a thread: its title, host and who asked. */
export interface MitigationView {
  action: Pick<ActionSpec, 'id' | 'title'>;
  user: string;
  reason?: string;
}

/** A refused submission, in the thread: who, what, on which host, why and what to do (and a failed pre-check's output). */
export function renderRefusal(v: MitigationView, refused: Refused): { message: SlackMessage; logId?: string } {
  const host = refused.host ?? '?';
  const { text, logId } = errorText(refused.error);
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `🛑 *${escapeMrkdwn(v.action.title)}* on \`${escapeMrkdwn(host)}\` blocked (<@${v.user}>): ${text}`,
          3000,
        ),
      },
    },
  ];
  if (refused.precheck)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: codeBlock(`$ ${refused.precheck.command}\n${refused.precheck.output}`, 3000) },
    });
  const plain = logId ? `internal error, see logs (id ${logId})` : refused.error.message;
  return {
    message: { text: truncate(escapeMrkdwn(`${v.action.title} on ${host} blocked: ${plain}`), 3000), blocks },
    logId,
  };
}

/**
 * The outcome of a confirmed submission, for the thread. Undefined when the step's own reply has said it all (the
 * command could not run or its connection failed).
 */
export function renderMitigationOutcome(
  v: MitigationView,
  outcome: MitigationOutcome,
): { message: SlackMessage; logId?: string } | undefined {
  const title = escapeMrkdwn(v.action.title);
  switch (outcome.kind) {
    case 'refused':
      return renderRefusal(v, outcome);
    case 'dry-run': {
      const why = v.reason ? ` (“${escapeMrkdwn(truncate(v.reason, 200))}”)` : '';
      const text = `🧪 *Dry run* of *${title}* on \`${escapeMrkdwn(outcome.host)}\` by <@${v.user}>${why}: nothing ran. It would run:\n${codeBlock(commandList(v.action, outcome.commands, '# pre-check'), 2500)}`;
      return {
        message: {
          text: escapeMrkdwn(`Dry run of ${v.action.title} on ${outcome.host}: nothing ran`),
          blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
        },
      };
    }
    case 'failed': {
      if (outcome.error) return undefined;
      const how = outcome.timedOut ? 'timed out' : `exited ${outcome.exitCode ?? '?'}`;
      const plain = `${v.action.title} on ${outcome.host} failed: the command ${how} (its output is above); nothing was verified.`;
      return {
        message: {
          text: escapeMrkdwn(`❌ ${plain}`),
          blocks: [
            {
              type: 'section',
              text: {
                type: 'mrkdwn',
                text: `❌ *${title}* on \`${escapeMrkdwn(outcome.host)}\` failed: the command ${how} (its output is above); nothing was verified.`,
              },
            },
          ],
        },
      };
    }
    case 'ran': {
      const { verified, why } = outcome.verification;
      const text = verified
        ? `✅ *${title}* on \`${escapeMrkdwn(outcome.host)}\`: verified — ${escapeMrkdwn(why)}.`
        : `⚠️ *${title}* on \`${escapeMrkdwn(outcome.host)}\`: not verified, because ${escapeMrkdwn(why)}. Check the host with the diagnosis steps.`;
      const plain = `${v.action.title} on ${outcome.host}: ${verified ? 'verified' : 'not verified'}, ${why}`;
      return {
        message: {
          text: truncate(escapeMrkdwn(plain), 3000),
          blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } }],
        },
      };
    }
  }
}

/** The step's reply while the host is read back: its output, and a line saying the verification is under way. */
export function renderVerifying(step: SlackMessage, hostName: string): SlackMessage {
  return {
    ...step,
    blocks: [
      ...(step.blocks ?? []),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `🔎 Verifying: reading \`${escapeMrkdwn(hostName)}\` back …` }],
      },
    ],
  };
}

/**
 * A mitigation's one reply: the step's output, then what the mitigation came to (verified or not, or why it failed).
 * The top-level text is the outcome's, when there is one.
 */
export function renderMitigationReply(step: SlackMessage, outcome: SlackMessage | undefined): SlackMessage {
  if (!outcome) return step;
  return { text: outcome.text, blocks: [...(step.blocks ?? []), ...(outcome.blocks ?? [])] };
}

function commandList(action: Pick<ActionSpec, 'id'>, commands: MitigationCommands, precheckLabel: string): string {
  return [
    commands.precheck && `${precheckLabel}\n${commands.precheck.command}`,
    `# ${action.id}\n${commands.action.command}`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** Lines of the commands the confirmation modal shows before *All commands*. */
export const COMMAND_PREVIEW_LINES = 8;

/**
 * The commands in full, pushed over the confirmation modal by its *All commands* button: every line, in as many
 * code blocks as it takes (3000 characters each), or why they cannot be shown now.
 */
export function commandsView(
  args:
    | { action: Pick<ActionSpec, 'id' | 'title'>; host: { name: string }; commands: MitigationCommands }
    | { refusal: string },
): View {
  const blocks: KnownBlock[] = [];
  if ('refusal' in args) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(args.refusal, 3000) } });
  } else {
    const script = commandList(args.action, args.commands, '# pre-check: must pass');
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${escapeMrkdwn(args.action.title)}* on \`${escapeMrkdwn(args.host.name)}\`: every line that will run.`,
      },
    });
    let chunk: string[] = [];
    const flush = () => {
      if (chunk.length)
        blocks.push({ type: 'section', text: { type: 'mrkdwn', text: codeBlock(chunk.join('\n'), 3000) } });
      chunk = [];
    };
    for (const line of script.split('\n')) {
      // codeBlock escapes (& → &amp;): leave room for it.
      if (chunk.length && escapeMrkdwn([...chunk, line].join('\n')).length > 2900) flush();
      chunk.push(line);
    }
    flush();
  }
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'All commands' },
    close: { type: 'plain_text', text: 'Back' },
    blocks: blocks.slice(0, 100),
  };
}

/** The confirmation modal: where and why first, the dry-run option, then exactly what runs (short, all one click away). */
export function confirmationView(args: {
  plan: Pick<Plan, 'incident' | 'host' | 'commands' | 'digest'> & { request: Pick<Plan['request'], 'step' | 'action'> };
  alertActive: boolean | undefined;
  dryRunOnly: boolean;
}): View {
  const { plan, alertActive } = args;
  const { incident, host, commands } = plan;
  const { step, action } = plan.request;
  // What to decide first (where, why, dry run or not), then the commands: short, the full script one click away. A
  // 30-line script above the options pushed them below the fold.
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `*${escapeMrkdwn(action.title)}* on \`${escapeMrkdwn(host.name)}\` (${escapeMrkdwn(host.ssh.user)}@${escapeMrkdwn(host.ssh.host)}:${host.ssh.port}) for incident #${incident.id}.`,
          3000,
        ),
      },
    },
  ];
  const warnings: string[] = [];
  if (alertActive === false)
    warnings.push(
      '⚠️ Alertmanager says this alert is *no longer active* (resolved). Run it only if you are sure, and tick the box below.',
    );
  if (args.dryRunOnly) warnings.push('🧪 The bot is in dry-run mode: nothing will run, the commands are only shown.');
  if (warnings.length)
    blocks.push({ type: 'context', elements: warnings.map((w) => ({ type: 'mrkdwn' as const, text: w })) });
  if (alertActive === false) {
    // Required: Slack will not submit without it, and the submission handler refuses without it too.
    blocks.push({
      type: 'input',
      block_id: RESOLVED_ACK,
      label: { type: 'plain_text', text: 'Second confirmation' },
      element: {
        type: 'checkboxes',
        action_id: RESOLVED_ACK,
        options: [
          { text: { type: 'plain_text', text: 'I know the alert is resolved; run anyway' }, value: RESOLVED_ACK },
        ],
      },
    });
  }
  blocks.push(
    {
      type: 'input',
      block_id: 'reason',
      label: { type: 'plain_text', text: 'Why? (recorded on the timeline)' },
      element: { type: 'plain_text_input', action_id: 'reason', multiline: true, min_length: 3, max_length: 500 },
    },
    {
      type: 'input',
      block_id: 'options',
      optional: true,
      label: { type: 'plain_text', text: 'Options' },
      element: {
        type: 'checkboxes',
        action_id: 'options',
        options: [{ text: { type: 'plain_text', text: 'Dry run: show the commands, run nothing' }, value: 'dry-run' }],
      },
    },
  );
  const script = commandList(action, commands, '# pre-check: must pass');
  const lines = script.split('\n');
  const short = lines.length > COMMAND_PREVIEW_LINES;
  blocks.push(
    { type: 'divider' },
    {
      type: 'section',
      block_id: 'commands',
      text: {
        type: 'mrkdwn',
        text: short
          ? `These exact commands will run (the first ${COMMAND_PREVIEW_LINES} of ${lines.length} lines; *All commands* shows every line):`
          : 'These exact commands will run:',
      },
      ...(short
        ? {
            accessory: {
              type: 'button' as const,
              text: { type: 'plain_text' as const, text: 'All commands' },
              action_id: ActionId.ShowCommands,
              value: encodeStepValue({ incidentId: incident.id, stepId: step.id, actionId: action.id }),
            },
          }
        : {}),
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: codeBlock(short ? `${lines.slice(0, COMMAND_PREVIEW_LINES).join('\n')}\n…` : script, 3000),
      },
    },
  );
  const metadata: ConfirmationMetadata = {
    v: encodeStepValue({ incidentId: incident.id, stepId: step.id, actionId: action.id }),
    c: incident.channel,
    ...(alertActive === false ? { r: 1 as const } : {}),
    d: plan.digest,
    h: host.name,
  };
  return {
    type: 'modal',
    callback_id: CallbackId.ConfirmMitigation,
    private_metadata: JSON.stringify(metadata),
    title: { type: 'plain_text', text: truncate(`Confirm ${action.title}`, 24) },
    submit: { type: 'plain_text', text: alertActive === false ? 'Run anyway' : 'Run' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}
