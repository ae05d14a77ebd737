/**
 * Clicks on a button no listener handles (an old message, a forged payload): acked, so Slack shows no error and does
 * not retry, and the user is told that nothing ran. Without this Bolt leaves the request unacknowledged for three
 * seconds and answers 404.
 */
import type { App, BlockAction, BlockElementAction } from '@slack/bolt';
import { PilotError } from '../errors';
import type { Logger } from '../logger';
import { unknownActionIdPattern } from './action-ids';
import { escapeMrkdwn, truncate } from './blocks/format';
import { onClick } from './on-click';

/** Registers the catch-all for unknown action_ids. */
export function registerUnknownActions(app: App, deps: { logger: Logger }): void {
  app.action<BlockAction>(
    { action_id: unknownActionIdPattern() },
    onClick<BlockElementAction>(deps, async ({ action, log }) => {
      const actionId = typeof action.action_id === 'string' ? action.action_id : '';
      log.warn({ actionId: truncate(actionId, 80) }, 'click on a button the bot does not know; nothing ran');
      throw new PilotError(
        'STEP_UNKNOWN',
        `this button (\`${escapeMrkdwn(truncate(actionId, 60))}\`) is not one the bot knows; nothing ran`,
      );
    }),
  );
}
