import type { ActionSpec } from '../../../src/actions/types';
import { describeNonCatalogCommand, nonCatalogCommands } from '../../../src/runbook/non-catalog-commands';
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
  it('lists every action a binding brings, with its runbook and file, and nothing for catalog-only runbooks', () => {
    const list = nonCatalogCommands([
      runbook('A'),
      runbook('B', [action('memory-top', 'read', 'free -m'), action('kick', 'change', 'systemctl\n  restart x')]),
      runbook('C', []),
    ]);
    expect(list).toEqual([
      { alertname: 'B', file: 'runbooks/B.yml', actionId: 'memory-top', risk: 'read', command: 'free -m' },
      { alertname: 'B', file: 'runbooks/B.yml', actionId: 'kick', risk: 'change', command: 'systemctl\n  restart x' },
    ]);
    // one line each, a changing one said so
    expect(list.map(describeNonCatalogCommand)).toEqual([
      'runbook B brings its own command (action memory-top, not in the catalog): free -m',
      'runbook B brings its own host-changing command (action kick, not in the catalog): systemctl restart x',
    ]);
  });
});
