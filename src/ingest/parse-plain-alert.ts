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

const TOKEN = /([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|“([^”]*)”|(\S*))|(\S+)/g;

/** Slack's stored text: `<http://x|x>` → the label as typed, `<mailto:a@b|a@b>` likewise, `<url>` → url. */
function plainText(text: string): string {
  return unescapeSlack(text.replace(/<([^|>]*)\|([^>]*)>/g, '$2').replace(/<([^>]*)>/g, '$1'));
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
  for (const m of line.slice(first[0].length).matchAll(TOKEN)) {
    if (m[6] !== undefined) {
      if (/^\W*resolved\W*$/i.test(m[6])) status = 'resolved';
      continue;
    }
    if (m[1] === 'alertname') continue;
    labels[m[1]] = m[2] ?? m[3] ?? m[4] ?? m[5] ?? '';
  }
  return { alertname, status, labels: { alertname, ...labels } };
}
