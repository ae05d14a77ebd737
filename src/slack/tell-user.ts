/**
 * The one way the bot tells one user something only they should see: why their click, command or form did nothing.
 * In the channel (and thread) they acted in, as an ephemeral message; by DM when there is no such channel (a modal
 * submitted from nowhere) or Slack will not show an ephemeral there (the bot left the channel, say), so the answer
 * is never lost. The text is the error's user text (an internal error is logged under the id it shows), escaped
 * like any text the bot did not write. It never throws: a failure to tell is logged.
 */
import type { WebClient } from '@slack/web-api';
import { errorText } from './blocks/error-text';

export interface TellUserDeps {
  logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** Who to tell, and where they acted (when known). */
export interface UserPlace {
  user: string;
  channel?: string;
  threadTs?: string;
}

/** Tells `place.user` why something did nothing (`err`: a PilotError, or anything thrown). */
export async function tellUser(
  deps: TellUserDeps,
  client: Pick<WebClient, 'chat'>,
  place: UserPlace,
  err: unknown,
): Promise<void> {
  // Rendered from the error's structured details (who may, who holds the lock); its message may quote an alert's
  // labels or a user's input, so it is escaped like any text the bot did not write.
  const { text, logId } = errorText(err);
  if (logId) deps.logger.error({ logId, err }, 'internal error shown to the user');
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
