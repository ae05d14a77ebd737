/**
 * Issue #6, the bot as a real process (src/main.ts): a store it cannot open stops start-up with one clear line and a
 * non-zero exit; SIGTERM during an action lets it finish (or records it as interrupted after the grace period), closes
 * the SSH connections and exits 0.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import { freePort } from '../../support/fakes';
import {
  endLongSleeps,
  FaultSteps,
  faultReadActions,
  LONG_SLEEP,
  SLOW_DONE,
  writeFaultRunbooks,
} from '../../support/fault-runbooks';
import { CHANNEL, ONCALL, SIGNING_SECRET } from '../../support/pilot-harness';
import { buildBot, builtBotProcess } from '../../support/replicas';
import { type RecordedCall, SlackStandIn } from '../../support/slack-standin';
import {
  describeWithHosts,
  remoteProcesses,
  startSshd,
  type TestHosts,
  testHostConfig,
} from '../../support/test-hosts';

const REPO = join(__dirname, '..', '..', '..');

interface Bot {
  child: ChildProcess;
  port: number;
  /** stdout and stderr together, in arrival order. */
  output(): string;
  /** stderr alone: where a start-up failure is said. */
  errors(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built bot (as `npm start` does) with the given config. */
async function spawnBot(config: Record<string, unknown>, dir: string, env: Record<string, string> = {}): Promise<Bot> {
  const port = await freePort();
  const configPath = join(dir, 'config.yml');
  writeFileSync(configPath, stringify(config));
  const bot = builtBotProcess(await buildBot());
  const child = spawn(bot.command, bot.args, {
    cwd: REPO,
    env: {
      ...bot.env,
      SLACK_BOT_TOKEN: 'xoxb-0000-process-test',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      PORT: String(port),
      RUNBOOK_PILOT_CONFIG: configPath,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, port, output: () => out, errors: () => err, exited };
}

async function until<T>(
  what: string,
  get: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

/** Connection processes of an sshd (its listener's children): one per open SSH connection. */
function sshdConnections(hosts: TestHosts, which: 'main' | 'spare'): number {
  const pidFile = join(hosts.stateDir, `sshd.${which}.pid`);
  if (!existsSync(pidFile)) return 0;
  const pid = readFileSync(pidFile, 'utf8').trim();
  const taskDir = `/proc/${pid}/task`;
  if (!existsSync(taskDir)) return 0;
  return readdirSync(taskDir)
    .flatMap((t) =>
      readFileSync(join(taskDir, t, 'children'), 'utf8')
        .trim()
        .split(/\s+/),
    )
    .filter(Boolean).length;
}

describe('start-up with an unusable store', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rbp-store-'));
    writeFileSync(join(dir, 'a-file'), 'not a folder');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['its folder does not exist', 'missing/sub/pilot.db'],
    ['its folder is a file', 'a-file/pilot.db'],
  ])(
    'prints one clear line and exits non-zero when %s',
    async (_case, relative) => {
      const path = join(dir, relative);
      const bot = await spawnBot(
        { slack: { channels: [CHANNEL] }, alertmanager: { token: 'process-test-token' }, store: { path } },
        dir,
        { SLACK_API_URL: 'http://127.0.0.1:9/api/' },
      );
      const { code } = await bot.exited;
      expect(code).toBe(1);
      // stdout has the start-up warnings (JSON log lines); the failure itself is one line on stderr
      const lines = bot.errors().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`runbook-pilot: cannot open the store at ${path}:`);
      expect(lines[0]).toMatch(/Check store\.path: its folder must exist and be writable\.$/);
      expect(lines[0]).not.toMatch(/\n\s+at /);
    },
    30_000,
  );
});

describeWithHosts('SIGTERM during an action', (hosts) => {
  const spare = { ...testHostConfig(hosts), name: 'lb-spare', match: { instance: ['lb-spare:9101'] } };
  spare.ssh = { ...spare.ssh, port: hosts.ssh.sparePort };
  let dir: string;
  let slack: SlackStandIn;
  let bot: Bot | undefined;

  beforeEach(async () => {
    startSshd('spare');
    dir = mkdtempSync(join(tmpdir(), 'rbp-sigterm-'));
    slack = new SlackStandIn({ channels: { [CHANNEL]: 'incidents' } });
    await slack.start();
  });
  afterEach(async () => {
    if (bot && bot.child.exitCode === null) {
      bot.child.kill('SIGKILL');
      await bot.exited;
    }
    bot = undefined;
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the bot, opens an incident on lb-spare and clicks `step`; resolves once its command runs on the host. */
  async function startAndClick(
    graceMs: number,
    step: { stepId: string; actionId: string },
    title: string,
  ): Promise<{ storePath: string; since: number }> {
    const storePath = join(dir, 'pilot.db');
    const config = {
      slack: { channels: [CHANNEL], postsPerSecond: 50, postBurst: 50 },
      alertmanager: { token: 'process-test-token' },
      runbooks: writeFaultRunbooks(dir, { slowSec: 3 }),
      mitigation: { readActions: faultReadActions({ slowSec: 3 }) },
      store: { path: storePath },
      hosts: [spare],
      shutdown: { graceMs },
      // Only the clicked command may be in flight at the stop (triage, #22, would add its own).
      triage: { enabled: false },
    };
    bot = await spawnBot(config, dir, { SLACK_BOT_TOKEN: slack.botToken, SLACK_API_URL: slack.apiUrl });
    const b = bot;
    await until(
      'the bot to answer /healthz',
      async () => b.child.exitCode === null && (await healthy(b.port)),
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; output:\n${b.output()}`);
    });
    slack.configureBot({ url: `http://127.0.0.1:${b.port}/slack/events`, signingSecret: SIGNING_SECRET });
    const sent = await slack.sendEvent({
      type: 'message',
      channel: CHANNEL,
      user: ONCALL,
      text: 'HaproxyServerDown instance=lb-spare:9101 backend=web server=web2',
      ts: '1700009000.000100',
    });
    const threadTs = (sent.envelope as { event: { ts: string } }).event.ts;
    const post = await slack.waitFor(
      'chat.postMessage',
      (c) => c.status === 200 && c.args.thread_ts === threadTs && JSON.stringify(c.args.blocks ?? '').includes('step.'),
      10_000,
    );
    const since = slack.calls().length;
    const click = await slack.clickButton({
      user: ONCALL,
      channel: CHANNEL,
      messageTs: (post.response as { ts: string }).ts,
      actionId: `step.run:${step.stepId}:${step.actionId}`,
    });
    expect(click.status).toBe(200);
    await slack.waitFor('chat.postMessage', (c) => String(c.args.text) === `${title}: running`, 10_000);
    return { storePath, since };
  }

  function resultText(since: number, title: string): RecordedCall | undefined {
    return slack
      .calls()
      .slice(since)
      .find(
        (c) =>
          c.method === 'chat.update' &&
          String(c.args.text ?? '').startsWith(title) &&
          !/: running$/.test(String(c.args.text)),
      );
  }

  it('lets the running step finish, posts its result, closes SSH connections and exits 0', async () => {
    // (slow steps a previous file left on the host are not this one)
    const stale = new Set(remoteProcesses(hosts.ssh.user, SLOW_DONE));
    const { storePath, since } = await startAndClick(15_000, FaultSteps.slow, 'Slow step');
    await until('the bot’s SSH connection', () => sshdConnections(hosts, 'spare') > 0, 5000);
    // stopped while the step's command runs on the host
    await until(
      'the slow step’s command on the host',
      () => remoteProcesses(hosts.ssh.user, SLOW_DONE).some((pid) => !stale.has(pid)),
      5000,
    );
    const sent = Date.now();

    bot!.child.kill('SIGTERM');
    const { code } = await bot!.exited;

    expect(code).toBe(0);
    // it waited for the 3 s step, not for the 15 s grace
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(String(resultText(since, 'Slow step')?.args.text)).toBe('Slow step on lb-spare: ok');
    const store = new SqliteIncidentStore(storePath);
    const types = (await store.timeline(1)).map((e) => e.type);
    await store.close();
    expect(types).toContain('step.finished');
    expect(types).not.toContain('step.interrupted');
    await until('sshd to see the connection end', () => sshdConnections(hosts, 'spare') === 0, 5000);
  }, 60_000);

  it('records a step still running after the grace period as interrupted, ends it on the host, and exits 0', async () => {
    // no long command left on the host by another test (a bot killed with SIGKILL cannot end its own)
    endLongSleeps(hosts.ssh.user);
    const { storePath, since } = await startAndClick(1000, FaultSteps.long, 'Long step');
    await until('the bot’s SSH connection', () => sshdConnections(hosts, 'spare') > 0, 5000);
    // the command runs on the host (a signal sshd gets before it has started the command has nothing to reach)
    const remote = () => spawnSync('pgrep', ['-u', hosts.ssh.user, '-f', LONG_SLEEP]).stdout.toString().trim();
    await until('the remote command to start', () => remote() !== '', 10_000);

    bot!.child.kill('SIGTERM');
    const { code } = await bot!.exited;

    expect(code).toBe(0);
    const store = new SqliteIncidentStore(storePath);
    const interrupted = (await store.timeline(1)).find((e) => e.type === 'step.interrupted');
    const state = (await store.get(1))?.steps[FaultSteps.long.stepId];
    await store.close();
    expect(interrupted?.details).toMatchObject({ stepId: FaultSteps.long.stepId, ran: true });
    expect(state).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(/^interrupted: the bot stopped while it ran/),
    });
    expect(String(resultText(since, 'Long step')?.args.text)).toMatch(
      /Long step failed: the bot stopped while long-step ran on lb-spare; its outcome is unknown/,
    );
    await until('sshd to see the connection end', () => sshdConnections(hosts, 'spare') === 0, 5000);
    await until('the remote command to end', () => remote() === '', 5000);
  }, 60_000);
});
