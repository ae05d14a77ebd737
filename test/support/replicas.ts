/**
 * Several REAL bot processes (issue #13 §3): each replica is its own `node` process running the compiled entry point
 * (src/main.ts, built once per source version), with its own config file and HTTP port, on one Postgres database,
 * one Redis, one Slack stand-in and the same loopback hosts. Slack reaches them through the stand-in's load balancer
 * (`configureBot({ urls })`), Alertmanager through `webhook()`, which balances the same way and retries as
 * Alertmanager does. Readiness is awaited on `/healthz`; SIGTERM and SIGKILL are at hand; every replica's log is kept
 * for failure messages (`tail()`).
 *
 *   const set = await startReplicas({ count: 2, slack, dir, config });   // config: store.url etc.
 *   await set.webhook(body);                                              // through the "load balancer"
 *   set.replicas[0].kill('SIGKILL');
 *   await set.restart(1);                                                 // SIGTERM, wait, start again
 *   await set.stop();
 *
 * Why a build: `node dist/main.js` is ready in 1–3 s where `ts-node --transpile-only src/main.ts` takes 8–10 s on
 * the 2-core CI machine (each process transpiles every module again). The build (tsc --noCheck, about 8 s) is kept in
 * the temporary folder under a hash of the sources, so the files and runs that follow reuse it; builds unused for a
 * day are removed.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { freePort } from './fakes';
import { LoadBalancer } from './load-balancer';
import { AM_TOKEN, SIGNING_SECRET } from './pilot-harness';
import type { SlackStandIn } from './slack-standin';

const REPO = join(__dirname, '..', '..');
const run = promisify(execFile);

/** Every file under `dir` (sorted), for the build's hash. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

/**
 * The compiled bot (`<dir>/main.js`), built with tsc from src/ unless a build of the same sources exists. Type errors
 * are not this build's business (`npm test` type-checks first), so it transpiles only (`--noCheck`).
 */
export async function buildBot(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...filesUnder(join(REPO, 'src')), join(REPO, 'tsconfig.json'), join(REPO, 'tsconfig.build.json')])
    hash.update(relative(REPO, file)).update('\0').update(readFileSync(file)).update('\0');
  const out = join(tmpdir(), `rbp-replica-build-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(join(out, 'main.js'))) return out;
  const building = `${out}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc');
  try {
    await run(
      process.execPath,
      [tsc, '-p', join(REPO, 'tsconfig.build.json'), '--outDir', building, '--noCheck', '--sourceMap', 'false'],
      { cwd: REPO, timeout: 120_000 },
    );
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    throw err;
  }
  // builds of older sources unused for a day go: each is a few MB, and every change of src/ makes one
  for (const old of readdirSync(tmpdir()).filter((n) => /^rbp-replica-build-[0-9a-f]{16}$/.test(n))) {
    const path = join(tmpdir(), old);
    if (path !== out && Date.now() - statSync(path).mtimeMs > 86_400_000)
      rmSync(path, { recursive: true, force: true });
  }
  try {
    renameSync(building, out);
  } catch {
    // another test file built the same sources at the same moment: theirs is as good
    rmSync(building, { recursive: true, force: true });
  }
  return out;
}

/**
 * The Node flags the image starts the bot with: what lies between `node` and `dist/main.js` in the Dockerfile's CMD,
 * so the replicas (and the memory benchmarks) run as shipped.
 */
export function shippedNodeFlags(): string[] {
  const cmd = readFileSync(join(REPO, 'Dockerfile'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CMD '));
  if (!cmd) throw new Error('the Dockerfile has no CMD line');
  const args = JSON.parse(cmd.slice(4)) as string[];
  const main = args.indexOf('dist/main.js');
  if (args[0] !== 'node' || main < 0) throw new Error(`the Dockerfile's CMD is not node … dist/main.js: ${cmd}`);
  return args.slice(1, main);
}

/** One bot process. */
export class Replica {
  child?: ChildProcess;
  /** Resolves when the current process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({
    code: null,
    signal: null,
  });
  private log: string[] = [];
  private starts = 0;
  /** Whether the current process was sent a signal by the test (so its exit was asked for). */
  private signalled = false;
  private crashed?: string;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly spawnIt: (replica: Replica) => ChildProcess,
  ) {}

  /** The replica's base URL. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Whether its process is running. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves once /healthz answers 200; a process that exits first fails with its log. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts++;
    this.note(`--- start #${this.starts}`);
    const child = this.spawnIt(this);
    this.child = child;
    const lines = (prefix: string) => {
      let rest = '';
      return (d: Buffer) => {
        const parts = (rest + d.toString()).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) this.note(prefix + line);
      };
    };
    child.stdout?.on('data', lines(''));
    child.stderr?.on('data', lines('stderr: '));
    this.signalled = false;
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.note(`--- exited: code ${code}, signal ${signal}`);
        if (!this.signalled)
          this.crashed ??= `${this.name} exited by itself (code ${code}, signal ${signal}):\n${this.tail()}`;
        resolve({ code, signal });
      }),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${this.tail()}`);
      try {
        if ((await fetch(`${this.url}/healthz`)).status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Sends a signal (SIGKILL: a crash; SIGTERM: the orderly stop). */
  kill(signal: NodeJS.Signals): void {
    if (!this.running) return;
    this.signalled = true;
    this.child?.kill(signal);
  }

  /** An exit nobody asked for (a crash, a start-up error after ready), with its log; undefined otherwise. */
  crash(): string | undefined {
    return this.crashed;
  }

  /** SIGTERM, and waits for the exit (SIGKILL after `timeoutMs`); resolves with the exit. */
  async stop(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.running) return this.exited;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last `lines` lines of its log (stdout, and stderr marked), across its restarts. */
  tail(lines = 60): string {
    return this.log
      .slice(-lines)
      .map((l) => `[${this.name}] ${l}`)
      .join('\n');
  }

  /** Every log line so far. */
  lines(): string[] {
    return [...this.log];
  }

  private note(line: string): void {
    this.log.push(line);
  }
}

export interface ReplicaSetOptions {
  count: number;
  /** The Slack stand-in, started. Its delivery is pointed at the replicas' load balancer. */
  slack: SlackStandIn;
  /** Folder for the config files (and anything relative); the caller removes it. */
  dir: string;
  /** The config every replica gets (validated by the bot at start); `alertmanager.token` defaults to AM_TOKEN. */
  config: Record<string, unknown>;
  /** More environment for every replica. */
  env?: Record<string, string>;
  /** Slack's event retries, compressed for tests (default: at once, 1 s, 2 s; Slack: at once, 1 min, 5 min). */
  eventRetryDelaysMs?: readonly number[];
}

/** The replicas, the load balancer in front of them, and their logs. */
export class ReplicaSet {
  constructor(
    readonly replicas: Replica[],
    readonly balancer: LoadBalancer,
  ) {}

  /** Posts an Alertmanager webhook through the load balancer, retrying as Alertmanager does (see ../README). */
  async webhook(body: unknown, opts: { startAt?: number; timeoutMs?: number } = {}): Promise<WebhookResult> {
    // Alertmanager's webhook notifier retries a 5xx, a 429 and a failed connection with a growing backoff until the
    // notification's time is up; a 4xx other than 429 is final.
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let backoff = 100;
    for (let attempt = 1; ; attempt++) {
      const { res, backend } = await this.balancer.fetch(
        '/alertmanager',
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${AM_TOKEN}`,
            'user-agent': 'Alertmanager/0.25.0',
          },
          body: JSON.stringify(body),
        },
        attempt === 1 ? opts.startAt : undefined,
      );
      await res.arrayBuffer();
      const retry = res.status >= 500 || res.status === 429;
      if (!retry || Date.now() + backoff > deadline)
        return { status: res.status, replica: this.balancer.indexOf(backend), attempts: attempt };
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 2000);
    }
  }

  /** SIGTERM one replica, wait for its exit, start it again (same port, same config) and wait until it is ready. */
  async restart(i: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const exit = await this.replicas[i].stop();
    await this.replicas[i].start();
    return exit;
  }

  /** The last lines of every replica's log, for a failure message. */
  tail(lines = 40): string {
    return this.replicas.map((r) => r.tail(lines)).join('\n');
  }

  /** Polls `fn` until it returns something truthy; on timeout the error carries the replicas' logs. */
  async until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the replicas' logs:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The sum over the running replicas of a metric's samples on their /metrics (a gauge: what each holds now). A
   * replica that does not answer counts as busy (NaN), so a barrier never passes over it.
   */
  async metric(name: string): Promise<number> {
    const values = await Promise.all(
      this.replicas
        .filter((r) => r.running)
        .map(async (r) => {
          try {
            const text = await (await fetch(`${r.url}/metrics`)).text();
            const samples = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))];
            return samples.length === 0 ? Number.NaN : samples.reduce((sum, m) => sum + Number(m[1]), 0);
          } catch {
            return Number.NaN;
          }
        }),
    );
    return values.reduce((a, b) => a + b, 0);
  }

  /**
   * Whether every running replica has handled every alert it received (webhook or Slack message), posts included:
   * none queued at its webhook intake (runbook_pilot_alerts_queued), none under way (runbook_pilot_alerts_in_progress).
   * A barrier once every delivery is known to have reached a replica's alert flow (its timeline row, say).
   */
  async alertsHandled(): Promise<boolean> {
    const [queued, inProgress] = await Promise.all([
      this.metric('runbook_pilot_alerts_queued'),
      this.metric('runbook_pilot_alerts_in_progress'),
    ]);
    return queued === 0 && inProgress === 0;
  }

  /** Stops every replica still running (SIGTERM, then SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 15_000): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.stop(timeoutMs)));
  }

  /**
   * Throws, with their logs, when a replica exited without being told to (a crash the test's own assertions may not
   * have seen); call it after the test, before stop().
   */
  assertNoCrash(): void {
    const crashes = this.replicas.map((r) => r.crash()).filter((c): c is string => c !== undefined);
    if (crashes.length > 0) throw new Error(`a replica exited by itself:\n${crashes.join('\n')}`);
  }
}

export interface WebhookResult {
  status: number;
  /** Which replica answered last (-1: none). */
  replica: number;
  attempts: number;
}

/**
 * How to start the built bot as `npm start` and the image do (`node <flags> dist/main.js`, the flags of the
 * Dockerfile's CMD) from any folder: the build lives outside the checkout, so its packages are the checkout's
 * (NODE_PATH).
 */
export function builtBotProcess(
  build: string,
  entry: 'main.js' | 'cli.js' = 'main.js',
): { command: string; args: string[]; env: Record<string, string> } {
  return {
    command: process.execPath,
    // The CLI runs as the package's bin runs it: plain `node`, without the image's flags.
    args: [...(entry === 'main.js' ? shippedNodeFlags() : []), join(build, entry)],
    env: { PATH: process.env.PATH ?? '', NODE_PATH: join(REPO, 'node_modules') },
  };
}

/**
 * Builds the bot (once per source version), writes one config file per replica, starts them in parallel and waits
 * until all are ready; points the stand-in's deliveries at them through its load balancer, with Slack's retries.
 */
export async function startReplicas(opts: ReplicaSetOptions): Promise<ReplicaSet> {
  const build = await buildBot();
  mkdirSync(opts.dir, { recursive: true });
  const replicas: Replica[] = [];
  const flags = shippedNodeFlags();
  for (let i = 0; i < opts.count; i++) {
    const name = `r${i + 1}`;
    const configPath = join(opts.dir, `config.${name}.yml`);
    writeFileSync(
      configPath,
      stringify({
        // Triage (#22) is opt-in here: the replica tests count their own clicks' commands and replies.
        triage: { enabled: false },
        ...opts.config,
        alertmanager: { token: AM_TOKEN, ...(opts.config.alertmanager as Record<string, unknown> | undefined) },
      }),
    );
    const port = await freePort();
    replicas.push(
      new Replica(name, port, () =>
        spawn(process.execPath, [...flags, join(build, 'main.js')], {
          cwd: opts.dir,
          env: {
            PATH: process.env.PATH ?? '',
            // the build lives outside the checkout: its packages are the checkout's
            NODE_PATH: join(REPO, 'node_modules'),
            SLACK_BOT_TOKEN: opts.slack.botToken,
            SLACK_SIGNING_SECRET: SIGNING_SECRET,
            SLACK_API_URL: opts.slack.apiUrl,
            PORT: String(port),
            RUNBOOK_PILOT_CONFIG: configPath,
            LOG_LEVEL: process.env.RBP_REPLICA_LOG_LEVEL ?? 'info',
            ...opts.env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      ),
    );
  }
  const set = new ReplicaSet(replicas, new LoadBalancer(replicas.map((r) => r.url)));
  const started = await Promise.allSettled(replicas.map((r) => r.start()));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await set.stop(2000);
    throw (failed as PromiseRejectedResult).reason;
  }
  opts.slack.configureBot({
    url: `${replicas[0].url}/slack/events`,
    urls: replicas.map((r) => `${r.url}/slack/events`),
    signingSecret: SIGNING_SECRET,
    eventRetries: { delaysMs: opts.eventRetryDelaysMs ?? [0, 1000, 2000] },
  });
  return set;
}
