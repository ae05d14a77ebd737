import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseServersState } from '../../../src/actions/parse-servers-state';
import { parseShowStat } from '../../../src/actions/parse-show-stat';
import {
  formatAge,
  renderBackendState,
  renderBackendTable,
  tableRowsFromServersState,
  tableRowsFromStat,
} from '../../../src/actions/render-backend-table';
import { renderStepOutput } from '../../../src/slack/steps';

// Captured from HAProxy 2.6.12 (Debian 12): backend web, web1 up, web2 pointing at a closed port (see README.md there).
const fixture = (name: string): string => readFileSync(join(__dirname, '../../fixtures/haproxy', name), 'utf8');

describe('parseServersState', () => {
  it('reads the rows of `show servers state web` by header name', () => {
    expect(parseServersState(fixture('show-servers-state-web.txt'))).toEqual([
      {
        backend: 'web',
        server: 'web1',
        addr: '127.0.0.1',
        port: 28081,
        opState: 'RUNNING',
        adminState: 'READY',
        checkStatus: 'L4OK',
        secondsSinceChange: 11,
      },
      {
        backend: 'web',
        server: 'web2',
        addr: '127.0.0.1',
        port: 28089,
        opState: 'STOPPED',
        adminState: 'READY',
        checkStatus: 'L4CON',
        secondsSinceChange: 10,
      },
    ]);
  });

  it.each([
    ['show-servers-state-web-maint.txt', 'STOPPED', 'MAINT'],
    ['show-servers-state-web-drain.txt', 'RUNNING', 'DRAIN'],
  ])('decodes the admin state in %s', (file, op, admin) => {
    const web2 = parseServersState(fixture(file)).find((r) => r.server === 'web2');
    expect(web2).toMatchObject({ opState: op, adminState: admin });
  });

  it('finds the block inside the backend-state action output and ignores error answers', () => {
    const combined = `== show servers state web\n${fixture('show-servers-state-web.txt')}== show stat\n${fixture('show-stat.txt')}`;
    expect(parseServersState(combined).map((r) => r.server)).toEqual(['web1', 'web2']);
    expect(parseServersState(fixture('show-servers-state-unknown-backend.txt'))).toEqual([]);
    expect(parseServersState('')).toEqual([]);
  });
});

describe('parseShowStat', () => {
  it('reads frontends, servers and backends with status as field 18', () => {
    const rows = parseShowStat(fixture('show-stat.txt'));
    expect(rows.map((r) => [r.proxy, r.name, r.status])).toEqual([
      ['fe_main', 'FRONTEND', 'OPEN'],
      ['fe_ok', 'FRONTEND', 'OPEN'],
      ['web', 'web1', 'UP'],
      ['web', 'web2', 'DOWN'],
      ['web', 'BACKEND', 'UP'],
    ]);
    // field 18 of the CSV, counted from 1, is the status
    const header = fixture('show-stat.txt').split('\n')[0].slice(2).split(',');
    expect(header[17]).toBe('status');
    expect(rows[3]).toMatchObject({
      checkStatus: 'L4CON',
      checkDesc: 'Layer4 connection problem',
      lastChange: 10,
      addr: '127.0.0.1:28089',
    });
    expect(rows[3].fields.last_chk).toBe('Connection refused');
  });

  it('reads MAINT after `set server web/web2 state maint`', () => {
    expect(parseShowStat(fixture('show-stat-maint.txt')).find((r) => r.name === 'web2')?.status).toBe('MAINT');
  });
});

describe('renderBackendTable', () => {
  it('renders the servers of the backend with the alert server marked', () => {
    const table = renderBackendTable(tableRowsFromStat(parseShowStat(fixture('show-stat.txt')), 'web'), 'web2');
    expect(table).toBe(
      [
        '  SERVER  STATUS  CHECK                              LAST CHANGE',
        '  web1    UP      L4OK (Layer4 check passed)         11s ago',
        '▶ web2    DOWN    L4CON (Layer4 connection problem)  10s ago',
      ].join('\n'),
    );
  });

  it('falls back to servers state when the output has no stat CSV', () => {
    const rows = tableRowsFromServersState(parseServersState(fixture('show-servers-state-web-maint.txt')), 'web');
    expect(rows[1]).toEqual({ server: 'web2', status: 'STOPPED MAINT', check: 'L4CON', lastChange: '10s ago' });
    expect(renderBackendState(fixture('show-servers-state-web-maint.txt'), 'web', 'web2')).toContain('▶ web2');
  });

  it('gives undefined for output it cannot read, so the caller shows the raw text', () => {
    expect(renderBackendState(fixture('show-servers-state-unknown-backend.txt'), 'nope')).toBeUndefined();
    expect(renderBackendState('socat is not installed', 'web')).toBeUndefined();
  });

  it('cuts overlong cells', () => {
    const t = renderBackendTable([{ server: 's'.repeat(80), status: 'UP', check: '-', lastChange: '-' }]);
    expect(t.split('\n')[1]).toContain('…');
    expect(t.split('\n')[1].length).toBeLessThan(70);
  });

  it.each([
    [5, '5s'],
    [75, '1m15s'],
    [7260, '2h01m'],
    [200000, '2d07h'],
  ])('formats %d seconds as %s', (s, text) => expect(formatAge(s)).toBe(text));
});

describe('renderStepOutput (#20: the choice of renderer lives with the renderers)', () => {
  const stat = fixture('show-stat.txt');
  it.each<[string, { render?: 'text' | 'backend-state' }, Record<string, string>, string | undefined]>([
    ['backend-state, backend label', { render: 'backend-state' }, { backend: 'web', server: 'web2' }, '▶ web2'],
    ['backend-state, proxy label (no backend)', { render: 'backend-state' }, { proxy: 'web' }, '  web1'],
    ['backend-state, no backend nor proxy label', { render: 'backend-state' }, { server: 'web2' }, undefined],
    ['text', { render: 'text' }, { backend: 'web' }, undefined],
    ['no render', {}, { backend: 'web' }, undefined],
  ])('%s', (_what, action, labels, contains) => {
    const out = renderStepOutput(action, stat, labels);
    if (contains === undefined) expect(out).toBeUndefined();
    else expect(out).toContain(contains);
  });
});
