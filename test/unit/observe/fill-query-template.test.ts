import { fillQueryTemplate, templateLabels } from '../../../src/observe/fill-query-template';

const labels = {
  backend: 'web',
  server: 'web2',
  instance: '127.0.0.1:19101',
  evil: 'x"} or vector(1) or {a="',
  dotted: 'a.b*c',
};

describe('fillQueryTemplate', () => {
  it.each([
    ['haproxy_server_up{backend="{backend}",server="{server}"}', 'haproxy_server_up{backend="web",server="web2"}'],
    ['haproxy_server_up{backend="{backend}"}', 'haproxy_server_up{backend="web"}'],
    ['up{instance="{instance}"} == 0', 'up{instance="127.0.0.1:19101"} == 0'],
    ['x{a="{evil}"}', 'x{a="x\\"} or vector(1) or {a=\\""}'],
    ['x{a=~"{dotted}"}', 'x{a=~"a\\\\.b\\\\*c"}'],
    ['x{a=~ "{dotted}|other"}', 'x{a=~ "a\\\\.b\\\\*c|other"}'],
    ['x{a="{backend}-{server}"}', 'x{a="web-web2"}'],
    ['x{a="\\"{server}\\""}', 'x{a="\\"web2\\""}'],
    ['rate(x{a="{server}"}[5m])', 'rate(x{a="web2"}[5m])'],
    ['x{a=~"web{2}"}', 'x{a=~"web{2}"}'],
  ])('%s', (template, expected) => {
    expect(fillQueryTemplate(template, labels)).toBe(expected);
  });

  it.each([
    ['haproxy_server_up{backend={backend}}', 'RUNBOOK_INVALID'],
    ["x{a='{server}'}", 'RUNBOOK_INVALID'],
    ['x{a="{server}}', 'RUNBOOK_INVALID'],
    ['x{a="{missing}"}', 'PARAM_INVALID'],
  ])('refuses %s (%s)', (template, code) => {
    expect(() => fillQueryTemplate(template, labels)).toThrow(expect.objectContaining({ code }));
  });

  it('lists the labels a template needs', () => {
    expect(templateLabels('haproxy_server_up{backend="{backend}",server="{server}"} + x{b="{backend}"}')).toEqual([
      'backend',
      'server',
    ]);
  });
});
