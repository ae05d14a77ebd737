/**
 * Idle memory, side by side: the real bot (one compiled process, as deployed: SQLite, the repo's runbooks, no
 * Prometheus, no Postgres, no Redis) against a bare Bolt app (an `App` with the HTTP receiver and nothing else) on the
 * same Node, both connected to the Slack stand-in. Each is sampled for a few seconds once it answers (the bot: its
 * /healthz; the bare app: its auth.test reached the stand-in); the figure is the median RSS of the samples.
 *
 * The bot runs with the Node flags of the Dockerfile's CMD (--max-semi-space-size); the bare app is measured
 * without them (the reference of the goal) and with them (what the flags alone are worth).
 *
 * The bot is measured twice: without hosts, and with one load balancer whose key file is checked at start (as every
 * real deployment has), which loads ssh2's key parser and with it ssh2's WebAssembly crypto (issue #20: everything
 * else of the SSH client waits for the first connection).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/fakes';
import { CHANNEL, SIGNING_SECRET } from '../test/support/pilot-harness';
import { shippedNodeFlags, startReplicas } from '../test/support/replicas';
import { SlackStandIn } from '../test/support/slack-standin';
import { rssMb } from './rss';

const REPO = join(__dirname, '..');
/** A pinned host key (any valid fingerprint: nothing connects). */
const HOST_KEY = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';

/** The median RSS of `pid` over `seconds`, sampled every 250 ms. */
async function idleRss(pid: number | undefined, seconds: number): Promise<number> {
  const samples: number[] = [];
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    samples.push(rssMb(pid));
    await new Promise((r) => setTimeout(r, 250));
  }
  samples.sort((a, b) => a - b);
  return Math.round(samples[Math.floor(samples.length / 2)] * 10) / 10;
}

/** A bare Bolt app (HTTP receiver, the stand-in's Web API), started; resolves once its auth.test arrived. */
async function startBareBolt(slack: SlackStandIn, flags: string[] = []): Promise<ChildProcess> {
  const port = await freePort();
  const since = slack.mark();
  const script = `
    const { App } = require('@slack/bolt');
    const app = new App({
      token: process.env.SLACK_BOT_TOKEN,
      signingSecret: process.env.SLACK_SIGNING_SECRET,
      clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
    });
    app.start(Number(process.env.PORT));
    process.on('SIGTERM', () => app.stop().then(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, [...flags, '-e', script], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(REPO, 'node_modules'),
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
    },
    stdio: 'ignore',
  });
  await slack.waitForCall((c) => c.method === 'auth.test', { since, timeoutMs: 15_000 });
  return child;
}

/** Idle RSS of the bot and of a bare Bolt app, and their ratio. */
export async function benchIdle(seconds: number): Promise<Record<string, number | string>> {
  const slack = new SlackStandIn({ channels: { [CHANNEL]: 'incidents' } });
  await slack.start();
  const dir = mkdtempSync(join(tmpdir(), 'rbp-bench-idle-'));
  try {
    const bare = await startBareBolt(slack);
    const bareMb = await idleRss(bare.pid, seconds);
    bare.kill('SIGTERM');
    // the same app with the bot's shipped Node flags (the Dockerfile's CMD), to show what the flags alone are worth
    const flags = shippedNodeFlags();
    const bareFlagged = await startBareBolt(slack, flags);
    const bareFlaggedMb = await idleRss(bareFlagged.pid, seconds);
    bareFlagged.kill('SIGTERM');
    const set = await startReplicas({
      count: 1,
      slack,
      dir,
      config: {
        slack: { channels: [CHANNEL] },
        runbooks: join(REPO, 'runbooks'),
        store: { path: join(dir, 'pilot.db') },
        hosts: [],
      },
      env: { LOG_LEVEL: 'warn' },
    });
    let botMb: number;
    try {
      botMb = await idleRss(set.replicas[0].child?.pid, seconds);
    } finally {
      await set.stop(5000);
    }
    const key = join(dir, 'lb-key');
    const keygen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    if (keygen.status !== 0) throw new Error(`ssh-keygen failed: ${keygen.stderr}`);
    const withHost = await startReplicas({
      count: 1,
      slack,
      dir: join(dir, 'with-host'),
      config: {
        slack: { channels: [CHANNEL] },
        runbooks: join(REPO, 'runbooks'),
        store: { path: join(dir, 'with-host.db') },
        hosts: [
          {
            name: 'lb-1',
            match: { instance: ['lb-1:9101'] },
            // never connected to while idle: only its key is read and checked at start
            ssh: { host: '192.0.2.10', user: 'ops', privateKeyPath: key, hostKey: HOST_KEY },
          },
        ],
      },
      env: { LOG_LEVEL: 'warn' },
    });
    let withHostMb: number;
    try {
      withHostMb = await idleRss(withHost.replicas[0].child?.pid, seconds);
    } finally {
      await withHost.stop(5000);
    }
    const ratio = (mb: number) => Math.round((mb / bareMb) * 100) / 100;
    return {
      node: process.version,
      bare_bolt_rss_mb: bareMb,
      bot_node_flags: flags.join(' ') || '(none)',
      bare_bolt_with_those_flags_rss_mb: bareFlaggedMb,
      bot_rss_mb: botMb,
      ratio: ratio(botMb),
      bot_with_one_host_rss_mb: withHostMb,
      ratio_with_one_host: ratio(withHostMb),
    };
  } finally {
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
