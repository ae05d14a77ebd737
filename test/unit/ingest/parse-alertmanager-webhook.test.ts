import { PilotError } from '../../../src/errors';
import { parseAlertmanagerWebhook } from '../../../src/ingest';
import { labelsFingerprint } from '../../../src/ingest/fingerprint';
import { fixtureFiles, loadFixture, type WebhookAlertFixture } from './fixtures';

describe('parseAlertmanagerWebhook', () => {
  const files = fixtureFiles('alertmanager').filter((f) => f.includes('.webhook.'));

  it.each(files)('turns every alert of %s into an Alert', (file) => {
    // given a payload Alertmanager really posted
    const body = loadFixture<{ status: string; alerts: WebhookAlertFixture[] }>('alertmanager', file);
    // when
    const alerts = parseAlertmanagerWebhook(body);
    // then one Alert per entry, with its own fields
    expect(alerts).toHaveLength(body.alerts.length);
    alerts.forEach((alert, i) => {
      const raw = body.alerts[i];
      expect(alert).toMatchObject({
        alertname: 'HaproxyServerDown',
        status: raw.status,
        labels: raw.labels,
        annotations: raw.annotations,
        startsAt: raw.startsAt,
        generatorURL: raw.generatorURL,
        fingerprint: raw.fingerprint,
        source: 'webhook',
        missingLabels: [],
        groupSize: body.alerts.length,
      });
      if (raw.status === 'firing') {
        expect(raw.endsAt).toBe('0001-01-01T00:00:00Z');
        expect(alert.endsAt).toBeUndefined();
      } else {
        expect(alert.endsAt).toBe(raw.endsAt);
      }
    });
  });

  it('keeps each alert its own status in a mixed group', () => {
    const body = loadFixture<{ alerts: WebhookAlertFixture[] }>('alertmanager', 'grouped.webhook.firing.json');
    const mixed = {
      ...body,
      alerts: [body.alerts[0], { ...body.alerts[1], status: 'resolved', endsAt: '2024-11-25T12:00:00Z' }],
    };
    expect(parseAlertmanagerWebhook(mixed).map((a) => a.status)).toEqual(['firing', 'resolved']);
  });

  it('computes the fingerprint when the payload lacks one', () => {
    const body = loadFixture<{ alerts: WebhookAlertFixture[] }>('alertmanager', 'single.webhook.firing.json');
    const { fingerprint, ...rest } = body.alerts[0];
    const [alert] = parseAlertmanagerWebhook({ ...body, alerts: [rest] });
    expect(alert.fingerprint).toBe(fingerprint);
  });

  it("never takes the payload's fingerprint: one naming another alert gets the fingerprint of its own labels", () => {
    const body = loadFixture<{ alerts: WebhookAlertFixture[] }>('alertmanager', 'single.webhook.firing.json');
    const real = body.alerts[0];
    const forged = { ...real, labels: { ...real.labels, server: 'api-db-primary' } };
    const [alert] = parseAlertmanagerWebhook({ ...body, alerts: [forged] });
    expect(alert.fingerprint).not.toBe(real.fingerprint);
    expect(alert.fingerprint).toBe(labelsFingerprint(forged.labels));
  });

  it('passes shell metacharacters in labels through unchanged', () => {
    const [alert] = parseAlertmanagerWebhook(loadFixture('alertmanager', 'metachar.webhook.firing.json'));
    expect(alert.labels.server).toBe('$(touch${IFS}/tmp/pwned)');
    expect(alert.labels.backend).toBe('web;id');
  });

  const good = loadFixture<Record<string, unknown>>('alertmanager', 'single.webhook.firing.json');
  it.each<[string, unknown]>([
    ['null', null],
    ['a number', 42],
    ['a string', 'alerts'],
    ['an array', [good]],
    ['an empty object', {}],
    ['version 3', { ...good, version: '3' }],
    ['alerts not an array', { ...good, alerts: 'x' }],
    ['a label that is not a string', { ...good, alerts: [{ status: 'firing', labels: { alertname: 1 } }] }],
    ['an unknown status', { ...good, alerts: [{ status: 'pending', labels: { alertname: 'X' } }] }],
    ['deep junk', { version: '4', status: 'firing', alerts: [[[[{}]]]] }],
  ])('throws PilotError PARAM_INVALID for %s', (_name, body) => {
    let caught: unknown;
    try {
      parseAlertmanagerWebhook(body);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PilotError);
    expect((caught as PilotError).code).toBe('PARAM_INVALID');
    expect((caught as PilotError).message).toMatch(/Alertmanager webhook payload/);
  });

  it('skips an entry without alertname rather than inventing one', () => {
    expect(parseAlertmanagerWebhook({ ...good, alerts: [{ status: 'firing', labels: { instance: 'x' } }] })).toEqual(
      [],
    );
  });
});
