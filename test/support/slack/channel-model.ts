/**
 * What the channels look like after the bot and integrations have talked: messages by ts with their latest content,
 * threads, reactions and ephemeral messages per user. Tests (and a demo page) read "the thread" from here.
 */
import type { SlackMessage } from './slack-payloads';

/** An ephemeral message: only `user` saw it, and it has no place in history (Slack returns only `message_ts`). */
export interface EphemeralMessage {
  channel: string;
  user: string;
  message_ts: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  /**
   * The message this user had just clicked in this channel when the ephemeral came (the answer to that click): the
   * demo page shows the ephemeral right after it, not at the end of the channel or thread.
   */
  after_ts?: string;
}

/** The messages of all channels the stand-in has seen. */
export class ChannelModel {
  private readonly messagesByChannel = new Map<string, Map<string, SlackMessage>>();
  private readonly ephemeralList: EphemeralMessage[] = [];

  /** Adds a message (a post, a reply, a file share); replies bump the parent's reply_count like Slack does. */
  add(message: SlackMessage): SlackMessage {
    const channel = this.channelMap(message.channel);
    channel.set(message.ts, message);
    if (message.thread_ts && message.thread_ts !== message.ts) {
      const parent = channel.get(message.thread_ts);
      if (parent) {
        parent.thread_ts = parent.ts;
        parent.reply_count = (parent.reply_count ?? 0) + 1;
        parent.latest_reply = message.ts;
      }
    }
    return message;
  }

  /** The message at ts, with its current content. */
  get(channel: string, ts: string): SlackMessage | undefined {
    return this.messagesByChannel.get(channel)?.get(ts);
  }

  /** Replaces the given fields of a message (chat.update); returns undefined when there is no such message. */
  update(
    channel: string,
    ts: string,
    fields: Partial<SlackMessage>,
    editedBy: string,
    editTs: string,
  ): SlackMessage | undefined {
    const current = this.get(channel, ts);
    if (!current) return undefined;
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) (current as Record<string, unknown>)[k] = v;
    current.edited = { user: editedBy, ts: editTs };
    return current;
  }

  /** Removes a message (delete_original on a response_url). */
  delete(channel: string, ts: string): boolean {
    return this.messagesByChannel.get(channel)?.delete(ts) ?? false;
  }

  /** Top-level messages of a channel (not thread replies), oldest first. */
  history(channel: string): SlackMessage[] {
    return this.sorted(channel).filter((m) => !m.thread_ts || m.thread_ts === m.ts);
  }

  /** The parent at ts and its replies in order, each with its current (updated) blocks; empty if unknown. */
  thread(channel: string, ts: string): SlackMessage[] {
    const parent = this.get(channel, ts);
    if (!parent) return [];
    const replies = this.sorted(channel).filter((m) => m.thread_ts === ts && m.ts !== ts);
    return [parent, ...replies];
  }

  /** Records an ephemeral message. */
  addEphemeral(message: EphemeralMessage): void {
    this.ephemeralList.push(message);
  }

  /** Ephemeral messages, optionally only those one user saw in one channel. */
  ephemerals(filter: { channel?: string; user?: string } = {}): EphemeralMessage[] {
    return this.ephemeralList.filter(
      (e) => (!filter.channel || e.channel === filter.channel) && (!filter.user || e.user === filter.user),
    );
  }

  /** Forgets everything. */
  clear(): void {
    this.messagesByChannel.clear();
    this.ephemeralList.length = 0;
  }

  private channelMap(channel: string): Map<string, SlackMessage> {
    let map = this.messagesByChannel.get(channel);
    if (!map) {
      map = new Map();
      this.messagesByChannel.set(channel, map);
    }
    return map;
  }

  private sorted(channel: string): SlackMessage[] {
    return [...(this.messagesByChannel.get(channel)?.values() ?? [])].sort((a, b) => compareTs(a.ts, b.ts));
  }
}

/** Orders Slack timestamps ("seconds.micros") numerically without float rounding. */
export function compareTs(a: string, b: string): number {
  const [as, au = ''] = a.split('.');
  const [bs, bu = ''] = b.split('.');
  return Number(as) - Number(bs) || Number(au.padEnd(6, '0')) - Number(bu.padEnd(6, '0'));
}
