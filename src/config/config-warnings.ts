import type { Config } from './schema';

/**
 * What is allowed but probably not meant: reported at start-up (logged as warnings), never a reason to stop. Errors
 * stop start-up in the schema; these are the soft half.
 */
export function configWarnings(config: Readonly<Config>): string[] {
  const warnings: string[] = [];
  if (!config.alertmanager.token && !config.alertmanager.basicAuth && config.alertmanager.allowUnauthenticated) {
    warnings.push(
      'alertmanager.allowUnauthenticated is on: POST /alertmanager accepts alerts from anyone who can reach the bot; set alertmanager.token and the same in the webhook_config',
    );
  }
  if (config.access.mitigate.length === 0 && Object.keys(config.access.hosts).length === 0) {
    warnings.push(
      'access.mitigate is empty: nobody may restart, reload or drain; list the on-call users or user groups',
    );
  }
  for (const host of config.hosts) {
    if (host.ssh.insecureAcceptAnyHostKey)
      warnings.push(
        `hosts[${host.name}].ssh.insecureAcceptAnyHostKey is on: any host key is accepted; pin ssh.hostKey instead`,
      );
  }
  if (config.hosts.length === 0)
    warnings.push('no hosts are configured: incidents open, but no step can run; add the load balancers under hosts:');
  if (config.mitigation.dryRun)
    warnings.push('mitigation.dryRun is on: restart, reload and drain only show their commands');
  return warnings;
}
