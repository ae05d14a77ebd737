/**
 * A channel as the demo page shows it: top-level messages oldest first, each thread expanded under its parent, the
 * demo user's ephemeral messages where Slack would show them, files inline. Pure: the snapshot comes in whole.
 */
import { compareTs } from '../slack/channel-model';
import type { EphemeralMessage, SlackMessage } from '../slack-standin';
import { escapeHtml } from './escape-html';
import { asJson, type BlockContext, list, renderAttachment, renderBlocks } from './render-blocks';
import type { MrkdwnContext } from './render-mrkdwn';
import { renderMrkdwn } from './render-mrkdwn';

/** A file as the page can show it. */
export interface FileView {
  filename: string;
  title?: string;
  url: string;
  /** PNG/JPEG/GIF: shown as an image. */
  image: boolean;
  /** The start of a text file, shown in a <pre>; undefined for binary files. */
  text?: string;
  size: number;
}

export interface ChannelView {
  id: string;
  name: string;
  /** Top-level messages, each with its replies (empty when it has no thread). */
  messages: Array<{ message: SlackMessage; replies: SlackMessage[] }>;
  /** The demo user's ephemeral messages in this channel. */
  ephemerals: EphemeralMessage[];
}

export interface ChannelRenderContext extends MrkdwnContext {
  /** The bot's own bot_id, to name its messages. */
  botId: string;
  botName: string;
  file(id: string): FileView | undefined;
  /** Time of day for a ts; injected so tests do not depend on the machine's time zone. */
  time(ts: string): string;
}

type Entry = { kind: 'message'; message: SlackMessage } | { kind: 'ephemeral'; message: EphemeralMessage };

/** Renders one channel: its name, then messages and threads. */
export function renderChannel(channel: ChannelView, ctx: ChannelRenderContext): string {
  const threadIds = new Set(channel.messages.map((m) => m.message.ts));
  const allTs = new Set(channel.messages.flatMap((m) => [m.message.ts, ...m.replies.map((r) => r.ts)]));
  // An ephemeral that answers a click is shown right after the message clicked (as the person reads it there);
  // the others where they were posted, in time order.
  const anchored = channel.ephemerals.filter((e) => e.after_ts && allTs.has(e.after_ts));
  const loose = channel.ephemerals.filter((e) => !anchored.includes(e));
  const ephemeralsIn = (threadTs: string | undefined) =>
    loose.filter((e) => (threadTs ? e.thread_ts === threadTs : !e.thread_ts || !threadIds.has(e.thread_ts)));
  const withAnswers = (message: SlackMessage, html: string) =>
    html +
    anchored
      .filter((e) => e.after_ts === message.ts)
      .sort((a, b) => compareTs(a.message_ts, b.message_ts))
      .map((e) => renderEphemeral(e, ctx))
      .join('');
  const top: Entry[] = [
    ...channel.messages.map((m): Entry => ({ kind: 'message', message: m.message })),
    ...ephemeralsIn(undefined).map((e): Entry => ({ kind: 'ephemeral', message: e })),
  ].sort(byTs);
  const body = top
    .map((entry) => {
      if (entry.kind === 'ephemeral') return renderEphemeral(entry.message, ctx);
      const replies = channel.messages.find((m) => m.message.ts === entry.message.ts)?.replies ?? [];
      const thread: Entry[] = [
        ...replies.map((r): Entry => ({ kind: 'message', message: r })),
        ...ephemeralsIn(entry.message.ts).map((e): Entry => ({ kind: 'ephemeral', message: e })),
      ].sort(byTs);
      const threadHtml = thread.length
        ? `<div class="thread"><div class="thread-count">${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}</div>${thread
            .map((t) =>
              t.kind === 'message'
                ? withAnswers(t.message, renderMessage(t.message, channel.id, ctx))
                : renderEphemeral(t.message, ctx),
            )
            .join('')}</div>`
        : '';
      return `<div class="conversation" data-conversation="${escapeHtml(entry.message.ts)}">${withAnswers(entry.message, renderMessage(entry.message, channel.id, ctx))}${threadHtml}</div>`;
    })
    .join('');
  const empty = top.length ? '' : '<p class="empty">No messages yet. Fire an alert from the panel on the left.</p>';
  return `<section class="channel" data-channel="${escapeHtml(channel.id)}"><h2 class="channel-name"># ${escapeHtml(channel.name)}</h2>${empty}${body}</section>`;
}

function byTs(a: Entry, b: Entry): number {
  return compareTs(entryTs(a), entryTs(b));
}

function entryTs(e: Entry): string {
  return e.kind === 'message' ? e.message.ts : e.message.message_ts;
}

/** The id of a message's element on the page (`msg-1700000000-000100`), for permalinks to it. */
export function messageAnchor(ts: string): string {
  return `msg-${ts.replace(/[^0-9]/g, '-')}`;
}

/**
 * Where a link into the stand-in's workspace leads on the page: a message permalink (chat.getPermalink) to the
 * message's anchor, a file permalink to the file. Undefined for any other URL.
 */
export function localSlackHref(url: string, teamDomain: string): string | undefined {
  const prefix = `https://${teamDomain}.slack.com/`;
  if (!url.startsWith(prefix)) return undefined;
  const message = /^archives\/[A-Z0-9]+\/p(\d+)(\d{6})(?:\?.*)?$/.exec(url.slice(prefix.length));
  if (message) return `#${messageAnchor(`${message[1]}.${message[2]}`)}`;
  const file = /^files\/[A-Z0-9]+\/([A-Z0-9]+)(?:\/.*)?$/.exec(url.slice(prefix.length));
  return file ? `/demo/files/${file[1]}` : undefined;
}

/** One message: author, time, content (blocks, else text), attachments, files, reactions. */
export function renderMessage(message: SlackMessage, channel: string, ctx: ChannelRenderContext): string {
  const isApp = Boolean(message.bot_id);
  const author =
    message.bot_id === ctx.botId
      ? ctx.botName
      : (message.username ?? (message.user ? (ctx.userName(message.user) ?? message.user) : 'unknown'));
  const blockCtx: BlockContext = { ...ctx, target: { channel, messageTs: message.ts } };
  const content = message.blocks?.length
    ? renderBlocks(message.blocks, blockCtx)
    : message.text
      ? `<div class="text">${renderMrkdwn(message.text, ctx)}</div>`
      : '';
  const attachments = list(message.attachments)
    .map((a) => renderAttachment(a, blockCtx))
    .join('');
  const files = list(message.files)
    .map((f) => renderFile(String(f.id), ctx))
    .join('');
  const reactions = (message.reactions ?? [])
    .map((r) => `<span class="reaction">:${escapeHtml(r.name)}: ${r.count}</span>`)
    .join('');
  return `<article class="message" data-ts="${escapeHtml(message.ts)}" id="${messageAnchor(message.ts)}">
<div class="meta"><span class="author">${escapeHtml(author)}</span>${isApp ? '<span class="badge">APP</span>' : ''}<time>${escapeHtml(ctx.time(message.ts))}</time>${message.edited ? '<span class="edited">(edited)</span>' : ''}</div>
<div class="content">${content}${attachments}${files}</div>${reactions ? `<div class="reactions">${reactions}</div>` : ''}</article>`;
}

function renderEphemeral(e: EphemeralMessage, ctx: ChannelRenderContext): string {
  const blockCtx: BlockContext = { ...ctx, target: { channel: e.channel, messageTs: e.message_ts, ephemeral: true } };
  const content =
    Array.isArray(e.blocks) && e.blocks.length
      ? renderBlocks(e.blocks, blockCtx)
      : `<div class="text">${renderMrkdwn(e.text ?? '', ctx)}</div>`;
  return `<article class="message ephemeral" data-ts="${escapeHtml(e.message_ts)}">
<div class="meta"><span class="author">${escapeHtml(ctx.botName)}</span><span class="badge">APP</span><time>${escapeHtml(ctx.time(e.message_ts))}</time><span class="only-you">Only visible to you</span></div>
<div class="content">${content}</div></article>`;
}

function renderFile(id: string, ctx: ChannelRenderContext): string {
  const f = ctx.file(id);
  if (!f) return `<div class="file">[file ${escapeHtml(id)}]</div>`;
  const link = `<a href="${escapeHtml(f.url)}" target="_blank" rel="noopener">${escapeHtml(f.title ?? f.filename)}</a> <span class="file-size">${escapeHtml(f.filename)}, ${formatSize(f.size)}</span>`;
  if (f.image)
    return `<div class="file">${link}<img class="file-image" src="${escapeHtml(f.url)}" alt="${escapeHtml(f.title ?? f.filename)}"></div>`;
  if (f.text !== undefined)
    return `<div class="file">${link}<pre class="code file-text">${escapeHtml(f.text)}</pre></div>`;
  return `<div class="file">${link}</div>`;
}

function formatSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

/** A modal as the page shows it: a form over the channel, its fields named by input block index. */
export function renderModal(
  view: { id: string; title?: unknown; submit?: unknown; close?: unknown; blocks?: unknown },
  ctx: MrkdwnContext,
): string {
  const title = escapeHtml(asJson(view.title).text ?? 'Modal');
  const submit = asJson(view.submit).text;
  const close = asJson(view.close).text ?? 'Cancel';
  return `<div class="modal-backdrop"><form class="modal" data-view-id="${escapeHtml(view.id)}">
<header class="modal-title">${title}</header>
<div class="modal-body">${renderBlocks(view.blocks, ctx)}</div>
<div class="modal-error" role="alert"></div>
<footer class="modal-buttons"><button type="button" class="bk-button" data-modal-close>${escapeHtml(close)}</button>${submit ? `<button type="submit" class="bk-button primary">${escapeHtml(submit)}</button>` : ''}</footer>
</form></div>`;
}
