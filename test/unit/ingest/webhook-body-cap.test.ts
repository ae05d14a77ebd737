import { bodyTooLargeError, webhookMaxBodyBytes } from '../../../src/ingest/alertmanager-route';

const MIB = 1024 * 1024;

describe('webhookMaxBodyBytes (#19 §3)', () => {
  it.each([
    ['the defaults: 1000 × 16384 = 16 MiB, held to the 8 MiB budget', 1000, 16_384, 8 * MIB, 8 * MIB],
    ['a budget above it: the queue’s size', 1000, 16_384, 64 * MIB, 16_384_000],
    ['a small queue: at least 1 MiB, so alerts with long values (cut at ingest) still come in', 3, 4096, 8 * MIB, MIB],
  ])('%s', (_name, maxQueuedAlerts, maxAlertChars, maxBytesInFlight, expected) => {
    expect(webhookMaxBodyBytes({ maxQueuedAlerts, maxAlertChars, maxBytesInFlight })).toBe(expected);
  });

  it('the 413 says what to set on Alertmanager’s side, and the bot’s keys', () => {
    expect(bodyTooLargeError(8 * MIB)).toBe(
      'request body larger than 8388608 bytes: set max_alerts in the webhook_configs entry so one batch stays under it (or raise ingest.maxQueuedAlerts × ingest.maxAlertChars and http.maxBytesInFlight)',
    );
  });
});
