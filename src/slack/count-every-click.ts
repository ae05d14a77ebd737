/**
 * Every click counts against the user's per-minute limit (issue #19 §8): buttons of every kind (steps, checklist
 * steps, footer buttons, host pickers, buttons the bot does not know), submitted forms and `/incident` commands,
 * refused ones too. Before, a checklist click or a click refused further on cost nothing, so 20 checklist clicks with
 * `clicksPerMinute: 3` all wrote the timeline. Counted here, once, before any listener runs; a step click is not
 * counted again when it is scheduled (HostLimiter's `countClicksOnSchedule: false`). Over the limit nothing runs: the
 * request is acknowledged and the user told how long to wait.
 */
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { errorText } from './blocks/error-text';
import { type TellUserDeps, tellUser } from './tell-user';

export interface CountEveryClickDeps extends TellUserDeps {
  scheduler: { countClick(user: string): void | Promise<void> };
}

/** Who clicked, submitted or typed, and where: from a Slack payload, or undefined for anything else (events). */
export function clickOf(body: unknown): { user: string; channel?: string; threadTs?: string } | undefined {
  const b = (body ?? {}) as Record<string, unknown>;
  if (b.type === 'block_actions' || b.type === 'view_submission') {
    const user = (b.user as { id?: unknown } | undefined)?.id;
    if (typeof user !== 'string') return undefined;
    const channel = (b.channel as { id?: unknown } | undefined)?.id;
    const threadTs = (b.message as { thread_ts?: unknown } | undefined)?.thread_ts;
    return {
      user,
      ...(typeof channel === 'string' ? { channel } : {}),
      ...(typeof threadTs === 'string' ? { threadTs } : {}),
    };
  }
  if (typeof b.command === 'string' && typeof b.user_id === 'string')
    return { user: b.user_id, ...(typeof b.channel_id === 'string' ? { channel: b.channel_id } : {}) };
  return undefined;
}

/** The global middleware: counts the click, or acknowledges it, tells the user and stops it. */
export function countEveryClick(deps: CountEveryClickDeps): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const click = clickOf(args.body);
    if (!click) return args.next();
    try {
      await deps.scheduler.countClick(click.user);
    } catch (err) {
      const ack = (args as { ack?: () => Promise<void> }).ack;
      await ack?.();
      const respond = (args as { respond?: (m: { response_type: 'ephemeral'; text: string }) => Promise<unknown> })
        .respond;
      // A command is answered as commands are (its response_url); a click or a form in the channel it came from.
      if (respond && 'command' in (args.body as object)) {
        await respond({ response_type: 'ephemeral', text: errorText(err).text }).catch(() => undefined);
        return;
      }
      await tellUser(deps, (args as unknown as { client: WebClient }).client, click, err);
      return;
    }
    await args.next();
  };
}
