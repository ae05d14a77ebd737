/**
 * The monitoring test stack from TypeScript: start/stop `prom-stack.sh`, its addresses, and the haproxy runtime API
 * of its load balancer. Integration tests skip (with the reason printed) when the Debian packages are missing,
 * and fail instead when RBP_REQUIRE_HOSTS=1.
 *
 *   const stack = promStackAvailability();
 *   const describeStack = stack.available ? describe : stack.required ? describeMissing : describe.skip;
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = join(__dirname, 'prom-stack.sh');

export interface PromStack {
  prometheusUrl: string;
  alertmanagerUrl: string;
  exporterUrl: string;
  /** haproxy's admin socket: `set server web/web1 state maint|ready`. */
  haproxySocket: string;
  /** The stack's state folder: configs, logs, pidfiles. */
  dir: string;
}

export interface PromStackAvailability {
  available: boolean;
  /** Why the stack cannot run, when it cannot. */
  reason?: string;
  /** RBP_REQUIRE_HOSTS=1: a missing stack is a failure, not a skip. */
  required: boolean;
}

/** Whether the stack's binaries are installed (synchronous: decides `describe` or `describe.skip` at load). */
export function promStackAvailability(env: NodeJS.ProcessEnv = process.env): PromStackAvailability {
  const required = env.RBP_REQUIRE_HOSTS === '1';
  let missing: string;
  try {
    missing = execFileSync(SCRIPT, ['missing'], { encoding: 'utf8' }).trim();
  } catch (err) {
    missing = `prom-stack.sh could not run (${(err as Error).message})`;
  }
  if (!missing) return { available: true, required };
  const reason = `monitoring stack unavailable, missing: ${missing} (apt-get install -y --no-install-recommends prometheus prometheus-alertmanager prometheus-haproxy-exporter)`;
  return { available: false, reason, required };
}

function parseEnv(text: string): PromStack {
  const vars = Object.fromEntries(
    text
      .split('\n')
      .map((l) => l.match(/^([A-Z_]+)=(.*)$/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
  return {
    prometheusUrl: vars.RBP_PROMETHEUS_URL,
    alertmanagerUrl: vars.RBP_ALERTMANAGER_URL,
    exporterUrl: vars.RBP_HAPROXY_EXPORTER_URL,
    haproxySocket: vars.RBP_PROM_STACK_HAPROXY_SOCKET,
    dir: vars.RBP_PROM_STACK_DIR,
  };
}

/** Starts the stack (or reuses a healthy one) and returns its addresses. */
export async function startPromStack(): Promise<PromStack> {
  const { stdout } = await run(SCRIPT, ['start'], { timeout: 60_000 });
  return parseEnv(stdout);
}

/** Stops what `startPromStack` started and waits for the ports to close. */
export async function stopPromStack(): Promise<void> {
  await run(SCRIPT, ['stop'], { timeout: 60_000 });
}

/** Sends one command to haproxy's admin socket and returns its answer. */
export function haproxyCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let out = '';
    conn.setTimeout(2000, () => conn.destroy(new Error(`haproxy socket ${socket}: no answer to "${command}"`)));
    conn.on('connect', () => conn.end(`${command}\n`));
    conn.on('data', (d) => (out += d.toString('utf8')));
    conn.on('end', () => resolve(out));
    conn.on('error', reject);
  });
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Freezes a daemon (SIGSTOP) and waits until the kernel reports it stopped: the signal is delivered asynchronously,
 * and a request sent before every thread has stopped could still be answered.
 */
export async function freeze(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  await waitFor(
    `process ${pid} to stop`,
    async () => (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T') ? true : undefined),
    5000,
    5,
  );
}
