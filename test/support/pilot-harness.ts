/**
 * Starts the real bot (createApp) against the local Slack stand-in, with a temporary store and config. End-to-end
 * tests drive it the way Slack would and assert on what the stand-in received.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createApp, type Pilot } from '../../src/app';
import { parseConfigText, type Settings } from '../../src/config/load-config';
import type { HostConfig } from '../../src/config/schema';
import type { Executor } from '../../src/exec/types';
import { createLogger } from '../../src/logger';
import type { RecordedCall, SlackMessage } from './slack-standin';
import { SlackStandIn } from './slack-standin';

export const CHANNEL = 'C0123ALERTS';
export const ONCALL = 'U0ONCALL01';
export const INTERN = 'U0INTERN01';
export const SRE_GROUP = 'S0123SRE';
export const SIGNING_SECRET = 'e2e-signing-secret-0123456789abcdef';
/** The webhook's bearer token in every harness config (the webhook is closed by default; see h.webhook). */
export const AM_TOKEN = 'e2e-alertmanager-token-0123456789';
/** The user who sends the barriers' markers (no test clicks as this user, so no per-user limit or audit is shared). */
export const BARRIER_USER = 'U0BARRIER1';
const REPO = join(__dirname, '..', '..');

export interface HarnessOptions {
  hosts?: HostConfig[];
  /** Extra config merged over the defaults (top-level keys replaced). */
  config?: Record<string, unknown>;
  /** Reuse an existing stand-in and store folder (to restart the bot). */
  slack?: SlackStandIn;
  dir?: string;
  /** An executor instead of the SSH pool (a recording fake, say). */
  executor?: Executor;
  /** Start the bot in Socket Mode: deliveries then go over the stand-in's WebSocket instead of signed HTTP. */
  socketMode?: boolean;
  /** The app-level token the bot uses in Socket Mode (default: the one the stand-in accepts). */
  appToken?: string;
  /** The bot's HTTP port (default: a free one). */
  port?: number;
  /** METRICS_PORT (0: a free one): /metrics on its own port, see h.pilot.metricsPort(). */
  metricsPort?: number;
  /** The bot's clock (a fake one moves time on without waiting for it); default the real one. */
  now?: () => Date;
}

export interface Harness {
  slack: SlackStandIn;
  pilot: Pilot;
  url: string;
  dir: string;
  settings: Settings;
  /** Delivers a captured Alertmanager message event (file under test/fixtures/slack) and returns its ts. */
  postFixture(name: string, overrides?: Partial<SlackMessage>): Promise<string>;
  /** Waits for the bot's incident message in a thread and returns it. */
  incidentMessage(threadTs: string): Promise<SlackMessage>;
  /** Clicks a button of the incident message. */
  click(threadTs: string, actionId: string, user?: string, value?: string): ReturnType<SlackStandIn['clickButton']>;
  /** The thread's messages as text (blocks flattened), for assertions. */
  threadText(threadTs: string): string;
  /** POSTs a body (an object is sent as JSON) to /alertmanager with the harness's bearer token, as Alertmanager would. */
  webhook(body: unknown, headers?: Record<string, string>): Promise<Response>;
  /**
   * Barrier after a click, a view or a command ("nothing happened" checks): `/incident help` from BARRIER_USER, through
   * the same endpoint and listeners, answered by its usage text on its response_url. Resolves with that answer.
   */
  commandBarrier(): Promise<RecordedCall>;
  /**
   * Barrier after an alert message: a marker alert (a server label of its own, so an incident of its own) posted in
   * the channel by the alert sender, through the same message listener and alert flow; resolves, with the marker's
   * thread ts, once the bot posted the marker's incident message. Leave the markers out with `isMarker`.
   */
  alertBarrier(): Promise<string>;
  /** Whether a call or an incident belongs to a barrier's marker (its answer; its alert's thread, message, incident). */
  isMarker(item: RecordedCall | { threadTs?: string | null }): boolean;
  /**
   * Barrier after webhook deliveries: resolves once every alert the bot accepted (202) has been handled, posts
   * included (its intake queue, waiting and running, is empty: runbook_pilot_alerts_queued 0). A request answered 202
   * or 4xx has been taken or refused already, so nothing of it is left to happen.
   */
  webhookDrained(timeoutMs?: number): Promise<void>;
  /** Stops the bot only (the stand-in and the store file stay). */
  stopBot(): Promise<void>;
  stop(): Promise<void>;
}

/** Loads a Slack fixture event. */
export function slackFixture(name: string): SlackMessage {
  return JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'slack', name), 'utf8')) as SlackMessage;
}

/** Starts the stand-in (unless given) and the bot. */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const slack =
    opts.slack ?? new SlackStandIn({ channels: { [CHANNEL]: 'incidents' }, usergroups: { [SRE_GROUP]: [ONCALL] } });
  const apiUrl = opts.slack ? slack.apiUrl : (await slack.start()).apiUrl;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'rbp-e2e-'));
  const raw = {
    // Tests post faster than Slack allows; the pace itself is tested in the storm benchmark.
    slack: { channels: [CHANNEL], stillFiringIntervalSec: 600, postsPerSecond: 50, postBurst: 50 },
    runbooks: join(REPO, 'runbooks'),
    store: { path: join(dir, 'pilot.db') },
    hosts: opts.hosts ?? [],
    access: { mitigate: [SRE_GROUP] },
    mitigation: { verifyDelayMs: 300, cooldownSec: 300, maxRestartsPerHour: 3 },
    // Tests written before triage (#22) count the commands and replies of their own clicks: triage is opt-in here.
    triage: { enabled: false },
    ...opts.config,
    // The webhook is closed unless a test opens it explicitly (alertmanager: { token: '', allowUnauthenticated: true }).
    alertmanager: { token: AM_TOKEN, ...(opts.config?.alertmanager as Record<string, unknown> | undefined) },
  };
  const config = parseConfigText(stringify(raw), 'e2e-config.yml');
  const settings: Settings = {
    env: {
      botToken: slack.botToken,
      signingSecret: SIGNING_SECRET,
      socketMode: opts.socketMode ?? false,
      ...(opts.socketMode ? { appToken: opts.appToken ?? slack.appToken } : {}),
      apiUrl,
      port: opts.port ?? 0,
      ...(opts.metricsPort !== undefined ? { metricsPort: opts.metricsPort } : {}),
      configPath: 'e2e-config.yml',
      logLevel: process.env.LOG_LEVEL ?? 'silent',
    },
    config,
  };
  let pilot: Pilot | undefined;
  let port: number;
  try {
    pilot = await createApp({
      settings,
      logger: createLogger(settings.env.logLevel),
      ...(opts.executor ? { executor: opts.executor } : {}),
      ...(opts.now ? { now: opts.now } : {}),
    });
    port = await pilot.start();
  } catch (err) {
    // A start that fails (an open webhook, a refused app token, say) leaves nothing behind: store closed, stand-in
    // and folder gone.
    await pilot?.stop().catch(() => undefined);
    if (!opts.slack) await slack.stop();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const started: Pilot = pilot;
  const url = `http://127.0.0.1:${port}`;
  slack.useSocketMode(opts.socketMode ?? false);
  slack.configureBot({ url: `${url}/slack/events`, signingSecret: SIGNING_SECRET });

  let markers = 0;
  const markerThreads = new Set<string>();
  const commandAnswers = new Set<RecordedCall>();
  const harness: Harness = {
    slack,
    pilot: started,
    url,
    dir,
    settings,
    async postFixture(name, overrides = {}) {
      const event = slackFixture(name);
      const { ts: _ts, channel: _c, event_ts: _e, ...fields } = event as SlackMessage & { event_ts?: string };
      const res = await slack.postAlertMessage(CHANNEL, { ...fields, ...overrides });
      if (res.status !== 200) throw new Error(`the bot answered ${res.status} to the alert event`);
      return res.ts;
    },
    async incidentMessage(threadTs) {
      const call = await slack.waitFor(
        'chat.postMessage',
        (c) => c.args.thread_ts === threadTs && JSON.stringify(c.args.blocks ?? '').includes('step.'),
        5000,
      );
      const ts = (call.response as { ts: string }).ts;
      return slack.message(CHANNEL, ts) as SlackMessage;
    },
    async click(threadTs, actionId, user = ONCALL, value) {
      const msg = await harness.incidentMessage(threadTs);
      return slack.clickButton({
        user,
        channel: CHANNEL,
        messageTs: msg.ts,
        actionId,
        ...(value !== undefined ? { value } : {}),
      });
    },
    threadText(threadTs) {
      return slack
        .thread(CHANNEL, threadTs)
        .map((m) => `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}`)
        .join('\n----\n');
    },
    webhook(body, headers = {}) {
      return fetch(`${url}/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${AM_TOKEN}`, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async commandBarrier() {
      const answer = await slack.barrier(
        () => slack.slashCommand({ command: '/incident', text: 'help', userId: BARRIER_USER, channelId: CHANNEL }),
        (c) => c.method === 'response_url' && /`help`/.test(String(c.args.text ?? '')),
      );
      commandAnswers.add(answer);
      return answer;
    },
    async alertBarrier() {
      const server = `marker${++markers}`;
      let ts = '';
      await slack.barrier(
        async () => {
          // Alertmanager's default message, as the tests' alerts come, for a server of its own.
          const {
            ts: _ts,
            channel: _c,
            event_ts: _e,
            ...fields
          } = JSON.parse(
            JSON.stringify(slackFixture('single.slack-default.firing.event.json')).replaceAll('web2', server),
          ) as SlackMessage & { event_ts?: string };
          ts = (await slack.postAlertMessage(CHANNEL, fields)).ts;
          markerThreads.add(ts);
        },
        (c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts,
        10_000,
      );
      return ts;
    },
    isMarker(item) {
      if ('method' in item) {
        if (commandAnswers.has(item)) return true;
        // The marker's thread, and the bot's messages in it (chat.update names the message, not its thread).
        const ours = new Set(markerThreads);
        for (const c of slack.calls('chat.postMessage'))
          if (markerThreads.has(String(c.args.thread_ts)) && typeof c.response?.ts === 'string')
            ours.add(c.response.ts);
        const a = item.args;
        return [a.thread_ts, a.ts, a.timestamp].some((t) => typeof t === 'string' && ours.has(t));
      }
      return typeof item.threadTs === 'string' && markerThreads.has(item.threadTs);
    },
    async webhookDrained(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = await started.metrics.registry.getSingleMetricAsString('runbook_pilot_alerts_queued');
        if (/^runbook_pilot_alerts_queued 0$/m.test(text)) return;
        if (Date.now() > deadline)
          throw new Error(`the bot still holds webhook alerts after ${timeoutMs} ms:\n${text}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stopBot() {
      await started.stop();
    },
    async stop() {
      await started.stop().catch(() => undefined);
      // Bolt's own auth.test (token verification) may still be on its way: answered here rather than retried against
      // a stopped stand-in and rejected unhandled after the test (which fails the whole jest run).
      if (!opts.slack) await slack.waitFor('auth.test', () => true, 3000).catch(() => undefined);
      if (!opts.slack) await slack.stop();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
