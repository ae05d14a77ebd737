/**
 * The Complete labels modal: one input per label the alert message did not carry. The host label is a select of
 * the configured hosts (a person picks a host, never types an address); every other label is text checked by the
 * same rules the actions apply to that label (`label:<name>` parameters), so a value that could not run is refused
 * in the form, before anything is recorded. Pure.
 */
import type { KnownBlock, View } from '@slack/types';
import { validateParam } from '../../actions/build-command';
import type { ActionSpec, ParamSpec } from '../../actions/types';
import type { HostConfig } from '../../config/schema';
import { asPilotError } from '../../errors';
import type { Incident } from '../../incident/types';
import { CallbackId } from '../action-ids';
import { escapeMrkdwn, escapePlain, truncate } from './format';

/** Slack caps a static_select at 100 options. */
const MAX_OPTIONS = 100;
/** Free text for a label no action checks: bounded, one line. */
const MAX_FREE_TEXT = 200;

export interface LabelField {
  name: string;
  /** The configured hosts' values for this label, when it is what hosts are matched on. */
  hostOptions?: Array<{ host: string; value: string }>;
  /** The parameter specs of the runbook's actions that take this label. */
  specs: ParamSpec[];
}

/** The fields for an incident: its missing labels, with host options and the actions' checks. */
export function labelFields(
  missing: readonly string[],
  hosts: readonly HostConfig[],
  actions: readonly ActionSpec[],
): LabelField[] {
  return missing.map((name) => {
    const hostOptions = hosts.flatMap((h) => (h.match[name] ?? []).map((value) => ({ host: h.name, value })));
    const specs = actions.flatMap((a) =>
      Object.values(a.params).filter(
        (p) => p.from.startsWith('label:') && p.from.slice('label:'.length).split('|').includes(name),
      ),
    );
    return { name, specs, ...(hostOptions.length > 0 ? { hostOptions } : {}) };
  });
}

const blockId = (name: string) => `label:${name}`;

/** The modal; `private_metadata` carries the incident id and channel (checked again on submission). */
export function completeLabelsModal(incident: Incident, fields: readonly LabelField[]): View {
  const intro = `Incident #${incident.id} (${escapeMrkdwn(incident.alertname)}): the alert message did not carry ${fields.length === 1 ? 'this label' : 'these labels'}. The values are recorded on the timeline with your name.`;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: truncate(intro, 3000) } }];
  for (const f of fields) {
    if (f.hostOptions) {
      blocks.push({
        type: 'input',
        block_id: blockId(f.name),
        label: { type: 'plain_text', text: truncate(`${escapePlain(f.name)} (host)`, 2000) },
        element: {
          type: 'static_select',
          action_id: 'value',
          placeholder: { type: 'plain_text', text: 'Pick the configured host' },
          options: f.hostOptions.slice(0, MAX_OPTIONS).map((o) => ({
            text: { type: 'plain_text', text: truncate(`${o.host} (${o.value})`, 75) },
            value: truncate(o.value, 150),
          })),
        },
      });
      continue;
    }
    blocks.push({
      type: 'input',
      block_id: blockId(f.name),
      label: { type: 'plain_text', text: truncate(escapePlain(f.name), 2000) },
      element: { type: 'plain_text_input', action_id: 'value', max_length: MAX_FREE_TEXT },
      ...(f.specs.length > 0
        ? {
            hint: {
              type: 'plain_text',
              text: `Checked as the steps check it (${[...new Set(f.specs.map((s) => s.type))].join(', ')}).`,
            },
          }
        : {}),
    });
  }
  return {
    type: 'modal',
    callback_id: CallbackId.CompleteLabels,
    private_metadata: JSON.stringify({ i: incident.id, c: incident.channel }),
    title: { type: 'plain_text', text: 'Complete labels' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

/** Reads `private_metadata` back; undefined for anything malformed. */
export function parseCompleteLabelsMeta(raw: unknown): { incidentId: number; channel: string } | undefined {
  if (typeof raw !== 'string' || raw.length > 200) return undefined;
  try {
    const m = JSON.parse(raw) as { i?: unknown; c?: unknown };
    return Number.isInteger(m.i) && typeof m.c === 'string' ? { incidentId: m.i as number, channel: m.c } : undefined;
  } catch {
    return undefined;
  }
}

type StateValues = Record<
  string,
  Record<string, { type?: string; value?: string | null; selected_option?: { value?: string } | null }>
>;

/** The submitted values, or Slack's per-block errors (`response_action: errors`). */
export function readCompleteLabelsForm(
  values: StateValues,
  fields: readonly LabelField[],
): { labels: Record<string, string> } | { errors: Record<string, string> } {
  const labels: Record<string, string> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const input = values[blockId(f.name)]?.value;
    const raw = (f.hostOptions ? input?.selected_option?.value : input?.value) ?? '';
    const value = raw.trim();
    if (value === '') {
      errors[blockId(f.name)] = f.hostOptions ? 'Pick a host.' : 'Give a value.';
      continue;
    }
    if (f.hostOptions) {
      // Only a configured value: the select is the only way in, and a forged submission is refused here.
      if (!f.hostOptions.some((o) => o.value === value)) errors[blockId(f.name)] = 'Pick one of the configured hosts.';
      else labels[f.name] = value;
      continue;
    }
    if (value.length > MAX_FREE_TEXT || /[\r\n]/.test(value)) {
      errors[blockId(f.name)] = `One line of at most ${MAX_FREE_TEXT} characters.`;
      continue;
    }
    try {
      for (const spec of f.specs) validateParam(f.name, spec, value);
      labels[f.name] = value;
    } catch (err) {
      errors[blockId(f.name)] = truncate(asPilotError(err).message, 150);
    }
  }
  return Object.keys(errors).length > 0 ? { errors } : { labels };
}
