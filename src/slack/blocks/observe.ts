/**
 * Block Kit for the observe features: the alert's state as Alertmanager sees it, the silence modal and the silence
 * lines in the thread, and the words beside a graph. Pure.
 */
import type { Button, KnownBlock, View } from '@slack/types';
import { asPilotError } from '../../errors';
import type { AlertStateView } from '../../incident/alert-state';
import type { Incident, IncidentSilence } from '../../incident/types';
import { quoteMatcherValue } from '../../observe/quote-label-value';
import { parseSilenceDuration, SILENCE_DURATIONS, silenceWindow } from '../../observe/silence-window';
import { ActionId, CallbackId, encodeSilenceValue } from '../action-ids';
import { escapeMrkdwn, escapePlain, formatUtc, inlineCode, truncate } from './format';
import type { SlackMessage } from './incident-message';

export type { AlertStateView };

/** The line in the incident message's header context: `Alertmanager: 🔥 active (checked 2026-… UTC)`. */
export function alertStateText(view: AlertStateView): string {
  const label = { active: '🔥 active', resolved: '✅ resolved', silenced: '🔕 silenced', unknown: '❔ unknown' }[
    view.kind
  ];
  const parts = [
    view.detail,
    view.checkedAt && view.kind !== 'unknown' ? `checked ${formatUtc(view.checkedAt)}` : undefined,
  ].filter(Boolean);
  return `Alertmanager: ${label}${parts.length ? ` (${escapeMrkdwn(parts.join(', '))})` : ''}`;
}

/** The incident's silence that is in force now: made by the bot, not expired, not yet ended. */
export function activeSilence(incident: Pick<Incident, 'silences'>, now: Date): IncidentSilence | undefined {
  const live = (incident.silences ?? []).filter((s) => !s.expiredAt && Date.parse(s.endsAt) > now.getTime());
  return live[live.length - 1];
}

/** `🔕 Silenced by <@U…> until 2026-11-25 04:12 UTC (keep after resolve)`. */
export function silenceLine(s: IncidentSilence): string {
  return `🔕 Silenced by <@${s.createdBy}> until ${formatUtc(s.endsAt)}${s.keep ? ' (kept after the incident resolves)' : ''}`;
}

/** The "Expire silence" button for a silence of an incident. */
export function expireSilenceButton(incidentId: number, silenceId: string): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: 'Expire silence', emoji: true },
    action_id: ActionId.ExpireSilence,
    value: encodeSilenceValue({ incidentId, silenceId }),
  };
}

/** The labels as Alertmanager matchers, for people: `alertname="HaproxyServerDown", server="web2"`. */
export function matchersText(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${quoteMatcherValue(labels[k])}`)
    .join(', ');
}

/** Block and action ids of the silence modal's inputs. */
export const SilenceInput = {
  duration: 'duration',
  until: 'until',
  comment: 'comment',
  options: 'options',
  keep: 'keep',
  all: 'silence-all',
} as const;

/** What the silence modal carries to its submission (never trusted beyond naming the incident). */
export interface SilenceModalMeta {
  incidentId: number;
  channel: string;
  /** How many alerts the matchers covered when the form opened, when more than one (the user ticked "silence all"). */
  covers?: number;
}

/** The silence modal: duration (30 min, 1 h, 4 h, until a time), a comment, and "keep after the incident resolves". */
export function silenceModal(input: {
  incident: Incident;
  labels: Record<string, string>;
  channel: string;
  now: Date;
  covers?: number;
}): View {
  const { incident } = input;
  const options = [
    ...SILENCE_DURATIONS.map((d) => ({ text: { type: 'plain_text' as const, text: d.label }, value: d.value })),
    { text: { type: 'plain_text' as const, text: 'Until a time (pick below)' }, value: 'until' },
  ];
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `Silence *${escapeMrkdwn(incident.alertname)}* of incident #${incident.id} in Alertmanager. The silence matches exactly:\n\`${escapeMrkdwn(matchersText(input.labels))}\``,
          3000,
        ),
      },
    },
    // More than this alert: said, and a required tick (the submission checks the tick and the count again).
    ...((input.covers ?? 0) > 1
      ? ([
          {
            type: 'context',
            elements: [
              {
                type: 'mrkdwn',
                text: `⚠️ Alertmanager says these matchers cover *${input.covers} alerts* now, not only this one.`,
              },
            ],
          },
          {
            type: 'input',
            block_id: SilenceInput.all,
            label: { type: 'plain_text', text: 'More than this alert' },
            element: {
              type: 'checkboxes',
              action_id: SilenceInput.all,
              options: [{ text: { type: 'plain_text', text: `Silence all ${input.covers}` }, value: SilenceInput.all }],
            },
          },
        ] as KnownBlock[])
      : []),
    {
      type: 'input',
      block_id: SilenceInput.duration,
      label: { type: 'plain_text', text: 'For how long' },
      element: { type: 'static_select', action_id: SilenceInput.duration, options, initial_option: options[1] },
    },
    {
      type: 'input',
      block_id: SilenceInput.until,
      optional: true,
      label: { type: 'plain_text', text: 'Until (with “Until a time”)' },
      element: {
        type: 'datetimepicker',
        action_id: SilenceInput.until,
        initial_date_time: Math.floor(input.now.getTime() / 1000) + 2 * 3600,
      },
    },
    {
      type: 'input',
      block_id: SilenceInput.comment,
      label: { type: 'plain_text', text: 'Why? (goes into the silence’s comment)' },
      element: {
        type: 'plain_text_input',
        action_id: SilenceInput.comment,
        multiline: true,
        min_length: 3,
        max_length: 500,
      },
    },
    {
      type: 'input',
      block_id: SilenceInput.options,
      optional: true,
      label: { type: 'plain_text', text: 'Options' },
      element: {
        type: 'checkboxes',
        action_id: SilenceInput.options,
        options: [
          {
            text: { type: 'plain_text', text: 'Keep the silence after the incident resolves' },
            value: SilenceInput.keep,
          },
        ],
      },
    },
  ];
  const meta: SilenceModalMeta = { incidentId: incident.id, channel: input.channel };
  return {
    type: 'modal',
    callback_id: CallbackId.CreateSilence,
    private_metadata: JSON.stringify({
      i: meta.incidentId,
      c: meta.channel,
      ...((input.covers ?? 0) > 1 ? { n: input.covers } : {}),
    }),
    title: { type: 'plain_text', text: 'Silence the alert' },
    submit: { type: 'plain_text', text: 'Silence' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

/** Reads the silence modal's private metadata; undefined when malformed. */
export function parseSilenceMeta(raw: string | undefined): SilenceModalMeta | undefined {
  try {
    const m = JSON.parse(raw || '{}') as { i?: unknown; c?: unknown; n?: unknown };
    if (!Number.isInteger(m.i) || typeof m.c !== 'string') return undefined;
    return {
      incidentId: m.i as number,
      channel: m.c,
      ...(Number.isInteger(m.n) && (m.n as number) > 1 ? { covers: m.n as number } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The thread's line when a silence is created, with its "Expire silence" button. */
export function renderSilenceCreated(incident: Incident, s: IncidentSilence): SlackMessage {
  const text = `🔕 <@${s.createdBy}> silenced *${escapeMrkdwn(incident.alertname)}* (\`${escapeMrkdwn(matchersText(s.matchers))}\`) until *${formatUtc(s.endsAt)}*${
    s.keep ? ', kept after the incident resolves' : ', expired when the incident resolves'
  }: “${escapeMrkdwn(truncate(commentNote(s.comment), 300))}”. Alertmanager silence ${inlineCode(s.id)}.`;
  return {
    text: `${escapeMrkdwn(s.createdByName)} silenced ${escapeMrkdwn(incident.alertname)} until ${formatUtc(s.endsAt)} (silence ${escapeMrkdwn(s.id)})`,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: truncate(text, 3000) },
        accessory: expireSilenceButton(incident.id, s.id),
      },
    ],
  };
}

/** The thread's line when a silence is expired, by a person or because the incident resolved. */
export function renderSilenceExpired(
  s: IncidentSilence,
  by: string,
  why: 'button' | 'resolved' | 'gone',
): SlackMessage {
  const who = /^[UW][A-Z0-9]+$/.test(by) ? `<@${by}>` : escapeMrkdwn(by);
  const text =
    why === 'resolved'
      ? `🔔 The incident resolved: expired the silence ${inlineCode(s.id)} (it was until ${formatUtc(s.endsAt)}).`
      : why === 'gone'
        ? `🔔 ${who} expired the silence ${inlineCode(s.id)}: Alertmanager no longer knew it (already gone).`
        : `🔔 ${who} expired the silence ${inlineCode(s.id)} (it was until ${formatUtc(s.endsAt)}): the alert notifies again.`;
  return { text: text.replace(/[*`]/g, ''), blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/**
 * The file name, title and comment of the graph's upload. The expressions may come from the alert's generatorURL and
 * the words name its labels: escaped like all alert text (the title is plain text, the comment mrkdwn).
 */
export function renderGraphUpload(
  incident: Pick<Incident, 'id' | 'alertname'>,
  graph: { exprs: string[]; text: string },
): { filename: string; title: string; comment: string } {
  return {
    filename: `incident-${incident.id}-graph.png`,
    title: truncate(escapePlain(`${incident.alertname}, last hour (UTC): ${graph.exprs.join(', ')}`), 200),
    comment: truncate(`📈 ${escapeMrkdwn(graph.text)}`, 3000),
  };
}

/** The user's own note inside the silence's comment (the comment's "Note:" line), for the thread. */
function commentNote(comment: string): string {
  const note = comment.split('\n').find((l) => l.startsWith('Note: '));
  return note ? note.slice('Note: '.length) : comment;
}

/** The silence modal's answer, read and checked: the window, the user's note, and whether to keep it. */
export type SilenceForm =
  | { startsAt: Date; endsAt: Date; note: string; keep: boolean }
  | { errors: Record<string, string> };

/** Slack's `view.state.values` as the silence modal's inputs fill it. */
type ViewValues = Record<
  string,
  Record<
    string,
    {
      value?: string | null;
      selected_option?: { value: string } | null;
      selected_options?: Array<{ value: string }>;
      selected_date_time?: number | null;
    }
  >
>;

/** Reads the silence modal's submission; errors are keyed by block id, as Slack shows them under the inputs. */
export function readSilenceForm(values: ViewValues, now: Date): SilenceForm {
  const errors: Record<string, string> = {};
  const note = values[SilenceInput.comment]?.[SilenceInput.comment]?.value?.trim() ?? '';
  if (note.length < 3)
    errors[SilenceInput.comment] = 'Say in a few words why (Alertmanager keeps it with the silence).';
  const duration = values[SilenceInput.duration]?.[SilenceInput.duration]?.selected_option?.value;
  const until = values[SilenceInput.until]?.[SilenceInput.until]?.selected_date_time;
  let window: { startsAt: Date; endsAt: Date } | undefined;
  try {
    window = silenceWindow(parseSilenceDuration(duration, until), now);
  } catch (err) {
    const e = asPilotError(err);
    errors[duration === 'until' ? SilenceInput.until : SilenceInput.duration] = truncate(
      `${capitalise(e.message)}: ${e.hint}.`,
      150,
    );
  }
  const keep = (values[SilenceInput.options]?.[SilenceInput.options]?.selected_options ?? []).some(
    (o) => o.value === SilenceInput.keep,
  );
  if (Object.keys(errors).length > 0 || !window) return { errors };
  return { ...window, note, keep };
}

function capitalise(s: string): string {
  return s.length ? s[0].toUpperCase() + s.slice(1) : s;
}
