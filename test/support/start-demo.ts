/**
 * The demo (`npm run demo`, scripts/demo.ts) as one function, so the browser test drives exactly what a person
 * runs: the loopback test hosts (started when installed), the Slack stand-in with the demo page on a fixed port, the
 * REAL bot (createApp) with a generated config pointing at the test hosts, and a HaproxyServerDown alert posted as
 * Alertmanager posts it with its default template.
 *
 *   const demo = await startDemo({ port: 3100 });
 *   console.log(demo.url);
 *   …
 *   await demo.stop(); // bot, stand-in, and the test hosts if this demo started them
 */

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { createApp, type Pilot } from '../../src/app';
import { parseConfigText, type Settings } from '../../src/config/load-config';
import type { HostConfig } from '../../src/config/schema';
import { createLogger } from '../../src/logger';
import { DEMO_USERS, type DemoPage, type HostsStatus, mountDemoPage } from './demo-page/mount-demo-page';
import { type SlackMessage, SlackStandIn } from './slack-standin';
import { hostsScript, loadTestHosts, type TestHosts, testHostConfig, testHostsUnavailable } from './test-hosts';

/** The demo's incident channel. */
export const DEMO_CHANNEL = 'C0DEMOINC1';
/** The port of the page (and of the stand-in's Web API) unless told otherwise. */
export const DEFAULT_DEMO_PORT = 3100;
/** What a person runs to install the test hosts' programs. */
export const HOSTS_INSTALL_COMMAND = 'sudo bash test/support/hosts.sh install';

const REPO = join(__dirname, '..', '..');
/** The captured message Alertmanager's Slack integration posts with its default template (instance 127.0.0.1:9101). */
const ALERT_FIXTURE = join(REPO, 'test', 'fixtures', 'slack', 'single.slack-default.firing.event.json');
/** Only the stand-in signs requests to the bot, so a fixed secret is fine; it never leaves this machine. */
const SIGNING_SECRET = 'runbook-pilot-demo-signing-secret-0123456789';

export interface DemoOptions {
  /** The page's port (DEFAULT_DEMO_PORT); 0 picks a free one (tests). */
  port?: number;
  /** Post the HaproxyServerDown alert once everything runs (default true). */
  postAlert?: boolean;
  /** Use the loopback test hosts, starting them when installed and not running (default true). */
  useHosts?: boolean;
  /** pino level of the bot's log, written to stderr (default `warn`: a demo's terminal stays quiet). */
  logLevel?: string;
  /** Empty the test hosts' HAProxy log first (`npm run demo`: each run starts with an empty log). */
  freshLog?: boolean;
  /** The runbook folder (default the repo's `runbooks/`). */
  runbooksDir?: string;
  /** Config keys merged over the demo's (top-level keys replaced), for tests. */
  config?: Record<string, unknown>;
}

export interface Demo {
  /** The page's address. */
  url: string;
  slack: SlackStandIn;
  page: DemoPage;
  pilot: Pilot;
  settings: Settings;
  /** The running test hosts, or null when they are not installed (or `useHosts` was false). */
  hosts: TestHosts | null;
  hostsStatus: HostsStatus;
  /** True when this demo started the test hosts (and so stops them). */
  startedHosts: boolean;
  /** The ts of the alert posted at start, when one was. */
  alertTs?: string;
  /** Posts the captured Alertmanager message again (a new alert thread) and returns its ts. */
  postAlert(): Promise<string>;
  /** Stops the bot, the stand-in and the test hosts if this demo started them; removes the temporary store. */
  stop(): Promise<void>;
}

/** Starts the demo; on a failure midway, stops what it had started and rethrows. */
export async function startDemo(opts: DemoOptions = {}): Promise<Demo> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    // Newest first: the bot before the stand-in it talks to, the hosts last.
    for (const cleanup of cleanups.splice(0).reverse()) {
      await Promise.resolve()
        .then(cleanup)
        .catch((err: unknown) =>
          process.stderr.write(`demo: could not stop cleanly: ${err instanceof Error ? err.message : String(err)}\n`),
        );
    }
  };
  try {
    const {
      hosts,
      status: hostsStatus,
      startedHere,
    } = opts.useHosts === false ? noHosts() : prepareHosts(opts.freshLog === true);
    if (startedHere) cleanups.push(() => stopHosts());

    const dir = mkdtempSync(join(tmpdir(), 'runbook-pilot-demo-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

    const slack = new SlackStandIn({ channels: { [DEMO_CHANNEL]: 'incidents' } });
    const { apiUrl } = await slack.start({ port: opts.port ?? DEFAULT_DEMO_PORT }).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new Error(
          `port ${opts.port ?? DEFAULT_DEMO_PORT} is in use (another demo running?): stop it or set DEMO_PORT to a free port`,
        );
      }
      throw err;
    });
    cleanups.push(() => slack.stop());

    const settings = demoSettings({ slack, apiUrl, dir, hosts: hosts ? [testHostConfig(hosts)] : [], opts });
    const pilot = await createApp({
      settings,
      logger: createLogger(settings.env.logLevel, pino.destination({ fd: 2, sync: true })),
    });
    cleanups.push(() => pilot.stop());
    const botPort = await pilot.start();
    slack.configureBot({ url: `http://127.0.0.1:${botPort}/slack/events`, signingSecret: SIGNING_SECRET });

    const page = mountDemoPage(slack, {
      channel: DEMO_CHANNEL,
      runbooks: () =>
        pilot.deps.runbooks.list().map((rb) => ({ alertname: rb.doc.alertname, labels: rb.binding?.labels })),
      hostsStatus: () => hostsStatus,
    });

    const postAlert = async (): Promise<string> => {
      const res = await slack.postAlertMessage(DEMO_CHANNEL, capturedAlertMessage());
      if (res.status !== 200) throw new Error(`the bot answered ${res.status} to the alert's message event`);
      return res.ts;
    };
    const alertTs = opts.postAlert === false ? undefined : await postAlert();

    return {
      url: page.url,
      slack,
      page,
      pilot,
      settings,
      hosts,
      hostsStatus,
      startedHosts: startedHere,
      alertTs,
      postAlert,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The captured Alertmanager message, without what Slack assigns on delivery (ts, channel). */
function capturedAlertMessage(): Partial<SlackMessage> {
  const event = JSON.parse(readFileSync(ALERT_FIXTURE, 'utf8')) as SlackMessage & {
    event_ts?: string;
    channel_type?: string;
  };
  const { ts: _ts, channel: _channel, event_ts: _eventTs, channel_type: _channelType, ...fields } = event;
  return fields;
}

function demoSettings(args: {
  slack: SlackStandIn;
  apiUrl: string;
  dir: string;
  hosts: HostConfig[];
  opts: DemoOptions;
}): Settings {
  const { slack, apiUrl, dir, hosts, opts } = args;
  const raw = {
    slack: { channels: [DEMO_CHANNEL] },
    // The demo fires alerts through Slack messages, not the webhook: a random token keeps POST /alertmanager closed.
    alertmanager: { token: randomBytes(16).toString('hex') },
    runbooks: resolve(opts.runbooksDir ?? join(REPO, 'runbooks')),
    // A fresh store each run: the demo always starts at incident #1.
    store: { path: join(dir, 'demo.db') },
    hosts,
    access: { mitigate: [DEMO_USERS[0].id] },
    // Short, so the check after a restart shows up while the person is still looking.
    mitigation: { verifyDelayMs: 300 },
    ...opts.config,
  };
  return {
    env: {
      botToken: slack.botToken,
      signingSecret: SIGNING_SECRET,
      socketMode: false,
      apiUrl,
      port: 0,
      configPath: 'demo-config.yml',
      logLevel: opts.logLevel ?? 'warn',
    },
    config: parseConfigText(stringify(raw), 'demo-config.yml'),
  };
}

function noHosts(): { hosts: null; status: HostsStatus; startedHere: false } {
  return {
    hosts: null,
    status: {
      ready: false,
      message: 'the demo runs without the test hosts: every step says the host is not configured',
    },
    startedHere: false,
  };
}

/** The test hosts, started when installed and not yet running; when they cannot run, what to do about it. */
function prepareHosts(freshLog: boolean): { hosts: TestHosts | null; status: HostsStatus; startedHere: boolean } {
  const reason = testHostsUnavailable();
  if (reason)
    return { hosts: null, startedHere: false, status: { ready: false, message: hostsMissingMessage(reason) } };
  const runningBefore = spawnSync('bash', [hostsScript, 'status'], { stdio: 'ignore' }).status === 0;
  try {
    // `npm run demo` starts with an empty HAProxy log, emptied before haproxy starts, so a tail shows this run's
    // lines (web2 going DOWN), not an earlier run's. Tests sharing the hosts keep theirs.
    if (freshLog) clearHostsLog();
    const hosts = loadTestHosts();
    if (!hosts) throw new Error(testHostsUnavailable() ?? 'unknown reason');
    return {
      hosts,
      startedHere: !runningBefore,
      status: {
        ready: true,
        message: `sshd 127.0.0.1:${hosts.ssh.port}, haproxy 127.0.0.1:${hosts.haproxy.frontendPort} (backend web: web1 up, web2 down): the host lb-test, alert instance 127.0.0.1:9101`,
      },
    };
  } catch (err) {
    // Installed but broken: the page says why instead of the demo refusing to start.
    if (!runningBefore) stopHosts();
    return {
      hosts: null,
      startedHere: false,
      status: {
        ready: false,
        message: `the test hosts did not start: ${err instanceof Error ? err.message : String(err)}`,
      },
    };
  }
}

/** What the page says when the test hosts cannot run: the reason and the one thing to do about it. */
export function hostsMissingMessage(reason: string): string {
  const fix = /not installed/.test(reason)
    ? `Install them (Debian/Ubuntu) with:\n  ${HOSTS_INSTALL_COMMAND}\nthen restart the demo.`
    : 'Run the demo as root or as a user with passwordless sudo.';
  return `${reason.replace(/ \(run [^)]*\)$/, '')}.\n${fix}\nUntil then the bot answers every step with "host not configured".`;
}

function clearHostsLog(): void {
  const res = spawnSync('bash', [hostsScript, 'clear-log'], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 60_000,
  });
  if (res.status !== 0)
    throw new Error(
      `test/support/hosts.sh clear-log failed: ${res.stderr?.trim() || res.error?.message || `exit ${res.status}`}`,
    );
}

function stopHosts(): void {
  const res = spawnSync('bash', [hostsScript, 'stop'], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 60_000,
  });
  if (res.status !== 0)
    throw new Error(
      `test/support/hosts.sh stop failed: ${res.stderr?.trim() || res.error?.message || `exit ${res.status}`}`,
    );
}
