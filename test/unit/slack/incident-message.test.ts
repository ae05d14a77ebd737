import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionsBlock, Button, KnownBlock, SectionBlock } from '@slack/types';
import { builtinActions } from '../../../src/actions/catalog';
import { parseConfigText } from '../../../src/config/load-config';
import type { Incident } from '../../../src/incident/types';
import { createRunbookRegistry, loadRunbooks } from '../../../src/runbook/load-runbooks';
import type { Runbook, Step } from '../../../src/runbook/types';
import { decodeHostPick, decodeStepValue, encodeHostPick } from '../../../src/slack/action-ids';
import { BlockLimits, renderIncidentMessage } from '../../../src/slack/blocks/incident-message';
import { firingAlert, openIncident } from '../../support/domain-fixtures';

const registry = loadRunbooks(join(__dirname, '../../../runbooks'), builtinActions);
const runbook = registry.get('HaproxyServerDown') as Runbook;

function incident(overrides: Partial<Incident> = {}): Incident {
  return openIncident({
    channel: 'C1',
    threadTs: '1.1',
    alert: firingAlert({
      labels: {
        alertname: 'HaproxyServerDown',
        instance: 'lb-1:9101',
        backend: 'web',
        server: 'web2',
        severity: 'critical',
        job: 'haproxy',
      },
      annotations: { runbook: 'https://example.com/runbooks/HaproxyServerDown' },
      startsAt: '2026-11-25T03:12:00.000Z',
    }),
    ...overrides,
  });
}

const ctx = (hostConfigured = true) => ({
  runbook,
  action: (id: string) => registry.action(runbook, id),
  hostConfigured,
  hostLabel: 'instance',
});

function buttons(blocks: KnownBlock[]): Button[] {
  return blocks.flatMap((b) => {
    if (b.type === 'section' && (b as SectionBlock).accessory?.type === 'button')
      return [(b as SectionBlock).accessory as Button];
    if (b.type === 'actions') return (b as ActionsBlock).elements.filter((e): e is Button => e.type === 'button');
    return [];
  });
}

describe('renderIncidentMessage', () => {
  it('offers a button for every diagnosis and mitigation step of the HaproxyServerDown runbook', () => {
    const { blocks, text } = renderIncidentMessage(incident(), ctx());
    const all = buttons(blocks);
    const stepButtons = all.filter((b) => b.action_id?.startsWith('step.'));
    // every step has at least one button, every action of a step has its own
    for (const step of runbook.steps) {
      const mine = stepButtons.filter((b) => decodeStepValue(b.value)?.stepId === step.id);
      expect(mine.length).toBe(step.kind === 'checklist' ? 1 : step.actions.length);
    }
    expect(runbook.steps.filter((s) => s.section === 'diagnosis').length).toBeGreaterThanOrEqual(6);
    expect(runbook.steps.filter((s) => s.section === 'mitigation').length).toBeGreaterThanOrEqual(6);
    // changes to the host are red
    const restart = stepButtons.find((b) => b.action_id === 'step.run:mitigation-1:restart');
    expect(restart?.style).toBe('danger');
    expect(stepButtons.find((b) => b.action_id === 'step.run:diagnosis-1:log-tail')?.style).toBeUndefined();
    // action ids are unique (Slack requires it within a block; we keep them unique in the message)
    expect(new Set(all.map((b) => b.action_id)).size).toBe(all.length);
    expect(text).toContain('web/web2 on lb-1');
    // the Runbook field names the runbook, its host after it (where the link really goes)
    const runbookField = (blocks[1] as SectionBlock).fields?.find((f) => f.text.startsWith('*Runbook*'));
    expect(runbookField?.text).toBe(
      '*Runbook*\n<https://example.com/runbooks/HaproxyServerDown|HaproxyServerDown> (example.com)',
    );
  });

  it('shows each step state with who and when', () => {
    const { blocks } = renderIncidentMessage(
      incident({
        steps: {
          'diagnosis-1': {
            state: 'ok',
            actionId: 'log-tail',
            by: 'U1',
            at: '2026-11-25T03:13:00.000Z',
            exitCode: 0,
            durationMs: 84,
          },
          'diagnosis-2': { state: 'running', actionId: 'status-check', by: 'U2', at: '2026-11-25T03:13:30.000Z' },
          'diagnosis-3': {
            state: 'queued',
            actionId: 'connectivity-check',
            by: 'U2',
            at: '2026-11-25T03:13:31.000Z',
            ahead: 2,
          },
          'diagnosis-4': {
            state: 'failed',
            actionId: 'config-check',
            by: 'U3',
            at: '2026-11-25T03:14:00.000Z',
            exitCode: 1,
            error: 'exit 1',
          },
          'mitigation-5': { state: 'done', by: 'U4', at: '2026-11-25T03:15:00.000Z' },
        },
      }),
      ctx(),
    );
    const text = JSON.stringify(blocks);
    expect(text).toContain('✅ ok `log-tail` (exit 0, 84 ms) — <@U1>, 2026-11-25 03:13 UTC');
    expect(text).toContain('🔄 running `status-check` — <@U2>');
    expect(text).toContain('⏳ queued, 2 ahead');
    expect(text).toContain('❌ failed `config-check`: exit 1 — <@U3>');
    expect(text).toContain('☑️ done — <@U4>, 2026-11-25 03:15 UTC');
  });

  it('says how to add a host that is not configured, and which labels could not be recovered', () => {
    const inc = incident({ hostName: undefined });
    inc.alert = { ...inc.alert, missingLabels: ['server'] };
    const text = JSON.stringify(renderIncidentMessage(inc, ctx(false)).blocks);
    expect(text).toContain('Host not configured');
    expect(text).toContain('match: { instance: [\\"lb-1:9101\\"] }');
    expect(text).toContain('host not configured');
    expect(text).toContain('Could not recover the label(s) `server`');
  });

  it('stays within Block Kit limits for a runbook with many steps', () => {
    const many: Step[] = Array.from({ length: 40 }, (_, i) => ({
      id: `diagnosis-${i + 1}`,
      section: 'diagnosis',
      number: i + 1,
      title: `Step ${i + 1}`,
      text: 'x'.repeat(400),
      kind: 'checklist',
      actions: [],
    }));
    const big = createRunbookRegistry(
      [{ ...runbook, steps: many, file: 'big.md', doc: { ...runbook.doc, alertname: 'Big' } }],
      builtinActions,
    ).get('Big') as Runbook;
    const { blocks } = renderIncidentMessage(incident(), { ...ctx(), runbook: big });
    expect(blocks.length).toBeLessThanOrEqual(BlockLimits.blocks);
    expect(buttons(blocks).filter((b) => b.action_id?.startsWith('step.')).length).toBe(40);
    for (const b of blocks) {
      if (b.type === 'actions')
        expect((b as ActionsBlock).elements.length).toBeLessThanOrEqual(BlockLimits.actionsPerBlock);
      if (b.type === 'section' && (b as SectionBlock).text)
        expect((b as SectionBlock).text!.text.length).toBeLessThanOrEqual(BlockLimits.text);
    }
  });

  it('escapes hostile label values instead of letting them format the message', () => {
    const inc = incident();
    inc.alert = { ...inc.alert, labels: { ...inc.alert.labels, server: '<!channel> <https://evil|click>' } };
    const text = JSON.stringify(renderIncidentMessage(inc, ctx()).blocks);
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt;');
  });
});

describe('config.example.yml', () => {
  it('is a valid config', () => {
    const text = readFileSync(join(__dirname, '../../../config.example.yml'), 'utf8');
    expect(
      parseConfigText(text, 'config.example.yml', { env: { ALERTMANAGER_TOKEN: 'example-token' } }).hosts[0].name,
    ).toBe('lb-1');
  });
});

describe('renderIncidentMessage: observe', () => {
  const now = new Date('2026-11-25T03:30:00.000Z');
  const silence = {
    id: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
    createdBy: 'U0ONCALL01',
    createdByName: 'Olga Oncall',
    matchers: { alertname: 'HaproxyServerDown' },
    startsAt: '2026-11-25T03:20:00.000Z',
    endsAt: '2026-11-25T04:20:00.000Z',
    comment: 'c',
    keep: false,
    createdAt: '2026-11-25T03:20:00.000Z',
  };
  const footerIds = (inc: Incident) => {
    const { blocks } = renderIncidentMessage(inc, { ...ctx(), now });
    const footer = blocks.find((b) => b.type === 'actions' && b.block_id === 'incident') as ActionsBlock;
    return footer.elements.map((e) => (e as Button).action_id);
  };

  it.each<[string, Partial<Incident>, string[]]>([
    ['open, no silence', {}, ['incident.timeline', 'incident.refresh', 'incident.silence', 'incident.graph']],
    ['open, silenced', { silences: [silence] }, ['incident.timeline', 'incident.refresh', 'incident.graph']],
    [
      'open, silence expired',
      { silences: [{ ...silence, expiredAt: '2026-11-25T03:25:00.000Z', expiredBy: 'U0ONCALL01' }] },
      ['incident.timeline', 'incident.refresh', 'incident.silence', 'incident.graph'],
    ],
    [
      'resolved',
      { status: 'resolved', resolvedAt: '2026-11-25T03:29:00.000Z' },
      ['incident.timeline', 'incident.graph'],
    ],
  ])('footer buttons: %s', (_name, overrides, ids) => {
    expect(footerIds(incident(overrides))).toEqual(ids);
  });

  it('a resolved incident keeps no mitigation button (no red Restart or Drain), its diagnosis buttons and the record', () => {
    // given the incident resolved
    const resolved = incident({ status: 'resolved', resolvedAt: '2026-11-25T03:29:00.000Z', resolvedBy: 'U0ONCALL01' });
    const { blocks } = renderIncidentMessage(resolved, ctx());
    const stepButtons = buttons(blocks).filter((b) => b.action_id?.startsWith('step.'));
    const stepOf = (b: Button) => runbook.steps.find((s) => s.id === decodeStepValue(b.value)?.stepId);
    // then no button of a mitigation step, none red
    expect(stepButtons.filter((b) => stepOf(b)?.section === 'mitigation')).toEqual([]);
    expect(buttons(blocks).filter((b) => b.style === 'danger')).toEqual([]);
    // diagnosis (read-only, still allowed after resolution) keeps its buttons
    const diagnosis = runbook.steps.filter((s) => s.section === 'diagnosis');
    expect(new Set(stepButtons.map((b) => stepOf(b)?.id))).toEqual(new Set(diagnosis.map((s) => s.id)));
    // every mitigation step is still listed with its state, and the note says how to add to the record
    for (const s of runbook.steps.filter((s) => s.section === 'mitigation'))
      expect(blocks.some((b) => b.block_id === s.id)).toBe(true);
    expect(JSON.stringify(blocks)).toContain(`Add to the record with \`/incident note ${resolved.id} &lt;text&gt;\``);
    // while open, the same message has them
    expect(buttons(renderIncidentMessage(incident(), ctx()).blocks).some((b) => b.style === 'danger')).toBe(true);
  });

  it('shows the silence in force with who, until when and an Expire silence button above the footer', () => {
    const { blocks } = renderIncidentMessage(incident({ silences: [silence] }), { ...ctx(), now });
    const i = blocks.findIndex((b) => b.block_id === 'silence');
    const section = blocks[i] as SectionBlock;
    expect(section.text?.text).toBe('🔕 Silenced by <@U0ONCALL01> until 2026-11-25 04:20 UTC');
    expect((section.accessory as Button).action_id).toBe('incident.expireSilence');
    expect(blocks[i + 1]?.block_id).toBe('incident');
    // past its end it is no longer shown
    const later = renderIncidentMessage(incident({ silences: [silence] }), {
      ...ctx(),
      now: new Date('2026-11-25T05:00:00.000Z'),
    });
    expect(later.blocks.some((b) => b.block_id === 'silence')).toBe(false);
  });

  it('says what Alertmanager said in the header context while open, not once resolved', () => {
    const state = { kind: 'resolved' as const, checkedAt: '2026-11-25T03:29:00.000Z' };
    const open = renderIncidentMessage(incident(), { ...ctx(), alertState: state });
    expect(open.blocks[1]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Alertmanager: ✅ resolved (checked 2026-11-25 03:29 UTC)' }],
    });
    const resolved = renderIncidentMessage(incident({ status: 'resolved' }), { ...ctx(), alertState: state });
    expect(JSON.stringify(resolved.blocks)).not.toContain('Alertmanager:');
    expect(JSON.stringify(renderIncidentMessage(incident(), ctx()).blocks)).not.toContain('Alertmanager:');
  });
});

describe('the host menu of an alert that names no host', () => {
  const menu = (blocks: KnownBlock[]) =>
    blocks.find((b): b is ActionsBlock => b.type === 'actions' && b.block_id === 'host')?.elements[0] as
      | { type: string; action_id: string; options: { value: string; text: { text: string } }[] }
      | undefined;

  it.each([
    // given: host configured?, choices, incident status → then: a menu with these hosts
    {
      name: 'two choices, no host yet',
      configured: false,
      choices: ['lb-1', 'lb-2'],
      status: 'open',
      offered: ['lb-1', 'lb-2'],
    },
    {
      name: 'one choice (it is the host already)',
      configured: false,
      choices: ['lb-1'],
      status: 'open',
      offered: undefined,
    },
    { name: 'a host is configured', configured: true, choices: ['lb-1', 'lb-2'], status: 'open', offered: undefined },
    {
      name: 'the incident is resolved',
      configured: false,
      choices: ['lb-1', 'lb-2'],
      status: 'resolved',
      offered: undefined,
    },
  ] as const)('$name', ({ configured, choices, status, offered }) => {
    const inc = incident({
      id: 7,
      status,
      ...(status === 'resolved' ? { resolvedAt: '2026-01-01T00:00:00.000Z' } : {}),
    } as Partial<Incident>);
    const select = menu(renderIncidentMessage(inc, { ...ctx(configured), hostChoices: choices }).blocks);
    if (!offered) return expect(select).toBeUndefined();
    expect(select?.action_id).toBe('incident.pickHost');
    // each option names its incident and host; the handler checks both against its own state
    expect(select?.options.map((o) => decodeHostPick(o.value))).toEqual(
      offered.map((host) => ({ incidentId: 7, host })),
    );
    expect(select?.options.map((o) => o.text.text)).toEqual([...offered]);
  });

  it('reads back only the shape it wrote', () => {
    expect(decodeHostPick(encodeHostPick(3, 'lb-1'))).toEqual({ incidentId: 3, host: 'lb-1' });
    for (const forged of [undefined, '', 'lb-1', '{"i":"3","h":"lb-1"}', '{"i":3}', `{"i":3,"h":"${'x'.repeat(200)}"}`])
      expect(decodeHostPick(forged)).toBeUndefined();
  });
});
