/** Jest globalTeardown: stops what global-setup.ts started. */
import { execFileSync } from 'node:child_process';
import { datastoresUnavailable, stopDatastores } from './datastores';
import { hostsScript, testHostsUnavailable } from './test-hosts';

/** Stops everything hosts.sh and datastores.sh started; nothing to do for what cannot run here. */
export default async function globalTeardown(): Promise<void> {
  if (!testHostsUnavailable())
    execFileSync('bash', [hostsScript, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
  if (!datastoresUnavailable()) stopDatastores();
}
