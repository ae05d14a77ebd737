/**
 * The Web API methods the stand-in answers, each returning the documented response shape (or Slack's documented
 * error code) and updating the channel model. See https://docs.slack.dev/reference/methods/<method>.
 */
import type { ChannelModel } from './channel-model';
import { type SlackBlock, type SlackMessage, type SlackView, slackId, type Workspace } from './slack-payloads';

/** Slack's error answer: HTTP 200 with `{ ok: false, error }`. */
export class ApiError extends Error {
  constructor(readonly error: string) {
    super(error);
  }
}

/** A user as users.info returns it (the fields a bot reads). */
export interface SlackUserRecord {
  id: string;
  team_id?: string;
  name: string;
  real_name?: string;
  deleted?: boolean;
  is_bot?: boolean;
  is_admin?: boolean;
  tz?: string;
  profile?: Record<string, unknown>;
}

/** A file after files.completeUploadExternal: what was uploaded and where it was shared. */
export interface UploadedFile {
  id: string;
  title?: string;
  filename: string;
  bytes: Buffer;
  channel_id?: string;
  thread_ts?: string;
  initial_comment?: string;
}

/** What the methods read and change; owned by the stand-in. */
export interface MethodContext {
  workspace: Workspace;
  model: ChannelModel;
  baseUrl: string;
  nextTs(): string;
  channelName(id: string): string | undefined;
  users: Map<string, SlackUserRecord>;
  usergroups: Map<string, string[]>;
  views: Map<string, SlackView>;
  /** trigger_id → when it was issued (ms); views.open refuses unknown and expired ones. */
  triggers: Map<string, number>;
  triggerTtlMs: number;
  /** Upload slots from files.getUploadURLExternal, filled by the upload POST. */
  pendingUploads: Map<string, { filename: string; length: number; bytes?: Buffer }>;
  files: UploadedFile[];
  /** The message `user` last clicked in `channel`, if recently (see EphemeralMessage.after_ts). */
  clickedBefore?(user: string, channel: string): string | undefined;
}

export type MethodHandler = (args: Record<string, unknown>, ctx: MethodContext) => Record<string, unknown>;

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined;

function requireChannel(args: Record<string, unknown>, ctx: MethodContext, key = 'channel'): string {
  const channel = str(args[key]);
  if (!channel || !ctx.channelName(channel)) throw new ApiError('channel_not_found');
  return channel;
}

function botMessage(ctx: MethodContext, channel: string, ts: string, args: Record<string, unknown>): SlackMessage {
  const ws = ctx.workspace;
  const threadTs = str(args.thread_ts);
  const message: SlackMessage = {
    type: 'message',
    ts,
    channel,
    user: ws.botUserId,
    bot_id: ws.botId,
    app_id: ws.appId,
    team: ws.teamId,
    text: str(args.text) ?? '',
  };
  if (Array.isArray(args.blocks)) message.blocks = args.blocks as SlackBlock[];
  if (Array.isArray(args.attachments)) message.attachments = args.attachments;
  if (args.metadata) message.metadata = args.metadata;
  if (threadTs) {
    message.thread_ts = threadTs;
    message.parent_user_id = ctx.model.get(channel, threadTs)?.user ?? ws.botUserId;
  }
  return message;
}

function echo(message: SlackMessage): Omit<SlackMessage, 'channel'> {
  const { channel: _c, ...rest } = message;
  return rest;
}

/**
 * Slack's limits on a message's blocks: at most 50 (documented: `invalid_blocks`), and about 12–13k characters of
 * text in all, though each block is within its own limit (not documented; seen as `msg_blocks_too_long`, bolt-js
 * #2509 and #2867). The stand-in refuses above 12,000 so a message Slack would not show fails in tests too. Counted
 * here on its own, not with the bot's counter: the test must not share the code it checks.
 */
export const BLOCK_TEXT_REFUSED_ABOVE = 12_000;

function refuseOversizedBlocks(args: Record<string, unknown>): void {
  if (!Array.isArray(args.blocks)) return;
  if (args.blocks.length > 50) throw new ApiError('invalid_blocks');
  if (textInBlocks(args.blocks) > BLOCK_TEXT_REFUSED_ABOVE) throw new ApiError('msg_blocks_too_long');
}

/** Every string under a `text` key, at any depth of the blocks. */
export function textInBlocks(value: unknown): number {
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + textInBlocks(v), 0);
  if (!value || typeof value !== 'object') return 0;
  let n = 0;
  for (const [key, v] of Object.entries(value))
    n += key === 'text' && typeof v === 'string' ? v.length : textInBlocks(v);
  return n;
}

function hasContent(args: Record<string, unknown>): boolean {
  return Boolean(
    str(args.text) ||
      (Array.isArray(args.blocks) && args.blocks.length) ||
      (Array.isArray(args.attachments) && args.attachments.length),
  );
}

function viewFrom(ctx: MethodContext, raw: unknown, id: string, previous?: SlackView): SlackView {
  if (typeof raw !== 'object' || raw === null) throw new ApiError('invalid_arguments');
  const v = raw as Record<string, unknown>;
  if (v.type !== 'modal') throw new ApiError('invalid_arguments');
  const ws = ctx.workspace;
  return {
    id,
    team_id: ws.teamId,
    type: 'modal',
    blocks: (v.blocks as SlackBlock[]) ?? [],
    private_metadata: str(v.private_metadata) ?? '',
    callback_id: str(v.callback_id) ?? '',
    state: { values: {} },
    hash: `${Math.floor(Date.now() / 1000)}.${slackId('', 8).toLowerCase()}`,
    title: v.title,
    close: v.close ?? null,
    submit: v.submit ?? null,
    clear_on_close: Boolean(v.clear_on_close),
    notify_on_close: Boolean(v.notify_on_close),
    previous_view_id: null,
    root_view_id: previous?.root_view_id ?? id,
    app_id: ws.appId,
    external_id: str(v.external_id) ?? previous?.external_id ?? '',
    app_installed_team_id: ws.teamId,
    bot_id: ws.botId,
  };
}

/** The methods by name. Anything else answers `unknown_method`. */
/**
 * views.open and views.push alike: the trigger must be known, fresh (triggerTtlMs) and unused; the view gets a new id.
 */
function openView(args: Record<string, unknown>, ctx: MethodContext): { view: SlackView } {
  const trigger = str(args.trigger_id);
  const issuedAt = trigger ? ctx.triggers.get(trigger) : undefined;
  if (trigger === undefined || issuedAt === undefined) throw new ApiError('invalid_trigger_id');
  if (Date.now() - issuedAt > ctx.triggerTtlMs) throw new ApiError('expired_trigger_id');
  ctx.triggers.delete(trigger);
  const view = viewFrom(ctx, args.view, slackId('V'));
  ctx.views.set(view.id, view);
  return { view };
}

export const webApiMethods: Record<string, MethodHandler> = {
  'auth.test': (_args, ctx) => {
    const ws = ctx.workspace;
    return {
      url: `https://${ws.teamDomain}.slack.com/`,
      team: ws.teamDomain,
      user: 'runbook-pilot',
      team_id: ws.teamId,
      user_id: ws.botUserId,
      bot_id: ws.botId,
      is_enterprise_install: false,
    };
  },

  'chat.postMessage': (args, ctx) => {
    const channel = requireChannel(args, ctx);
    if (!hasContent(args)) throw new ApiError('no_text');
    refuseOversizedBlocks(args);
    // A thread_ts that names no message is not an error in Slack's documentation, so it is accepted here too.
    const message = ctx.model.add(botMessage(ctx, channel, ctx.nextTs(), args));
    return { channel, ts: message.ts, message: echo(message) };
  },

  'chat.update': (args, ctx) => {
    const channel = requireChannel(args, ctx);
    const ts = str(args.ts);
    const current = ts ? ctx.model.get(channel, ts) : undefined;
    if (!ts || !current) throw new ApiError('message_not_found');
    if (current.bot_id !== ctx.workspace.botId) throw new ApiError('cant_update_message');
    refuseOversizedBlocks(args);
    const fields: Partial<SlackMessage> = {};
    if (args.text !== undefined) fields.text = str(args.text) ?? '';
    if (Array.isArray(args.blocks)) fields.blocks = args.blocks as SlackBlock[];
    if (Array.isArray(args.attachments)) fields.attachments = args.attachments;
    const updated = ctx.model.update(channel, ts, fields, ctx.workspace.botUserId, ctx.nextTs())!;
    return { channel, ts, text: updated.text ?? '', message: echo(updated) };
  },

  'chat.postEphemeral': (args, ctx) => {
    const channel = requireChannel(args, ctx);
    const user = str(args.user);
    if (!user) throw new ApiError('user_not_in_channel');
    if (!hasContent(args)) throw new ApiError('no_text');
    refuseOversizedBlocks(args);
    const messageTs = ctx.nextTs();
    ctx.model.addEphemeral({
      channel,
      user,
      message_ts: messageTs,
      text: str(args.text),
      blocks: Array.isArray(args.blocks) ? args.blocks : undefined,
      thread_ts: str(args.thread_ts),
      ...(ctx.clickedBefore?.(user, channel) ? { after_ts: ctx.clickedBefore(user, channel) } : {}),
    });
    return { message_ts: messageTs };
  },

  'chat.getPermalink': (args, ctx) => {
    const channel = requireChannel(args, ctx);
    const ts = str(args.message_ts);
    const message = ts ? ctx.model.get(channel, ts) : undefined;
    if (!ts || !message) throw new ApiError('message_not_found');
    let permalink = `https://${ctx.workspace.teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
    if (message.thread_ts && message.thread_ts !== ts) permalink += `?thread_ts=${message.thread_ts}&cid=${channel}`;
    return { channel, permalink };
  },

  'views.open': (args, ctx) => openView(args, ctx),

  // Pushes a view over the open modal (from an interaction inside it); the same trigger rules as views.open.
  'views.push': (args, ctx) => openView(args, ctx),

  'views.update': (args, ctx) => {
    const externalId = str(args.external_id);
    const id = str(args.view_id) ?? [...ctx.views.values()].find((v) => externalId && v.external_id === externalId)?.id;
    const previous = id ? ctx.views.get(id) : undefined;
    if (!id || !previous) throw new ApiError('not_found');
    const hash = str(args.hash);
    if (hash && hash !== previous.hash) throw new ApiError('hash_conflict');
    const view = viewFrom(ctx, args.view, id, previous);
    ctx.views.set(id, view);
    return { view };
  },

  'usergroups.users.list': (args, ctx) => {
    const group = str(args.usergroup);
    const users = group ? ctx.usergroups.get(group) : undefined;
    if (!users) throw new ApiError('no_such_subteam');
    return { users: [...users] };
  },

  'users.info': (args, ctx) => {
    const id = str(args.user);
    if (!id || !/^[UW][A-Z0-9]{2,}$/.test(id)) throw new ApiError('user_not_found');
    const known = ctx.users.get(id);
    const name = known?.name ?? `user.${id.toLowerCase()}`;
    const user = {
      id,
      team_id: ctx.workspace.teamId,
      name,
      deleted: false,
      real_name: name,
      tz: 'Europe/Berlin',
      tz_label: 'Central European Time',
      tz_offset: 3600,
      is_admin: false,
      is_owner: false,
      is_bot: false,
      is_app_user: false,
      updated: 1700000000,
      ...known,
      profile: {
        real_name: known?.real_name ?? name,
        display_name: name,
        team: ctx.workspace.teamId,
        ...known?.profile,
      },
    };
    return { user };
  },

  'conversations.info': (args, ctx) => {
    const id = requireChannel(args, ctx);
    const name = ctx.channelName(id)!;
    const isPrivate = id.startsWith('G');
    return {
      channel: {
        id,
        name,
        is_channel: !isPrivate,
        is_group: isPrivate,
        is_im: false,
        is_mpim: false,
        is_private: isPrivate,
        created: 1700000000,
        is_archived: false,
        is_general: false,
        unlinked: 0,
        name_normalized: name,
        is_shared: false,
        is_org_shared: false,
        is_pending_ext_shared: false,
        is_ext_shared: false,
        context_team_id: ctx.workspace.teamId,
        creator: 'U0CREATOR1',
        is_member: true,
        topic: { value: '', creator: '', last_set: 0 },
        purpose: { value: '', creator: '', last_set: 0 },
      },
    };
  },

  'reactions.add': (args, ctx) => {
    const channel = requireChannel(args, ctx);
    const ts = str(args.timestamp);
    const name = str(args.name);
    if (!name) throw new ApiError('invalid_name');
    const message = ts ? ctx.model.get(channel, ts) : undefined;
    if (!message) throw new ApiError('message_not_found');
    const reactions = (message.reactions ??= []);
    let reaction = reactions.find((r) => r.name === name);
    if (!reaction) reactions.push((reaction = { name, users: [], count: 0 }));
    if (reaction.users.includes(ctx.workspace.botUserId)) throw new ApiError('already_reacted');
    reaction.users.push(ctx.workspace.botUserId);
    reaction.count += 1;
    return {};
  },

  'files.getUploadURLExternal': (args, ctx) => {
    const filename = str(args.filename);
    const length = Number(args.length);
    if (!filename) throw new ApiError('invalid_arguments');
    if (!Number.isInteger(length) || length <= 0) throw new ApiError('invalid_arguments');
    const fileId = slackId('F');
    ctx.pendingUploads.set(fileId, { filename, length });
    return { upload_url: `${ctx.baseUrl}/upload/v1/${fileId}`, file_id: fileId };
  },

  'files.completeUploadExternal': (args, ctx) => {
    if (!Array.isArray(args.files) || args.files.length === 0) throw new ApiError('invalid_arguments');
    const entries = args.files as { id: string; title?: string }[];
    const channel = str(args.channel_id);
    if (channel && !ctx.channelName(channel)) throw new ApiError('channel_not_found');
    const threadTs = str(args.thread_ts);
    const completed: UploadedFile[] = [];
    for (const entry of entries) {
      const pending = ctx.pendingUploads.get(entry.id);
      if (!pending?.bytes) throw new ApiError('file_not_found');
      ctx.pendingUploads.delete(entry.id);
      completed.push({
        id: entry.id,
        title: entry.title,
        filename: pending.filename,
        bytes: pending.bytes,
        channel_id: channel,
        thread_ts: threadTs,
        initial_comment: str(args.initial_comment),
      });
    }
    ctx.files.push(...completed);
    const fileObjects = completed.map((f) => ({
      id: f.id,
      created: Math.floor(Date.now() / 1000),
      name: f.filename,
      title: f.title ?? f.filename,
      mimetype: 'text/plain',
      filetype: 'text',
      user: ctx.workspace.botUserId,
      size: f.bytes.length,
      permalink: `https://${ctx.workspace.teamDomain}.slack.com/files/${ctx.workspace.botUserId}/${f.id}/${f.filename}`,
    }));
    if (channel) {
      // Sharing a file posts a message carrying it (and the initial comment) into the channel or thread.
      ctx.model.add({
        ...botMessage(ctx, channel, ctx.nextTs(), { text: str(args.initial_comment) ?? '', thread_ts: threadTs }),
        files: fileObjects,
        upload: true,
      });
    }
    return { files: fileObjects.map((f) => ({ id: f.id, title: f.title })) };
  },
};
