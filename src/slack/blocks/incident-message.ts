/**
 * The incident message: the alert at a glance and one button per runbook step, each with its state. Pure.
 */
import type { Button, KnownBlock } from '@slack/types';
import type { ActionSpec } from '../../actions/types';
import type { Incident, StepState, StepVerdict } from '../../incident/types';
import type { Runbook, Step } from '../../runbook/types';
import { ActionId, checkStepActionId, encodeHostPick, encodeStepValue, runStepActionId } from '../action-ids';
import { blockTextLength, fitBlockText, MESSAGE_TEXT_LIMIT } from './block-text';
import { escapeMrkdwn, escapePlain, formatDuration, formatUtc, safeLink, truncate } from './format';
import { type AlertStateView, activeSilence, alertStateText, expireSilenceButton, silenceLine } from './observe';

/** Block Kit limits we must stay within. */
export const BlockLimits = {
  blocks: 50,
  actionsPerBlock: 25,
  text: 3000,
  buttonText: 75,
  headerText: 150,
  fields: 10,
} as const;

export interface IncidentMessageContext {
  runbook?: Runbook;
  /** Looks up an action's spec (for button titles and risk). */
  action(actionId: string): ActionSpec | undefined;
  /** False when the alert's host is not in the config: automated steps cannot run. */
  hostConfigured: boolean;
  /** The label that names the host (from the binding; default `instance`). */
  hostLabel: string;
  /** Hosts a user may pick when the alert names none and its binding lists several (`/incident host`). */
  hostChoices?: readonly string[];
  /** What Alertmanager last said about the alert (shown while the incident is open); undefined: not asked yet. */
  alertState?: AlertStateView;
  /** The time the message is rendered for (whether a silence is still in force); default now. */
  now?: Date;
}

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Renders the incident message for the incident's current state. */
export function renderIncidentMessage(incident: Incident, ctx: IncidentMessageContext): SlackMessage {
  const { alert } = incident;
  const resolved = incident.status === 'resolved';
  const labels = alert.labels;
  const hostValue = labels[ctx.hostLabel];
  const title = `${resolved ? '✅' : '🚨'} ${escapePlain(alert.alertname)} — ${resolved ? 'resolved' : 'firing'} (incident #${incident.id})`;

  const fields: string[] = [
    `*Host*\n${incident.hostName ? `\`${escapeMrkdwn(incident.hostName)}\`` : pickHost(ctx) ? `pick one: ${pickHost(ctx)}` : 'not configured'}${hostValue ? ` (${escapeMrkdwn(hostValue)})` : ''}`,
    `*Backend / server*\n${escapeMrkdwn(labels.backend ?? labels.proxy ?? labels.frontend ?? '?')} / ${escapeMrkdwn(labels.server ?? '?')}`,
    `*Severity*\n${escapeMrkdwn(labels.severity ?? 'unknown')}`,
    `*Since*\n${formatUtc(alert.startsAt ?? incident.openedAt)}`,
  ];
  const runbookUrl = alert.annotations.runbook_url ?? alert.annotations.runbook ?? ctx.runbook?.doc.url;
  // A link only for http(s), named after the runbook with its host after it: an alert cannot dress a link up as
  // something else (the host shows where it really goes).
  const runbookLink = safeLink(runbookUrl, ctx.runbook?.doc.alertname ?? alert.alertname);
  if (runbookLink) fields.push(`*Runbook*\n${runbookLink}`);
  if (resolved)
    fields.push(
      `*Resolved*\n${formatUtc(incident.resolvedAt)}${incident.resolvedBy ? ` by ${mention(incident.resolvedBy)}` : ''}`,
    );

  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, BlockLimits.headerText), emoji: true } },
  ];
  if (!resolved && ctx.alertState)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: alertStateText(ctx.alertState) }] });
  blocks.push({
    type: 'section',
    fields: fields.slice(0, BlockLimits.fields).map((t) => ({ type: 'mrkdwn', text: truncate(t, 2000) })),
  });

  const doc = ctx.runbook?.doc;
  const summary = [
    doc?.meaning ? `*Meaning:* ${escapeMrkdwn(firstSentence(doc.meaning))}` : undefined,
    doc?.impact ? `*Impact:* ${escapeMrkdwn(firstSentence(doc.impact))}` : undefined,
    !doc
      ? `No runbook is loaded for \`${escapeMrkdwn(alert.alertname)}\`: add \`${escapeMrkdwn(alert.alertname)}.md\` to the runbooks folder.`
      : undefined,
  ].filter((s): s is string => Boolean(s));
  if (summary.length)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(summary.join('\n'), BlockLimits.text) } });

  const notes: string[] = [];
  if (!ctx.hostConfigured && pickHost(ctx)) {
    notes.push(
      `🖐️ This alert names no host (its rule sums over instances): it may be on ${pickHost(ctx)}. Pick the host below (or \`/incident host ${incident.id} &lt;name&gt;\`); no step runs until then.`,
    );
  } else if (!ctx.hostConfigured) {
    notes.push(
      `⚠️ Host not configured: no entry under \`hosts:\` matches ${hostValue ? `\`${ctx.hostLabel}=${escapeMrkdwn(hostValue)}\`` : `the alert (it has no \`${ctx.hostLabel}\` label)`}. Automated steps cannot run; add the host with \`match: { ${ctx.hostLabel}: ["${escapeMrkdwn(hostValue ?? '…')}"] }\` and its \`ssh\` settings.`,
    );
  }
  if (resolved)
    notes.push(
      `Resolved: mitigation is closed (a new alert opens a new incident); diagnosis still runs. Add to the record with \`/incident note ${incident.id} &lt;text&gt;\`.`,
    );
  if (alert.missingLabels.length) {
    const names = alert.missingLabels.map((l) => `\`${escapeMrkdwn(l)}\``).join(', ');
    // One incident for several alerts (a default title's group size, for incidents stored before `standsFor`).
    const several = alert.standsFor ?? (alert.subject !== undefined ? alert.groupSize : undefined) ?? 1;
    notes.push(
      several > 1
        ? `⚠️ ${several} alerts in this notification, labels missing: ${names} (the message carries only the labels they share, and Alertmanager could not tell them apart): give them with *Complete labels*; steps that need them will say so.`
        : `⚠️ Could not recover the label(s) ${names} from the alert message: give them with *Complete labels*; steps that need them will say so.`,
    );
  }
  if (alert.truncated?.length) {
    const cutList = alert.truncated
      .slice(0, 10)
      .map((f) => `\`${escapeMrkdwn(f)}\``)
      .join(', ');
    notes.push(
      `✂️ The alert was larger than the bot keeps: cut ${cutList}${alert.truncated.length > 10 ? ` and ${alert.truncated.length - 10} more` : ''} (limits \`ingest.maxValueChars\`, \`ingest.maxAlertChars\`).`,
    );
  }
  if (notes.length)
    blocks.push({
      type: 'context',
      elements: notes.map((n) => ({ type: 'mrkdwn', text: truncate(n, BlockLimits.text) })),
    });
  const choices = ctx.hostChoices ?? [];
  if (!ctx.hostConfigured && !resolved && choices.length > 1) {
    // Slack caps a static_select at 100 options; more hosts than that are picked with /incident host.
    const options = choices.slice(0, 100).map((name) => ({
      text: { type: 'plain_text' as const, text: truncate(escapePlain(name), 75) },
      value: encodeHostPick(incident.id, name),
    }));
    blocks.push({
      type: 'actions',
      block_id: 'host',
      elements: [
        {
          type: 'static_select',
          action_id: ActionId.PickHost,
          placeholder: { type: 'plain_text', text: 'Pick the host' },
          options,
        },
      ],
    });
  }
  if (alert.missingLabels.length && !resolved) {
    blocks.push({
      type: 'actions',
      block_id: 'labels',
      elements: [
        button('Complete labels', ActionId.CompleteLabels, encodeStepValue({ incidentId: incident.id, stepId: '' })),
      ],
    });
  }

  const steps = ctx.runbook?.steps ?? [];
  const now = ctx.now ?? new Date();
  // The full layout (a section per step) when it fits Slack's limits: 50 blocks, and about 12k characters of block
  // text in all (msg_blocks_too_long beyond, see block-text.ts). Else one line per step, the titles cut shorter and
  // shorter; the steps in full are one click away (Steps in full, or the runbook link).
  for (const titleChars of [undefined, 200, 80, 40, 0]) {
    const compact = titleChars !== undefined;
    const candidate = [
      ...blocks,
      ...renderSteps(incident, steps, ctx, compact ? titleChars : undefined),
      ...renderFooter(incident, now, compact),
    ];
    if (candidate.length <= BlockLimits.blocks && blockTextLength(candidate) <= MESSAGE_TEXT_LIMIT)
      return { text: fallbackText(incident), blocks: candidate };
  }
  // Still too much (hundreds of steps, or an alert at the size limits): the step blocks that fit, in order, a line
  // saying there are more, and the last guard (cuts the longest texts) for what the alert itself carries.
  const footer = renderFooter(incident, now, true);
  const more: KnownBlock = {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: '… and more steps than one message can hold: *Steps in full* lists them all; run any of them with `/incident run &lt;step&gt; &lt;host&gt;` (e.g. `mitigation-12`).',
      },
    ],
  };
  const shown: KnownBlock[] = [];
  let room = MESSAGE_TEXT_LIMIT - blockTextLength([...blocks, ...footer, more]);
  const roomBlocks = BlockLimits.blocks - blocks.length - footer.length - 1;
  for (const b of renderSteps(incident, steps, ctx, 0)) {
    const size = blockTextLength([b]);
    if (shown.length >= roomBlocks || size > room) break;
    shown.push(b);
    room -= size;
  }
  return { text: fallbackText(incident), blocks: fitBlockText([...blocks, ...shown, more, ...footer]) };
}

/** Timeline, Refresh, Silence and Graph; the silence in force, with its "Expire silence" button, above them. */
function renderFooter(incident: Incident, now: Date, compact: boolean): KnownBlock[] {
  const value = encodeStepValue({ incidentId: incident.id, stepId: '' });
  const silence = activeSilence(incident, now);
  const out: KnownBlock[] = [];
  if (silence) {
    out.push({
      type: 'section',
      block_id: 'silence',
      text: { type: 'mrkdwn', text: truncate(silenceLine(silence), BlockLimits.text) },
      accessory: expireSilenceButton(incident.id, silence.id),
    });
  }
  const open = incident.status === 'open';
  // Resolved: what still makes sense is the record (Timeline) and the graph; Refresh re-asks Alertmanager about an
  // alert the incident no longer follows.
  const elements = [button('Timeline', ActionId.Timeline, value)];
  if (open) elements.push(button('Refresh', ActionId.Refresh, value));
  // One silence at a time, and none once resolved (the alert is not notifying any more).
  if (open && !silence) elements.push(button('Silence', ActionId.Silence, value));
  elements.push(button('Graph', ActionId.Graph, value));
  // The compact layout cuts step titles: their full text is one click away, in the thread.
  if (compact) elements.push(button('Steps in full', ActionId.Steps, value));
  out.push({ type: 'actions', block_id: 'incident', elements });
  return out;
}

/** A section per step (`titleChars` undefined), or one line per step with its title cut to `titleChars` (0: none). */
function renderSteps(
  incident: Incident,
  steps: Step[],
  ctx: IncidentMessageContext,
  titleChars: number | undefined,
): KnownBlock[] {
  const compact = titleChars !== undefined;
  const out: KnownBlock[] = [];
  for (const section of ['diagnosis', 'mitigation'] as const) {
    const inSection = steps.filter((s) => s.section === section);
    if (!inSection.length) continue;
    out.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*${section === 'diagnosis' ? 'Diagnosis' : 'Mitigation'}*` },
    });
    if (compact) {
      const lines = inSection.map((s) => {
        const title = titleChars ? ` ${escapeMrkdwn(truncate(s.title, titleChars))}` : '';
        return `${stepLabel(s)}${title} — ${stateText(incident.steps[s.id], s, ctx)}`;
      });
      out.push(...chunkText(lines).map((text): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } })));
      const buttons = inSection.flatMap((s) => stepButtons(incident, s, ctx, true));
      for (let i = 0; i < buttons.length; i += BlockLimits.actionsPerBlock) {
        out.push({
          type: 'actions',
          block_id: `${section}-${i}`,
          elements: buttons.slice(i, i + BlockLimits.actionsPerBlock),
        });
      }
      continue;
    }
    for (const step of inSection) {
      const text = truncate(
        `${stepLabel(step)} ${escapeMrkdwn(step.text)}\n${stateText(incident.steps[step.id], step, ctx)}`,
        BlockLimits.text,
      );
      const buttons = stepButtons(incident, step, ctx, false);
      if (buttons.length === 0) {
        out.push({ type: 'section', block_id: step.id, text: { type: 'mrkdwn', text } });
      } else if (buttons.length === 1) {
        out.push({ type: 'section', block_id: step.id, text: { type: 'mrkdwn', text }, accessory: buttons[0] });
      } else {
        out.push({ type: 'section', block_id: step.id, text: { type: 'mrkdwn', text } });
        out.push({
          type: 'actions',
          block_id: `${step.id}-actions`,
          elements: buttons.slice(0, BlockLimits.actionsPerBlock),
        });
      }
    }
  }
  return out;
}

function stepButtons(incident: Incident, step: Step, ctx: IncidentMessageContext, compact: boolean): Button[] {
  // Once resolved, mitigation (restart, reload, drain: the red buttons) is refused by the service: no buttons for it.
  // Diagnosis still runs (a look after the fact), so its buttons stay.
  if (incident.status === 'resolved' && step.section === 'mitigation') return [];
  if (step.kind === 'checklist') {
    const label = compact ? `${stepLabel(step)} Done` : 'Mark done';
    return [button(label, checkStepActionId(step.id), encodeStepValue({ incidentId: incident.id, stepId: step.id }))];
  }
  return step.actions.map((actionId) => {
    const spec = ctx.action(actionId);
    // The action's own title on the button: "Backend state", "Restart HAProxy" say what a click does.
    const name = spec?.title ?? actionId;
    const label = compact ? `${step.number ?? '+'}. ${name}` : name;
    const b = button(
      label,
      runStepActionId(step.id, actionId),
      encodeStepValue({ incidentId: incident.id, stepId: step.id, actionId }),
    );
    if (spec?.risk === 'change') b.style = 'danger';
    return b;
  });
}

function button(text: string, actionId: string, value: string): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: truncate(escapePlain(text), BlockLimits.buttonText), emoji: true },
    action_id: actionId,
    value,
  };
}

/** The hosts to pick from, as `a`, `b` or `c`; undefined when there is no choice to make. */
function pickHost(ctx: Pick<IncidentMessageContext, 'hostChoices'>): string | undefined {
  const names = ctx.hostChoices ?? [];
  if (names.length < 2) return undefined;
  const shown = names.slice(0, 10).map((n) => `\`${escapeMrkdwn(n)}\``);
  const more = names.length > 10 ? ` (and ${names.length - 10} more)` : '';
  return `${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]}${more}`;
}

function stepLabel(step: Step): string {
  return step.number !== undefined ? `*${step.number}.*` : '*+*';
}

/** The state line under a step. */
export function stateText(
  state: StepState | undefined,
  step: Step,
  ctx: Pick<IncidentMessageContext, 'hostConfigured' | 'hostChoices'>,
): string {
  if (!state || state.state === 'idle') {
    if (step.kind === 'checklist') return '☐ _to do (done by a person)_';
    return ctx.hostConfigured ? '⚪ _not run_' : pickHost(ctx) ? '🖐️ _pick a host first_' : '⚠️ _host not configured_';
  }
  switch (state.state) {
    case 'queued':
      return `⏳ queued${state.ahead > 0 ? `, ${state.ahead} ahead` : ''} — ${mention(state.by)}, ${formatUtc(state.at)}`;
    case 'running':
      return `🔄 running \`${state.actionId}\` — ${mention(state.by)}, since ${formatUtc(state.at)}`;
    case 'ok':
      return `✅ ok \`${state.actionId}\` (exit ${state.exitCode}, ${formatDuration(state.durationMs)}) — ${mention(state.by)}, ${formatUtc(state.at)}${verdictLine(state.verdict)}`;
    case 'failed':
      return `❌ failed \`${state.actionId}\`: ${escapeMrkdwn(truncate(state.error, 200))} — ${mention(state.by)}, ${formatUtc(state.at)}${verdictLine(state.verdict)}`;
    case 'done':
      return `☑️ done — ${mention(state.by)}, ${formatUtc(state.at)}`;
  }
}

const VERDICT_ICON = { ok: '🟢', warn: '🟠', problem: '🔴' } as const;

/** The step's verdict under its state, when its action has verdict rules. */
function verdictLine(verdict: StepVerdict | undefined): string {
  return verdict ? `\n${VERDICT_ICON[verdict.level]} _${escapeMrkdwn(truncate(verdict.text, 300))}_` : '';
}

function mention(user: string): string {
  return /^[UW][A-Z0-9]+$/.test(user) ? `<@${user}>` : escapeMrkdwn(user);
}

function firstSentence(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  const m = /^(.{20,}?[.!?])\s/.exec(oneLine);
  return truncate(m ? m[1] : oneLine, 300);
}

function chunkText(lines: string[]): string[] {
  const chunks: string[] = [];
  let cur = '';
  for (const line of lines) {
    const l = truncate(line, BlockLimits.text);
    if (cur && cur.length + 1 + l.length > BlockLimits.text) {
      chunks.push(cur);
      cur = '';
    }
    cur = cur ? `${cur}\n${l}` : l;
  }
  if (cur) chunks.push(cur);
  return chunks;
}

/** The notification text (shown in push notifications and where blocks cannot be rendered); mrkdwn, so escaped. */
export function fallbackText(incident: Incident): string {
  const l = incident.alert.labels;
  const e = (v: string) => escapeMrkdwn(truncate(v, 200));
  return `${e(incident.alert.alertname)} ${incident.status === 'resolved' ? 'resolved' : 'firing'}: ${e(l.backend ?? '?')}/${e(l.server ?? '?')} on ${e(incident.hostName ?? l.instance ?? 'unknown host')} (incident #${incident.id})`;
}
