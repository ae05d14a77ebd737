/** The timeline names a step as its button does: the action's title, not the runbook step's heading (#15). */
import type { TimelineEvent } from '../../../src/incident/types';
import type { Runbook } from '../../../src/runbook/types';
import { renderAlreadyOpen, renderResolution } from '../../../src/slack/blocks/replies';
import { describeEvent, renderTimeline, timelineMarkdown } from '../../../src/slack/blocks/timeline';
import { openIncident } from '../../support/domain-fixtures';

const runbook = {
  steps: [{ id: 'diagnosis-1', title: 'Check the HAProxy logs', kind: 'automated', actions: ['log-tail'] }],
} as unknown as Runbook;
const titles: Record<string, string> = { 'log-tail': 'Tail the HAProxy log' };
const actionTitle = (id: string) => titles[id];
const event = (type: TimelineEvent['type'], details: Record<string, unknown>): TimelineEvent => ({
  id: 1,
  incidentId: 7,
  at: '2026-11-25T03:14:00.000Z',
  actor: 'U0ONCALL01',
  type,
  details,
});

describe('timeline step names', () => {
  it.each<[TimelineEvent['type'], Record<string, unknown>, string]>([
    ['step.clicked', { stepId: 'diagnosis-1', actionId: 'log-tail' }, 'asked for Tail the HAProxy log'],
    [
      'step.started',
      { stepId: 'diagnosis-1', actionId: 'log-tail', host: 'lb-1' },
      'Tail the HAProxy log started on lb-1',
    ],
    [
      'step.finished',
      { stepId: 'diagnosis-1', actionId: 'log-tail', exitCode: 0, durationMs: 40 },
      'Tail the HAProxy log finished: exit 0, 40 ms',
    ],
  ])('%s reads as the button', (type, details, text) => {
    expect(describeEvent(event(type, details), runbook, actionTitle)).toBe(text);
  });

  it('falls back to the step heading and the action id for an action the catalog no longer has', () => {
    expect(
      describeEvent(event('step.clicked', { stepId: 'diagnosis-1', actionId: 'gone' }), runbook, actionTitle),
    ).toBe('asked for Check the HAProxy logs (gone)');
  });

  it('the message, the markdown file and the resolution summary use the same names', () => {
    const events = [
      event('step.clicked', { stepId: 'diagnosis-1', actionId: 'log-tail' }),
      event('step.finished', { stepId: 'diagnosis-1', actionId: 'log-tail', exitCode: 0, durationMs: 40 }),
    ];
    expect(timelineMarkdown(openIncident(), events, runbook, actionTitle)).toContain('asked for Tail the HAProxy log');
    expect(JSON.stringify(renderTimeline(openIncident(), events, runbook, actionTitle).message.blocks)).toContain(
      'asked for Tail the HAProxy log',
    );
    const summary = renderResolution(
      openIncident({ status: 'resolved', resolvedAt: '2026-11-25T03:30:00.000Z' }),
      events,
      runbook,
      actionTitle,
    );
    expect(JSON.stringify(summary.blocks)).toContain('Tail the HAProxy log (`log-tail`, exit 0)');
  });
});

describe('the timeline names people, never their ids (#21 item 8)', () => {
  const incident = openIncident({ id: 4 });
  const at = '2026-11-25T03:20:00.000Z';
  it.each<[string, TimelineEvent]>([
    [
      'a refusal in the cooldown (restart by someone)',
      {
        id: 1,
        incidentId: 4,
        at,
        type: 'mitigation.refused',
        actor: 'U0ALICE001',
        details: {
          actionId: 'restart',
          host: 'lb-1',
          code: 'COOLDOWN',
          error:
            'lb-1 was last restarted (restart by U0ONCALL01) at 03:14:00 UTC; the cooldown of 300 s has 120 s left',
          lastUser: 'U0ONCALL01',
          lastActionId: 'restart',
          lastAt: '2026-11-25T03:14:00.000Z',
          lastOutcome: 'ok',
          cooldownSec: 300,
          waitSec: 120,
        },
      },
    ],
    [
      'a step refused while another mitigation holds the host',
      {
        id: 2,
        incidentId: 4,
        at,
        type: 'step.refused',
        actor: 'U0ALICE001',
        details: {
          stepId: 'mitigation-1',
          actionId: 'reload',
          host: 'lb-1',
          code: 'HOST_BUSY',
          error:
            'another mitigation is running on lb-1 (restart by U0ONCALL01 for incident #3) since 03:19:00 UTC; nothing was run',
          since: '2026-11-25T03:19:00.000Z',
          holder: { actionId: 'restart', user: 'U0ONCALL01', incidentId: 3 },
        },
      },
    ],
  ])('%s: a mention, not the raw id', (_name, event) => {
    const text = JSON.stringify(renderTimeline(incident, [event]).message.blocks);
    expect(text).toContain('restart by <@U0ONCALL01>');
    expect(text.replace(/<@U0ONCALL01>/g, '')).not.toContain('U0ONCALL01');
    expect(text).toContain('<@U0ALICE001>');
  });
});

describe('renderAlreadyOpen (#21 item 12)', () => {
  it('names the open incident and links its thread; without a link, says where the thread is', () => {
    const incident = openIncident({ id: 1, openedAt: '2026-11-25T03:12:00.000Z' });
    const link = 'https://example.slack.com/archives/C1/p1700000000000100';
    expect(renderAlreadyOpen(incident, link).text).toBe(
      `🔁 Already open: incident #1 (${incident.alertname}, since 2026-11-25 03:12 UTC). The steps and the timeline are in <${link}|its thread>.`,
    );
    expect(renderAlreadyOpen(incident, undefined).text).toContain('in its thread (the first message of this alert)');
  });
});
