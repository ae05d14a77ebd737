/** Talking to the test haproxy's runtime API directly, to check what the bot did and to restore the host after. */
import { execFileSync } from 'node:child_process';
import type { TestHosts } from './test-hosts';

/** Sends one runtime API command over the stats socket and returns the answer. */
export function runtime(hosts: TestHosts, command: string): string {
  return execFileSync('socat', ['-T2', 'stdio', `UNIX-CONNECT:${hosts.haproxy.socket}`], {
    input: `${command}\n`,
    encoding: 'utf8',
  });
}

/** A server's status as `show stat` has it (DOWN, DRAIN, MAINT, UP…). */
export function serverStatus(hosts: TestHosts, server = 'web2'): string {
  const line = runtime(hosts, 'show stat')
    .split('\n')
    .find((l) => l.startsWith(`web,${server},`));
  return line?.split(',')[17] ?? 'missing';
}

/** Polls `fn` until it returns something other than undefined/false. */
export async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch {
      // not yet: the runtime API may be restarting
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Puts web2 back as the other tests expect it: ready, and DOWN by its health check (after a restart it starts UP). */
export async function restoreWeb2(hosts: TestHosts): Promise<void> {
  await until('the runtime API', () => runtime(hosts, 'set server web/web2 state ready') !== undefined);
  await until('web2 DOWN again', () => serverStatus(hosts) === 'DOWN');
}
