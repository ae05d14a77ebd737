/**
 * Posts and keeps current the incident message and replies in its thread. Updates of one incident's message are
 * coalesced (the latest state wins) and posts are paced per channel, so a busy incident stays within Slack's limits.
 */
import type { WebClient } from '@slack/web-api';
import type { SharedLimitsPort } from '../exec/shared-limits';
import type { AlertStateTracker } from '../incident/alert-state';
import type { IncidentStore } from '../incident/store';
import type { Incident } from '../incident/types';
import type { Logger } from '../logger';
import type { RunbookRegistry } from '../runbook/load-runbooks';
import { truncate } from './blocks/format';
import { renderIncidentMessage, type SlackMessage } from './blocks/incident-message';
import { type PaceOptions, PostPacer } from './post-pacer';

export interface PresenterDeps {
  client: WebClient;
  store: IncidentStore;
  runbooks: Pick<RunbookRegistry, 'get' | 'action'>;
  logger: Logger;
  /** The label naming the host in the alert (default: the runbook binding's `hostLabel`, or `instance`). */
  hostLabel?(alertname: string): string;
  /** Hosts a user may pick for an incident whose alert names none (empty: none to pick). */
  hostChoices?(incident: Incident): string[];
  /** chat.postMessage pace per channel (config slack.postsPerSecond and slack.postBurst). */
  pace: {
    perSecond: number;
    burst: number /** Posts waiting per channel at most (slack.maxQueuedPosts); default 500. */;
    maxQueued?: number;
    /** Redis (limits.redis.url): the pace is shared with the other replicas. */
    shared?: SharedLimitsPort;
  };
  /** Alertmanager's view of each incident's alert, shown in the message's header; absent: not shown. */
  alertState?: Pick<AlertStateTracker, 'peek' | 'stale' | 'check'>;
  now?: () => Date;
}

export class IncidentPresenter {
  private readonly pacer: PostPacer;
  /**
   * incident id → refresh in flight, whether another is wanted after it, and whether every refresh asked for since
   * the last send was a background one (`low`: paced behind the channel's other posts).
   */
  private readonly refreshing = new Map<number, { again: boolean; low: boolean; done: Promise<void> }>();
  /** incident id → the incident message as last shown, so an update that would change nothing is not sent. */
  private readonly shown = new Map<number, string>();
  /** Slack calls under way, so close() can let them finish. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Set once close() has finished: the store may be closed next, so no update starts after it. */
  private closed = false;

  constructor(private readonly deps: PresenterDeps) {
    this.pacer = new PostPacer({ ...deps.pace, logger: deps.logger });
  }

  /** The incident message for the incident's current state. */
  render(incident: Incident): SlackMessage {
    const runbook = this.deps.runbooks.get(incident.alertname);
    return renderIncidentMessage(incident, {
      runbook,
      action: (id) => this.deps.runbooks.action(runbook, id),
      hostConfigured: incident.hostName !== undefined,
      hostLabel:
        this.deps.hostLabel?.(incident.alertname) ??
        this.deps.runbooks.get(incident.alertname)?.binding?.hostLabel ??
        'instance',
      hostChoices: incident.hostName ? undefined : this.deps.hostChoices?.(incident),
      alertState: this.deps.alertState?.peek(incident.id),
      now: this.deps.now?.(),
    });
  }

  /** Posts the incident message into the incident's thread and records its ts. */
  async post(incident: Incident): Promise<Incident> {
    const msg = this.render(incident);
    const res = await this.follow(
      this.paced(incident.channel, () =>
        this.deps.client.chat.postMessage({
          channel: incident.channel,
          thread_ts: incident.threadTs,
          text: msg.text,
          blocks: msg.blocks,
          unfurl_links: false,
        }),
      ),
    );
    this.shown.set(incident.id, fingerprintOf(msg));
    const posted = await this.deps.store.update(incident.id, { messageTs: res.ts as string });
    this.recheckAlert(posted);
    // A click or a repeat that came while the post was on its way found no message to update: catch up now (the
    // update is skipped when nothing changed).
    await this.update(incident.id);
    return posted;
  }

  /**
   * Re-renders the incident message from the store. Calls while one is in flight collapse into one more update, and
   * an update that would show the same message is not sent (an alert storm repeats alerts, not news). Alertmanager is
   * asked in the background when its last answer is stale (the update does not wait for it; a changed answer brings
   * one more update); with `recheckAlert` (the Refresh button) it is asked first. With `low` (the bot's background
   * work: a triage step finished), the update waits in the channel's pace behind every post that is not low, so a
   * storm's triages hold up no click's result; a refresh without it asked meanwhile makes the next update normal.
   */
  async refresh(incidentId: number, opts: { recheckAlert?: boolean; low?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    const incident = await this.deps.store.get(incidentId);
    if (incident && incident.status === 'open' && this.deps.alertState) {
      if (opts.recheckAlert) await this.deps.alertState.check(incident, { fresh: true });
      else this.recheckAlert(incident);
    }
    return this.update(incidentId, opts.low === true);
  }

  private recheckAlert(incident: Incident): void {
    const tracker = this.deps.alertState;
    if (!tracker || incident.status !== 'open' || !tracker.stale(incident.id)) return;
    // Followed, so close() waits for Alertmanager's answer and the update it brings.
    void this.follow(
      tracker.check(incident).then((r) => {
        if (r.changed) void this.update(incident.id);
      }),
    );
  }

  private update(incidentId: number, low = false): Promise<void> {
    if (this.closed) return Promise.resolve();
    const running = this.refreshing.get(incidentId);
    if (running) {
      running.again = true;
      running.low &&= low;
      return running.done;
    }
    // Registered before the loop starts: when nothing needs sending, the loop ends without awaiting anything and its
    // `finally` runs at once; an entry registered after that would never be removed.
    const entry = { again: false, low, done: Promise.resolve() };
    this.refreshing.set(incidentId, entry);
    entry.done = (async () => {
      try {
        do {
          entry.again = false;
          const low = entry.low;
          entry.low = true;
          const incident = await this.deps.store.get(incidentId);
          if (!incident?.messageTs) return;
          const { channel, messageTs } = incident;
          const send = async (msg: SlackMessage) => {
            const print = fingerprintOf(msg);
            if (this.shown.get(incidentId) === print) return;
            await this.deps.client.chat.update({ channel, ts: messageTs, text: msg.text, blocks: msg.blocks });
            this.shown.set(incidentId, print);
          };
          const msg = this.render(incident);
          if (this.shown.get(incidentId) === fingerprintOf(msg)) continue;
          // A low update is rendered again when its turn comes: after waiting for the pace it shows the state of then.
          const sent = low
            ? this.paced(channel, async () => send(this.render((await this.deps.store.get(incidentId)) ?? incident)), {
                low: true,
                key: `update:${channel}:${messageTs}`,
              })
            : send(msg);
          await sent.catch((err: unknown) =>
            this.deps.logger.warn({ err, incidentId }, 'could not update the incident message'),
          );
        } while (entry.again);
      } finally {
        this.refreshing.delete(incidentId);
      }
    })();
    return entry.done;
  }

  /**
   * Posts a message at the top of a channel (the alert the bot posts for a webhook alert, a manual incident's
   * opening line); returns its ts. Paced with the channel's other posts, so a webhook storm stays within Slack's limit.
   */
  async announce(channel: string, msg: Partial<SlackMessage> & { text: string }): Promise<string> {
    const res = await this.follow(
      this.paced(channel, () =>
        this.deps.client.chat.postMessage({
          channel,
          text: msg.text,
          blocks: msg.blocks ?? [{ type: 'section', text: { type: 'mrkdwn', text: truncate(msg.text, 3000) } }],
          unfurl_links: false,
        }),
      ),
    );
    return res.ts as string;
  }

  /**
   * A link to the incident's thread (the alert that opened it) or to its message; undefined when Slack cannot give
   * one: callers word their text without it rather than fail.
   */
  async permalink(incident: Incident, to: 'thread' | 'message' = 'thread'): Promise<string | undefined> {
    try {
      const ts = to === 'message' ? (incident.messageTs ?? incident.threadTs) : incident.threadTs;
      const res = await this.deps.client.chat.getPermalink({ channel: incident.channel, message_ts: ts });
      return res.permalink;
    } catch (err) {
      this.deps.logger.warn({ err, incidentId: incident.id }, 'chat.getPermalink failed');
      return undefined;
    }
  }

  /**
   * Posts a reply in the incident's thread; returns its ts. `msg` may be a function, read when the post goes (after
   * the channel's pace): a post that waited then carries what is true by then.
   */
  async reply(
    incident: Incident,
    message: (Partial<SlackMessage> & { text: string }) | (() => Partial<SlackMessage> & { text: string }),
    opts: { broadcast?: boolean; low?: boolean } = {},
  ): Promise<string> {
    const res = await this.follow(
      this.paced(
        incident.channel,
        () => {
          const msg = typeof message === 'function' ? message() : message;
          return this.deps.client.chat.postMessage({
            channel: incident.channel,
            thread_ts: incident.threadTs,
            text: msg.text,
            blocks: msg.blocks ?? [{ type: 'section', text: { type: 'mrkdwn', text: truncate(msg.text, 3000) } }],
            reply_broadcast: opts.broadcast === true,
            unfurl_links: false,
          });
        },
        { low: opts.low === true },
      ),
    );
    return res.ts as string;
  }

  /**
   * Posts a reply in another thread of the incident's channel (under a repeated alert's own message, say). `low`: it
   * waits behind every other post of this process in the channel (see PostPacer).
   */
  async replyAt(
    place: { channel: string; threadTs: string },
    msg: Partial<SlackMessage> & { text: string },
    opts: { low?: boolean } = {},
  ): Promise<string> {
    const res = await this.follow(
      this.paced(
        place.channel,
        () =>
          this.deps.client.chat.postMessage({
            channel: place.channel,
            thread_ts: place.threadTs,
            text: msg.text,
            blocks: msg.blocks ?? [{ type: 'section', text: { type: 'mrkdwn', text: truncate(msg.text, 3000) } }],
            unfurl_links: false,
          }),
        { low: opts.low === true },
      ),
    );
    return res.ts as string;
  }

  /**
   * Replaces a reply posted earlier (e.g. "running …" by its result). With `low` (the bot's own background message, a
   * triage's), the edit waits in the channel's pace behind every post that is not low, and waiting edits of the same
   * message collapse into the newest: in a storm they hold up no click's result. Without it, it is sent at once.
   * `message` may be a function, read when the edit goes: an edit that waited carries what is true by then.
   */
  async replace(
    incident: Incident,
    ts: string,
    message: (Partial<SlackMessage> & { text: string }) | (() => Partial<SlackMessage> & { text: string }),
    opts: { low?: boolean } = {},
  ): Promise<void> {
    const send = () => {
      const msg = typeof message === 'function' ? message() : message;
      return this.deps.client.chat.update({
        channel: incident.channel,
        ts,
        text: msg.text,
        blocks: msg.blocks ?? [{ type: 'section', text: { type: 'mrkdwn', text: truncate(msg.text, 3000) } }],
      });
    };
    await this.follow(
      opts.low ? this.paced(incident.channel, send, { low: true, key: `update:${incident.channel}:${ts}` }) : send(),
    );
  }

  /**
   * Uploads a file into the incident's thread (files.getUploadURLExternal → upload → files.completeUploadExternal):
   * text as `content`, or binary (a PNG) as `bytes`; `comment` is posted with it.
   */
  async upload(
    incident: Incident,
    file: { filename: string; title: string; comment?: string } & ({ content: string } | { bytes: Uint8Array }),
  ): Promise<void> {
    const common = {
      channel_id: incident.channel,
      thread_ts: incident.threadTs,
      filename: file.filename,
      title: file.title,
      ...(file.comment ? { initial_comment: file.comment } : {}),
    };
    await this.follow(
      this.deps.client.files.uploadV2(
        'bytes' in file ? { ...common, file: Buffer.from(file.bytes) } : { ...common, content: file.content },
      ),
    );
  }

  /** chat.postMessage allows about one message a second per channel, with short bursts: see PostPacer. */
  private paced<T>(channel: string, fn: () => Promise<T>, opts: PaceOptions = {}): Promise<T> {
    return this.pacer.schedule(channel, fn, opts);
  }

  /**
   * Forgets what it remembers of a closed incident (the message last shown), once its final state is shown: the map
   * would otherwise grow with every incident the bot ever had. A later refresh just sends the message once more.
   */
  forget(incidentId: number): void {
    if (!this.refreshing.has(incidentId)) this.shown.delete(incidentId);
  }

  /** How many incident messages it remembers (for tests and metrics). */
  remembered(): number {
    return this.shown.size;
  }

  /** Depth of the per-channel post queues, for metrics. */
  queued(): number {
    return this.pacer.queued();
  }

  /**
   * Lets posts, updates and refreshes under way finish (each call that finishes may start the next one of its step,
   * so it waits until none is left), then stops the per-channel queues, letting queued posts go out. Both waits
   * together take at most `ms`: a stop must not hang on Slack.
   */
  async close(ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      // A finished call's continuation may start another call in a later tick: look again after a turn of the loop.
      await new Promise<void>((r) => setImmediate(r));
      const busy = [...this.pending, ...[...this.refreshing.values()].map((r) => r.done)];
      const left = deadline - Date.now();
      if (busy.length === 0 || left <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(busy), new Promise<void>((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    const left = Math.max(0, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    const drained = this.pacer.drained();
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), left))),
    ]);
    clearTimeout(timer);
    if (timedOut) this.deps.logger.warn({ queued: this.queued() }, 'posts still queued at stop were not sent');
    // Dropping what still waits: a queue paced at one post a minute would otherwise keep the process up for minutes.
    await this.pacer.stop({ dropWaiting: true });
    this.closed = true;
  }

  private follow<T>(call: Promise<T>): Promise<T> {
    this.pending.add(call);
    const forget = () => void this.pending.delete(call);
    call.then(forget, forget);
    return call;
  }
}

/** What a message shows, as one comparable string. */
function fingerprintOf(msg: SlackMessage): string {
  return JSON.stringify([msg.text, msg.blocks]);
}
