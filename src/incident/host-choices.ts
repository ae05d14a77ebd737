import type { HostConfig } from '../config/schema';
import type { RunbookBinding } from '../runbook/types';
import type { Incident } from './types';

/**
 * The configured hosts an alert may be about when it names none: its rule aggregated `instance` away (`sum by
 * (backend)`), and its binding lists the hosts or host groups it runs on (`hosts: [haproxy]`). An alert that does name
 * a host gets no choices, even when no configured host matches it: replacing the host an alert names would be a guess.
 * Pure.
 */
export function hostChoicesOf(
  hosts: readonly HostConfig[],
  runbooks: { get(alertname: string): { binding?: Pick<RunbookBinding, 'hosts' | 'hostLabel'> } | undefined },
): (incident: Pick<Incident, 'alertname' | 'alert'>) => string[] {
  return (incident) =>
    hostChoices(hosts, runbooks.get(incident.alertname)?.binding, incident.alert.labels).map((h) => h.name);
}

/**
 * The hosts an incident may run on (see hostChoices), by name, from the runbook bound to its alert: what the
 * presenter offers and a step's host decision checks.
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
