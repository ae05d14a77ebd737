/**
 * A message typed by a person: `HaproxyServerDown instance=lb-1:9101 backend=web server=web2`.
 * The first word is the alertname, then `name=value` pairs (values may be quoted with "…", '…' or “…”).
 * A bare word `resolved` marks the alert resolved; anything else is firing.
 */
import { unescapeSlack } from './slack-message';

export interface PlainAlert {
  alertname: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
}

const NAME_EQ = /[A-Za-z_][A-Za-z0-9_]*=/y;
const RUN = /\S*/y;
const CLOSE: Record<string, string> = { '"': '"', "'": "'", '“': '”' };

type Token = { name: string; value: string } | { word: string };

/**
 * Splits a line into `name=value` pairs (values may be quoted with "…", '…' or “…”) and bare words, as
 * `/([A-Za-z_]\w*)=(?:"([^"]*)"|'([^']*)'|“([^”]*)”|(\S*))|(\S+)/g` would, in linear time: that regex rescans to the
 * end of the line for every `a="` without a closing quote.
 */
function tokens(line: string): Token[] {
  const out: Token[] = [];
  // From where on no closing quote of a kind is left: a later opening quote of that kind need not look again.
  const noCloseFrom: Record<string, number> = {};
  let pos = 0;
  while (pos < line.length) {
    if (/\s/.test(line[pos])) {
      pos++;
      continue;
    }
    NAME_EQ.lastIndex = pos;
    const name = NAME_EQ.exec(line);
    if (name) {
      const after = pos + name[0].length;
      const close = CLOSE[line[after]];
      if (close !== undefined && !(noCloseFrom[close] !== undefined && noCloseFrom[close] <= after + 1)) {
        const end = line.indexOf(close, after + 1);
        if (end >= 0) {
          out.push({ name: name[0].slice(0, -1), value: line.slice(after + 1, end) });
          pos = end + 1;
          continue;
        }
        noCloseFrom[close] = after + 1;
      }
      RUN.lastIndex = after;
      const value = (RUN.exec(line) as RegExpExecArray)[0];
      out.push({ name: name[0].slice(0, -1), value });
      pos = after + value.length;
      continue;
    }
    RUN.lastIndex = pos;
    const word = (RUN.exec(line) as RegExpExecArray)[0];
    out.push({ word });
    pos += word.length;
  }
  return out;
}

/** Slack's stored text: `<http://x|x>` → the label as typed, `<mailto:a@b|a@b>` likewise, `<url>` → url. */
function plainText(text: string): string {
  // `[^|<>]`, not `[^|>]`: a run of `<` without `>` would otherwise be rescanned from every `<` (quadratic).
  return unescapeSlack(text.replace(/<([^|<>]*)\|([^<>]*)>/g, '$2').replace(/<([^<>]*)>/g, '$1'));
}

/**
 * Parses the first line of a typed message; undefined unless its first word is an alertname that `knownAlert`
 * accepts, so ordinary chatter is ignored.
 */
export function parsePlainAlert(text: string, knownAlert: (alertname: string) => boolean): PlainAlert | undefined {
  const line = plainText(text).split('\n')[0].trim();
  const first = /^[*_~`]*([A-Za-z_][A-Za-z0-9_:]*)[*_~`]*(?:\s|$)/.exec(line);
  if (!first || !knownAlert(first[1])) return undefined;
  const alertname = first[1];
  const labels: Record<string, string> = {};
  let status: PlainAlert['status'] = 'firing';
  for (const t of tokens(line.slice(first[0].length))) {
    if ('word' in t) {
      if (/^\W*resolved\W*$/i.test(t.word)) status = 'resolved';
      continue;
    }
    if (t.name === 'alertname') continue;
    labels[t.name] = t.value;
  }
  return { alertname, status, labels: { alertname, ...labels } };
}
