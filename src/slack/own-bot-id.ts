/**
 * The bot's own bot id, so the message listener ignores what the bot itself posted. Asked of Slack (auth.test) once
 * and kept; a failed ask is not kept, so the next message asks again, and until then no message is taken for the
 * bot's own (an unknown id ignores nothing).
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger';

/** A function giving the bot's own id, asked once (again after a failure); undefined while Slack cannot say. */
export function ownBotId(
  client: { auth: Pick<WebClient['auth'], 'test'> },
  logger: Logger,
): () => Promise<string | undefined> {
  let asked: Promise<string | undefined> | undefined;
  return () => {
    asked ??= client.auth.test().then(
      (r) => r.bot_id,
      (err: unknown) => {
        asked = undefined;
        logger.warn({ err }, 'auth.test failed: cannot tell the bot’s own messages yet');
        return undefined;
      },
    );
    return asked;
  };
}
