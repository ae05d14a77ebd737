/**
 * Reads what the bot sends to Slack the way Slack reads it, and lists every ping (`<!channel>`, `<!here>`,
 * `<!everyone>`, `<!subteam^…>`, `<@U…>` other than the allowed users, `<#C…>`, a bare `@name` that automatic parsing
 * or link_names may ping) and every link whose words are not its own host (a disguised link). Used by the unit table
 * of hostile strings and by the end-to-end security tests on what the Slack stand-in received.
 */

/** Users the bot itself may mention (the people who clicked in the tests). */
const ALLOWED_USERS = new Set(['U0ONCALL01', 'U0INTERN01']);

/** One thing Slack would turn into a ping or a disguised link, with where it was found. */
export type Finding = string;

/** Reads mrkdwn as Slack does and lists every ping and every link whose words are not its own host or URL. */
export function mrkdwnFindings(text: string, where: string): Finding[] {
  const out: Finding[] = [];
  for (const m of text.matchAll(/<([^<>]*)>/g)) {
    const inner = m[1];
    const bar = inner.indexOf('|');
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : undefined;
    if (target.startsWith('@')) {
      if (!ALLOWED_USERS.has(target.slice(1)) || label !== undefined) out.push(`${where}: user mention ${m[0]}`);
    } else if (target.startsWith('!') || target.startsWith('#')) {
      out.push(`${where}: special mention or channel link ${m[0]}`);
    } else {
      let url: URL | undefined;
      try {
        url = new URL(target.replace(/&amp;/g, '&'));
      } catch {
        out.push(`${where}: not a URL in a link ${m[0]}`);
        continue;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') out.push(`${where}: ${url.protocol} link ${m[0]}`);
      // The bot's own permalinks (`<…slack.com/archives/…|thread>`) are the one link whose words are not its host.
      const permalink = url.host.endsWith('.slack.com') && url.pathname.startsWith('/archives/');
      // A named link (the runbook's name) is fine when its real host follows it at once: `<…|name> (host)`.
      const hostAfter = text.startsWith(` (${url.host})`, (m.index ?? 0) + m[0].length);
      if (label !== undefined && label !== url.host && !permalink && !hostAfter)
        out.push(`${where}: link text ${JSON.stringify(label)} is not its host ${url.host}`);
    }
  }
  out.push(...bareMentions(text.replace(/<[^<>]*>/g, ' ')).map((b) => `${where}: bare mention ${b}`));
  return out;
}

/** `@here`, `@channel`, `@everyone`, `@name` at the start of a word: what automatic parsing and link_names ping. */
function bareMentions(text: string): string[] {
  return [...text.matchAll(/(?<![\p{L}\p{N}_.+-])@[\p{L}\p{N}_]+/gu)]
    .map((m) => m[0])
    .filter((m) => !ALLOWED_USERS.has(m.slice(1)));
}

/** Plain text is shown as it is: a control sequence or a bare mention in it must already be broken. */
export function plainFindings(text: string, where: string): Finding[] {
  const out: Finding[] = [];
  if (/<[!@#]/.test(text)) out.push(`${where}: control sequence in plain text ${JSON.stringify(text.slice(0, 80))}`);
  out.push(...bareMentions(text).map((b) => `${where}: bare mention ${b}`));
  return out;
}

/** Walks a rendered value: text objects by their type, everything else named by the caller. */
export function blockFindings(value: unknown, where: string): Finding[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => blockFindings(v, `${where}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  const o = value as Record<string, unknown>;
  const out: Finding[] = [];
  if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') {
    out.push(...(o.type === 'mrkdwn' ? mrkdwnFindings(o.text, where) : plainFindings(o.text, where)));
  }
  for (const [k, v] of Object.entries(o)) if (typeof v === 'object') out.push(...blockFindings(v, `${where}.${k}`));
  return out;
}

/** Every text field of a recorded Slack Web API call (or response_url body): message text, blocks, views, files. */
export function callFindings(args: Record<string, unknown>, where: string): Finding[] {
  const out: Finding[] = [];
  for (const key of ['text', 'initial_comment'])
    if (typeof args[key] === 'string') out.push(...mrkdwnFindings(args[key] as string, `${where}.${key}`));
  if (typeof args.title === 'string') out.push(...plainFindings(args.title, `${where}.title`));
  for (const key of ['blocks', 'view', 'attachments']) {
    let v = args[key];
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v) as unknown;
      } catch {
        /* not JSON: a plain value, nothing to walk */
      }
    }
    out.push(...blockFindings(v, `${where}.${key}`));
  }
  if (Array.isArray(args.files))
    for (const f of args.files as Array<{ title?: unknown }>)
      if (typeof f?.title === 'string') out.push(...plainFindings(f.title, `${where}.files.title`));
  return out;
}
