/** Jest globalSetup: starts the loopback test hosts, Postgres and Redis once for the whole run, when they can run here. */
import { execFileSync } from 'node:child_process';
import { datastoresUnavailable, startDatastores } from './datastores';
import { hostsScript, testHostsUnavailable } from './test-hosts';

/**
 * Starts sshd and haproxy (hosts.sh start) and Postgres and Redis (datastores.sh start); a failure to start fails the
 * run. Each is skipped, with the reason, when not installed.
 */
export default async function globalSetup(): Promise<void> {
  const reason = testHostsUnavailable();
  if (reason) console.warn(`\nTest hosts not started: ${reason}`);
  else execFileSync('bash', [hostsScript, 'start'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
  const stores = datastoresUnavailable();
  if (stores) console.warn(`\nPostgres and Redis not started: ${stores}`);
  else startDatastores();
}
