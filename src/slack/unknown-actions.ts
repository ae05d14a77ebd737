/**
 * Clicks on a button no listener handles (an old message, a forged payload): acked, so Slack shows no error and does
 * not retry, and the user is told that nothing ran. Without this Bolt leaves the request unacknowledged for three
 * seconds and answers 404.
 */
import type { App, BlockAction } from '@slack/bolt';
import { PilotError } from '../errors';
import { unknownActionIdPattern } from './action-ids';
import { escapeMrkdwn, truncate } from './blocks/format';
import { type TellUserDeps, tellUser } from './tell-user';

/** Registers the catch-all for unknown action_ids. */
export function registerUnknownActions(app: App, deps: TellUserDeps): void {
  app.action<BlockAction>({ action_id: unknownActionIdPattern() }, async ({ ack, body, action, client }) => {
    await ack();
    const actionId = 'action_id' in action && typeof action.action_id === 'string' ? action.action_id : '';
    deps.logger.warn(
      { user: body.user?.id, channel: body.channel?.id, actionId: truncate(actionId, 80) },
      'click on a button the bot does not know; nothing ran',
    );
    const error = new PilotError(
      'STEP_UNKNOWN',
      `this button (\`${escapeMrkdwn(truncate(actionId, 60))}\`) is not one the bot knows; nothing ran`,
    );
    await tellUser(
      deps,
      client,
      { user: body.user.id, channel: body.channel?.id, threadTs: body.message?.thread_ts ?? body.message?.ts },
      error,
    );
  });
}
