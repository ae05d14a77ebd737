import type { Button, InputBlock, SectionBlock, StaticSelect } from '@slack/types';
import type { Incident, IncidentSilence } from '../../../src/incident/types';
import { ActionId, CallbackId, decodeSilenceValue, encodeSilenceValue } from '../../../src/slack/action-ids';
import {
  type AlertStateView,
  activeSilence,
  alertStateText,
  matchersText,
  parseSilenceMeta,
  readSilenceForm,
  renderSilenceCreated,
  renderSilenceExpired,
  silenceModal,
} from '../../../src/slack/blocks/observe';
import { firingAlert, openIncident } from '../../support/domain-fixtures';

const NOW = new Date('2026-11-25T03:30:00.000Z');
const labels = {
  alertname: 'HaproxyServerDown',
  backend: 'web',
  instance: '127.0.0.1:19101',
  job: 'haproxy',
  server: 'web2',
  severity: 'critical',
};

function incident(overrides: Partial<Incident> = {}): Incident {
  return openIncident({ alert: firingAlert({ labels, source: 'alertmanager-slack' }), ...overrides });
}

function silence(overrides: Partial<IncidentSilence> = {}): IncidentSilence {
  return {
    id: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
    createdBy: 'U0ONCALL01',
    createdByName: 'Olga Oncall',
    matchers: labels,
    startsAt: '2026-11-25T03:20:00.000Z',
    endsAt: '2026-11-25T03:50:00.000Z',
    comment:
      'Silenced from runbook-pilot incident #7: https://x.slack.com/archives/C0123ALERTS/p1\nNote: web2 is being rebuilt',
    keep: false,
    createdAt: '2026-11-25T03:20:00.000Z',
    ...overrides,
  };
}

describe('alertStateText', () => {
  it.each<[AlertStateView, string]>([
    [{ kind: 'active', checkedAt: '2026-11-25T03:29:00Z' }, 'Alertmanager: 🔥 active (checked 2026-11-25 03:29 UTC)'],
    [
      { kind: 'resolved', checkedAt: '2026-11-25T03:29:00Z' },
      'Alertmanager: ✅ resolved (checked 2026-11-25 03:29 UTC)',
    ],
    [
      { kind: 'silenced', checkedAt: '2026-11-25T03:29:00Z' },
      'Alertmanager: 🔕 silenced (checked 2026-11-25 03:29 UTC)',
    ],
    [
      { kind: 'active', detail: 'inhibited', checkedAt: '2026-11-25T03:29:00Z' },
      'Alertmanager: 🔥 active (inhibited, checked 2026-11-25 03:29 UTC)',
    ],
    [{ kind: 'unknown', detail: 'not configured' }, 'Alertmanager: ❔ unknown (not configured)'],
    [
      { kind: 'unknown', detail: 'Alertmanager did not answer', checkedAt: '2026-11-25T03:29:00Z' },
      'Alertmanager: ❔ unknown (Alertmanager did not answer)',
    ],
  ])('%j → %s', (view, text) => {
    expect(alertStateText(view)).toBe(text);
  });
});

describe('activeSilence', () => {
  it.each<[string, IncidentSilence[] | undefined, string | undefined]>([
    ['none', undefined, undefined],
    ['one in force', [silence()], silence().id],
    ['expired by the bot', [silence({ expiredAt: '2026-11-25T03:25:00Z', expiredBy: 'U1' })], undefined],
    ['ended on its own', [silence({ endsAt: '2026-11-25T03:29:59.000Z' })], undefined],
    ['the newest of two', [silence({ id: 'a', expiredAt: '2026-11-25T03:21:00Z' }), silence({ id: 'b' })], 'b'],
  ])('%s', (_name, silences, id) => {
    expect(activeSilence({ silences }, NOW)?.id).toBe(id);
  });
});

describe('silence button values', () => {
  it('round-trips and refuses malformed values', () => {
    const v = { incidentId: 7, silenceId: silence().id };
    expect(decodeSilenceValue(encodeSilenceValue(v))).toEqual(v);
    for (const bad of [
      undefined,
      7,
      'x',
      '{"i":"7","sil":"a"}',
      '{"i":7}',
      '{"i":7,"sil":""}',
      `{"i":7,"sil":"${'a'.repeat(65)}"}`,
    ]) {
      expect(decodeSilenceValue(bad)).toBeUndefined();
    }
  });
});

describe('silenceModal', () => {
  const view = silenceModal({ incident: incident(), labels, channel: 'C0123ALERTS', now: NOW });
  const input = (id: string) =>
    view.blocks.find((b): b is InputBlock => b.type === 'input' && b.block_id === id) as InputBlock;

  it('offers 30 min, 1 h, 4 h and a time, a required comment, and an optional keep box', () => {
    expect(view.callback_id).toBe(CallbackId.CreateSilence);
    const select = input('duration').element as StaticSelect;
    expect(select.options?.map((o) => o.value)).toEqual(['30m', '1h', '4h', 'until']);
    expect(select.initial_option?.value).toBe('1h');
    expect(input('until')).toMatchObject({
      optional: true,
      element: { type: 'datetimepicker', initial_date_time: NOW.getTime() / 1000 + 7200 },
    });
    expect(input('comment').optional).toBeFalsy();
    expect(input('options')).toMatchObject({
      optional: true,
      element: { type: 'checkboxes', options: [{ value: 'keep' }] },
    });
    expect(parseSilenceMeta(view.private_metadata)).toEqual({ incidentId: 7, channel: 'C0123ALERTS' });
  });

  it('shows the exact matchers, quoted as Alertmanager reads them', () => {
    const text = (view.blocks[0] as SectionBlock).text?.text ?? '';
    expect(text).toContain(
      'alertname="HaproxyServerDown", backend="web", instance="127.0.0.1:19101", job="haproxy", server="web2", severity="critical"',
    );
    expect(matchersText({ server: 'we"b\\2' })).toBe('server="we\\"b\\\\2"');
  });

  it('rejects malformed metadata', () => {
    for (const bad of ['', 'x', '{"i":"7","c":"C1"}', '{"i":7}']) expect(parseSilenceMeta(bad)).toBeUndefined();
  });
});

describe('readSilenceForm', () => {
  const values = (duration: string | undefined, comment: string, until?: number, keep = false) => ({
    duration: { duration: { type: 'static_select', selected_option: duration ? { value: duration } : null } },
    until: { until: { type: 'datetimepicker', selected_date_time: until ?? null } },
    comment: { comment: { type: 'plain_text_input', value: comment } },
    options: { options: { type: 'checkboxes', selected_options: keep ? [{ value: 'keep' }] : [] } },
  });
  const sec = (iso: string) => Date.parse(iso) / 1000;

  it.each<[string, ReturnType<typeof values>, { endsAt: string; keep?: boolean; note?: string }]>([
    ['30 minutes', values('30m', 'web2 rebuild'), { endsAt: '2026-11-25T04:00:00.000Z', keep: false }],
    [
      '4 hours, kept',
      values('4h', ' web2 rebuild ', undefined, true),
      { endsAt: '2026-11-25T07:30:00.000Z', keep: true, note: 'web2 rebuild' },
    ],
    [
      'until a time',
      values('until', 'until the window ends', sec('2026-11-25T06:00:00Z')),
      { endsAt: '2026-11-25T06:00:00.000Z' },
    ],
  ])('%s', (_name, v, expected) => {
    const form = readSilenceForm(v, NOW);
    if ('errors' in form) throw new Error(JSON.stringify(form.errors));
    expect(form.startsAt).toEqual(NOW);
    expect(form.endsAt.toISOString()).toBe(expected.endsAt);
    expect(form).toMatchObject({ keep: expected.keep ?? false, ...(expected.note ? { note: expected.note } : {}) });
  });

  it.each([
    ['no comment', 'comment', values('1h', ' x '), /few words/],
    ['until without a time', 'until', values('until', 'web2 rebuild'), /no end time/i],
    ['until in the past', 'until', values('until', 'web2 rebuild', sec('2026-11-25T03:00:00Z')), /in the past/],
    ['until beyond a week', 'until', values('until', 'web2 rebuild', sec('2026-12-05T03:00:00Z')), /7 days/],
    ['no duration', 'duration', values(undefined, 'web2 rebuild'), /unknown silence duration/i],
  ])('%s → an error under %s', (_name, block, v, message) => {
    const form = readSilenceForm(v, NOW);
    expect('errors' in form && form.errors[block]).toMatch(message);
  });
});

describe('silence lines in the thread', () => {
  it('says who silenced what until when, with an Expire silence button', () => {
    const msg = renderSilenceCreated(incident(), silence());
    const section = msg.blocks[0] as SectionBlock;
    expect(section.text?.text).toContain('<@U0ONCALL01> silenced *HaproxyServerDown*');
    expect(section.text?.text).toContain('until *2026-11-25 03:50 UTC*');
    expect(section.text?.text).toContain('“web2 is being rebuilt”');
    expect(section.text?.text).toContain('expired when the incident resolves');
    const button = section.accessory as Button;
    expect(button.action_id).toBe(ActionId.ExpireSilence);
    expect(decodeSilenceValue(button.value)).toEqual({ incidentId: 7, silenceId: silence().id });
    expect(msg.text).toBe(
      `Olga Oncall silenced HaproxyServerDown until 2026-11-25 03:50 UTC (silence ${silence().id})`,
    );
  });

  it.each([
    ['button', 'U0ONCALL01', /<@U0ONCALL01> expired the silence/],
    ['resolved', 'bot', /The incident resolved: expired the silence/],
    ['gone', 'U0ONCALL01', /no longer knew it/],
  ] as const)('expired (%s)', (why, by, pattern) => {
    const msg = renderSilenceExpired(silence(), by, why);
    expect((msg.blocks[0] as SectionBlock).text?.text).toMatch(pattern);
    expect(msg.blocks.some((b) => b.type === 'actions' || (b as SectionBlock).accessory)).toBe(false);
  });
});
