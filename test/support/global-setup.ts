/** Jest globalSetup: starts the loopback test hosts once for the whole run, when they can run here. */
import { execFileSync } from 'node:child_process';
import { hostsScript, testHostsUnavailable } from './test-hosts';

/** Starts sshd and haproxy (hosts.sh start); a failure to start fails the run. Skipped when not installed. */
export default async function globalSetup(): Promise<void> {
  const reason = testHostsUnavailable();
  if (reason) {
    console.warn(`\nTest hosts not started: ${reason}`);
    return;
  }
  execFileSync('bash', [hostsScript, 'start'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
}
