/**
 * `npm run bench`: the benchmarks of issues #3 and #6, through the real bot (createApp) on the Slack stand-in and the
 * loopback test hosts, which it starts when they are not running (and then stops again).
 *
 *   1. SSH: the status check over the pool's kept connection vs a fresh `ssh` process (bench/ssh.ts).
 *   2. Click path: a click (Backend state; BENCH_CLICK_STEP) until its result reaches Slack, phase by phase (ack,
 *      queue, channel open, command, result post, the "running" post), vs the exact script the bot sent over a
 *      multiplexed `ssh` (ControlMaster, the connection already open), printed as a ratio, and vs a fresh `ssh`.
 *   3. Ack under load: the time to ack a click while 100 slow actions are in flight on the host.
 *   4. Alert storm: 500 alert messages for 50 alerts at the default post pace (1 a second, burst 5), through one real
 *      bot process whose memory is sampled (bench/storm.ts).
 *   5. Collection: start-up with a runbook folder of the real collection's size and traits (1,004 files), under 3 s.
 *   6. Limits: a click's way through the limits per process vs through Redis, and one host's limit across two
 *      replicas (bench/limits.ts; Postgres and Redis of test/support/datastores.sh, started when not running).
 *   7. Replicas: the storm and click acks through one real bot process and through two (on Postgres and Redis,
 *      behind the stand-in's load balancer), in the same run (bench/replicas.ts).
 *   8. Triage (#22): alert → triage message complete (five read steps), and a 50-alert storm's triage budget and a
 *      click during it (bench/triage.ts).
 *   9. Memory: a real bot process's RSS idle, under 100 unsigned 4 MiB POSTs to /slack/events and under a
 *      36,000-alert webhook flood; the goal is each peak within +64 MB of idle (bench/memory.ts, issue #19).
 *  10. Idle memory: the bot's RSS at rest vs a bare Bolt app's on the same Node (bench/idle.ts).
 *
 * Environment: BENCH_CLICKS (60), BENCH_CLICK_STEP (backend-state, or status-check), BENCH_CLICK_GAP_MS (250), BENCH_ACK_CLICKS (200), BENCH_STORM_MESSAGES (500),
 * BENCH_STORM_ALERTS (50), BENCH_ONLY (comma-separated: ssh,click,ack,idle,storm,collection,limits,replicas,triage,
 * memory), BENCH_TRIAGE_ALERTS (20), BENCH_TRIAGE_STORM (50), BENCH_IDLE_SEC (5),
 * BENCH_COLLECTION_RUNS (5), BENCH_LIMIT_CLICKS (500), BENCH_REPLICA_MESSAGES (200), BENCH_REPLICA_ALERTS (20),
 * BENCH_REPLICA_CLICKS (200), BENCH_MEMORY_ALERTS (36000), and the RBP_* variables of test/support/hosts.sh and datastores.sh.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { builtinActions } from '../src/actions/catalog';
import { remoteScript } from '../src/exec/ssh-pool';
import type { Executor } from '../src/exec/types';
import type { StepScheduler } from '../src/incident/run-step';
import { datastoresScript, redisUrl } from '../test/support/datastores';
import { FaultSteps, faultReadActions, writeFaultRunbooks } from '../test/support/fault-runbooks';
import { CHANNEL, type Harness, ONCALL, startHarness } from '../test/support/pilot-harness';
import type { RecordedCall } from '../test/support/slack-standin';
import { hostsScript, loadTestHosts, type TestHosts, testHostConfig } from '../test/support/test-hosts';
import { benchIdle } from './idle';
import { benchSharedLimits } from './limits';
import { benchCollectionStartup } from './load-collection';
import { benchMemory } from './memory';
import { benchReplicas } from './replicas';
import { benchSsh, plainSshArgs, quantile, round, startSshMaster } from './ssh';
import { benchStorm } from './storm';
import { benchTriageLatency, benchTriageStorm } from './triage';

const run = promisify(execFile);
const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined;
const wanted = (name: string) => !only || only.has(name);

/** Summary rows, printed at the end. */
const summary: Array<{ benchmark: string; figure: string; value: string | number }> = [];
function report(benchmark: string, figures: Record<string, string | number>): void {
  for (const [figure, value] of Object.entries(figures)) summary.push({ benchmark, figure, value });
  console.log(`\n== ${benchmark}`);
  console.table(figures);
}

const openLimits = {
  perHost: { concurrency: 2, minGapMs: 100, maxQueued: 1000 },
  global: { concurrency: 20 },
  perUser: { clicksPerMinute: 100_000 },
};

/** Opens an incident for lb-test through a plain alert message and returns its message ts. */
async function openIncident(h: Harness, ts: string): Promise<string> {
  const sent = await h.slack.sendEvent({
    type: 'message',
    channel: CHANNEL,
    user: ONCALL,
    text: 'HaproxyServerDown instance=lb-test:9101 backend=web server=web2',
    ts,
  });
  const threadTs = (sent.envelope as { event: { ts: string } }).event.ts;
  return (await h.incidentMessage(threadTs)).ts;
}

/** Resolves with the next call (not seen before) that matches. */
function nextCall(
  h: Harness,
  seen: Set<RecordedCall>,
  match: (c: RecordedCall) => boolean,
  timeoutMs = 30_000,
): Promise<RecordedCall> {
  return Promise.race([
    h.slack.waitFor('chat.update', (c) => !seen.has(c) && match(c), timeoutMs),
    h.slack.waitFor('chat.postMessage', (c) => !seen.has(c) && match(c), timeoutMs),
  ]).then((c) => {
    seen.add(c);
    return c;
  });
}

/** What one click went through, in ms since the click was sent at `t0` (undefined: did not happen). */
interface ClickTrace {
  /** performance.now() when the click was sent. */
  t0: number;
  ack?: number;
  scheduled?: number;
  started?: number;
  exec?: number;
  execEnd?: number;
  openMs?: number;
  /** The command the bot's executor was given. */
  command?: string;
  running?: number;
  result?: number;
}

/** The steps a click benchmark can press (BENCH_CLICK_STEP), on the HaproxyServerDown runbook's incident message. */
const clickSteps: Record<string, { stepId: string; actionId: string }> = {
  // HAProxy's view of the backend over the stats socket: the fastest read, where the bot's own overhead shows most
  'backend-state': { stepId: 'diagnosis-backend-state', actionId: 'backend-state' },
  // process, sockets and version: a heavier script (systemctl, ss, haproxy -v)
  'status-check': { stepId: 'diagnosis-2', actionId: 'status-check' },
};

/** Figures of sorted samples: median and p95, one decimal. */
function spread(name: string, values: number[]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  return { [`${name}_median_ms`]: round(quantile(sorted, 0.5)), [`${name}_p95_ms`]: round(quantile(sorted, 0.95)) };
}

/**
 * A status-check click through the real bot, phase by phase, against the same command over a multiplexed `ssh`
 * (ControlMaster, connection already open) and a fresh `ssh`, interleaved so that the shared machine's noise falls
 * on all three alike. The bot's scheduler and executor are watched from outside (their methods wrapped here), the
 * Slack calls timed where the stand-in receives them: the bot itself is unchanged.
 *
 * Clicks are spaced by BENCH_CLICK_GAP_MS (250): a person clicks one button at a time, and the host's own gap
 * between command starts (limits.perHost.minGapMs, 100 ms) stays in force: a click sooner would wait for it.
 */
async function clickToResult(hosts: TestHosts, clicks: number): Promise<void> {
  const step = clickSteps[process.env.BENCH_CLICK_STEP ?? 'backend-state'];
  if (!step) throw new Error(`BENCH_CLICK_STEP must be one of ${Object.keys(clickSteps).join(', ')}`);
  const lb = testHostConfig(hosts);
  const h = await startHarness({ hosts: [lb], config: { limits: openLimits } });
  const dir = mkdtempSync(join(tmpdir(), 'rbp-bench-click-'));
  const mux = await startSshMaster(hosts, dir);
  const gapMs = num('BENCH_CLICK_GAP_MS', 250);
  try {
    const messageTs = await openIncident(h, '1700100000.000100');
    const action = builtinActions.find((a) => a.id === step.actionId)!;
    let trace: ClickTrace | undefined;
    const at = () => performance.now() - (trace?.t0 ?? 0);

    // Watch the bot's own scheduler and executor (the same objects every click goes through).
    const scheduler = h.pilot.deps.scheduler as { schedule: StepScheduler['schedule'] };
    const schedule = scheduler.schedule.bind(scheduler);
    scheduler.schedule = (key, fn, hooks) => {
      const tr = trace;
      if (tr) tr.scheduled ??= at();
      return schedule(
        key,
        () => {
          if (tr) tr.started ??= at();
          return fn();
        },
        hooks,
      );
    };
    const executor = h.pilot.deps.executor as Executor;
    const botRun = executor.run.bind(executor);
    executor.run = async (target, command, opts) => {
      const tr = trace;
      if (tr) {
        tr.exec = at();
        tr.command = command;
      }
      const result = await botRun(target, command, opts);
      if (tr) {
        tr.execEnd = at();
        tr.openMs = result.openMs;
      }
      return result;
    };

    const seen = new Set<RecordedCall>();
    const isResult = (c: RecordedCall) => String(c.args.text ?? '') === `${action.title} on lb-test: ok`;
    const isRunning = (c: RecordedCall) =>
      c.method === 'chat.postMessage' && String(c.args.text ?? '') === `${action.title}: running`;
    const click = async (): Promise<ClickTrace> => {
      const tr: ClickTrace = { t0: performance.now() };
      trace = tr;
      const calls = h.slack.calls().length;
      const result = nextCall(h, seen, isResult);
      const res = await h.slack.clickButton({
        user: ONCALL,
        channel: CHANNEL,
        messageTs,
        actionId: `step.run:${step.stepId}:${step.actionId}`,
      });
      if (res.status !== 200) throw new Error(`click answered ${res.status}`);
      tr.ack = res.ackMs;
      tr.result = (await result).t - tr.t0;
      const running = h.slack.calls().slice(calls).find(isRunning);
      if (running) tr.running = running.t - tr.t0;
      trace = undefined;
      return tr;
    };
    const pause = () => new Promise((r) => setTimeout(r, gapMs));

    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[${hosts.ssh.host}]:${hosts.ssh.port} ${hosts.ssh.hostKeyPublic}\n`);
    const timed = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };

    const first = await click();
    // The very script the bot sent (its executor saw the command; the pool adds remoteScript's prefix), not a copy.
    const command = first.command;
    if (!command) throw new Error('the first click ran no command');
    const remote = remoteScript(command);
    await mux.run(remote); // the master's first session, not counted
    await pause();
    const traces: ClickTrace[] = [];
    const muxed: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < clicks; i++) {
      const t = await click();
      if (t.command !== command) throw new Error('a click ran another command than the first: not like for like');
      traces.push(t);
      await pause();
      muxed.push(await timed(() => mux.run(remote)));
      await pause();
      if (i % 3 === 0)
        plain.push(await timed(() => run('ssh', plainSshArgs(hosts, knownHosts, remote), { maxBuffer: 1 << 20 })));
    }

    const bot = traces.map((t) => t.result!);
    const b = {
      median: quantile(
        [...bot].sort((x, y) => x - y),
        0.5,
      ),
      p95: quantile(
        [...bot].sort((x, y) => x - y),
        0.95,
      ),
    };
    const m = {
      median: quantile(
        [...muxed].sort((x, y) => x - y),
        0.5,
      ),
      p95: quantile(
        [...muxed].sort((x, y) => x - y),
        0.95,
      ),
    };
    const d = (from: keyof ClickTrace, to: keyof ClickTrace) =>
      traces
        .filter((t) => t[from] !== undefined && t[to] !== undefined)
        .map((t) => (t[to] as number) - (t[from] as number));
    const runningPosted = traces.filter((t) => t.running !== undefined);
    report('click path: a status-check click through the bot, phase by phase (ms)', {
      clicks,
      ...spread(
        'ack',
        traces.map((t) => t.ack!),
      ),
      ...spread(
        'click_to_queue',
        traces.map((t) => t.scheduled!),
      ),
      ...spread('queue', d('scheduled', 'started')),
      ...spread('start_to_exec', d('started', 'exec')),
      ...spread(
        'channel_open',
        traces.filter((t) => t.openMs !== undefined).map((t) => t.openMs!),
      ),
      ...spread(
        'command',
        traces.filter((t) => t.openMs !== undefined).map((t) => t.execEnd! - t.exec! - t.openMs!),
      ),
      ...spread('result_post', d('execEnd', 'result')),
      running_posted: `${runningPosted.length} of ${traces.length}`,
      ...(runningPosted.length
        ? spread(
            'running_post_at',
            runningPosted.map((t) => t.running!),
          )
        : {}),
      ...spread('click_to_result', bot),
    });
    const withOpen = traces.filter((t) => t.openMs !== undefined);
    const med = (values: number[]) =>
      quantile(
        [...values].sort((x, y) => x - y),
        0.5,
      );
    report(`click-to-result: the bot vs its exact script over ssh (${action.title}), per phase, medians in ms`, {
      clicks,
      step: action.title,
      first_click_ms_incl_connect: round(first.result!),
      bot_click_to_command_sent: round(med(withOpen.map((t) => t.exec! + t.openMs!))),
      bot_command_sent_to_output_back: round(med(withOpen.map((t) => t.execEnd! - t.exec! - t.openMs!))),
      bot_output_back_to_posted: round(med(d('execEnd', 'result'))),
      bot_median_ms: round(b.median),
      bot_p95_ms: round(b.p95),
      ssh_multiplexed_median_ms: round(m.median),
      ssh_multiplexed_p95_ms: round(m.p95),
      ...spread('ssh_fresh', plain),
      bot_over_ssh_multiplexed_median: Math.round((b.median / m.median) * 100) / 100,
      bot_over_ssh_multiplexed_p95: Math.round((b.p95 / m.p95) * 100) / 100,
    });
  } finally {
    await mux.close();
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ackUnderLoad(hosts: TestHosts, clicks: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rbp-bench-ack-'));
  const lb = testHostConfig(hosts);
  // The cut-off at the end is part of the test: 100 slow steps are stopped at once.
  const h = await startHarness({
    hosts: [lb],
    config: {
      limits: openLimits,
      runbooks: writeFaultRunbooks(dir, { slowSec: 60 }),
      mitigation: { readActions: faultReadActions({ slowSec: 60 }) },
      shutdown: { graceMs: 0 },
    },
  });
  try {
    const messageTs = await openIncident(h, '1700200000.000100');
    const slow = `step.run:${FaultSteps.slow.stepId}:${FaultSteps.slow.actionId}`;
    for (let i = 0; i < 100; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, () =>
          h.slack.clickButton({ user: ONCALL, channel: CHANNEL, messageTs, actionId: slow }),
        ),
      );
    }
    const scheduler = h.pilot.deps.scheduler as unknown as {
      stats(): { hosts: Record<string, { queued: number; running: number }> };
    };
    const deadline = Date.now() + 10_000;
    const inFlight = () => {
      const s = scheduler.stats().hosts['lb-test'];
      return s ? s.queued + s.running : 0;
    };
    while (inFlight() < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const before = inFlight();

    const acks: number[] = [];
    for (let i = 0; i < clicks; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, clicks - i) }, () =>
          h.slack.clickButton({
            user: ONCALL,
            channel: CHANNEL,
            messageTs,
            actionId: 'step.run:diagnosis-2:status-check',
          }),
        ),
      );
      for (const d of batch) {
        if (d.status !== 200) throw new Error(`click answered ${d.status}`);
        acks.push(d.ackMs);
      }
    }
    acks.sort((a, b) => a - b);
    const stopStarted = performance.now();
    await h.pilot.stop();
    const stopMs = performance.now() - stopStarted;
    report('ack time of a click while 100 actions are in flight', {
      actions_in_flight_before: before,
      clicks: acks.length,
      ack_median_ms: round(quantile(acks, 0.5)),
      ack_p99_ms: round(quantile(acks, 0.99)),
      ack_max_ms: round(acks[acks.length - 1]),
      stop_with_all_in_flight_ms: round(stopMs),
    });
  } finally {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sharedLimits(clicks: number): Promise<void> {
  const ping = spawnSync('redis-cli', ['-p', new URL(redisUrl()).port, 'ping'], { encoding: 'utf8' });
  const wereUp = ping.stdout?.trim() === 'PONG';
  if (!wereUp) execFileSync('bash', [datastoresScript, 'start'], { stdio: 'inherit' });
  try {
    report(
      'limits: a click per process vs through Redis; one host across two replicas',
      await benchSharedLimits(redisUrl(), clicks),
    );
  } finally {
    if (!wereUp) execFileSync('bash', [datastoresScript, 'stop'], { stdio: 'inherit' });
  }
}

/**
 * The storm and the click acks through one replica, then through two, in this run: side by side, and two over one.
 * Postgres and Redis are started (test/support/datastores.sh) when they are not running, and stopped again after.
 */
async function replicaRun(): Promise<void> {
  const ping = spawnSync('redis-cli', ['-p', new URL(redisUrl()).port, 'ping'], { encoding: 'utf8' });
  const wereUp = ping.stdout?.trim() === 'PONG';
  if (!wereUp) execFileSync('bash', [datastoresScript, 'start'], { stdio: 'inherit' });
  try {
    const sizes = {
      messages: num('BENCH_REPLICA_MESSAGES', 200),
      alerts: num('BENCH_REPLICA_ALERTS', 20),
      clicks: num('BENCH_REPLICA_CLICKS', 200),
    };
    const one = await benchReplicas(1, sizes);
    const two = await benchReplicas(2, sizes);
    const title = `${sizes.messages} alert messages for ${sizes.alerts} alerts, then ${sizes.clicks} clicks, default pace`;
    report(`replicas: one bot process (${title})`, one);
    report(`replicas: two bot processes behind the balancer (${title})`, two);
    const ratio = (key: string) => Math.round((Number(two[key]) / Number(one[key])) * 100) / 100;
    report('replicas: two over one', {
      event_ack_p99: ratio('event_ack_p99_ms'),
      click_ack_p99: ratio('click_ack_p99_ms'),
      time_to_drain: ratio('time_to_drain_s'),
      messages_delivered_in: ratio('messages_delivered_in_ms'),
    });
    if (one.exactly_one_per_alert !== 'yes' || two.exactly_one_per_alert !== 'yes') process.exitCode = 1;
  } finally {
    if (!wereUp) execFileSync('bash', [datastoresScript, 'stop'], { stdio: 'inherit' });
  }
}

async function main(): Promise<void> {
  const needHosts = wanted('ssh') || wanted('click') || wanted('ack') || wanted('triage');
  const hostsWereUp = spawnSync('bash', [hostsScript, 'status'], { stdio: 'ignore' }).status === 0;
  const hosts = needHosts ? loadTestHosts() : null;
  if (needHosts && !hosts)
    throw new Error('the loopback test hosts cannot run here: see test/support/hosts.sh install');
  try {
    if (hosts && wanted('ssh'))
      report('ssh: status check over the pool vs a fresh ssh process', await benchSsh(hosts, num('BENCH_CLICKS', 60)));
    if (hosts && wanted('click')) await clickToResult(hosts, num('BENCH_CLICKS', 60));
    if (hosts && wanted('ack')) await ackUnderLoad(hosts, num('BENCH_ACK_CLICKS', 200));
    if (wanted('collection'))
      report(
        'start-up with a 1,004-file runbook collection (goal: under 3 s)',
        await benchCollectionStartup(num('BENCH_COLLECTION_RUNS', 5)),
      );
    if (wanted('idle'))
      report('idle memory: the bot vs a bare Bolt app (goal: at most 1.3×)', await benchIdle(num('BENCH_IDLE_SEC', 5)));
    if (wanted('storm')) {
      const messages = num('BENCH_STORM_MESSAGES', 500);
      const figures = await benchStorm(messages, num('BENCH_STORM_ALERTS', 50));
      report(
        `alert storm: ${messages} messages, ${figures.incidents_opened} alerts, default pace (1/s, burst 5), one real bot process`,
        figures,
      );
      if (figures.exactly_one_per_alert !== 'yes' || Number(figures.max_postMessage_in_any_1s_after_burst) > 2)
        process.exitCode = 1;
    }
    if (wanted('limits')) await sharedLimits(num('BENCH_LIMIT_CLICKS', 500));
    if (wanted('replicas')) await replicaRun();
    if (hosts && wanted('triage')) {
      report(
        'triage: alert → triage message complete, five read steps (goal: under 2 s)',
        await benchTriageLatency(hosts, num('BENCH_TRIAGE_ALERTS', 20)),
      );
      report(
        'triage: a 50-alert storm (budget 10 a minute) and a click during it',
        await benchTriageStorm(hosts, num('BENCH_TRIAGE_STORM', 50)),
      );
      report(
        'triage: the same storm with triage off (what the storm alone costs a click)',
        await benchTriageStorm(hosts, num('BENCH_TRIAGE_STORM', 50), false),
      );
    }
    if (wanted('memory')) {
      const figures = await benchMemory({
        unsigned: 100,
        unsignedBytes: 4 * 1024 * 1024,
        alerts: num('BENCH_MEMORY_ALERTS', 36_000),
        batch: 100,
        width: 20,
      });
      report(
        'memory: RSS of a real bot process under unsigned 4 MiB POSTs and a webhook flood (goal: +64 MB)',
        figures,
      );
      if (figures.within_64mb_of_idle !== 'yes') process.exitCode = 1;
    }
  } finally {
    if (needHosts && !hostsWereUp) execFileSync('bash', [hostsScript, 'stop'], { stdio: 'inherit' });
  }
  console.log('\n== summary');
  console.table(summary);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
