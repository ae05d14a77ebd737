/** Small text helpers shared by the Block Kit builders. */

/** `2026-11-25 03:12 UTC`: incidents last past midnight, so the date is always shown. */
export function formatUtc(iso: string | undefined): string {
  if (!iso) return 'unknown time';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return 'unknown time';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `1.2 s`, `350 ms`, `3 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSec = Math.round(ms / 1000);
  if (totalSec < 3600) return `${Math.floor(totalSec / 60)} min ${totalSec % 60} s`;
  return `${Math.floor(totalSec / 3600)} h ${Math.floor((totalSec % 3600) / 60)} min`;
}

/** Where a text goes: a `mrkdwn` text object or message `text`, or a `plain_text` object, a file's title or content. */
export type SlackTextContext = 'mrkdwn' | 'plain_text';

/**
 * U+2060 WORD JOINER: invisible, and it breaks the patterns Slack turns into pings (`@here`, `@name` under
 * `link_names` or a mrkdwn text's automatic parsing) while the text reads the same.
 */
const JOINER = '\u2060';

/**
 * The one escaping function for text the bot did not write (alert labels, annotations, URLs, expressions, error
 * text, user notes) on its way into Slack. Nothing in it can become Slack markup that pings or disguises a link:
 *
 * - `mrkdwn`: Slack's documented escaping of `&`, `<` and `>` (so `<!channel>`, `<!here>`, `<!everyone>`, `<@U…>`,
 *   `<#C…>`, `<!subteam^…>` and `<url|disguised text>` show as typed), and a bare `@here`, `@channel`, `@name` or
 *   `#channel-name` at the start of a word, which Slack's automatic parsing (`verbatim: false`, the default) or
 *   `link_names` may turn into a mention or a channel link, gets an invisible joiner after the sign.
 * - `plain_text`: Slack shows the characters as they are (entities would show as `&lt;`), so nothing is
 *   entity-escaped; a `<` that starts a control sequence and a bare `@word` still get the joiner, so the text stays
 *   inert if it is ever copied into a mrkdwn context or a file Slack previews.
 *
 * Control characters other than newline and tab are dropped: they have no place in a message and can hide text.
 */
export function escapeSlackText(text: string, context: SlackTextContext = 'mrkdwn', opts: EscapeOptions = {}): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const clean = String(text).replace(/[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '');
  // Only where Slack would see a mention: at the start of a word (`user@host` and `#12` stay as they are).
  const unpinged = clean.replace(/(?<![\p{L}\p{N}_.+-])(@(?=[\p{L}\p{N}_])|#(?=\p{L}))/gu, `$1${JOINER}`);
  if (context === 'plain_text') return unpinged.replace(/<(?=[!@#]|[A-Za-z][A-Za-z0-9+.-]*:)/g, `<${JOINER}`);
  const escaped = unpinged.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const allowed = opts.mentions;
  if (!allowed?.size) return escaped;
  // Exactly `<@U…>` or `<!subteam^S…>` (no label) of an id the config names: the bot's own words about who may act.
  return escaped.replace(/&lt;(@|!subteam\^)\u2060?([A-Z][A-Z0-9]{2,})&gt;/g, (m, sign: string, id: string) =>
    allowed.has(id) ? `<${sign}${id}>` : m,
  );
}

export interface EscapeOptions {
  /**
   * Slack ids (users, user groups) whose plain mention may stay a mention: the people the config names (access
   * lists), which error text quotes on purpose ("only @sre may"). Anything else stays inert.
   */
  mentions?: ReadonlySet<string>;
}

/** The ids the config's access lists name: the only mentions error text may keep (see {@link EscapeOptions}). */
export function configMentions(
  access:
    | ({ mitigate?: readonly string[]; hosts?: Readonly<Record<string, readonly string[]>> } & Record<string, unknown>)
    | undefined,
): Set<string> {
  const ids = new Set<string>();
  if (!access) return ids;
  for (const value of Object.values(access)) {
    const lists = Array.isArray(value) ? [value] : value && typeof value === 'object' ? Object.values(value) : [];
    for (const list of lists) if (Array.isArray(list)) for (const id of list) if (typeof id === 'string') ids.add(id);
  }
  return ids;
}

/** Error text for a Slack user (it may quote alert labels or user input): escaped, keeping mentions of configured people. */
export function escapeErrorText(text: string, access?: Parameters<typeof configMentions>[0]): string {
  return escapeSlackText(text, 'mrkdwn', { mentions: configMentions(access) });
}

/** {@link escapeSlackText} for a mrkdwn context (the common case). */
export function escapeMrkdwn(text: string): string {
  return escapeSlackText(text, 'mrkdwn');
}

/** {@link escapeSlackText} for a plain_text context: headers, buttons, modal titles, file titles and contents. */
export function escapePlain(text: string): string {
  return escapeSlackText(text, 'plain_text');
}

/**
 * A URL from an alert (`runbook_url`, a graph link) as mrkdwn: a link only for http(s), and the URL's host is always
 * shown, so `<https://evil.example|Runbook>` cannot pose as something else: as the link text, or after `label` (the
 * runbook's name: `<…|HaproxyServerDown> (wiki.example.com)`). Anything else is shown as inert text.
 */
export function safeLink(url: string | undefined, label?: string): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return `\`${escapeMrkdwn(truncate(url.replace(/`/g, "'"), 200))}\` (not a link)`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `\`${escapeMrkdwn(truncate(url.replace(/`/g, "'"), 200))}\` (not a link: only http and https are)`;
  // Inside <…> Slack reads `|` as the start of the label and needs &, <, > escaped; the URL parser encodes the rest.
  const target = parsed.href.replace(/\|/g, '%7C').replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E');
  if (target.length > 2000) return `\`${escapeMrkdwn(truncate(parsed.host, 200))}\` (link too long to show)`;
  if (label?.trim()) return `<${target}|${escapeMrkdwn(truncate(label.trim(), 100))}> (${escapeMrkdwn(parsed.host)})`;
  return `<${target}|${escapeMrkdwn(parsed.host)}>`;
}

/** Inline code for text the bot did not write: escaped, and a backtick cannot end the code span early. */
export function inlineCode(text: string): string {
  return `\`${escapeMrkdwn(text.replace(/`/g, "'")) || ' '}\``;
}

/** Cuts text to `max` characters (Block Kit limits), marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** A code block safe for mrkdwn: backtick fences inside the text are broken up so they cannot close it. */
export function codeBlock(text: string, max: number): string {
  const safe = escapeMrkdwn(text.replace(/```/g, '`\u200b``'));
  const body = safe.length + 8 > max ? `${safe.slice(0, max - 9)}…` : safe;
  const fence = '```';
  return `${fence}\n${body.length ? body : ' '}\n${fence}`;
}
