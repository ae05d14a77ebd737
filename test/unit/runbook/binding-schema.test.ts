import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PilotError } from '../../../src/errors';
import { parseRunbookBinding } from '../../../src/runbook/binding-schema';

const file = 'runbooks/SomeAlert.yml';

function errorOf(yaml: string): PilotError {
  try {
    parseRunbookBinding(yaml, file);
  } catch (err) {
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).code).toBe('RUNBOOK_INVALID');
    return err as PilotError;
  }
  throw new Error('expected RUNBOOK_INVALID');
}

describe('parseRunbookBinding', () => {
  it('reads the HaproxyServerDown binding with numeric item keys', () => {
    const text = readFileSync(join(__dirname, '../../../runbooks/HaproxyServerDown.yml'), 'utf8');
    const b = parseRunbookBinding(text, 'runbooks/HaproxyServerDown.yml');
    expect(b).toMatchObject({
      alert: 'HaproxyServerDown',
      labels: ['alertname', 'backend', 'instance', 'job', 'server', 'severity'],
      hostLabel: 'instance',
      query: 'haproxy_server_up{instance="{instance}",backend="{backend}"}',
      steps: {
        diagnosis: {
          1: 'log-tail',
          2: 'status-check',
          3: 'connectivity-check',
          4: 'config-check',
          5: 'recent-changes',
        },
        mitigation: { 1: ['restart', 'reload'], 2: 'config-check', 3: 'version-check' },
      },
    });
    expect(Object.keys(b.steps!.diagnosis!)).toEqual(['1', '2', '3', '4', '5']);
    expect(b.extra?.map((e) => `${e.section}-${e.id}`)).toEqual(['diagnosis-backend-state', 'mitigation-server-state']);
  });

  it.each([
    [
      'a top-level unknown key',
      'alert: A\nstep:\n  diagnosis: {}\n',
      ['runbooks/SomeAlert.yml', 'unknown key "step" at (top level)'],
    ],
    ['an unknown section', 'alert: A\nsteps:\n  diagnose:\n    1: log-tail\n', ['unknown key "diagnose" at steps']],
    [
      'an unknown key in an extra step',
      'alert: A\nextra:\n  - id: x\n    section: diagnosis\n    title: X\n    actoins: [log-tail]\n',
      ['unknown key "actoins" at extra.0', 'extra.0.actions'],
    ],
    [
      'a non-number item',
      'alert: A\nsteps:\n  diagnosis:\n    first: log-tail\n',
      ['steps.diagnosis.first', 'item number'],
    ],
    [
      'a title over 75 characters',
      `alert: A\ntitles:\n  diagnosis-1: ${'t'.repeat(76)}\n`,
      ['titles.diagnosis-1', '75'],
    ],
    ['an action id with shell in it', 'alert: A\nsteps:\n  diagnosis:\n    1: "log-tail; id"\n', ['steps.diagnosis.1']],
    [
      'an own action with an unknown key',
      'alert: A\nactions:\n  - id: up\n    title: Up\n    description: d\n    risk: read\n    params: {}\n    command: uptime\n    timeoutMs: 1000\n    outputCap: 1000\n    shell: zsh\n',
      ['unknown key "shell" at actions.0'],
    ],
    [
      'an own action with an unbounded int',
      'alert: A\nactions:\n  - id: up\n    title: Up\n    description: d\n    risk: read\n    params:\n      n: { from: input, type: int, default: 1 }\n    command: uptime {n}\n    timeoutMs: 1000\n    outputCap: 1000\n',
      ['actions.0.params.n.min'],
    ],
    ['a missing alert', 'labels: [a]\n', ['alert']],
  ])('refuses %s with the file and key path', (_n, yaml, words) => {
    const e = errorOf(yaml);
    expect(e.message).toContain(file);
    for (const w of words) expect(e.message).toContain(w);
  });

  it('names the line of a YAML syntax error', () => {
    expect(errorOf('alert: A\nsteps:\n  diagnosis: [\n').message).toMatch(
      /runbooks\/SomeAlert\.yml: invalid YAML at line \d/,
    );
  });
});
