import { builtinActions } from '../../../src/actions/catalog';
import type { ActionSpec } from '../../../src/actions/types';
import { createRunbookRegistry } from '../../../src/runbook/load-runbooks';
import {
  describeNonCatalogCommand,
  guardedBindingAction,
  nonCatalogCommands,
} from '../../../src/runbook/non-catalog-commands';
import type { Runbook } from '../../../src/runbook/types';

const action = (id: string, risk: ActionSpec['risk'], command: string): ActionSpec => ({
  id,
  title: id,
  description: id,
  risk,
  params: {},
  command,
  timeoutMs: 1000,
  outputCap: 1000,
});
const runbook = (alertname: string, actions?: ActionSpec[]): Runbook =>
  ({
    doc: { alertname },
    file: `runbooks/${alertname}.md`,
    ...(actions ? { binding: { alert: alertname, actions }, bindingFile: `runbooks/${alertname}.yml` } : {}),
    steps: [],
  }) as unknown as Runbook;

describe('nonCatalogCommands', () => {
  it('lists every action a binding brings, with its runbook, file and how it is treated; nothing for catalog-only runbooks', () => {
    const list = nonCatalogCommands([
      runbook('A'),
      runbook('B', [action('memory-top', 'read', 'free -m'), action('kick', 'change', 'systemctl\n  restart x')]),
      runbook('C', []),
    ]);
    expect(list).toEqual([
      {
        alertname: 'B',
        file: 'runbooks/B.yml',
        actionId: 'memory-top',
        declaredRisk: 'read',
        risk: 'change',
        why: 'not-listed',
        command: 'free -m',
      },
      {
        alertname: 'B',
        file: 'runbooks/B.yml',
        actionId: 'kick',
        declaredRisk: 'change',
        risk: 'change',
        command: 'systemctl\n  restart x',
      },
    ]);
    // one line each, saying how the bot treats it
    expect(list.map(describeNonCatalogCommand)).toEqual([
      'runbook B brings its own command declared read, treated as host-changing (access list and confirmation) because mitigation.readActions does not list it (action memory-top, not in the catalog): free -m',
      'runbook B brings its own host-changing command (action kick, not in the catalog): systemctl restart x',
    ]);
  });
});

describe('a binding cannot lower a guard (#19 §6)', () => {
  const top = action('memory-top', 'read', 'free -m;\n  ps aux --sort=-rss | head');
  it.each<[string, Record<string, string>, 'read' | 'change', string | undefined]>([
    ['not listed in the config', {}, 'change', 'not-listed'],
    [
      'listed with this command (whitespace aside)',
      { 'memory-top': 'free -m; ps aux --sort=-rss | head' },
      'read',
      'trusted',
    ],
    ['listed with another command', { 'memory-top': 'free -m' }, 'change', 'command-differs'],
    ['another id listed', { 'disk-top': 'free -m; ps aux --sort=-rss | head' }, 'change', 'not-listed'],
  ])('a binding action declared read, %s: %s', (_name, trusted, risk, why) => {
    expect(guardedBindingAction(top, trusted).risk).toBe(risk);
    expect(nonCatalogCommands([runbook('B', [top])], trusted)[0]).toMatchObject({ declaredRisk: 'read', risk, why });
  });

  it('never lowers a declared change, whatever the config lists', () => {
    const kick = action('kick', 'change', 'systemctl restart x');
    expect(guardedBindingAction(kick, { kick: 'systemctl restart x' })).toBe(kick);
  });

  it('the registry hands out the action as treated: buttons, /incident run and the modal see host-changing', () => {
    const rb = runbook('B', [top, action('trusted-top', 'read', 'uptime')]);
    const registry = createRunbookRegistry([rb], builtinActions, { readActions: { 'trusted-top': 'uptime' } });
    expect(registry.action(rb, 'memory-top')?.risk).toBe('change');
    expect(registry.action(rb, 'trusted-top')?.risk).toBe('read');
    // the same object each time, and the catalog untouched
    expect(registry.action(rb, 'memory-top')).toBe(registry.action(rb, 'memory-top'));
    expect(registry.action(rb, 'backend-state')?.risk).toBe('read');
    // the binding itself still says what it declared (check and the start-up log report both)
    expect(rb.binding?.actions?.[0].risk).toBe('read');
  });
});
