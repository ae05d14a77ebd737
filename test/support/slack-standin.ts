/**
 * A small local Slack for tests: an HTTP server that answers the Web API methods the bot calls (point the bot's real
 * @slack/web-api client at `apiUrl` with `slackApiUrl`), records every call, keeps a model of the channels, and
 * delivers events, button clicks, view submissions and slash commands to the bot's real HTTP endpoint, signed exactly
 * as Slack signs them. Tests assert on what the stand-in received.
 *
 *   const slack = new SlackStandIn({ channels: { C0123ALERTS: 'alerts' } });
 *   const { apiUrl } = await slack.start();                    // before the Bolt App: it calls auth.test at once
 *   const app = new App({ signingSecret, token: slack.botToken, clientOptions: { slackApiUrl: apiUrl } });
 *   slack.configureBot({ url: 'http://127.0.0.1:<port>/slack/events', signingSecret });
 *   const alert = await slack.postAlertMessage('C0123ALERTS', { text: '[FIRING:1] HaproxyServerDown' });
 *   const post = await slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === alert.ts);
 *   await slack.clickButton({ user: 'U0ALICE001', channel: 'C0123ALERTS', messageTs: post.response!.ts as string, actionId: '…' });
 *   slack.thread('C0123ALERTS', alert.ts);                     // parent + replies, current blocks
 *
 * Socket Mode: the bot's SocketModeClient calls apps.connections.open with `slack.appToken` (Authorization header)
 * at `apiUrl`, gets a `ws://` URL on this same server, and receives `hello`. After `slack.useSocketMode()`, sendEvent,
 * postAlertMessage, clickButton, submitView and slashCommand send the same payloads as Socket Mode envelopes on that
 * connection instead of signed HTTP, and resolve when the bot acks the envelope_id (`ackMs` measures it).
 */

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LoadBalancer } from './load-balancer';
import { ChannelModel, type EphemeralMessage } from './slack/channel-model';
import { parseApiRequest, readMultipart } from './slack/parse-api-request';
import { signSlackRequest } from './slack/sign-slack-request';
import {
  buildBlockActions,
  buildEventEnvelope,
  buildMessageEvent,
  buildSlashCommand,
  buildUrlVerification,
  buildViewSubmission,
  findAction,
  type PayloadUser,
  payloadUser,
  type SlackElement,
  type SlackMessage,
  type SlackView,
  slackId,
  triggerId,
  type ViewStateValues,
  type Workspace,
} from './slack/slack-payloads';
import { type DisconnectReason, type SocketEnvelopeType, SocketModeLink } from './slack/socket-mode-link';
import {
  ApiError,
  type MethodContext,
  type SlackUserRecord,
  type UploadedFile,
  webApiMethods,
} from './slack/web-api-methods';

export type { EphemeralMessage } from './slack/channel-model';
export { signSlackRequest } from './slack/sign-slack-request';
export type { PayloadUser, SlackMessage, SlackView, ViewStateValues, Workspace } from './slack/slack-payloads';
export type { DisconnectReason } from './slack/socket-mode-link';
export type { SlackUserRecord, UploadedFile } from './slack/web-api-methods';

/** An ephemeral this soon after a user's click (ms) answers that click (Slack's 3 s ack, plus the work after it). */
const CLICK_ANSWER_MS = 30_000;

/** A fault to inject into the next call of a method. */
export type Fault = { status: 429; retryAfterSec: number } | { status: 500 } | { hang: true } | { error: string };

/** One request the stand-in received: a Web API call, an upload, or a POST to a response_url. */
export interface RecordedCall {
  /** The Web API method, `files.upload` for the upload POST, or `response_url`. */
  method: string;
  /** Parsed arguments (the token removed); object arguments decoded from their JSON strings. */
  args: Record<string, unknown>;
  /** When it arrived (ms since epoch). */
  at: number;
  /** When it arrived, as performance.now() in this process: for benchmarks that time phases against it. */
  t: number;
  /** The HTTP status answered (0 while a hang fault holds the request). */
  status: number;
  /** The JSON body answered, if any. */
  response?: Record<string, unknown>;
  fault?: Fault;
}

/** What the bot's endpoint answered to a delivery, and how long it took to ack. */
export interface Delivery {
  status: number;
  /** The bot endpoint that answered (behind the load balancer of `configureBot({ urls })`: the replica it chose). */
  url?: string;
  /** Deliveries Slack made in all: 1, or more when it retried an event (`configureBot({ eventRetries })`). */
  attempts?: number;
  /** The response body, parsed as JSON when it is JSON, else the text ('' for none). */
  body: unknown;
  /** Milliseconds from sending the request to receiving the response headers (over the socket: to the ack). */
  ackMs: number;
  /** The Socket Mode envelope_id, when delivered over the socket. */
  envelopeId?: string;
}

/**
 * Options shared by all deliveries, to send what Slack would not (forged, replayed) or what it sends on retries. The
 * signature options apply to HTTP only: a Socket Mode connection is authenticated once, when it opens.
 */
export interface DeliveryOptions {
  /** Added to the current time for X-Slack-Request-Timestamp (−400 makes a request older than five minutes). */
  timestampSkewSec?: number;
  /** Sent as X-Slack-Signature instead of the real signature. */
  signatureOverride?: string;
  /** Sign with this secret instead of the configured one. */
  signingSecretOverride?: string;
}

export interface EventOptions extends DeliveryOptions {
  /** Reuse an event_id (Slack keeps it on retries). */
  eventId?: string;
  retryNum?: number;
  /** e.g. `http_timeout`, `http_error`, `too_many_requests`. */
  retryReason?: string;
}

export interface SlackStandInOptions {
  /** The bot token the API accepts; any other token answers `invalid_auth`. */
  botToken?: string;
  /** The app-level token apps.connections.open accepts (Socket Mode). */
  appToken?: string;
  workspace?: Partial<Workspace>;
  /** Channel id → name. Any well-formed C…/G… id is otherwise accepted and named after itself. */
  channels?: Record<string, string>;
  /** Users that users.info knows by name; other U…/W… ids get a generated user. */
  users?: SlackUserRecord[];
  /** User group id → member user ids, for usergroups.users.list. */
  usergroups?: Record<string, string[]>;
  /** How long a trigger_id stays valid for views.open (Slack: 3 seconds). */
  triggerTtlMs?: number;
}

/** The default identity; ids follow Slack's formats so the bot's validators accept them. */
export const DEFAULT_WORKSPACE: Workspace = {
  teamId: 'T0RUNBOOK1',
  teamDomain: 'runbook-pilot-test',
  appId: 'A0RUNBOOK1',
  botUserId: 'U0PILOTBOT',
  botId: 'B0PILOTBOT',
  verificationToken: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
};

/** The integration that posts alerts in tests unless told otherwise (an Alertmanager incoming webhook). */
export const ALERTMANAGER_BOT = { botId: 'B0ALERTMGR', username: 'alertmanager', appId: 'A0ALERTMGR' };

const FORM = 'application/x-www-form-urlencoded';

/**
 * Serves a path the stand-in itself does not (a demo page, say): called with the request and its body for anything
 * outside `/api/`, `/upload/v1/` and the response_url paths; answers and returns true, or returns false to pass.
 */
export type StandInHttpHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  request: { url: URL; body: Buffer },
) => boolean | Promise<boolean>;

/** A local Slack: Web API server, request recorder, channel model and signed delivery to the bot. */
export class SlackStandIn {
  readonly workspace: Workspace;
  readonly botToken: string;
  readonly appToken: string;
  readonly model = new ChannelModel();

  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private baseUrlValue = '';
  private recorded: RecordedCall[] = [];
  private waiters: { predicate: (c: RecordedCall) => boolean; resolve: (c: RecordedCall) => void }[] = [];
  private faults = new Map<string, Fault[]>();
  private bot?: BotEndpoint;
  /** In front of the replicas, when `configureBot({ urls })` names several. */
  private balancer?: LoadBalancer;
  private lastTsMicros = 0n;
  private readonly channels: Map<string, string>;
  private readonly ctx: MethodContext;
  /** The message each user last clicked in each channel, and when: an ephemeral answer is shown next to it. */
  private readonly lastClicks = new Map<string, { ts: string; at: number }>();
  /** response_url id → where a message-type response should land. */
  private readonly responseTargets = new Map<
    string,
    { channel: string; user: string; messageTs?: string; threadTs?: string }
  >();
  private readonly httpHandlers: StandInHttpHandler[] = [];
  private readonly socketLink: SocketModeLink;
  private socketMode = false;

  constructor(opts: SlackStandInOptions = {}) {
    this.workspace = { ...DEFAULT_WORKSPACE, ...opts.workspace };
    this.botToken = opts.botToken ?? 'xoxb-1111111111-2222222222-standinTokenForTests';
    this.appToken = opts.appToken ?? 'xapp-1-A0RUNBOOK1-3333333333-standinAppLevelTokenForTests';
    this.socketLink = new SocketModeLink({ appId: this.workspace.appId });
    this.channels = new Map(Object.entries(opts.channels ?? {}));
    const users = new Map((opts.users ?? []).map((u) => [u.id, u]));
    const channelName = (id: string) =>
      this.channels.get(id) ?? (/^[CG][A-Z0-9]{2,}$/.test(id) ? id.toLowerCase() : undefined);
    this.ctx = {
      workspace: this.workspace,
      model: this.model,
      baseUrl: '',
      nextTs: () => this.nextTs(),
      channelName,
      users,
      usergroups: new Map(Object.entries(opts.usergroups ?? {})),
      views: new Map(),
      triggers: new Map(),
      triggerTtlMs: opts.triggerTtlMs ?? 3000,
      pendingUploads: new Map(),
      files: [],
      clickedBefore: (user, channel) => {
        const click = this.lastClicks.get(`${user}:${channel}`);
        return click && Date.now() - click.at < CLICK_ANSWER_MS ? click.ts : undefined;
      },
    };
  }

  /**
   * Starts listening on 127.0.0.1, on a free port unless `port` is given (a demo wants an address that stays the
   * same between runs). `apiUrl` ends with `/api/`, ready for WebClient's `slackApiUrl`.
   */
  async start(opts: { port?: number } = {}): Promise<{ apiUrl: string; baseUrl: string }> {
    if (this.server) throw new Error('SlackStandIn already started');
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.baseUrlValue = `http://127.0.0.1:${port}`;
    this.ctx.baseUrl = this.baseUrlValue;
    this.socketLink.attach(server, this.baseUrlValue);
    return { apiUrl: this.apiUrl, baseUrl: this.baseUrlValue };
  }

  /** Stops the server, ending held (hanging) requests and open connections. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.socketLink.close();
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get apiUrl(): string {
    return `${this.baseUrlValue}/api/`;
  }

  get baseUrl(): string {
    return this.baseUrlValue;
  }

  // ---------------------------------------------------------------- recording

  /** Every recorded call, or only those of one method, in arrival order. */
  calls(method?: string): RecordedCall[] {
    return method ? this.recorded.filter((c) => c.method === method) : [...this.recorded];
  }

  /**
   * Resolves with the first recorded call of `method` that matches `predicate`, looking at calls already received
   * first, then waiting; rejects after `timeoutMs` with what did arrive.
   */
  waitFor(
    method: string,
    predicate: (call: RecordedCall) => boolean = () => true,
    timeoutMs = 2000,
  ): Promise<RecordedCall> {
    // '*': any method (a predicate that looks at the model rather than the call).
    const any = method === '*';
    return this.waitForCall((c) => (any || c.method === method) && predicate(c), {
      timeoutMs,
      ...(any ? { describe: 'matching' } : { method }),
    });
  }

  /** A mark in the record: the number of calls received so far (for `callsSince` and `waitForCall`). */
  mark(): number {
    return this.recorded.length;
  }

  /** The calls received from `mark` on (of one method, if given), in arrival order. */
  callsSince(mark: number, method?: string): RecordedCall[] {
    return this.recorded.slice(mark).filter((c) => !method || c.method === method);
  }

  /**
   * Resolves with the first call from `since` on (default: all) that matches, as soon as it is recorded (no polling);
   * rejects after `timeoutMs` with the calls that did arrive.
   */
  waitForCall(
    predicate: (call: RecordedCall) => boolean,
    opts: { since?: number; timeoutMs?: number; method?: string; describe?: string } = {},
  ): Promise<RecordedCall> {
    const { since = 0, timeoutMs = 2000, method } = opts;
    const describe = opts.describe ?? (method ? `matching ${method}` : 'matching');
    const already = this.recorded.slice(since).find(predicate);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (c: RecordedCall) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.callsSince(since, method).map((c) => (method ? '' : `${c.method} `) + JSON.stringify(c.args));
        reject(
          new Error(
            `SlackStandIn: no ${describe} call within ${timeoutMs} ms; received ${seen.length}:\n  ${seen.join('\n  ')}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /**
   * Waits until a reply in the thread satisfies `predicate` and returns it as it is then: a reply posted once and
   * edited after (a step's, a mitigation's) is found whether the awaited content came with the post or an edit.
   * Re-checked after every call the stand-in answers.
   */
  async waitForReply(
    channel: string,
    threadTs: string,
    predicate: (m: SlackMessage) => boolean,
    timeoutMs = 2000,
  ): Promise<SlackMessage> {
    const find = () => this.thread(channel, threadTs).find((m) => m.ts !== threadTs && predicate(m));
    const found = find();
    if (found) return found;
    try {
      await this.waitFor('*', () => find() !== undefined, timeoutMs);
    } catch {
      const seen = this.thread(channel, threadTs)
        .map((m) => JSON.stringify(m.text))
        .join('\n  ');
      throw new Error(
        `SlackStandIn: no matching reply in ${channel}/${threadTs} within ${timeoutMs} ms; the thread:\n  ${seen}`,
      );
    }
    return find() as SlackMessage;
  }

  /**
   * The barrier of a "nothing happened" check. A fixed sleep passes when the unwanted call is merely late; instead
   * send a marker through the bot, the same way the checked delivery went (`send`), and wait for the bot's answer to
   * it (`answered`): the bot handled the earlier delivery first, so what it was going to send for it has been sent.
   * Then assert on the calls since a mark taken before the checked delivery. Resolves with the marker's answer.
   */
  async barrier(
    send: () => Promise<unknown>,
    answered: (call: RecordedCall) => boolean,
    timeoutMs = 5000,
  ): Promise<RecordedCall> {
    const since = this.mark();
    await send();
    return this.waitForCall(answered, { since, timeoutMs, describe: 'barrier answer' });
  }

  /** Forgets calls, faults, messages, views and files (the configuration stays). */
  reset(): void {
    this.recorded = [];
    this.faults.clear();
    this.model.clear();
    this.ctx.views.clear();
    this.ctx.triggers.clear();
    this.ctx.pendingUploads.clear();
    this.ctx.files.length = 0;
    this.responseTargets.clear();
  }

  /** Makes the next call(s) of `method` fail this way; `times` consecutive calls are hit (default 1). */
  failNext(method: string, fault: Fault, times = 1): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(method, queue);
  }

  // ---------------------------------------------------------------- model access

  /** The parent message and its replies in order, with their current content. */
  thread(channel: string, ts: string): SlackMessage[] {
    return this.model.thread(channel, ts);
  }

  /** The message at ts, as it is now. */
  message(channel: string, ts: string): SlackMessage | undefined {
    return this.model.get(channel, ts);
  }

  /** Ephemeral messages, optionally for one channel and user. */
  ephemerals(filter: { channel?: string; user?: string } = {}): EphemeralMessage[] {
    return this.model.ephemerals(filter);
  }

  /** Files completed with files.completeUploadExternal, with their bytes. */
  files(): UploadedFile[] {
    return [...this.ctx.files];
  }

  /** A modal as the bot last opened or updated it. */
  view(id: string): SlackView | undefined {
    return this.ctx.views.get(id);
  }

  /** Every modal the bot opened, as it is now, in the order they were opened. */
  views(): SlackView[] {
    return [...this.ctx.views.values()];
  }

  /** The channels given names (in the options or with setChannel), id → name. */
  channelNames(): Record<string, string> {
    return Object.fromEntries(this.channels);
  }

  /** The users users.info knows by name. */
  knownUsers(): SlackUserRecord[] {
    return [...this.ctx.users.values()];
  }

  /** Serves more paths on the stand-in's own server (see StandInHttpHandler); handlers are asked in the order added. */
  addHttpHandler(handler: StandInHttpHandler): void {
    this.httpHandlers.push(handler);
  }

  /** Sets (or replaces) the members of a user group. */
  setUsergroup(id: string, users: string[]): void {
    this.ctx.usergroups.set(id, users);
  }

  /** Adds or replaces a user users.info knows. */
  setUser(user: SlackUserRecord): void {
    this.ctx.users.set(user.id, user);
  }

  /** Names a channel. */
  setChannel(id: string, name: string): void {
    this.channels.set(id, name);
  }

  // ---------------------------------------------------------------- delivery to the bot

  /** Delivers events, clicks, submissions and commands as Socket Mode envelopes (true) or as signed HTTP (false). */
  useSocketMode(on = true): void {
    this.socketMode = on;
  }

  /** How many Socket Mode connections the bot has open. */
  socketConnections(): number {
    return this.socketLink.connections();
  }

  /** The load balancer in front of the replicas (`configureBot({ urls })`), for its counts. */
  get loadBalancer(): LoadBalancer | undefined {
    return this.balancer;
  }

  /** Sends Slack's `disconnect` message (`refresh_requested` every few hours, `link_disabled` when turned off). */
  requestSocketDisconnect(reason: DisconnectReason = 'refresh_requested'): void {
    this.socketLink.requestDisconnect(reason);
  }

  /**
   * Where deliveries go: the bot's Request URL (Bolt's HTTPReceiver: `/slack/events`) and its signing secret. With
   * `urls`, the Request URL is a load balancer in front of several replicas (see BotEndpoint); with `eventRetries`,
   * a failed event delivery is retried as Slack retries it.
   */
  configureBot(bot: BotEndpoint): void {
    this.bot = bot;
    this.balancer = bot.urls ? new LoadBalancer(bot.urls) : undefined;
  }

  /** Sends the url_verification challenge Slack sends when the Request URL is saved. */
  async sendUrlVerification(
    challenge = '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    opts: DeliveryOptions = {},
  ): Promise<Delivery> {
    return this.deliver(JSON.stringify(buildUrlVerification(this.workspace, challenge)), 'application/json', opts);
  }

  /** Delivers one event in an `event_callback` envelope; the envelope and event_id are returned with the answer. */
  async sendEvent(
    event: Record<string, unknown>,
    opts: EventOptions = {},
  ): Promise<Delivery & { eventId: string; envelope: unknown }> {
    const eventId = opts.eventId ?? slackId('Ev', 10);
    const envelope = buildEventEnvelope(this.workspace, event, { eventId, eventTime: Math.floor(Date.now() / 1000) });
    const headers: Record<string, string> = {};
    if (opts.retryNum !== undefined) headers['X-Slack-Retry-Num'] = String(opts.retryNum);
    if (opts.retryReason !== undefined) headers['X-Slack-Retry-Reason'] = opts.retryReason;
    if (this.socketMode) {
      const delivery = await this.deliverOverSocket('events_api', envelope, {
        retryAttempt: opts.retryNum,
        retryReason: opts.retryReason,
      });
      return { ...delivery, eventId, envelope };
    }
    const body = JSON.stringify(envelope);
    const delays = this.bot?.eventRetries?.delaysMs;
    if (!delays) return { ...(await this.deliver(body, 'application/json', opts, headers)), eventId, envelope };
    // Slack's retries: the same event_id and body, X-Slack-Retry-Num 1, 2, 3 and the reason of the last failure, after
    // a failure of any kind (no 2xx in 3 s, connection failed, non-2xx), unless the answer carried X-Slack-No-Retry.
    let attempt = 0;
    for (;;) {
      const delivery = await this.deliverWithin(body, opts, headers, EVENT_ACK_TIMEOUT_MS);
      const failure = eventFailure(delivery);
      if (!failure || delivery.noRetry || attempt >= delays.length)
        return { ...delivery, attempts: attempt + 1, eventId, envelope };
      await new Promise((r) => setTimeout(r, delays[attempt]));
      attempt++;
      headers['X-Slack-Retry-Num'] = String(attempt);
      headers['X-Slack-Retry-Reason'] = failure;
    }
  }

  /**
   * An integration (Alertmanager by default) posts a message in a channel: it is added to the channel model and its
   * `message` event is delivered. `fields` may be a real captured message event (text, attachments, blocks…).
   */
  async postAlertMessage(
    channel: string,
    fields: Partial<SlackMessage>,
    opts: EventOptions = {},
  ): Promise<Delivery & { ts: string; eventId: string; message: SlackMessage }> {
    const message: SlackMessage = {
      subtype: 'bot_message',
      bot_id: ALERTMANAGER_BOT.botId,
      username: ALERTMANAGER_BOT.username,
      app_id: ALERTMANAGER_BOT.appId,
      text: '',
      ...fields,
      type: 'message',
      channel,
      ts: this.nextTs(),
    };
    this.model.add(message);
    const delivery = await this.sendEvent(buildMessageEvent(message), opts);
    return { ...delivery, ts: message.ts, message };
  }

  /**
   * A user clicks a button on a message of the channel model (or picks `value` in a static_select on it: Slack sends
   * the chosen option as `selected_option`, and only an option the menu offers). The payload carries the message as it is now (its
   * current blocks); the button must exist on it, as in Slack, unless `message` is given explicitly.
   */
  async clickButton(
    args: {
      user: string | (Partial<PayloadUser> & { id: string });
      channel: string;
      messageTs: string;
      actionId: string;
      /** Defaults to the button's own value; give one to forge a click. */
      value?: string;
      blockId?: string;
      /** The message to put in the payload instead of the model's (e.g. a message the stand-in never saw). */
      message?: SlackMessage;
    },
    opts: DeliveryOptions = {},
  ): Promise<Delivery & { payload: ReturnType<typeof buildBlockActions>; triggerId: string }> {
    const message = args.message ?? this.model.get(args.channel, args.messageTs);
    if (!message) throw new Error(`SlackStandIn: no message ${args.messageTs} in ${args.channel} to click on`);
    this.lastClicks.set(`${typeof args.user === 'string' ? args.user : args.user.id}:${args.channel}`, {
      ts: args.messageTs,
      at: Date.now(),
    });
    const found = findAction(message.blocks, args.actionId);
    if (!found && !args.message) {
      const ids = (message.blocks ?? []).flatMap((b) => (b.elements ?? []).map((e) => e.action_id)).filter(Boolean);
      throw new Error(
        `SlackStandIn: message ${args.messageTs} has no element with action_id ${args.actionId} (has: ${ids.join(', ')})`,
      );
    }
    const user = payloadUser(this.workspace, args.user);
    const trigger = this.issueTrigger();
    const responseUrl = this.responseUrl('actions', {
      channel: args.channel,
      user: user.id,
      messageTs: message.ts,
      threadTs: message.thread_ts,
    });
    const element = found?.element;
    const blockId = args.blockId ?? found?.blockId ?? '';
    const payload = buildBlockActions(this.workspace, {
      user,
      channel: { id: args.channel, name: this.ctx.channelName(args.channel) ?? args.channel.toLowerCase() },
      message,
      action:
        element?.type === 'static_select'
          ? selectAction(args.actionId, blockId, element, args.value)
          : {
              action_id: args.actionId,
              block_id: blockId,
              text: element?.text ?? { type: 'plain_text', text: args.actionId, emoji: true },
              ...((args.value ?? element?.value) !== undefined ? { value: args.value ?? element?.value } : {}),
              ...(element?.style ? { style: element.style } : {}),
              type: element?.type ?? 'button',
            },
      triggerId: trigger,
      responseUrl,
      actionTs: this.nowTs(),
    });
    const delivery = this.socketMode
      ? await this.deliverOverSocket('interactive', payload)
      : await this.deliverForm({ payload: JSON.stringify(payload) }, opts);
    return { ...delivery, payload, triggerId: trigger };
  }

  /**
   * A user clicks a button inside an open modal (a view the bot opened or pushed): a block_actions payload whose
   * container is the view, carrying the view itself (its private_metadata), as Slack sends it.
   */
  async clickInView(
    args: { user: string | (Partial<PayloadUser> & { id: string }); viewId: string; actionId: string },
    opts: DeliveryOptions = {},
  ): Promise<Delivery & { triggerId: string }> {
    const view = this.ctx.views.get(args.viewId);
    if (!view) throw new Error(`SlackStandIn: no view ${args.viewId} was opened`);
    const found = findAction(view.blocks, args.actionId);
    if (!found) throw new Error(`SlackStandIn: view ${args.viewId} has no element with action_id ${args.actionId}`);
    const trigger = this.issueTrigger();
    const payload = {
      type: 'block_actions' as const,
      user: payloadUser(this.workspace, args.user),
      api_app_id: this.workspace.appId,
      token: this.workspace.verificationToken,
      container: { type: 'view', view_id: view.id },
      trigger_id: trigger,
      team: { id: this.workspace.teamId, domain: this.workspace.teamDomain },
      enterprise: null,
      is_enterprise_install: false,
      view,
      actions: [
        {
          action_id: args.actionId,
          block_id: found.blockId,
          text: found.element.text,
          ...(found.element.value !== undefined ? { value: found.element.value } : {}),
          type: found.element.type,
          action_ts: this.nowTs(),
        },
      ],
    };
    const delivery = this.socketMode
      ? await this.deliverOverSocket('interactive', payload)
      : await this.deliverForm({ payload: JSON.stringify(payload) }, opts);
    return { ...delivery, triggerId: trigger };
  }

  /**
   * A user submits a modal. With `viewId` the view is the one the bot opened (views.open / views.update); `values`
   * is `view.state.values` as Slack sends it: block_id → action_id → `{ type, value }`.
   */
  async submitView(
    args: {
      user: string | (Partial<PayloadUser> & { id: string });
      values: ViewStateValues;
      viewId?: string;
      view?: Partial<SlackView>;
    },
    opts: DeliveryOptions = {},
  ): Promise<Delivery & { payload: ReturnType<typeof buildViewSubmission> }> {
    const opened = args.viewId ? this.ctx.views.get(args.viewId) : undefined;
    if (args.viewId && !opened) throw new Error(`SlackStandIn: no view ${args.viewId} was opened`);
    const id = opened?.id ?? args.view?.id ?? slackId('V');
    const base: SlackView = opened ?? {
      id,
      team_id: this.workspace.teamId,
      type: 'modal',
      blocks: [],
      private_metadata: '',
      callback_id: '',
      state: { values: {} },
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      title: { type: 'plain_text', text: 'Modal' },
      close: null,
      submit: { type: 'plain_text', text: 'Submit' },
      clear_on_close: false,
      notify_on_close: false,
      previous_view_id: null,
      root_view_id: id,
      app_id: this.workspace.appId,
      external_id: '',
      app_installed_team_id: this.workspace.teamId,
      bot_id: this.workspace.botId,
    };
    const payload = buildViewSubmission(this.workspace, {
      user: payloadUser(this.workspace, args.user),
      view: { ...base, ...args.view },
      values: args.values,
      triggerId: this.issueTrigger(),
    });
    const delivery = this.socketMode
      ? await this.deliverOverSocket('interactive', payload)
      : await this.deliverForm({ payload: JSON.stringify(payload) }, opts);
    return { ...delivery, payload };
  }

  /**
   * Delivers an interaction payload again, byte for byte (signed afresh, as a replay within the signature's five
   * minutes would be): e.g. a view_submission that was delivered once already.
   */
  async redeliver(payload: unknown, opts: DeliveryOptions = {}): Promise<Delivery> {
    return this.socketMode
      ? this.deliverOverSocket('interactive', payload)
      : this.deliverForm({ payload: JSON.stringify(payload) }, opts);
  }

  /** A user runs a slash command in a channel. */
  async slashCommand(
    args: { command: string; text: string; userId: string; channelId: string; userName?: string; channelName?: string },
    opts: DeliveryOptions = {},
  ): Promise<Delivery & { fields: Record<string, string>; triggerId: string }> {
    const trigger = this.issueTrigger();
    const fields = buildSlashCommand(this.workspace, {
      command: args.command,
      text: args.text,
      userId: args.userId,
      userName: args.userName ?? this.ctx.users.get(args.userId)?.name ?? `user.${args.userId.toLowerCase()}`,
      channelId: args.channelId,
      channelName: args.channelName ?? this.ctx.channelName(args.channelId) ?? args.channelId.toLowerCase(),
      responseUrl: this.responseUrl('commands', { channel: args.channelId, user: args.userId }),
      triggerId: trigger,
    });
    // Over the socket the command's fields arrive as a JSON object rather than a form.
    const delivery = this.socketMode
      ? await this.deliverOverSocket('slash_commands', fields)
      : await this.deliverForm(fields, opts);
    return { ...delivery, fields, triggerId: trigger };
  }

  // ---------------------------------------------------------------- internals

  /** Status 200 once acked, like the HTTP answer; the body is the ack's payload ('' for none). */
  private async deliverOverSocket(
    type: SocketEnvelopeType,
    payload: unknown,
    retry: { retryAttempt?: number; retryReason?: string } = {},
  ): Promise<Delivery> {
    const ack = await this.socketLink.send(type, payload, retry);
    return { status: 200, body: ack.payload ?? '', ackMs: ack.ackMs, envelopeId: ack.envelopeId };
  }

  private async deliverForm(fields: Record<string, string>, opts: DeliveryOptions): Promise<Delivery> {
    return this.deliver(new URLSearchParams(fields).toString(), FORM, opts);
  }

  private async deliver(
    rawBody: string,
    contentType: string,
    opts: DeliveryOptions,
    extraHeaders: Record<string, string> = {},
  ): Promise<Delivery & { noRetry?: boolean }> {
    if (!this.bot) throw new Error('SlackStandIn: call configureBot({ url, signingSecret }) before delivering');
    const timestamp = Math.floor(Date.now() / 1000) + (opts.timestampSkewSec ?? 0);
    const signature =
      opts.signatureOverride ??
      signSlackRequest(opts.signingSecretOverride ?? this.bot.signingSecret, timestamp, rawBody);
    const started = performance.now();
    const init: RequestInit = {
      method: 'POST',
      headers: {
        'Content-Type': contentType,
        'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
        'X-Slack-Request-Timestamp': String(timestamp),
        'X-Slack-Signature': signature,
        ...extraHeaders,
      },
      body: rawBody,
    };
    const { res, backend: url } = this.balancer
      ? await this.balancer.fetch('', init)
      : { res: await fetch(this.bot.url, init), backend: this.bot.url };
    const ackMs = performance.now() - started;
    const text = await res.text();
    let body: unknown = text;
    if (text && (res.headers.get('content-type') ?? '').includes('application/json')) body = JSON.parse(text);
    return {
      status: res.status,
      body,
      ackMs,
      ...(url ? { url } : {}),
      noRetry: res.headers.get('x-slack-no-retry') === '1',
    };
  }

  /**
   * One delivery of an event as Slack makes it: Slack waits `timeoutMs` for an answer and then counts the attempt as
   * failed (`http_timeout`) without waiting longer (the request itself is left to finish); a connection that fails
   * is `connection_failed`.
   */
  private async deliverWithin(
    rawBody: string,
    opts: DeliveryOptions,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<Delivery & { noRetry?: boolean; failure?: string }> {
    const answer = this.deliver(rawBody, 'application/json', opts, { ...headers }).catch((err: unknown) => ({
      status: 0,
      body: String(err),
      ackMs: 0,
      failure: 'connection_failed',
    }));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Delivery & { failure: string }>((resolve) => {
      timer = setTimeout(() => resolve({ status: 0, body: '', ackMs: timeoutMs, failure: 'http_timeout' }), timeoutMs);
    });
    try {
      return await Promise.race([answer, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private issueTrigger(): string {
    const id = triggerId();
    this.ctx.triggers.set(id, Date.now());
    return id;
  }

  private responseUrl(
    kind: 'actions' | 'commands',
    target: { channel: string; user: string; messageTs?: string; threadTs?: string },
  ): string {
    const id = randomBytes(12).toString('base64url');
    this.responseTargets.set(id, target);
    const owner = kind === 'actions' ? this.workspace.appId : this.workspace.teamId;
    return `${this.baseUrlValue}/${kind}/${owner}/${Date.now()}/${id}`;
  }

  /** Slack ts of now, not tied to a message. */
  private nowTs(): string {
    const micros = BigInt(Date.now()) * 1000n;
    return `${micros / 1000000n}.${String(micros % 1000000n).padStart(6, '0')}`;
  }

  /** Strictly increasing message timestamps in Slack's "seconds.micros" format, close to the current time. */
  private nextTs(): string {
    const now = BigInt(Date.now()) * 1000n;
    this.lastTsMicros = now > this.lastTsMicros ? now : this.lastTsMicros + 100n;
    return `${this.lastTsMicros / 1000000n}.${String(this.lastTsMicros % 1000000n).padStart(6, '0')}`;
  }

  private record(call: RecordedCall): void {
    this.recorded.push(call);
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(call)) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(call);
      }
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const raw = await readBody(req);
      const url = new URL(req.url ?? '/', this.baseUrlValue);
      if (url.pathname.startsWith('/api/')) return await this.handleApi(req, res, raw, url);
      if (url.pathname.startsWith('/upload/v1/'))
        return await this.handleUpload(req, res, raw, url.pathname.slice('/upload/v1/'.length));
      if (/^\/(actions|commands)\//.test(url.pathname))
        return this.handleResponseUrl(res, raw, url.pathname.split('/').pop() ?? '');
      for (const handler of this.httpHandlers) if (await handler(req, res, { url, body: raw })) return;
      res.writeHead(404).end();
    } catch (err) {
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ok: false, error: 'internal_error', detail: String(err) }));
    }
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, raw: Buffer, url: URL): Promise<void> {
    const method = decodeURIComponent(url.pathname.slice('/api/'.length));
    const { args, token } = await parseApiRequest(req.headers, raw, url.searchParams);
    const call: RecordedCall = { method, args, at: Date.now(), t: performance.now(), status: 0 };

    const fault = this.faults.get(method)?.shift();
    if (fault) {
      call.fault = fault;
      if ('hang' in fault) {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return this.record(call);
      }
      if ('status' in fault && fault.status === 429) {
        return this.answer(
          res,
          call,
          429,
          { ok: false, error: 'ratelimited' },
          { 'Retry-After': String(fault.retryAfterSec) },
        );
      }
      if ('status' in fault) return this.answer(res, call, fault.status, { ok: false, error: 'internal_error' });
      return this.answer(res, call, 200, { ok: false, error: fault.error });
    }

    if (method === 'apps.connections.open')
      return this.answer(res, call, 200, this.openConnection(req.headers.authorization, token));
    if (!token) return this.answer(res, call, 200, { ok: false, error: 'not_authed' });
    if (token !== this.botToken) return this.answer(res, call, 200, { ok: false, error: 'invalid_auth' });
    const handler = webApiMethods[method];
    if (!handler) return this.answer(res, call, 200, { ok: false, error: 'unknown_method' });
    try {
      return this.answer(res, call, 200, { ok: true, ...handler(args, this.ctx) });
    } catch (err) {
      if (err instanceof ApiError) return this.answer(res, call, 200, { ok: false, error: err.error });
      throw err;
    }
  }

  /**
   * apps.connections.open takes only an app-level token, and only in the Authorization header: the same token as a
   * POST parameter is `invalid_auth`, a bot or user token `not_allowed_token_type` (as Slack answers them).
   */
  private openConnection(authorization: string | undefined, token: string | undefined): Record<string, unknown> {
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
    if (!token) return { ok: false, error: 'not_authed' };
    if (bearer === this.appToken) return { ok: true, url: this.socketLink.issueUrl() };
    if (bearer && /^xox[bpe]-/.test(bearer)) return { ok: false, error: 'not_allowed_token_type' };
    return { ok: false, error: 'invalid_auth' };
  }

  private async handleUpload(req: IncomingMessage, res: ServerResponse, raw: Buffer, fileId: string): Promise<void> {
    const pending = this.ctx.pendingUploads.get(fileId);
    let bytes = raw;
    let filename: string | undefined;
    if ((req.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
      const form = await readMultipart(req.headers, raw);
      const file = [...form.values()].find((v) => typeof v !== 'string');
      if (file && typeof file !== 'string') {
        bytes = Buffer.from(await file.arrayBuffer());
        filename = file.name;
      }
    }
    const call: RecordedCall = {
      method: 'files.upload',
      args: { file_id: fileId, filename, length: bytes.length },
      at: Date.now(),
      t: performance.now(),
      status: 0,
    };
    if (!pending) {
      call.status = 404;
      this.record(call);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    pending.bytes = bytes;
    call.status = 200;
    this.record(call);
    // Slack's upload endpoint answers in plain text with the byte count.
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`OK - ${bytes.length}`);
  }

  /** Bolt's respond(): JSON with text/blocks and response_type / replace_original / delete_original. */
  private handleResponseUrl(res: ServerResponse, raw: Buffer, id: string): void {
    const args = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    const call: RecordedCall = { method: 'response_url', args, at: Date.now(), t: performance.now(), status: 0 };
    const target = this.responseTargets.get(id);
    if (!target) return this.answer(res, call, 404, { ok: false, error: 'expired_url' });
    const text = typeof args.text === 'string' ? args.text : undefined;
    const blocks = Array.isArray(args.blocks) ? (args.blocks as SlackMessage['blocks']) : undefined;
    if (args.delete_original === true && target.messageTs) {
      this.model.delete(target.channel, target.messageTs);
    } else if (args.replace_original === true && target.messageTs) {
      this.model.update(target.channel, target.messageTs, { text, blocks }, this.workspace.botUserId, this.nextTs());
    } else if (args.response_type === 'in_channel') {
      this.model.add({
        type: 'message',
        ts: this.nextTs(),
        channel: target.channel,
        user: this.workspace.botUserId,
        bot_id: this.workspace.botId,
        app_id: this.workspace.appId,
        text: text ?? '',
        ...(blocks ? { blocks } : {}),
        ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
      });
    } else {
      const after = this.ctx.clickedBefore?.(target.user, target.channel);
      this.model.addEphemeral({
        channel: target.channel,
        user: target.user,
        message_ts: this.nextTs(),
        text,
        blocks,
        thread_ts: target.threadTs,
        ...(after ? { after_ts: after } : {}),
      });
    }
    this.answer(res, call, 200, { ok: true });
  }

  private answer(
    res: ServerResponse,
    call: RecordedCall,
    status: number,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): void {
    call.status = status;
    call.response = body;
    this.record(call);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A static_select's block action as Slack sends it: the option the user picked, which must be one the menu offers. */
function selectAction(actionId: string, blockId: string, element: SlackElement, value: string | undefined) {
  const options = (element.options ?? []) as { text: { type: string; text: string }; value: string }[];
  const option = options.find((o) => o.value === value);
  if (!option)
    throw new Error(
      `SlackStandIn: the menu ${actionId} offers no option ${String(value)} (has: ${options.map((o) => o.value).join(', ')})`,
    );
  return {
    action_id: actionId,
    block_id: blockId,
    type: 'static_select',
    selected_option: option,
    ...(element.placeholder ? { placeholder: element.placeholder } : {}),
  };
}

/** How long Slack waits for an event's 2xx before it counts the attempt as failed (`http_timeout`). */
const EVENT_ACK_TIMEOUT_MS = 3000;

/**
 * Slack's own schedule of event retries: at once, after a minute, after five minutes (then it gives up). Tests pass a
 * shorter schedule with the same shape to `configureBot({ eventRetries })`.
 */
export const SLACK_EVENT_RETRY_DELAYS_MS: readonly number[] = [0, 60_000, 300_000];

/** Where the stand-in delivers to, and how, as an app's Request URL would be configured in Slack. */
export interface BotEndpoint {
  /** The bot's Request URL (Bolt's HTTPReceiver: `/slack/events`). */
  url: string;
  signingSecret: string;
  /**
   * The replicas behind a load balancer at that URL (each its own `/slack/events`): deliveries are spread
   * round-robin and a replica that refuses connections is skipped (see LoadBalancer). Delivery.url names the replica.
   */
  urls?: readonly string[];
  /**
   * Retry a failed event delivery as Slack does (X-Slack-Retry-Num, X-Slack-Retry-Reason), waiting these delays
   * (Slack: SLACK_EVENT_RETRY_DELAYS_MS). Unset: one delivery, the answer returned as it is. Interactive payloads and
   * slash commands are never retried: Slack shows the user an error instead.
   */
  eventRetries?: { delaysMs: readonly number[] };
}

/** Why Slack would count an event delivery as failed (its X-Slack-Retry-Reason), or undefined when it succeeded. */
function eventFailure(delivery: Delivery & { failure?: string }): string | undefined {
  if (delivery.failure) return delivery.failure;
  if (delivery.status >= 200 && delivery.status < 300) return undefined;
  return 'http_error';
}
