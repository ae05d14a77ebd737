import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinActions } from '../../../src/actions/catalog';
import { parseRunbookBinding } from '../../../src/runbook/binding-schema';
import { parseRunbookMarkdown } from '../../../src/runbook/parse-runbook-markdown';
import { resolveSteps, shortTitle } from '../../../src/runbook/resolve-steps';
import type { RunbookBinding } from '../../../src/runbook/types';
import { expectPilotError } from '../../support/expect-pilot-error';

const repo = join(__dirname, '../../..');
const doc = parseRunbookMarkdown(
  readFileSync(join(repo, 'runbooks/HaproxyServerDown.md'), 'utf8'),
  'runbooks/HaproxyServerDown.md',
);
const binding = parseRunbookBinding(
  readFileSync(join(repo, 'runbooks/HaproxyServerDown.yml'), 'utf8'),
  'runbooks/HaproxyServerDown.yml',
);

function expectInvalid(fn: () => unknown, ...parts: string[]): void {
  expectPilotError(fn, 'RUNBOOK_INVALID', ...parts);
}

describe('resolveSteps for HaproxyServerDown', () => {
  const steps = resolveSteps(doc, binding, builtinActions, 'runbooks/HaproxyServerDown.yml');

  it('binds every item as the binding says, with short titles', () => {
    expect(steps.map((s) => [s.id, s.kind, s.actions.join(','), s.title])).toEqual([
      ['diagnosis-1', 'action', 'log-tail', 'Check the HAProxy logs'],
      ['diagnosis-2', 'action', 'status-check', 'Is HAProxy running and listening?'],
      ['diagnosis-3', 'action', 'connectivity-check', 'Connectivity from the LB to the server'],
      ['diagnosis-4', 'action', 'config-check', 'Check the HAProxy configuration'],
      ['diagnosis-5', 'action', 'recent-changes', 'Recent changes on the LB'],
      ['diagnosis-backend-state', 'action', 'backend-state', 'Backend state'],
      ['mitigation-1', 'action', 'restart,reload', 'Restart or reload HAProxy'],
      ['mitigation-2', 'action', 'config-check', 'Check and fix the configuration'],
      ['mitigation-3', 'action', 'version-check', 'HAProxy version and patches'],
      ['mitigation-4', 'checklist', '', 'Backup or failover in place?'],
      ['mitigation-5', 'checklist', '', 'Notify teams and stakeholders'],
      ['mitigation-6', 'checklist', '', 'Improve HAProxy monitoring'],
      ['mitigation-server-state', 'action', 'drain,ready', 'Server state: drain / ready'],
    ]);
  });

  it("keeps each item's own text and number", () => {
    expect(steps[0]).toEqual({
      id: 'diagnosis-1',
      section: 'diagnosis',
      number: 1,
      title: 'Check the HAProxy logs',
      text: 'Check the HAProxy server logs for any errors or warnings',
      kind: 'action',
      actions: ['log-tail'],
    });
    expect(steps.find((s) => s.id === 'mitigation-server-state')?.number).toBeUndefined();
    for (const s of steps) expect(s.title.length).toBeLessThanOrEqual(75);
  });
});

describe('resolveSteps', () => {
  it('makes every item a checklist step when there is no binding, with titles from the text', () => {
    const steps = resolveSteps(doc, undefined, builtinActions);
    expect(steps).toHaveLength(11);
    expect(steps.every((s) => s.kind === 'checklist' && s.actions.length === 0)).toBe(true);
    expect(steps[1].title).toBe('Verify the HAProxy server process is running and listening on the…');
  });

  it('accepts actions the binding brings itself', () => {
    const own: RunbookBinding = {
      alert: 'HaproxyServerDown',
      steps: { diagnosis: { 1: 'lb-uptime' } },
      actions: [
        {
          id: 'lb-uptime',
          title: 'Uptime',
          description: 'uptime',
          risk: 'read',
          params: {},
          command: 'uptime',
          timeoutMs: 5000,
          outputCap: 4096,
        },
      ],
    };
    expect(resolveSteps(doc, own, builtinActions)[0]).toMatchObject({ kind: 'action', actions: ['lb-uptime'] });
  });

  it.each([
    [
      'an unknown action',
      { alert: 'HaproxyServerDown', steps: { diagnosis: { 2: 'tail-logs' } } },
      ['step diagnosis-2', '"tail-logs"'],
    ],
    [
      'an unknown action in an extra step',
      { alert: 'HaproxyServerDown', extra: [{ id: 'x', section: 'mitigation', title: 'X', actions: ['nope'] }] },
      ['step mitigation-x', '"nope"'],
    ],
    [
      'an item the runbook lacks',
      { alert: 'HaproxyServerDown', steps: { mitigation: { 7: 'reload' } } },
      ['mitigation item 7', 'has 6 item(s)'],
    ],
    ['a title for no step', { alert: 'HaproxyServerDown', titles: { 'diagnosis-9': 'X' } }, ['"diagnosis-9"']],
    [
      'an extra id clash',
      { alert: 'HaproxyServerDown', extra: [{ id: '1', section: 'diagnosis', title: 'X', actions: ['log-tail'] }] },
      ['diagnosis-1 clashes'],
    ],
    [
      'checklist mixed with actions',
      { alert: 'HaproxyServerDown', steps: { diagnosis: { 1: ['checklist', 'log-tail'] } } },
      ['mixes'],
    ],
  ] as Array<[string, RunbookBinding, string[]]>)('refuses %s, naming the file and step', (_n, b, words) => {
    expectInvalid(
      () => resolveSteps(doc, b, builtinActions, 'runbooks/HaproxyServerDown.yml'),
      'runbooks/HaproxyServerDown.yml',
      ...words,
    );
  });
});

describe('shortTitle', () => {
  it.each([
    [
      'Check the HAProxy server logs for any errors or warnings',
      'Check the HAProxy server logs for any errors or warnings',
    ],
    ['Renew the SSL certificate: Obtain a new SSL certificate from a trusted authority.', 'Renew the SSL certificate'],
    ['Restart the OSD service on the affected node. Then wait.', 'Restart the OSD service on the affected node'],
    [
      'Consider implementing additional monitoring and alerting for HAProxy server metrics to prevent similar issues in the future.',
      'Consider implementing additional monitoring and alerting for HAProxy…',
    ],
    ['x'.repeat(100), `${'x'.repeat(74)}…`],
  ])('%s → %s', (text, title) => {
    expect(shortTitle(text)).toBe(title);
    expect(shortTitle(text).length).toBeLessThanOrEqual(75);
  });
});
