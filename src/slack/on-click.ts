/**
 * The one shape of a click listener: acknowledged at once (Slack wants it within 3 s, the work comes after), a child
 * logger that names the action and the user, the place to answer the clicker, and one error path: whatever the
 * handler throws is told to the clicker alone (ephemeral where they clicked; an internal error as "see logs (id …)",
 * logged under that id with the click's logger).
 */
import type { AllMiddlewareArgs, BlockAction, BlockElementAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger';
import { tellUser, type UserPlace } from './tell-user';

/** A click as a listener sees it. */
export interface Click<A extends BlockElementAction> {
  body: BlockAction<A>;
  action: A;
  client: WebClient;
  user: string;
  /** Where the clicker is answered: their channel and thread. */
  place: UserPlace;
  /** The bot's logger with the action id, the user and the channel. */
  log: Logger;
}

/** Wraps a click handler: ack, child logger, place, and the one error path. */
export function onClick<A extends BlockElementAction>(
  deps: { logger: Logger },
  handle: (click: Click<A>) => Promise<void>,
): (args: SlackActionMiddlewareArgs<BlockAction<A>> & AllMiddlewareArgs) => Promise<void> {
  return async ({ ack, body, action, client }) => {
    await ack();
    const user = body.user.id;
    const place: UserPlace = { user, channel: body.channel?.id, threadTs: body.message?.thread_ts };
    const log = deps.logger.child({ actionId: action.action_id, user, channel: place.channel });
    try {
      await handle({ body, action, client, user, place, log });
    } catch (err) {
      await tellUser({ logger: log }, client, place, err);
    }
  };
}
