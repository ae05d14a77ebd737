import type { HostConfig } from '../config/schema';
import type { RunbookBinding } from '../runbook/types';

/**
 * The configured hosts an alert may be about when it names none: its rule aggregated `instance` away (`sum by
 * (backend)`), and its binding lists the hosts or host groups it runs on (`hosts: [haproxy]`). An alert that does name
 * a host gets no choices, even when no configured host matches it: replacing the host an alert names would be a guess.
 * Pure.
 */
export function hostChoices(
  hosts: readonly HostConfig[],
  binding: Pick<RunbookBinding, 'hosts' | 'hostLabel'> | undefined,
  labels: Record<string, string>,
): HostConfig[] {
  const names = binding?.hosts;
  if (!names?.length) return [];
  if (labels[binding?.hostLabel ?? 'instance']) return [];
  return hosts.filter((h) => names.includes(h.name) || (h.group !== undefined && names.includes(h.group)));
}
