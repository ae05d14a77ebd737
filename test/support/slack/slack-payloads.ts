/**
 * Pure builders for what Slack sends to an app: the Events API envelope, interactivity payloads (block_actions,
 * view_submission) and slash command bodies. Shapes follow Slack's documented examples, saved with their sources in
 * test/fixtures/slack/requests/ (a test compares the key sets, so a drift shows up).
 */
import { randomBytes } from 'node:crypto';

/** The workspace and app the stand-in plays: ids appear in every payload and API response. */
export interface Workspace {
  teamId: string;
  teamDomain: string;
  appId: string;
  botUserId: string;
  botId: string;
  /** The deprecated verification token Slack still puts in every payload (Bolt ignores it). */
  verificationToken: string;
}

/** A user as interactivity payloads carry it (`user` object of block_actions and view_submission). */
export interface PayloadUser {
  id: string;
  username: string;
  name: string;
  team_id: string;
}

/** A Slack message as the channel model keeps it and as payloads and API responses echo it. */
export interface SlackMessage {
  type: 'message';
  ts: string;
  channel: string;
  text?: string;
  blocks?: SlackBlock[];
  attachments?: unknown[];
  user?: string;
  bot_id?: string;
  app_id?: string;
  team?: string;
  subtype?: string;
  username?: string;
  thread_ts?: string;
  parent_user_id?: string;
  reply_count?: number;
  latest_reply?: string;
  edited?: { user: string; ts: string };
  reactions?: { name: string; users: string[]; count: number }[];
  files?: unknown[];
  [extra: string]: unknown;
}

/** A Block Kit block; only the fields the stand-in looks into are typed. */
export interface SlackBlock {
  type: string;
  block_id?: string;
  elements?: SlackElement[];
  accessory?: SlackElement;
  [extra: string]: unknown;
}

/** A Block Kit element (button and the like). */
export interface SlackElement {
  type: string;
  action_id?: string;
  value?: string;
  style?: string;
  text?: { type: string; text: string; emoji?: boolean };
  [extra: string]: unknown;
}

/** A modal view as views.open returns it and view_submission carries it. */
export interface SlackView {
  id: string;
  team_id: string;
  type: 'modal';
  blocks: SlackBlock[];
  private_metadata: string;
  callback_id: string;
  state: { values: ViewStateValues };
  hash: string;
  title: unknown;
  close: unknown;
  submit: unknown;
  clear_on_close: boolean;
  notify_on_close: boolean;
  previous_view_id: string | null;
  root_view_id: string;
  app_id: string;
  external_id: string;
  app_installed_team_id: string;
  bot_id: string;
}

/** `view.state.values`: block_id → action_id → the element's state (`{ type, value }`, `{ type, selected_option }`…). */
export type ViewStateValues = Record<string, Record<string, Record<string, unknown>>>;

/** An id the way Slack spells them: a prefix letter and upper-case alphanumerics. */
export function slackId(prefix: string, length = 10): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(length);
  let id = prefix;
  for (let i = 0; i < length; i++) id += alphabet[bytes[i] % alphabet.length];
  return id;
}

/** A trigger_id in Slack's format (`<digits>.<digits>.<32 hex>`). */
export function triggerId(): string {
  const n = () => String(1e11 + Math.floor(Math.random() * 9e11));
  return `${n()}.${n().slice(0, 10)}.${randomBytes(16).toString('hex')}`;
}

/** A user object for payloads from an id, with a readable username derived from it unless given. */
export function payloadUser(ws: Workspace, user: string | (Partial<PayloadUser> & { id: string })): PayloadUser {
  const u = typeof user === 'string' ? { id: user } : user;
  const username = u.username ?? u.name ?? `user.${u.id.toLowerCase()}`;
  return { id: u.id, username, name: u.name ?? username, team_id: u.team_id ?? ws.teamId };
}

/**
 * The Events API `event_callback` envelope around one event
 * (https://docs.slack.dev/reference/objects/event-object, with `authorizations` as Slack sends it today).
 */
export function buildEventEnvelope(
  ws: Workspace,
  event: Record<string, unknown>,
  opts: { eventId: string; eventTime: number },
) {
  return {
    token: ws.verificationToken,
    team_id: ws.teamId,
    context_team_id: ws.teamId,
    context_enterprise_id: null,
    api_app_id: ws.appId,
    event,
    type: 'event_callback' as const,
    event_id: opts.eventId,
    event_time: opts.eventTime,
    authorizations: [
      { enterprise_id: null, team_id: ws.teamId, user_id: ws.botUserId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${Buffer.from(JSON.stringify({ et: 'message', tid: ws.teamId, aid: ws.appId })).toString('base64url')}`,
  };
}

/** The `url_verification` request Slack sends when the Request URL is saved. */
export function buildUrlVerification(ws: Workspace, challenge: string) {
  return { token: ws.verificationToken, challenge, type: 'url_verification' as const };
}

/** The message `event` for a message that appeared in a channel (as delivered inside the envelope). */
export function buildMessageEvent(message: SlackMessage) {
  const { reply_count: _rc, latest_reply: _lr, reactions: _r, ...rest } = message;
  return { ...rest, event_ts: message.ts, channel_type: message.channel.startsWith('G') ? 'group' : 'channel' };
}

/** Finds the element with this action_id in a message's blocks, with the block_id of its block. */
export function findAction(
  blocks: SlackBlock[] | undefined,
  actionId: string,
): { blockId: string; element: SlackElement } | undefined {
  for (const block of blocks ?? []) {
    const elements = [...(block.elements ?? []), ...(block.accessory ? [block.accessory] : [])];
    const element = elements.find((e) => e.action_id === actionId);
    if (element) return { blockId: block.block_id ?? '', element };
  }
  return undefined;
}

/**
 * A `block_actions` payload for a button click on a message
 * (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload).
 */
export function buildBlockActions(
  ws: Workspace,
  args: {
    user: PayloadUser;
    channel: { id: string; name: string };
    message: SlackMessage;
    /** A button's `text`/`value`/`style`; a static_select's `selected_option` and `placeholder` instead. */
    action: {
      action_id: string;
      block_id: string;
      text?: SlackElement['text'];
      value?: string;
      style?: string;
      type: string;
      [extra: string]: unknown;
    };
    triggerId: string;
    responseUrl: string;
    actionTs: string;
  },
) {
  const { message } = args;
  return {
    type: 'block_actions' as const,
    user: args.user,
    api_app_id: ws.appId,
    token: ws.verificationToken,
    container: {
      type: 'message',
      message_ts: message.ts,
      channel_id: args.channel.id,
      is_ephemeral: false,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    },
    trigger_id: args.triggerId,
    team: { id: ws.teamId, domain: ws.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: args.channel,
    message: stripForPayload(message),
    state: { values: {} },
    response_url: args.responseUrl,
    actions: [{ ...args.action, action_ts: args.actionTs }],
  };
}

/** A `view_submission` payload (https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload). */
export function buildViewSubmission(
  ws: Workspace,
  args: { user: PayloadUser; view: SlackView; values: ViewStateValues; triggerId: string },
) {
  return {
    type: 'view_submission' as const,
    team: { id: ws.teamId, domain: ws.teamDomain },
    user: args.user,
    api_app_id: ws.appId,
    token: ws.verificationToken,
    trigger_id: args.triggerId,
    view: { ...args.view, state: { values: args.values } },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/**
 * The form fields of a slash command request, in the order Slack sends them
 * (https://docs.slack.dev/interactivity/implementing-slash-commands).
 */
export function buildSlashCommand(
  ws: Workspace,
  args: {
    command: string;
    text: string;
    userId: string;
    userName: string;
    channelId: string;
    channelName: string;
    responseUrl: string;
    triggerId: string;
  },
): Record<string, string> {
  return {
    token: ws.verificationToken,
    team_id: ws.teamId,
    team_domain: ws.teamDomain,
    channel_id: args.channelId,
    channel_name: args.channelName,
    user_id: args.userId,
    user_name: args.userName,
    command: args.command,
    text: args.text,
    api_app_id: ws.appId,
    is_enterprise_install: 'false',
    response_url: args.responseUrl,
    trigger_id: args.triggerId,
  };
}

/** The message as payloads carry it: the channel is in `container`/`channel`, not on the message. */
function stripForPayload(message: SlackMessage): Omit<SlackMessage, 'channel'> {
  const { channel: _c, ...rest } = message;
  return rest;
}
