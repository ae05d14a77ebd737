/** Jest globalTeardown: stops what global-setup.ts started. */
import { execFileSync } from 'node:child_process';
import { datastoresUnavailable, stopDatastores } from './datastores';
import { hostsScript, testHostsUnavailable } from './test-hosts';

/** Stops everything hosts.sh and datastores.sh started; nothing to do for what cannot run here. */
export default async function globalTeardown(): Promise<void> {
  // Several Jest runs at once (a developer's parallel work trees) share the loopback hosts: the one that ends first
  // must not stop them under the others. RBP_KEEP_SERVICES=1 leaves them running; `hosts.sh stop` ends them.
  if (process.env.RBP_KEEP_SERVICES === '1') return;
  if (!testHostsUnavailable())
    execFileSync('bash', [hostsScript, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
  if (!datastoresUnavailable()) stopDatastores();
}
