import type { HostConfig } from '../config/schema';
import type { Alert } from '../ingest/alert';
import { labelsFingerprint } from '../ingest/fingerprint';

/** The alert of an incident opened by hand: the runbook's alert on a configured host. */
export function manualAlert(alertname: string, host: HostConfig): Alert {
  const labels: Record<string, string> = { alertname, host: host.name };
  for (const [label, values] of Object.entries(host.match)) labels[label] = values[0];
  return {
    alertname,
    status: 'firing',
    labels,
    annotations: {},
    fingerprint: `manual-${labelsFingerprint(labels)}`,
    source: 'manual',
    missingLabels: [],
  };
}
