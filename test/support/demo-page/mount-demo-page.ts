/**
 * The demo page: a small web page on the Slack stand-in's own server that shows the incident channel (messages,
 * threads, Block Kit, ephemerals, files, modals) and lets a person click buttons, submit modals, run the slash
 * command and fire alerts. Every click goes to the bot as the stand-in delivers it in tests: a signed request to the
 * bot's real endpoint. No build step: one HTML file and one script, rendering done here on the server.
 *
 *   const slack = new SlackStandIn({ channels: { C0DEMOINC1: 'incidents' } });
 *   await slack.start({ port: 3100 });
 *   const page = mountDemoPage(slack, { channel: 'C0DEMOINC1', runbooks: () => [...], hostsStatus: () => ({ ready: true }) });
 *   console.log(`Demo: ${page.url}`);
 *
 * Routes: GET / (the page), GET /demo/page.js, GET /demo/state (JSON snapshot), GET /demo/view (rendered HTML for
 * the page), GET /demo/files/<id>, POST /demo/click | /demo/submit | /demo/close | /demo/fire | /demo/slash.
 * POSTs must be `application/json`, so another web site open in the same browser cannot send them without a CORS
 * preflight, which this server never grants.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { EphemeralMessage, SlackMessage, SlackStandIn, SlackView, UploadedFile } from '../slack-standin';
import { alertmanagerSlackMessage, type FiredAlert } from './alertmanager-slack-message';
import { asJson, type Json, list } from './render-blocks';
import {
  type ChannelRenderContext,
  type ChannelView,
  type FileView,
  localSlackHref,
  renderChannel,
  renderModal,
} from './render-channel';
import { type ModalFormValues, viewStateValues } from './view-state-values';

export type { FiredAlert } from './alertmanager-slack-message';

/** A person the page can act as. */
export interface DemoUser {
  id: string;
  name: string;
  /** Shown in the picker: why this user is there. */
  role: string;
}

/** The two demo users: the bot's demo config should let the first mitigate and not the second. */
export const DEMO_USERS: readonly DemoUser[] = [
  { id: 'U0ONCALL01', name: 'olivia.oncall', role: 'on-call, may mitigate' },
  { id: 'U0INTERN01', name: 'ivan.intern', role: 'intern, may not mitigate' },
];

/** A loaded runbook as the fire form offers it. */
export interface DemoRunbook {
  alertname: string;
  /** The alert's label names (the binding's `labels`), pre-filled in the form. */
  labels?: string[];
  /** Example values for the labels; DEMO_LABEL_EXAMPLES is used when absent. */
  example?: Record<string, string>;
}

/** Label values that make the demo's test hosts answer (haproxy on 127.0.0.1:9101 with backend web). */
export const DEMO_LABEL_EXAMPLES: Record<string, Record<string, string>> = {
  HaproxyServerDown: {
    backend: 'web',
    instance: '127.0.0.1:9101',
    job: 'haproxy',
    server: 'web2',
    severity: 'critical',
  },
};

/** Whether the local test hosts (sshd, haproxy) run; `message` says what is missing and how to install it. */
export interface HostsStatus {
  ready: boolean;
  message?: string;
}

export interface DemoPageOptions {
  /** The incident channel: shown first, and where alerts fired from the page are posted by default. */
  channel: string;
  users?: readonly DemoUser[];
  runbooks?: () => DemoRunbook[] | Promise<DemoRunbook[]>;
  /** Fires an alert; by default Alertmanager's default Slack message is posted in `channel` (see alertmanagerSlackMessage). */
  fireAlert?: (alert: FiredAlert) => Promise<void>;
  hostsStatus?: () => HostsStatus | Promise<HostsStatus>;
  /** The slash command the page's command box sends (default `/incident`). */
  command?: string;
  /** The bot's display name (default `runbook-pilot`). */
  botName?: string;
}

/** What GET /demo/state answers: the channel as the user sees it, plus the page's side panel. */
export interface DemoState {
  user: DemoUser;
  users: readonly DemoUser[];
  channels: Array<{ id: string; name: string; messages: Array<SlackMessage & { replies: SlackMessage[] }> }>;
  ephemerals: EphemeralMessage[];
  modal: SlackView | null;
  files: Array<{
    id: string;
    filename: string;
    title?: string;
    size: number;
    url: string;
    channel?: string;
    thread_ts?: string;
  }>;
  runbooks: DemoRunbook[];
  hosts: HostsStatus;
}

/** The mounted page. */
export interface DemoPage {
  /** The page's address (valid once the stand-in has started). */
  readonly url: string;
  /** The same snapshot as GET /demo/state. */
  state(userId?: string): Promise<DemoState>;
}

const PAGE_DIR = __dirname;
const MAX_BODY = 1024 * 1024;
/** Defence in depth behind the escaping: no inline or foreign script can run on the page. */
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' http: https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";
/** Prometheus' label name syntax; values are free text (the bot validates them, and trying odd ones is the point). */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Mounts the demo page on the stand-in's server. Registers the demo users (and their DM channels) with the stand-in. */
export function mountDemoPage(slack: SlackStandIn, opts: DemoPageOptions): DemoPage {
  const users = opts.users ?? DEMO_USERS;
  const command = opts.command ?? '/incident';
  const botName = opts.botName ?? 'runbook-pilot';
  for (const u of users) {
    slack.setUser({ id: u.id, name: u.name, real_name: u.name });
    // The bot tells a user things in a DM (chat.postMessage to the user id); the stand-in accepts named channels only.
    if (!slack.channelNames()[u.id]) slack.setChannel(u.id, `dm-${u.name}`);
  }
  const html = readFileSync(join(PAGE_DIR, 'page.html'), 'utf8');
  const script = readFileSync(join(PAGE_DIR, 'page-client.js'), 'utf8');
  /** Modals the page closed (submitted, cancelled, cleared); the open modal is the newest view not in here. */
  const closed = new Set<string>();
  /** Views a submission replaced with response_action update/push, by view id, with a revision for the page. */
  const replaced = new Map<string, { view: Json; revision: number }>();
  const fire =
    opts.fireAlert ??
    (async (alert: FiredAlert) => void (await slack.postAlertMessage(opts.channel, alertmanagerSlackMessage(alert))));

  const userOf = (id: unknown): DemoUser => users.find((u) => u.id === id) ?? users[0];
  const fileView = (f: UploadedFile): FileView => {
    const image = isImage(f.bytes);
    const text = !image && isText(f.bytes) ? truncateText(f.bytes.toString('utf8'), 20_000) : undefined;
    return { filename: f.filename, title: f.title, url: `/demo/files/${f.id}`, image, text, size: f.bytes.length };
  };
  const openModal = (): { view: SlackView & Json; key: string } | null => {
    const view = slack
      .views()
      .filter((v) => !closed.has(v.id))
      .pop();
    if (!view) return null;
    const over = replaced.get(view.id);
    const shown = (over ? { ...view, ...over.view, id: view.id } : view) as SlackView & Json;
    return { view: shown, key: `${view.id}:${view.hash}:${over?.revision ?? 0}` };
  };
  const renderContext = (): ChannelRenderContext => {
    const names = slack.channelNames();
    const known = new Map(slack.knownUsers().map((u) => [u.id, u.name]));
    const files = new Map(slack.files().map((f) => [f.id, f]));
    return {
      userName: (id) => known.get(id) ?? (id === slack.workspace.botUserId ? botName : undefined),
      channelName: (id) => names[id],
      localHref: (url) => localSlackHref(url, slack.workspace.teamDomain),
      botId: slack.workspace.botId,
      botName,
      file: (id) => {
        const f = files.get(id);
        return f && fileView(f);
      },
      time: (ts) => new Date(Number(ts.split('.')[0]) * 1000).toTimeString().slice(0, 8),
    };
  };
  const channelViews = (user: DemoUser): ChannelView[] => {
    const names = slack.channelNames();
    const dmIds = new Set(users.map((u) => u.id));
    const ids = [
      opts.channel,
      ...Object.keys(names).filter((id) => id !== opts.channel && (!dmIds.has(id) || id === user.id)),
    ];
    return ids
      .map((id) => ({
        id,
        name: id === user.id ? `direct messages to ${user.name}` : (names[id] ?? id.toLowerCase()),
        messages: slack.model
          .history(id)
          .map((message) => ({ message, replies: slack.thread(id, message.ts).slice(1) })),
        ephemerals: slack.ephemerals({ channel: id, user: user.id }),
      }))
      .filter((c) => c.id === opts.channel || c.messages.length || c.ephemerals.length);
  };
  const runbooks = async (): Promise<DemoRunbook[]> =>
    (await (opts.runbooks?.() ?? [])).map((r) => ({ ...r, example: r.example ?? DEMO_LABEL_EXAMPLES[r.alertname] }));
  const hosts = async (): Promise<HostsStatus> => (await opts.hostsStatus?.()) ?? { ready: true };

  const state = async (userId?: string): Promise<DemoState> => {
    const user = userOf(userId);
    return {
      user,
      users,
      channels: channelViews(user).map((c) => ({
        id: c.id,
        name: c.name,
        messages: c.messages.map((m) => ({ ...m.message, replies: m.replies })),
      })),
      ephemerals: slack.ephemerals({ user: user.id }),
      modal: openModal()?.view ?? null,
      files: slack.files().map((f) => ({
        id: f.id,
        filename: f.filename,
        title: f.title,
        size: f.bytes.length,
        url: `/demo/files/${f.id}`,
        channel: f.channel_id,
        thread_ts: f.thread_ts,
      })),
      runbooks: await runbooks(),
      hosts: await hosts(),
    };
  };

  const view = async (userId: string | null) => {
    const user = userOf(userId);
    const ctx = renderContext();
    const modal = openModal();
    return {
      user: user.id,
      users,
      command,
      channelsHtml: channelViews(user)
        .map((c) => renderChannel(c, ctx))
        .join(''),
      modal: modal && { key: modal.key, id: modal.view.id, html: renderModal(modal.view, ctx) },
      runbooks: await runbooks(),
      hosts: await hosts(),
    };
  };

  const actions: Record<string, (body: Json) => Promise<Json>> = {
    '/demo/click': async (body) => {
      const user = userOf(body.user);
      const channel = String(body.channel ?? '');
      const messageTs = String(body.messageTs ?? '');
      const actionId = String(body.actionId ?? '');
      const message = body.ephemeral
        ? ephemeralAsMessage(slack, channel, messageTs)
        : slack.message(channel, messageTs);
      if (!message) throw new DemoError(404, `no message ${messageTs} in ${channel}`);
      // The button is looked up in the message as it is now, so the page cannot click what the bot did not send.
      const button = findButton(message.blocks, typeof body.blockId === 'string' ? body.blockId : undefined, actionId);
      if (!button)
        throw new DemoError(
          409,
          `the message has no button ${actionId} any more (it was updated); the page will refresh`,
        );
      const delivery = await slack.clickButton({
        user: { id: user.id, username: user.name, name: user.name },
        channel,
        messageTs,
        actionId,
        blockId: button.blockId,
        // The stand-in would take the first button with this action_id in any block; this one is in the clicked block.
        ...(button.value !== undefined ? { value: button.value } : {}),
        ...(body.ephemeral ? { message } : {}),
      });
      return botAnswer(delivery.status);
    },
    '/demo/submit': async (body) => {
      const user = userOf(body.user);
      const open = openModal();
      if (!open || open.view.id !== body.viewId) throw new DemoError(409, 'this modal is no longer open');
      const values = viewStateValues(open.view.blocks, formValues(body.values));
      const over = replaced.get(open.view.id);
      const delivery = await slack.submitView({
        user: { id: user.id, username: user.name, name: user.name },
        viewId: open.view.id,
        values,
        ...(over ? { view: over.view as Partial<SlackView> } : {}),
      });
      if (delivery.status !== 200) return botAnswer(delivery.status);
      const answer = asJson(delivery.body);
      switch (answer.response_action) {
        case 'errors':
          return { ok: true, errors: errorsByIndex(open.view.blocks, asJson(answer.errors)) };
        case 'update':
        case 'push':
          // A pushed view would stack on top in Slack; showing it in place is enough for trying a runbook.
          replaced.set(open.view.id, { view: asJson(answer.view), revision: (over?.revision ?? 0) + 1 });
          return { ok: true };
        case 'clear':
          for (const v of slack.views()) closed.add(v.id);
          return { ok: true };
        default:
          closed.add(open.view.id);
          return { ok: true };
      }
    },
    '/demo/close': async (body) => {
      closed.add(String(body.viewId ?? ''));
      return { ok: true };
    },
    '/demo/fire': async (body) => {
      const alert = firedAlert(body);
      await fire(alert);
      return { ok: true };
    },
    '/demo/slash': async (body) => {
      const user = userOf(body.user);
      const text = String(body.text ?? '');
      const delivery = await slack.slashCommand({
        command,
        text,
        userId: user.id,
        userName: user.name,
        channelId: opts.channel,
      });
      if (delivery.status !== 200) return botAnswer(delivery.status);
      // Slack shows the immediate answer to a command like a response_url message: ephemeral unless in_channel.
      const answer = typeof delivery.body === 'string' ? { text: delivery.body } : asJson(delivery.body);
      const answerText = typeof answer.text === 'string' ? answer.text : undefined;
      const blocks = Array.isArray(answer.blocks) ? answer.blocks : undefined;
      if (answerText || blocks) {
        if (answer.response_type === 'in_channel') {
          const ws = slack.workspace;
          slack.model.add({
            type: 'message',
            ts: nextTs(),
            channel: opts.channel,
            user: ws.botUserId,
            bot_id: ws.botId,
            app_id: ws.appId,
            text: answerText ?? '',
            ...(blocks ? { blocks } : {}),
          });
        } else {
          slack.model.addEphemeral({
            channel: opts.channel,
            user: user.id,
            message_ts: nextTs(),
            text: answerText,
            blocks,
          });
        }
      }
      return { ok: true };
    },
  };

  slack.addHttpHandler(async (req, res, { url, body }) => {
    const path = url.pathname;
    try {
      if (req.method === 'GET') {
        if (path === '/' || path === '/demo')
          return send(res, 200, 'text/html; charset=utf-8', html, { 'Content-Security-Policy': PAGE_CSP });
        if (path === '/demo/page.js') return send(res, 200, 'text/javascript; charset=utf-8', script);
        if (path === '/demo/state') return sendJson(res, 200, await state(url.searchParams.get('user') ?? undefined));
        if (path === '/demo/view') return sendJson(res, 200, await view(url.searchParams.get('user')));
        const file = /^\/demo\/files\/([A-Z0-9]+)$/.exec(path);
        if (file) {
          const f = slack.files().find((x) => x.id === file[1]);
          if (!f) return send(res, 404, 'text/plain', 'no such file');
          return send(res, 200, contentType(f), f.bytes, {
            'Content-Disposition': `inline; filename="${f.filename.replace(/[^\w.-]/g, '_')}"`,
          });
        }
        return false;
      }
      const action = req.method === 'POST' ? actions[path] : undefined;
      if (!action) return false;
      if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
        throw new DemoError(415, 'send JSON (Content-Type: application/json)');
      if (body.length > MAX_BODY) throw new DemoError(413, 'request too large');
      return sendJson(res, 200, await action(asJson(JSON.parse(body.toString('utf8') || '{}'))));
    } catch (err) {
      if (err instanceof DemoError) return sendJson(res, err.status, { ok: false, error: err.message });
      return sendJson(res, 500, { ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  });

  return {
    get url() {
      return `${slack.baseUrl}/`;
    },
    state,
  };
}

/** An error the page shows as it is. */
class DemoError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function botAnswer(status: number): Json {
  // Bolt answers 200 once the listener acked; anything else means the bot failed or refused the request.
  return status === 200 ? { ok: true } : { ok: false, error: `the bot answered HTTP ${status}: see the bot's log` };
}

/** Validates what the fire form sent: label names as Prometheus allows them, values as free text. */
function firedAlert(body: Json): FiredAlert {
  const alertname = typeof body.alertname === 'string' ? body.alertname.trim() : '';
  if (!alertname) throw new DemoError(400, 'alertname is empty');
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(asJson(body.labels))) {
    if (!LABEL_NAME.test(name))
      throw new DemoError(400, `label name "${name}" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)`);
    if (typeof value !== 'string' || value.length > 1024)
      throw new DemoError(400, `label ${name} must be text of at most 1024 characters`);
    labels[name] = value;
  }
  labels.alertname = alertname;
  return { alertname, labels, status: body.status === 'resolved' ? 'resolved' : 'firing' };
}

function formValues(raw: unknown): ModalFormValues {
  const out: ModalFormValues = {};
  for (const [k, v] of Object.entries(asJson(raw))) out[k] = (Array.isArray(v) ? v : [v]).map(String);
  return out;
}

/** response_action errors name block ids; the page places them by input block index. */
function errorsByIndex(blocks: unknown, errors: Json): Record<string, string> {
  const out: Record<string, string> = {};
  list(blocks).forEach((b, i) => {
    if (typeof b.block_id === 'string' && typeof errors[b.block_id] === 'string') out[i] = errors[b.block_id] as string;
  });
  const unplaced = Object.keys(errors).filter((id) => !list(blocks).some((b) => b.block_id === id));
  if (unplaced.length) out.form = unplaced.map((id) => `${id}: ${String(errors[id])}`).join('; ');
  return out;
}

/** The button with this action_id, in the given block when the page knows it (action_ids repeat across blocks). */
function findButton(
  blocks: unknown,
  blockId: string | undefined,
  actionId: string,
): { blockId?: string; value?: string } | undefined {
  for (const block of list(blocks)) {
    if (blockId !== undefined && block.block_id !== blockId) continue;
    const elements = [...list(block.elements), ...(block.accessory ? [asJson(block.accessory)] : [])];
    const button = elements.find((e) => e.type === 'button' && e.action_id === actionId);
    if (button)
      return {
        blockId: typeof block.block_id === 'string' ? block.block_id : undefined,
        value: typeof button.value === 'string' ? button.value : undefined,
      };
  }
  return undefined;
}

function ephemeralAsMessage(slack: SlackStandIn, channel: string, ts: string): SlackMessage | undefined {
  const e = slack.ephemerals({ channel }).find((x) => x.message_ts === ts);
  if (!e) return undefined;
  const ws = slack.workspace;
  return {
    type: 'message',
    ts,
    channel,
    user: ws.botUserId,
    bot_id: ws.botId,
    text: e.text ?? '',
    ...(e.blocks ? { blocks: e.blocks as SlackMessage['blocks'] } : {}),
    ...(e.thread_ts ? { thread_ts: e.thread_ts } : {}),
  };
}

let lastTs = 0;
/** A message ts for what the page itself adds (slash command answers), increasing like Slack's. */
function nextTs(): string {
  lastTs = Math.max(Date.now() * 1000, lastTs + 1);
  return `${Math.floor(lastTs / 1e6)}.${String(lastTs % 1e6).padStart(6, '0')}`;
}

function isImage(bytes: Buffer): boolean {
  const png = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  const gif = bytes.subarray(0, 4).toString('latin1') === 'GIF8';
  return png || jpeg || gif;
}

function isText(bytes: Buffer): boolean {
  return !bytes.subarray(0, 4096).includes(0);
}

function contentType(f: UploadedFile): string {
  if (f.bytes.subarray(0, 4).toString('latin1') === '\x89PNG') return 'image/png';
  if (f.bytes[0] === 0xff && f.bytes[1] === 0xd8) return 'image/jpeg';
  if (f.bytes.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  // Never text/html or SVG: an uploaded file must not run as a page on this origin.
  return isText(f.bytes) ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}

function truncateText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (${text.length - max} more characters: open the file)`;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): true {
  res
    .writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    })
    .end(body);
  return true;
}

function sendJson(res: ServerResponse, status: number, body: unknown): true {
  return send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}
