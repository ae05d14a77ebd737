import { exprFromGeneratorUrl } from '../../../src/observe/expr-from-generator-url';
import firing from '../../fixtures/prometheus/alertmanager-alerts-firing.json';

describe('exprFromGeneratorUrl', () => {
  it('reads g0.expr from the generatorURL of a real alert', () => {
    expect(firing[0].generatorURL).toContain('g0.expr=');
    expect(exprFromGeneratorUrl(firing[0].generatorURL)).toBe('haproxy_server_up == 0');
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    ['not a url', undefined],
    ['https://grafana.example/alerting/grafana/abc/view', undefined],
    [
      'http://prom:9090/graph?g0.expr=rate(http_requests_total%7Bjob%3D%22api%22%7D%5B5m%5D)+%3E+0.5&g0.tab=1',
      'rate(http_requests_total{job="api"}[5m]) > 0.5',
    ],
  ])('%s → %s', (url, expr) => {
    expect(exprFromGeneratorUrl(url)).toBe(expr);
  });
});
