/** Cause rules and the triage plan: pure, table-driven. */
import { join } from 'node:path';
import { builtinActions } from '../../../src/actions/catalog';
import type { Verdict } from '../../../src/actions/verdicts';
import { parseRunbookBinding } from '../../../src/runbook/binding-schema';
import { loadRunbooks } from '../../../src/runbook/load-runbooks';
import { resolveSteps } from '../../../src/runbook/resolve-steps';
import type { Runbook } from '../../../src/runbook/types';
import { likelyCause } from '../../../src/triage/causes';
import { triagePlan } from '../../../src/triage/plan';

const RUNBOOKS = loadRunbooks(join(__dirname, '..', '..', '..', 'runbooks'), builtinActions);
const rules = () => {
  const b = (RUNBOOKS.get('HaproxyServerDown') as Runbook).binding;
  return b?.triage ? (b.triage.causes ?? []) : [];
};
const v = (level: Verdict['level'], facts: Verdict['facts'] = {}): Verdict => ({ level, text: '', facts });

describe('likely cause (HaproxyServerDown rules)', () => {
  const down = (result: string) => ({
    'status-check': v('ok', { running: true }),
    'config-check': v('ok', { valid: true }),
    'backend-state': v('problem', { status: 'DOWN', server: 'web2', checkInfo: 'L4CON connection refused' }),
    'connectivity-check': v('problem', { result, port: 8080 }),
  });
  it.each([
    ['refused', down('refused'), /^web2 itself is down or not listening on port 8080; HAProxy is fine$/, 'drain'],
    ['timeout', down('timeout'), /^web2's address does not answer/, 'drain'],
    ['connected', down('connected'), /^the LB reaches web2 but its health check fails \(L4CON/, 'drain'],
    ['not running', { 'status-check': v('problem', { running: false }) }, /^HAProxy is not running/, 'restart'],
    [
      'config invalid',
      {
        ...down('refused'),
        'config-check': v('problem', { valid: false, line: 42, error: "unknown keyword 'severr'" }),
      },
      /^a reload would fail: fix the config first \(line 42: unknown keyword 'severr'\)$/,
      undefined,
    ],
    [
      'recovered',
      { 'backend-state': v('ok', { status: 'UP', server: 'web2' }) },
      /^web2 recovered since the alert/,
      undefined,
    ],
  ])('%s', (_name, verdicts, cause, action) => {
    const c = likelyCause(rules(), verdicts);
    expect(c.text).toMatch(cause);
    expect(c.action).toBe(action);
  });

  it('lists the other rules that hold as "also", and guesses nothing when none holds', () => {
    const c = likelyCause(rules(), { ...down('refused'), 'config-check': v('problem', { line: 1, error: 'x' }) });
    expect(c.also).toEqual(['web2 itself is down or not listening on port 8080; HAProxy is fine']);
    const none = likelyCause(rules(), { 'backend-state': v('warn', { status: 'NOLB' }) });
    expect(none.rule).toBeUndefined();
    expect(none.text).toMatch(/^no cause rule fits/);
  });
});

describe('triage plan', () => {
  const rb = RUNBOOKS.get('HaproxyServerDown') as Runbook;
  const ctx = {
    action: RUNBOOKS.action,
    inCatalog: (id: string) => builtinActions.some((a) => a.id === id),
    readActions: [],
  };

  it('by default: each catalog triage action once, in runbook order, no host-changing step', () => {
    expect(triagePlan(rb, ctx).steps.map((s) => `${s.step.id}:${s.action.id}`)).toEqual([
      'diagnosis-1:log-tail',
      'diagnosis-2:status-check',
      'diagnosis-3:connectivity-check',
      'diagnosis-4:config-check',
      'diagnosis-backend-state:backend-state',
    ]);
  });

  it('a binding’s own read command runs only when the config vouches for it', () => {
    const own = {
      id: 'my-check',
      title: 'My check',
      description: 'reads',
      risk: 'read' as const,
      params: {},
      command: 'true',
      timeoutMs: 1000,
      outputCap: 1024,
    };
    const binding = {
      ...(rb.binding as NonNullable<Runbook['binding']>),
      actions: [own],
      triage: { steps: ['diagnosis-extra-mine'] },
    };
    binding.extra = [
      ...(binding.extra ?? []),
      { id: 'extra-mine', section: 'diagnosis', title: 'Mine', actions: ['my-check'] },
    ];
    const mine: Runbook = { ...rb, binding, steps: resolveSteps(rb.doc, binding, builtinActions) };
    const lookup = { ...ctx, action: (_r: Runbook, id: string) => (id === 'my-check' ? own : RUNBOOKS.action(rb, id)) };
    expect(triagePlan(mine, lookup).steps).toEqual([]);
    expect(triagePlan(mine, lookup).left[0]).toMatch(
      /not in the catalog; list it in mitigation.readActions with its command/,
    );
    expect(triagePlan(mine, { ...lookup, readActions: ['my-check'] }).steps.map((s) => s.action.id)).toEqual([
      'my-check',
    ]);
  });

  it('refuses at load a triage step without a read action and a cause rule on an action the runbook lacks', () => {
    const yaml = (t: string) =>
      parseRunbookBinding(`alert: HaproxyServerDown\nsteps:\n  mitigation:\n    1: restart\n${t}`, 'x.yml');
    expect(() => resolveSteps(rb.doc, yaml('triage:\n  steps: [mitigation-1]\n'), builtinActions)).toThrow(
      /triage never runs a host-changing step/,
    );
    expect(() =>
      resolveSteps(
        rb.doc,
        yaml('triage:\n  causes:\n    - { when: { disk-space: problem }, cause: x }\n'),
        builtinActions,
      ),
    ).toThrow(/tests "disk-space", which is no step's action here/);
  });

  it('the node-exporter bindings triage their df, free and top-process steps', () => {
    for (const [alert, action] of [
      ['HostOutOfDiskSpace', 'disk-space'],
      ['HostDiskWillFillIn24Hours', 'disk-space'],
      ['HostOutOfMemory', 'memory-usage'],
      ['HostMemoryUnderMemoryPressure', 'memory-usage'],
      ['HostHighCpuLoad', 'cpu-load'],
    ]) {
      const r = RUNBOOKS.get(alert) as Runbook;
      expect(triagePlan(r, ctx).steps.map((s) => s.action.id)).toContain(action);
      expect(r.binding?.triage ? r.binding.triage.causes?.length : 0).toBeGreaterThan(0);
    }
  });
});
