/**
 * Reading a Slack Events API `message` event defensively: events are untrusted JSON, so every field is checked
 * before use and anything unexpected reads as absent.
 */
import type { AlertMessageRef } from './alert';

/** The parts of a message the alert parsers look at. */
export interface SlackMessageView {
  ref: AlertMessageRef;
  text: string;
  botId?: string;
  /** The app that posted it (`app_id`, or `bot_profile.app_id`), when Slack says. */
  appId?: string;
  /** The user who posted it (a person, or a bot's user). */
  userId?: string;
  attachments: SlackAttachmentView[];
}

export interface SlackAttachmentView {
  title: string;
  text: string;
  fallback: string;
  color: string;
  footer: string;
  titleLink: string;
  pretext: string;
  /** The attachment's `fields` (title, value), as templates such as `Severity: critical` put labels there. */
  fields: Array<{ title: string; value: string }>;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Undoes the three entities Slack escapes in stored message text (`&amp;`, `&lt;`, `&gt;`). */
export function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Subtypes that carry a message someone or something posted; everything else (joins, deletions…) is not an alert. */
const POSTED_SUBTYPES = new Set<string | undefined>([undefined, 'bot_message']);

/**
 * The message an event carries, or undefined for events that carry none: `message_changed` yields its new
 * `message` (Alertmanager's `update_message`, or an edit), deletions and other subtypes yield nothing.
 */
export function slackMessageView(event: unknown): SlackMessageView | undefined {
  const e = asRecord(event);
  if (e?.type !== 'message') return undefined;
  const channel = str(e.channel);
  let msg: Record<string, unknown> | undefined = e;
  if (e.subtype === 'message_changed') {
    msg = asRecord(e.message);
    if (!msg) return undefined;
  }
  const subtype = typeof msg.subtype === 'string' ? msg.subtype : undefined;
  if (!POSTED_SUBTYPES.has(subtype)) return undefined;
  const ts = str(msg.ts);
  if (!channel || !ts) return undefined;
  const ref: AlertMessageRef = { channel, ts };
  const threadTs = str(msg.thread_ts);
  if (threadTs && threadTs !== ts) ref.threadTs = threadTs;
  const attachments = (Array.isArray(msg.attachments) ? msg.attachments : []).flatMap((a): SlackAttachmentView[] => {
    const r = asRecord(a);
    if (!r) return [];
    return [
      {
        title: unescapeSlack(str(r.title)),
        text: unescapeSlack(str(r.text)),
        fallback: unescapeSlack(str(r.fallback)),
        color: str(r.color).replace(/^#/, '').toLowerCase(),
        footer: str(r.footer),
        titleLink: unescapeSlack(str(r.title_link)),
        pretext: unescapeSlack(str(r.pretext)),
        fields: (Array.isArray(r.fields) ? r.fields : []).flatMap((f) => {
          const field = asRecord(f);
          return field ? [{ title: unescapeSlack(str(field.title)), value: unescapeSlack(str(field.value)) }] : [];
        }),
      },
    ];
  });
  const view: SlackMessageView = { ref, text: str(msg.text), attachments };
  const botId = str(msg.bot_id);
  if (botId) view.botId = botId;
  const appId = str(msg.app_id) || str(asRecord(msg.bot_profile)?.app_id);
  if (appId) view.appId = appId;
  const userId = str(msg.user);
  if (userId) view.userId = userId;
  return view;
}

/** Firing or resolved from an attachment colour, as Alertmanager, Grafana and Slack's echo spell them. */
export function statusFromColour(colour: string): 'firing' | 'resolved' | undefined {
  if (['danger', 'a30200', 'd63232', 'warning', 'daa038'].includes(colour)) return 'firing';
  if (['good', '2eb886', '36a64f'].includes(colour)) return 'resolved';
  return undefined;
}

/** Slack's `<url|label>` → url (the target is what an alert field means), `<url>` → url. */
export function slackLinkTarget(text: string): string {
  const m = /^<([^|>]+)(?:\|[^>]*)?>$/.exec(text.trim());
  return m ? m[1] : text.trim();
}
