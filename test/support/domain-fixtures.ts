/** Small domain values for unit tests: a HaproxyServerDown alert and an incident built on it. */
import type { Incident } from '../../src/incident/types';
import type { Alert } from '../../src/ingest/alert';

/** The labels of the alert about web2 on lb-1. */
export const WEB2_LABELS = {
  alertname: 'HaproxyServerDown',
  instance: 'lb-1:9101',
  backend: 'web',
  server: 'web2',
} as const;

/** A firing HaproxyServerDown alert for web2 on lb-1; `overrides` replace whole fields. */
export function firingAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    alertname: 'HaproxyServerDown',
    status: 'firing',
    labels: { ...WEB2_LABELS },
    annotations: {},
    fingerprint: 'fp',
    source: 'webhook',
    missingLabels: [],
    ...overrides,
  };
}

/** An open incident #7 on lb-1 for `firingAlert()`; `overrides` replace whole fields. */
export function openIncident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 7,
    fingerprint: 'fp',
    alertname: 'HaproxyServerDown',
    status: 'open',
    alert: firingAlert(),
    hostName: 'lb-1',
    channel: 'C0123ALERTS',
    threadTs: '1700000000.000100',
    openedAt: '2026-11-25T03:12:05.000Z',
    steps: {},
    ...overrides,
  };
}
