import type { HostConfig } from './schema';

/**
 * Finds the configured host an alert is about: the first host one of whose `match` entries lists the alert's value
 * for that label (e.g. `instance: ["lb-1:9101"]`).
 */
export function findHost(hosts: readonly HostConfig[], labels: Record<string, string>): HostConfig | undefined {
  return hosts.find((h) =>
    Object.entries(h.match).some(([label, values]) => labels[label] !== undefined && values.includes(labels[label])),
  );
}

/** Every configured match value, by the label it is matched on (`{ instance: ["lb-1:9101", …] }`). */
export function hostMatchByLabel(hosts: readonly HostConfig[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const h of hosts) {
    for (const [label, values] of Object.entries(h.match)) {
      out[label] ??= [];
      out[label].push(...values);
    }
  }
  return out;
}
