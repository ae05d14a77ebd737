/**
 * Slack mrkdwn → safe HTML, for the demo page: *bold*, _italic_, ~strike~, `code`, ```code blocks```, > quotes,
 * <url|text> links, <@U…> mentions, <#C…> channels, <!here> and friends. Emoji shortcodes stay as text. Pure.
 *
 * Senders escape &, < and > as &amp; &lt; &gt; (Slack's rule), so a raw `<` always starts a control sequence. Text is
 * decoded from Slack's escaping and then HTML-escaped; markup is only ever produced by this module.
 */
import { escapeHtml, safeUrl } from './escape-html';

/** Names for ids that mentions carry. */
export interface MrkdwnContext {
  userName(id: string): string | undefined;
  channelName(id: string): string | undefined;
  /**
   * Where a link into the stand-in's own workspace (a message permalink, a file) leads on the page, if it is one:
   * an in-page anchor or a /demo/files/ path. Those links would lead to a Slack that does not exist.
   */
  localHref?(url: string): string | undefined;
}

/** Private-use characters delimit placeholders; input can never contain them (they are replaced first). */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const PLACEHOLDER = new RegExp(`${OPEN}(\\d+)${CLOSE}`, 'g');

/** Text Slack shows without formatting (attachment titles, footers): its &, <, > escapes undone, then HTML-escaped. */
export function renderSlackPlain(text: unknown): string {
  return escapeHtml(decode(String(text ?? '')));
}

/** Renders one mrkdwn text as HTML (inline content; code blocks and quotes become block elements). */
export function renderMrkdwn(text: string, ctx: MrkdwnContext): string {
  const tokens: string[] = [];
  const hold = (html: string) => `${OPEN}${tokens.push(html) - 1}${CLOSE}`;

  let s = String(text).replace(/[\uE000\uE001]/g, '\uFFFD');
  // Code first: nothing inside code is formatting. Slack still shows a link's text inside code.
  s = s.replace(/```\n?([\s\S]*?)\n?```/g, (_m, code: string) =>
    hold(`<pre class="code">${escapeHtml(decode(plainSequences(code, ctx)))}</pre>`),
  );
  s = s.replace(/`([^`\n]+)`/g, (_m, code: string) =>
    hold(`<code>${escapeHtml(decode(plainSequences(code, ctx)))}</code>`),
  );
  s = s.replace(/<([^<>\n]+)>/g, (_m, inner: string) => hold(renderSequence(inner, ctx)));
  s = escapeHtml(decode(s));
  s = s.replace(/(^|[\s(>_~])\*(?=\S)([^*\n]*?\S)\*(?=$|[\s).,;:!?_~<'"])/gm, '$1<b>$2</b>');
  s = s.replace(/(^|[\s(>*~])_(?=\S)([^_\n]*?\S)_(?=$|[\s).,;:!?*~<'"])/gm, '$1<i>$2</i>');
  s = s.replace(/(^|[\s(>*_])~(?=\S)([^~\n]*?\S)~(?=$|[\s).,;:!?*_<'"])/gm, '$1<s>$2</s>');
  s = quotes(s);
  s = s.replace(/\n/g, '<br>');
  // Placeholders may nest (a link inside a bold run is fine; code never holds placeholders of its own).
  return s.replace(PLACEHOLDER, (_m, i: string) => tokens[Number(i)]);
}

/** `<…>` control sequences: links, user and channel mentions, special mentions, dates. */
function renderSequence(inner: string, ctx: MrkdwnContext): string {
  const bar = inner.indexOf('|');
  const target = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? inner.slice(bar + 1) : undefined;
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return `<span class="mention">@${escapeHtml(decode(label ?? ctx.userName(id) ?? id))}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return `<span class="mention">#${escapeHtml(decode(label ?? ctx.channelName(id) ?? id))}</span>`;
  }
  if (target.startsWith('!'))
    return `<span class="mention">${escapeHtml(decode(specialMention(target.slice(1), label)))}</span>`;
  const local = ctx.localHref?.(decode(target));
  if (local !== undefined && /^(#[\w-]+|\/demo\/files\/[A-Z0-9]+)$/.test(local))
    return `<a href="${escapeHtml(local)}">${escapeHtml(decode(label ?? target))}</a>`;
  const url = safeUrl(decode(target));
  if (!url) return escapeHtml(decode(`<${inner}>`));
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(decode(label ?? url))}</a>`;
}

function specialMention(name: string, label: string | undefined): string {
  if (label) return label.startsWith('@') || name.startsWith('date') ? label : `@${label}`;
  if (name.startsWith('subteam^')) return `@${name.slice('subteam^'.length)}`;
  return `@${name}`;
}

/** What a control sequence shows as plain text (inside code). */
function plainSequences(text: string, ctx: MrkdwnContext): string {
  return text.replace(/<([^<>\n]+)>/g, (_m, inner: string) => {
    const bar = inner.indexOf('|');
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : undefined;
    if (target.startsWith('@')) return `@${label ?? ctx.userName(target.slice(1)) ?? target.slice(1)}`;
    if (target.startsWith('#')) return `#${label ?? ctx.channelName(target.slice(1)) ?? target.slice(1)}`;
    if (target.startsWith('!')) return specialMention(target.slice(1), label);
    return label ?? target;
  });
}

/** Lines starting with `>` (already HTML-escaped to `&gt;`) become one quote per run of lines. */
function quotes(html: string): string {
  const out: string[] = [];
  let quote: string[] = [];
  const flush = () => {
    if (quote.length) out.push(`<blockquote>${quote.join('\n')}</blockquote>`);
    quote = [];
  };
  for (const line of html.split('\n')) {
    const m = /^&gt; ?(.*)$/.exec(line);
    if (m) quote.push(m[1]);
    else {
      flush();
      out.push(line);
    }
  }
  flush();
  // A quote is a block: the newline that ended it must not add an empty line after it.
  return out.join('\n').replace(/<\/blockquote>\n/g, '</blockquote>');
}

/** Undoes Slack's escaping of &, < and >. */
export function decode(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
