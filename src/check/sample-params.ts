/**
 * Sample values for `runbook-pilot check`: every action's command is built with them, through the same validation
 * and quoting as a click, so a template that cannot be filled or does not parse is found before an incident.
 */

import type { ActionSpec, ParamSpec } from '../actions/types';
import type { HostConfig } from '../config/schema';

/** A value of the parameter's type that its validation accepts. */
export function sampleValue(spec: ParamSpec): string | number {
  if (spec.default !== undefined) return spec.default;
  switch (spec.type) {
    case 'enum':
      return spec.values?.[0] ?? 'x';
    case 'int':
      return spec.min ?? 1;
    case 'port':
      return 8080;
    case 'path':
      return '/var/lib/sample';
    case 'host':
      return 'backend-1.example.org';
    case 'name':
      return 'sample-1';
  }
}

/** Alert labels and user inputs that fill every `label:` and `input` parameter of `action`. */
export function sampleContext(action: ActionSpec): {
  labels: Record<string, string>;
  input: Record<string, string | number>;
  server: { addr: string; port: number };
} {
  const labels: Record<string, string> = {};
  const input: Record<string, string | number> = {};
  for (const [name, spec] of Object.entries(action.params)) {
    const [kind, key] = [spec.from.split(':')[0], spec.from.slice(spec.from.indexOf(':') + 1)];
    if (kind === 'label') for (const label of key.split('|')) labels[label] ??= String(sampleValue(spec));
    if (kind === 'input') input[name] = sampleValue(spec);
  }
  return { labels, input, server: { addr: '192.0.2.10', port: 8080 } };
}

/** A host with the config's defaults, for checking actions when no host is configured. */
export function sampleHost(): HostConfig {
  return {
    name: 'sample-host',
    match: { instance: ['sample-host:9100'] },
    ssh: {
      host: 'sample-host.example.org',
      port: 22,
      user: 'pilot',
      privateKeyPath: '/etc/runbook-pilot/id_ed25519',
      connectTimeoutMs: 5000,
      insecureAcceptAnyHostKey: false,
      hostKey: `SHA256:${'A'.repeat(43)}`,
    },
    haproxy: {
      socket: '/run/haproxy/admin.sock',
      config: '/etc/haproxy/haproxy.cfg',
      log: '/var/log/haproxy.log',
      service: 'haproxy',
      pidFile: '/run/haproxy.pid',
    },
    commands: {},
  };
}
