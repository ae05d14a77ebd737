/** Jest globalTeardown: stops the loopback test hosts started by global-setup.ts. */
import { execFileSync } from 'node:child_process';
import { hostsScript, testHostsUnavailable } from './test-hosts';

/** Stops everything hosts.sh started (hosts.sh stop); nothing to do when the hosts cannot run here. */
export default async function globalTeardown(): Promise<void> {
  if (testHostsUnavailable()) return;
  execFileSync('bash', [hostsScript, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
}
