/**
 * Alertmanager's webhook payload (version 4) → one Alert per entry.
 *
 * A body that is not a version 4 payload throws PilotError('PARAM_INVALID') with the zod issues in `details`,
 * so the webhook route can answer 400 with the message. Extra fields are accepted: Alertmanager adds fields
 * between versions without bumping `version`.
 */
import { z } from 'zod';
import { PilotError } from '../errors';
import type { Alert } from './alert';
import { labelsFingerprint } from './fingerprint';

/** Go's zero time.Time, which Alertmanager sends for "not set" (e.g. endsAt of a firing alert). */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

const labelMap = z.record(z.string(), z.string());

const WebhookAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap,
  annotations: labelMap.default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

export const AlertmanagerWebhookSchema = z.object({
  version: z.literal('4'),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional(),
  groupKey: z.string().optional(),
  groupLabels: labelMap.optional(),
  commonLabels: labelMap.optional(),
  commonAnnotations: labelMap.optional(),
  externalURL: z.string().optional(),
  truncatedAlerts: z.number().optional(),
  alerts: z.array(WebhookAlertSchema),
});

export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhookSchema>;

function time(value: string | undefined): string | undefined {
  if (!value || value === GO_ZERO_TIME || value.startsWith('0001-01-01')) return undefined;
  return value;
}

/**
 * Parses an Alertmanager webhook body (version 4) into one Alert per entry, each with its own status.
 * Throws PilotError('PARAM_INVALID') when the body is not such a payload.
 */
export function parseAlertmanagerWebhook(body: unknown): Alert[] {
  const parsed = AlertmanagerWebhookSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new PilotError(
      'PARAM_INVALID',
      `Not an Alertmanager webhook payload (version 4): ${issues.slice(0, 3).join('; ')}`,
      {
        hint: 'point an Alertmanager webhook_configs url at this endpoint; only payload version 4 is understood',
        details: { issues },
      },
    );
  }
  return parsed.data.alerts.flatMap((a): Alert[] => {
    const alertname = a.labels.alertname;
    if (!alertname) return []; // Alertmanager never sends one without it; nothing could bind to it anyway
    const alert: Alert = {
      alertname,
      status: a.status,
      labels: { ...a.labels },
      annotations: { ...a.annotations },
      // The identity is computed from the labels, never read from the payload: a `fingerprint` field naming an open
      // incident must not let other labels in. Alertmanager's own field is the same hash of the same labels.
      fingerprint: labelsFingerprint(a.labels),
      source: 'webhook',
      missingLabels: [],
      groupSize: parsed.data.alerts.length,
    };
    const startsAt = time(a.startsAt);
    const endsAt = time(a.endsAt);
    if (startsAt) alert.startsAt = startsAt;
    if (endsAt) alert.endsAt = endsAt;
    if (a.generatorURL) alert.generatorURL = a.generatorURL;
    return [alert];
  });
}
