/** Issue #12 §6: what one alert may carry is capped at ingest, per value and per alert, and the cuts are named. */
import { capAlert } from '../../../src/ingest/cap-alert';
import { firingAlert } from '../../support/domain-fixtures';

const limits = { maxValueChars: 100, maxAlertChars: 1000 };
const size = (m: Record<string, string>) => Object.entries(m).reduce((n, [k, v]) => n + k.length + v.length, 0);

describe('capAlert', () => {
  it('leaves an alert within the limits as it is (the same object)', () => {
    const alert = firingAlert({ annotations: { summary: 'web2 is down' } });
    expect(capAlert(alert, limits)).toBe(alert);
  });

  it('cuts a long value, says how long it was, and names the cut', () => {
    const alert = firingAlert({
      labels: { alertname: 'HaproxyServerDown', server: 'w'.repeat(100_000) },
      annotations: { description: 'd'.repeat(500) },
    });
    const capped = capAlert(alert, limits);
    expect(capped.labels.server).toBe(`${'w'.repeat(100)}… [cut: 100000 chars]`);
    expect(capped.annotations.description.startsWith('d'.repeat(100))).toBe(true);
    expect(capped.truncated).toEqual(['annotations.description', 'labels.server']);
    // identity stays the parser's: the same alert, however it was cut
    expect(capped.fingerprint).toBe(alert.fingerprint);
  });

  it('fits a large alert into maxAlertChars: annotations give way first, alertname never', () => {
    const annotations = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`a${i}`, 'x'.repeat(90)]));
    const labels = {
      alertname: 'HaproxyServerDown',
      ...Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`l${i}`, 'y'.repeat(90)])),
    };
    const capped = capAlert(firingAlert({ labels, annotations }), limits);
    expect(size(capped.labels) + size(capped.annotations)).toBeLessThanOrEqual(limits.maxAlertChars);
    expect(capped.labels).toEqual(labels);
    expect(capped.truncated?.every((t) => t.startsWith('annotations.'))).toBe(true);
  });

  it('cuts labels too when they alone are over, but keeps the alertname', () => {
    const labels = {
      alertname: 'HaproxyServerDown',
      ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`l${i}`, 'y'.repeat(90)])),
    };
    const capped = capAlert(firingAlert({ labels }), limits);
    expect(size(capped.labels)).toBeLessThanOrEqual(limits.maxAlertChars);
    expect(capped.labels.alertname).toBe('HaproxyServerDown');
    expect(capped.alertname).toBe('HaproxyServerDown');
  });

  it('drops names too long to be names, and a generatorURL too long to be cut', () => {
    const capped = capAlert(
      firingAlert({
        annotations: { ['n'.repeat(500)]: 'v' },
        generatorURL: `http://p/graph?g0.expr=${'u'.repeat(200)}`,
      }),
      limits,
    );
    expect(Object.keys(capped.annotations)).toEqual([]);
    expect(capped.generatorURL).toBeUndefined();
    expect(capped.truncated).toEqual([`annotations.${'n'.repeat(40)}…`, 'generatorURL']);
  });
});
