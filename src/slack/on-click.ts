/**
 * The one shape of a click listener: acknowledged at once (Slack wants it within 3 s, the work comes after), a child
 * logger that names the action and the user, the place to answer the clicker, and one error path: whatever the
 * handler throws is told to the clicker alone (ephemeral where they clicked; an internal error as "see logs (id …)",
 * logged under that id with the click's logger). onSubmit is the same for a modal's submission.
 */
import type {
  AllMiddlewareArgs,
  BlockAction,
  BlockElementAction,
  SlackActionMiddlewareArgs,
  SlackViewAction,
  SlackViewMiddlewareArgs,
  ViewOutput,
} from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger';
import { truncate } from './blocks/format';
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
    // An action id comes from the payload: a forged one may be long, and the log keeps only its head.
    const log = deps.logger.child({ actionId: truncate(action.action_id, 80), user, channel: place.channel });
    try {
      await handle({ body, action, client, user, place, log });
    } catch (err) {
      await tellUser({ logger: log }, client, place, err);
    }
  };
}

/** A modal submission as a listener sees it, after its form was read and found valid. */
export interface Submission<F> {
  body: SlackViewAction;
  view: ViewOutput;
  client: WebClient;
  user: string;
  /** What `read` made of the form. */
  form: F;
  /** The bot's logger with the modal's callback id and the user. */
  log: Logger;
}

/** What reading a submitted form gives: the form, or the errors to show on its fields. */
export type FormReading<F> = { form: F } | { errors: Record<string, string> };

/**
 * Wraps a modal submission the way onClick wraps a click. `read` turns the form into what the handler needs, or into
 * errors on its fields: Slack keeps the modal open with them, and they must travel in the ack, so the reading comes
 * first (it must be quick: Slack waits 3 s). Then the ack, a child logger naming the modal and the user, and one error
 * path: whatever `read` or the handler throws is told to the submitter alone (a handler that knows the incident tells
 * it in the incident's thread itself).
 */
export function onSubmit<F>(
  deps: { logger: Logger },
  read: (view: ViewOutput, user: string) => FormReading<F> | Promise<FormReading<F>>,
  handle: (submission: Submission<F>) => Promise<void>,
): (args: SlackViewMiddlewareArgs<SlackViewAction> & AllMiddlewareArgs) => Promise<void> {
  return async ({ ack, body, view, client }) => {
    const user = body.user.id;
    const log = deps.logger.child({ callbackId: view.callback_id, user });
    let reading: FormReading<F>;
    try {
      reading = await read(view, user);
    } catch (err) {
      await ack();
      await tellUser({ logger: log }, client, { user }, err);
      return;
    }
    if ('errors' in reading) {
      await ack({ response_action: 'errors', errors: reading.errors });
      return;
    }
    await ack();
    try {
      await handle({ body, view, client, user, form: reading.form, log });
    } catch (err) {
      await tellUser({ logger: log }, client, { user }, err);
    }
  };
}
