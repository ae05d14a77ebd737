/**
 * The one reply of a step in its thread: a progress notice, then the result, posted once and edited after that.
 *
 * A notice the result overtakes is never posted. "running …" waits `noticeDelayMs` before it is shown, so a command
 * that answers sooner shows its result in one post, not a post and an edit (on Slack each is a round trip of
 * 100 ms or more, longer than a status check takes). And a post still waiting for the channel's pace carries the
 * newest content when it goes: a result that came while "queued" waited is posted instead of it.
 */
import type { Logger } from '../logger';
import type { SlackMessage } from './blocks/incident-message';

/** A command that answers within this shows its result directly, without a "running …" notice first. */
export const RUNNING_NOTICE_DELAY_MS = 1000;

export type ReplyMessage = Partial<SlackMessage> & { text: string };

export interface StepReplyDeps {
  /** Posts the reply; `msg` is read when the post goes (after the channel's pace). Resolves with its ts. */
  post(msg: () => ReplyMessage): Promise<string>;
  /** Replaces the posted reply. */
  replace(ts: string, msg: ReplyMessage): Promise<void>;
  logger: Pick<Logger, 'warn'>;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (timer: unknown) => void;
}

export class StepReply {
  private latest?: ReplyMessage;
  /** Bumped at each new content; `shown` is the version Slack has. */
  private version = 0;
  private shown = 0;
  private posted?: Promise<string | undefined>;
  private edits: Promise<void> = Promise.resolve();
  private timer?: unknown;
  private finished = false;

  constructor(
    private readonly deps: StepReplyDeps,
    private readonly noticeDelayMs = RUNNING_NOTICE_DELAY_MS,
  ) {}

  /** Shows a notice now (e.g. "queued, 3 ahead"). */
  notice(msg: ReplyMessage): void {
    if (this.finished) return;
    this.cancelTimer();
    this.set(msg);
    void this.flush();
  }

  /**
   * Shows a notice after the delay, unless the result comes first; at once when a reply is already in the thread
   * (it then says something else that is no longer true). `onShown` runs when it is shown.
   */
  noticeLater(msg: ReplyMessage, onShown?: () => void): void {
    if (this.finished) return;
    this.cancelTimer();
    const show = () => {
      this.timer = undefined;
      if (this.finished) return;
      this.set(msg);
      void this.flush();
      onShown?.();
    };
    if (this.posted) {
      show();
      return;
    }
    this.timer = (this.deps.setTimeout ?? setTimeout)(show, this.noticeDelayMs);
  }

  /** Shows the result; resolves once Slack has it (or could not take it: that is logged). */
  async finish(msg: ReplyMessage): Promise<void> {
    this.finished = true;
    this.cancelTimer();
    this.set(msg);
    await this.flush(true);
  }

  private set(msg: ReplyMessage): void {
    this.latest = msg;
    this.version++;
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    (this.deps.clearTimeout ?? ((t: unknown) => clearTimeout(t as NodeJS.Timeout)))(this.timer);
    this.timer = undefined;
  }

  /** The first call posts; later ones edit, in order, each sending the newest content unless Slack has it already. */
  private flush(final = false): Promise<void> {
    this.posted ??= this.post();
    this.edits = this.edits.then(async () => {
      let ts = await this.posted;
      if (!ts && final) {
        // The first post failed (Slack down a moment): the result is worth one more try as a new reply.
        this.posted = this.post();
        ts = await this.posted;
      }
      if (!ts || this.shown === this.version) return;
      const version = this.version;
      await this.deps.replace(ts, this.current()).then(
        () => {
          this.shown = Math.max(this.shown, version);
        },
        (err: unknown) => this.deps.logger.warn({ err }, 'could not update the step reply'),
      );
    });
    return this.edits;
  }

  /** The newest content: every post and edit comes after a first show(), which sets it. */
  private current(): ReplyMessage {
    if (!this.latest) throw new Error('StepReply: nothing to post before the first show()');
    return this.latest;
  }

  private post(): Promise<string | undefined> {
    return this.deps
      .post(() => {
        this.shown = this.version;
        return this.current();
      })
      .catch((err: unknown) => {
        this.shown = 0;
        this.deps.logger.warn({ err }, 'could not post the step reply');
        return undefined;
      });
  }
}
