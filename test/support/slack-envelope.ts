/**
 * Wraps a payload that Alertmanager or Grafana POSTs to a Slack incoming webhook (or to chat.postMessage) in the
 * `message` event Slack then delivers through the Events API. Only the envelope is built here; the attachments are
 * the captured ones, with the two changes Slack makes when it stores them: each gets an `id`, and named colours
 * become hex without `#` (good 2eb886, warning daa038, danger a30200).
 *
 * Envelope shapes follow Slack's documented events: message (bot_message subtype for incoming webhooks; no subtype,
 * with `bot_id`, `app_id` and `user` for a bot token) and message_changed (the new message in `event.message`).
 */

export interface SlackPayload {
  channel?: string;
  username?: string;
  text?: string;
  attachments?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export type EnvelopeKind = 'incoming-webhook' | 'bot-token' | 'message-changed';

export interface EnvelopeOptions {
  kind: EnvelopeKind;
  channel: string;
  ts: string;
  botId: string;
  appId?: string;
  botUserId?: string;
  /** The message's earlier version, for message-changed. */
  previous?: SlackPayload;
}

const namedColours: Record<string, string> = { good: '2eb886', warning: 'daa038', danger: 'a30200' };

/** The attachments as Slack echoes them back in events and conversations.history. */
export function echoAttachments(
  attachments: Array<Record<string, unknown>> | undefined,
): Array<Record<string, unknown>> {
  return (attachments ?? []).map((a, i) => {
    const out: Record<string, unknown> = { id: i + 1 };
    for (const [k, v] of Object.entries(a)) {
      if (v === '' || v === null || v === undefined) continue; // Slack drops empty fields
      if (k === 'color' && typeof v === 'string') out[k] = namedColours[v] ?? v.replace(/^#/, '');
      else out[k] = v;
    }
    return out;
  });
}

function innerMessage(payload: SlackPayload, opts: EnvelopeOptions, ts: string): Record<string, unknown> {
  const base: Record<string, unknown> = { type: 'message', text: payload.text ?? '', ts };
  if (opts.kind === 'incoming-webhook') {
    Object.assign(base, {
      subtype: 'bot_message',
      bot_id: opts.botId,
      username: payload.username ?? 'incoming-webhook',
      icons: {},
    });
  } else {
    Object.assign(base, {
      user: opts.botUserId ?? 'U0BOTUSER1',
      bot_id: opts.botId,
      app_id: opts.appId ?? 'A0ALERTAPP',
      team: 'T0123TEAM',
    });
  }
  base.attachments = echoAttachments(payload.attachments);
  return base;
}

/** The `event` object of the event_callback Slack sends for this payload. */
export function slackEventFromPayload(payload: SlackPayload, opts: EnvelopeOptions): Record<string, unknown> {
  if (opts.kind !== 'message-changed') {
    return {
      ...innerMessage(payload, opts, opts.ts),
      channel: opts.channel,
      event_ts: opts.ts,
      channel_type: 'channel',
    };
  }
  // chat.update keeps the message's ts; the event's own ts is the edit time.
  const editTs = `${Number(opts.ts.split('.')[0]) + 60}.000200`;
  const message = {
    ...innerMessage(payload, { ...opts, kind: 'bot-token' }, opts.ts),
    edited: { user: opts.botUserId ?? 'U0BOTUSER1', ts: editTs },
  };
  const previous = innerMessage(opts.previous ?? payload, { ...opts, kind: 'bot-token' }, opts.ts);
  return {
    type: 'message',
    subtype: 'message_changed',
    hidden: true,
    message,
    previous_message: previous,
    channel: opts.channel,
    ts: editTs,
    event_ts: editTs,
    channel_type: 'channel',
  };
}
