import { labelsFingerprint } from '../../../src/ingest';
import { fixtureFiles, loadFixture, type WebhookAlertFixture } from './fixtures';

describe('labelsFingerprint', () => {
  const captured = fixtureFiles('alertmanager')
    .filter((f) => f.includes('.webhook.'))
    .flatMap((f) =>
      loadFixture<{ alerts: WebhookAlertFixture[] }>('alertmanager', f).alerts.map((a) => [f, a] as const),
    );

  it('has captured webhook alerts to check against', () => {
    expect(captured.length).toBeGreaterThanOrEqual(8);
  });

  it.each(captured)('equals the fingerprint Alertmanager computed (%s)', (_file, alert) => {
    // given the labels Alertmanager fingerprinted; when we fingerprint them; then the value is the same
    expect(labelsFingerprint(alert.labels)).toBe(alert.fingerprint);
  });

  it('does not depend on key order', () => {
    const a = { alertname: 'HaproxyServerDown', instance: 'lb-1:9101', backend: 'web' };
    const b = { backend: 'web', instance: 'lb-1:9101', alertname: 'HaproxyServerDown' };
    expect(labelsFingerprint(a)).toBe(labelsFingerprint(b));
  });

  it.each([
    ['the empty set is the FNV-1a 64 offset basis', {}, 'cbf29ce484222325'],
    // Names and values are separated, so moving a character between them changes the hash.
    ['a=bc differs from ab=c', { a: 'bc' }, undefined],
  ])('%s', (_name, labels, expected) => {
    const fp = labelsFingerprint(labels);
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    if (expected) expect(fp).toBe(expected);
    else expect(fp).not.toBe(labelsFingerprint({ ab: 'c' }));
  });

  it('hashes UTF-8 bytes, as Go does', () => {
    expect(labelsFingerprint({ site: 'köln' })).not.toBe(labelsFingerprint({ site: 'koln' }));
    expect(labelsFingerprint({ site: 'köln' })).toMatch(/^[0-9a-f]{16}$/);
  });
});
