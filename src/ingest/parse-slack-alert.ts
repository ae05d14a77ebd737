/**
 * Slack `message` event → alerts, recognised by content: a bot's message with attachments from Alertmanager
 * (default templates or a community template) or Grafana, or a person's message naming a known alert.
 * Pure: everything it needs to know about runbooks and hosts comes in through `opts`.
 */
import type { Alert, AlertMessageRef, AlertSource, AlertStatus } from './alert';
import { labelsFingerprint } from './fingerprint';
import { parseAlertmanagerTitle, type TitleOptions, titleAlertnameCandidates } from './parse-alertmanager-title';
import { looksLikeLabelListText, parseLabelListText } from './parse-label-list-text';
import { parsePlainAlert } from './parse-plain-alert';
import { looksLikeTemplateText, parseGoLabelMaps, parseTemplateText, type TextAlert } from './parse-template-text';
import { type SlackAttachmentView, type SlackMessageView, slackMessageView, statusFromColour } from './slack-message';

export interface SlackAlertOptions extends TitleOptions {
  /** Bot, app and user ids whose messages are alerts (`slack.alertSenders`); undefined: any bot's message. */
  alertSenders?: readonly string[];
  /** True when a runbook exists for the alertname; a typed message is an alert only then. Default: none is. */
  knownAlert?: (alertname: string) => boolean;
}

export interface ParsedSlackAlert {
  alerts: Alert[];
  ref: AlertMessageRef;
  /** Set when a person (not an alert sender) typed it: the incident is recorded under this user id. */
  postedBy?: string;
  /** Why a person's message was not applied (it said "resolved"): to tell them, not to act on. */
  refused?: string;
}

/**
 * Who posted a message, as far as alerts go: an alert sender (read as alerts, firing and resolved), a person (may open
 * an incident for a known runbook, never resolve one) or neither (another bot, when `alertSenders` is set).
 */
export type SenderKind = { kind: 'alert-sender' } | { kind: 'person'; user: string } | { kind: 'ignored' };

/**
 * Classifies the poster of a message view. Without `alertSenders` (undefined) every bot's message is an alert
 * sender's, as Alertmanager's and Grafana's are; with it, only the listed bot, app or user ids are.
 */
export function senderOf(
  view: Pick<SlackMessageView, 'botId' | 'appId' | 'userId'>,
  alertSenders?: readonly string[],
): SenderKind {
  if (alertSenders === undefined) {
    if (view.botId) return { kind: 'alert-sender' };
  } else {
    if ([view.botId, view.appId, view.userId].some((id) => id !== undefined && alertSenders.includes(id)))
      return { kind: 'alert-sender' };
    if (view.botId) return { kind: 'ignored' };
  }
  return view.userId ? { kind: 'person', user: view.userId } : { kind: 'ignored' };
}

interface Draft {
  alertname: string;
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL?: string;
  missingLabels?: string[];
  groupSize?: number;
}

function finish(d: Draft, source: AlertSource, opts: SlackAlertOptions): Alert {
  const labels: Record<string, string> = { ...d.labels, alertname: d.alertname };
  const learned = opts.learnedLabelNames?.(d.alertname) ?? [];
  const declared = opts.labelNames?.(d.alertname) ?? learned[learned.length - 1] ?? [];
  const missing = new Set(d.missingLabels ?? []);
  for (const n of declared) if (labels[n] === undefined) missing.add(n);
  const order = [...declared, ...[...missing].filter((n) => !declared.includes(n))];
  const alert: Alert = {
    alertname: d.alertname,
    status: d.status,
    labels,
    annotations: d.annotations,
    fingerprint: labelsFingerprint(labels),
    source,
    missingLabels: order.filter((n) => missing.has(n) && labels[n] === undefined),
  };
  if (d.generatorURL) alert.generatorURL = d.generatorURL;
  if (d.groupSize !== undefined) alert.groupSize = d.groupSize;
  return alert;
}

/** `[FIRING:N]`-shaped text: the subject of Alertmanager's default title (also Grafana's). */
const SUBJECT = /^\s*\[(?:FIRING|RESOLVED)(?::\d+)?(?:,\s*RESOLVED:\d+)?\]/;

/**
 * The labels two readings agree on: a label only one gives is taken, one they give different values is left out
 * (a missing label is better than a wrong one). `dropped` collects the names left out.
 */
function agree(a: Record<string, string>, b: Record<string, string>, dropped: Set<string>): Record<string, string> {
  const out: Record<string, string> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (dropped.has(k)) continue;
    if (out[k] === undefined) out[k] = v;
    else if (out[k] !== v) {
      delete out[k];
      dropped.add(k);
    }
  }
  return out;
}

/** Words of the message that a loaded runbook names: evidence of the alert name when nothing else gives it. */
function runbookNamesIn(texts: readonly string[], opts: SlackAlertOptions): string[] {
  if (!opts.knownAlert) return [];
  const found = new Set<string>();
  for (const t of texts)
    for (const w of t.split(/[^A-Za-z0-9_:]+/)) if (w.length > 0 && w.length <= 200 && opts.knownAlert(w)) found.add(w);
  return [...found];
}

/** The alert name the label lists give, when they agree; a loaded runbook's wins over one that names none. */
function nameFromBlocks(blocks: readonly TextAlert[], opts: SlackAlertOptions): string | undefined {
  const names = new Set(
    blocks.flatMap((b) => (b.labels.alertname && /^\S+$/.test(b.labels.alertname) ? [b.labels.alertname] : [])),
  );
  if (names.size === 1) return [...names][0];
  const known = [...names].filter((n) => opts.knownAlert?.(n));
  return known.length === 1 ? known[0] : undefined;
}

/**
 * When no runbook knows any word a default title may hold its alert name in, the other parts' labels can rule words
 * out: a word the message shows as another label's value (`backend: web`) is that label's, not the alert's name
 * (under a group_by without alertname, `[FIRING:1] web web2 (HaproxyServerDown …)`). Undefined unless one is left.
 */
function nameByValues(
  subjectText: string,
  blocks: readonly TextAlert[],
  maps: ReadonlyArray<Record<string, string>>,
  opts: SlackAlertOptions,
): string | undefined {
  const candidates = titleAlertnameCandidates(subjectText);
  if (candidates.length < 2 || candidates.some((c) => opts.knownAlert?.(c) || opts.labelNames?.(c) !== undefined))
    return undefined;
  const values = new Set(
    [...blocks.map((b) => b.labels), ...maps].flatMap((l) =>
      Object.entries(l).flatMap(([k, v]) => (k === 'alertname' ? [] : [v])),
    ),
  );
  const left = candidates.filter((c) => !values.has(c));
  return left.length === 1 && left.length < candidates.length ? left[0] : undefined;
}

/**
 * Reads one attachment whatever the template: every part (title, the fallback that keeps Alertmanager's default
 * title, pretext, text, fields) is read, and what they say is merged by agreement. The message stands for as many
 * alerts as its largest sign says (`[FIRING:N]`, blocks, label maps, a label listed several times); it is split into
 * one alert per block only when there are exactly that many blocks, each with its own labels; otherwise one alert
 * stands for all of them, with only the labels every part agrees on and that they share (the title's common labels).
 */
function fromAttachment(a: SlackAttachmentView, opts: SlackAlertOptions): Alert[] {
  // The fallback (`<title> | <link>`) keeps Alertmanager's default title even under a custom title, with its
  // trailing space (which tells a `...` grouping from a common part in parentheses; Slack may trim the title).
  const fallbackTitle = a.fallback.split(' | ')[0];
  // Alertmanager's subject ends in `)` (the common part) or in a space (none): a fallback that ends otherwise is a
  // custom one (`[FIRING:1] prod Cluster Alerting`), whose words are no label values.
  const fallbackIsSubject = SUBJECT.test(fallbackTitle) && /[) ]$/.test(fallbackTitle);
  const titleIsSubject =
    SUBJECT.test(a.title) &&
    (fallbackIsSubject ? fallbackTitle.trimEnd() === a.title.trimEnd() : !SUBJECT.test(fallbackTitle));
  const subjectText = fallbackIsSubject ? fallbackTitle : titleIsSubject ? a.title : undefined;
  const grafana = a.footer.startsWith('Grafana') || /^\*\*(Firing|Resolved)\*\*$/m.test(a.text);

  const text = [a.pretext, a.text].filter((t) => t.length > 0).join('\n');
  const fromList = looksLikeLabelListText(text);
  // Per-alert blocks: Grafana's label lists, or the `*Alert:*` blocks of a template ranging over the alerts (the text
  // before the first is not an alert's); a text without `*Alert:*` is one block.
  const textBlocks = fromList ? parseLabelListText(text) : looksLikeTemplateText(text) ? parseTemplateText(text) : [];
  const opened = textBlocks.filter((b) => b.opened);
  const blocks = (opened.length > 0 ? opened : textBlocks).filter(
    (b) => Object.keys(b.labels).length > 0 || b.alertnameHint !== undefined || opened.length > 0,
  );
  const maps = fromList ? [] : parseGoLabelMaps(text);

  // The alert name: from the label lists, then the default title read under it, then a runbook named in the message.
  const hints = new Set(blocks.flatMap((b) => (b.alertnameHint ? [b.alertnameHint] : [])));
  let listed = nameFromBlocks(blocks, opts);
  // The default title holds the alert name first in one of its parts: a listed name it cannot hold disagrees with it.
  if (listed !== undefined && subjectText !== undefined && !titleAlertnameCandidates(subjectText).includes(listed))
    listed = undefined;
  if (listed === undefined && hints.size === 1 && subjectText !== undefined) {
    // `*Alert:* <word>` is an alert name only where the default title can hold it as one.
    const [hint] = hints;
    if (parseAlertmanagerTitle(subjectText, { ...opts, alertname: hint })?.alertname === hint) listed = hint;
  }
  if (listed === undefined && subjectText !== undefined) listed = nameByValues(subjectText, blocks, maps, opts);
  let subject =
    subjectText !== undefined ? parseAlertmanagerTitle(subjectText, { ...opts, alertname: listed }) : undefined;
  if (
    subject &&
    listed === undefined &&
    subject.alertname !== undefined &&
    opts.knownAlert &&
    !opts.knownAlert(subject.alertname)
  ) {
    // The title's first word names no runbook: one named elsewhere in the message (or in the title) reads it instead.
    const named = runbookNamesIn([a.title, fallbackTitle, text, ...a.fields.map((f) => f.value)], opts);
    if (named.length === 1 && subjectText !== undefined) {
      const again = parseAlertmanagerTitle(subjectText, { ...opts, alertname: named[0] });
      if (again?.alertname) subject = again;
    }
  }
  const customTitle = !titleIsSubject ? /^\s*\[(FIRING|RESOLVED)(?::(\d+))?/.exec(a.title) : null;
  let alertname = listed ?? subject?.alertname;
  if (alertname === undefined) {
    const named = runbookNamesIn([a.title, fallbackTitle, text, ...a.fields.map((f) => f.value)], opts);
    if (named.length === 1) alertname = named[0];
    else if (hints.size === 1 && !opts.knownAlert) alertname = [...hints][0];
  }

  const status =
    subject?.status ??
    (customTitle ? (customTitle[1] === 'FIRING' ? 'firing' : 'resolved') : undefined) ??
    statusFromColour(a.color);
  // `[FIRING:N]` counts the firing alerts; blocks, label maps and a label listed several times are signs too.
  const explicit = subject?.groupSize ?? (customTitle?.[2] !== undefined ? Number(customTitle[2]) : undefined);
  const count = Math.max(1, explicit ?? 0, blocks.length, maps.length, ...blocks.map((b) => b.repeats ?? 1));
  const source: AlertSource = grafana
    ? 'grafana'
    : blocks.length > 0 || maps.length > 0
      ? 'alertmanager-template'
      : 'alertmanager-slack';
  const dropped = new Set<string>();
  // The title's labels are the notification's common labels: right for every alert it stands for.
  const common: Record<string, string> = subject?.alertname === alertname ? { ...subject?.labels } : {};
  delete common.alertname;
  // Fields confirm (or contradict) a label they name; their values are often reformatted (`| title`), so they fill
  // nothing in themselves.
  const confirmByFields = (labels: Record<string, string>) => {
    for (const f of a.fields) {
      const name = f.title.trim().toLowerCase();
      const v = labels[name];
      if (v === undefined || name === 'alertname') continue;
      const value = f.value
        .replace(/:[^\s:]+:/g, '')
        .trim()
        .toLowerCase();
      if (value !== '' && value !== v.toLowerCase()) {
        delete labels[name];
        dropped.add(name);
      }
    }
  };
  confirmByFields(common);

  // Blocks are one per alert only when there are as many as the message's count says, alike (one template ranging
  // over the alerts lists the same label names for each); otherwise no block's labels are given to an alert.
  const alike = (list: ReadonlyArray<Record<string, string>>) =>
    list.every((l) => Object.keys(l).length > 0 && Object.keys(l).sort().join() === Object.keys(list[0]).sort().join());
  const countsAgree = (n: number) => n === count && (explicit === undefined || explicit === n);
  const perAlert: Array<{ labels: Record<string, string>; block?: TextAlert }> | undefined =
    countsAgree(blocks.length) && alike(blocks.map((b) => b.labels))
      ? blocks.map((b) => ({ labels: b.labels, block: b }))
      : countsAgree(maps.length) && alike(maps)
        ? maps.map((m) => ({ labels: m }))
        : undefined;
  const distinct =
    perAlert !== undefined &&
    new Set(perAlert.map((p) => JSON.stringify(Object.entries(p.labels).sort()))).size === perAlert.length;

  // A `[RESOLVED]` title does not count its alerts: a text may show one of several. Where the default title is there,
  // a single block's value is taken only if the title shows it too (a label the alerts do not share is not in it).
  const subjectWords =
    subjectText !== undefined ? ` ${subjectText.replace(/^\s*\[[^\]]*\]/, '').replace(/[()]/g, ' ')} ` : undefined;
  // A label the block itself lists with different values disagrees with every other part: no part may fill it in.
  const withoutConflicts = (merged: Record<string, string>, block: TextAlert | undefined, d: Set<string>) => {
    for (const k of block?.conflicting ?? []) {
      delete merged[k];
      d.add(k);
    }
    return merged;
  };
  const withOneBlock = (
    base: Record<string, string>,
    labels: Record<string, string>,
    d: Set<string>,
    block?: TextAlert,
  ) => {
    const merged = withoutConflicts(agree(base, labels, d), block, d);
    if (subjectWords !== undefined)
      for (const [k, v] of Object.entries(merged))
        if (base[k] === undefined && k !== 'alertname' && !subjectWords.includes(` ${v} `)) {
          delete merged[k];
          d.add(k);
        }
    return merged;
  };
  const make = (labels: Record<string, string>, block: TextAlert | undefined, name: string, missing: string[]) => {
    const own = { ...labels };
    delete own.alertname;
    return finish(
      {
        alertname: name,
        status: block?.status ?? status ?? 'firing',
        labels: own,
        annotations: block?.annotations ?? {},
        generatorURL: block?.generatorURL,
        missingLabels: missing,
        groupSize: count,
      },
      source,
      opts,
    );
  };
  if (!status && !blocks.some((b) => b.status)) return [];
  // Nothing but an alert name (Alertmanager's thread summary parent, `FIRING (2) → RESOLVED: HaproxyServerDown`) is a
  // headline, not a notification: its alerts are in the replies.
  if (subjectText === undefined && !customTitle && blocks.length === 0 && maps.length === 0) return [];

  if (perAlert && distinct) {
    return perAlert.flatMap(({ labels, block }) => {
      const name = block?.labels.alertname ?? alertname;
      if (!name || (block?.labels.alertname === undefined && alertname === undefined)) return [];
      const d = new Set(dropped);
      const base = name === alertname ? common : {};
      const merged =
        count === 1 ? withOneBlock(base, labels, d, block) : withoutConflicts(agree(base, labels, d), block, d);
      confirmByFields(merged);
      const alert = make(merged, block, name, [...d]);
      // One alert: the default title names exactly it, so Alertmanager or the open incidents can complete it.
      if (count === 1 && subjectText !== undefined && !grafana) alert.subject = subjectText;
      return [alert];
    });
  }
  if (!alertname) return [];
  // One alert for all of them: the common labels, plus what a single block says when the message is one alert.
  let labels = common;
  if (count === 1 && blocks.length === 1) labels = withOneBlock(common, blocks[0].labels, dropped, blocks[0]);
  // Several alerts shown as one: a label any block lists with different values is not the alerts' common one.
  for (const b of blocks) withoutConflicts(labels, b, dropped);
  if (count === 1 && blocks.length === 0 && maps.length === 1) labels = withOneBlock(common, maps[0], dropped);
  confirmByFields(labels);
  const alert = make(labels, count === 1 ? blocks[0] : undefined, alertname, [
    ...dropped,
    ...(subject?.missingLabels ?? []),
  ]);
  if (count > 1) alert.standsFor = count;
  if (subjectText !== undefined && !grafana) alert.subject = subjectText;
  return [alert];
}

/**
 * Recognises an alert in a Slack `message` event (the `event` of an event_callback) and returns its alerts and
 * the message to thread under; null for anything else (chatter, deletions, a bot message without attachments).
 * Never throws on malformed input.
 */
export function parseSlackAlertMessage(event: unknown, opts: SlackAlertOptions = {}): ParsedSlackAlert | null {
  const view = slackMessageView(event);
  if (!view) return null;
  const sender = senderOf(view, opts.alertSenders);
  if (sender.kind === 'ignored') return null;
  if (sender.kind === 'alert-sender' && (view.botId || view.attachments.length > 0)) {
    if (view.attachments.length === 0) return null;
    const alerts = view.attachments.flatMap((a) => fromAttachment(a, opts));
    // A Graph link's `g0.expr` is queried with the bot's Prometheus credentials and the picture posted: any bot could
    // have written it unless the senders are listed. Unlisted, the graph uses the binding's `query:` or the expression
    // Alertmanager's API gives for the alert (completion fills it in).
    if (opts.alertSenders === undefined) for (const a of alerts) delete a.generatorURL;
    return alerts.length > 0 ? { alerts, ref: view.ref } : null;
  }
  const plain = parsePlainAlert(view.text, opts.knownAlert ?? (() => false));
  if (!plain) return null;
  const alert = finish({ ...plain, annotations: {} }, 'plain', opts);
  if (sender.kind === 'alert-sender') return { alerts: [alert], ref: view.ref };
  // A person may open an incident (for a known runbook: parsePlainAlert checked), under their name; only an alert
  // sender's message resolves one.
  if (alert.status === 'resolved') {
    return {
      alerts: [],
      ref: view.ref,
      postedBy: sender.user,
      refused: `a typed message does not resolve an incident: use \`/incident resolve <id>\`, or let the alert resolve it`,
    };
  }
  return { alerts: [alert], ref: view.ref, postedBy: sender.user };
}
