/**
 * The one way the bot tells one user something only they should see: why their click, command or form did nothing.
 * In the channel (and thread) they acted in, as an ephemeral message; by DM when there is no such channel (a modal
 * submitted from nowhere) or Slack will not show an ephemeral there (the bot left the channel, say), so the answer
 * is never lost. The text is the error's user text (an internal error is logged under the id it shows), escaped
 * like any text the bot did not write. It never throws: a failure to tell is logged.
 */
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config/schema';
import { userText } from '../errors';
import { escapeErrorText } from './blocks/format';

export interface TellUserDeps {
  logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Mentions of the configured groups stay mentions; other markup in the text is escaped. */
  config?: Pick<Config, 'access'>;
}

/** Who to tell, and where they acted (when known). */
export interface UserPlace {
  user: string;
  channel?: string;
  threadTs?: string;
}

/** Text a renderer already made (and escaped) from a structured outcome, e.g. a refusal naming who may. */
export interface RenderedNotice {
  kind: 'rendered';
  text: string;
}

/** Tells `place.user` why something did nothing (`err`: a PilotError, anything thrown, or a rendered notice). */
export async function tellUser(deps: TellUserDeps, client: Pick<WebClient, 'chat'>, place: UserPlace, err: unknown): Promise<void> {
  // Error text may quote an alert's labels or a user's input: escaped like any text the bot did not write.
  const text = isRendered(err) ? err.text : escapeErrorText(userText(err, deps.logger).text, deps.config?.access);
  const { user, channel, threadTs } = place;
  if (channel) {
    try {
      await client.chat.postEphemeral({ channel, user, text, ...(threadTs ? { thread_ts: threadTs } : {}) });
      return;
    } catch (e) {
      deps.logger.warn({ err: e, user, channel }, 'could not post an ephemeral answer; sending it by DM');
    }
  }
  // A DM: chat.postMessage to a user id posts in the bot's direct conversation with them.
  await client.chat.postMessage({ channel: user, text }).then(
    () => undefined,
    (e: unknown) => deps.logger.warn({ err: e, user }, 'could not tell the user'),
  );
}

function isRendered(v: unknown): v is RenderedNotice {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'rendered' && typeof (v as { text?: unknown }).text === 'string';
}
