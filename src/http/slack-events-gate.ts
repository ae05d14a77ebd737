/**
 * What stands in front of Bolt's HTTP listener: the request gate (request-gate.ts) for POST /slack/events, and the
 * answer to a request Bolt cannot route. Transport decisions, kept here so that the wiring (app/receiver.ts) only
 * puts them in place.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@slack/bolt';
import type { Logger } from '../logger';
import { admitRequest } from './read-body';
import { type BodyBudget, gateSlackRequest, SLACK_MAX_BODY_BYTES } from './request-gate';

/** The path Slack posts events, actions and commands to. */
export const SLACK_EVENTS_PATH = '/slack/events';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export interface SlackEventsGateDeps {
  budget: BodyBudget;
  now: () => Date;
  logger: Logger;
  /** Counts a refusal (`reason` of runbook_pilot_slack_requests_refused_total: 401, 413 or busy). */
  refused(reason: string): void;
}

/**
 * Wraps Bolt's listener: a POST /slack/events without a signature, dated more than five minutes off, or declaring a
 * body over Slack's cap is answered before Bolt reads a byte of it, and an admitted one holds its bytes from the shared
 * budget until it is answered. Anything else goes to Bolt as it came.
 */
export function gateSlackEvents(bolt: Listener, deps: SlackEventsGateDeps): Listener {
  const busy = { busy: 'too many request bodies in flight; retry shortly', retryAfterSec: 1, close: true };
  return (req, res) => {
    const path = String(req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== SLACK_EVENTS_PATH) return bolt(req, res);
    const decision = gateSlackRequest(req.headers, { now: deps.now(), maxBodyBytes: SLACK_MAX_BODY_BYTES });
    if (admitRequest(res, decision, deps.budget, busy)) return bolt(req, res);
    deps.refused(decision.admit ? 'busy' : String(decision.status));
    // A stranger's request is counted, not logged at warn: a flood of them must not become a flood of log lines.
    if (decision.admit)
      deps.logger.warn({ budget: deps.budget.maxBytes }, 'Slack request refused with 503: too many bodies in flight');
    else
      deps.logger.debug(
        { status: decision.status, reason: decision.error },
        'Slack request refused before its body was read',
      );
  };
}

/**
 * Bolt's dispatch error handler: a request it cannot route (an unknown path, a malformed URL such as `//`) is the
 * client's error, 404 or 400, rather than Bolt's 500; only the malformed one is worth a log line.
 */
export function unroutedRequest(logger: Logger) {
  return async ({ error, request, response }: { error: Error; request: IncomingMessage; response: ServerResponse }) => {
    const unrouted = (error as { code?: string }).code === ErrorCode.HTTPReceiverDeferredRequestError;
    if (!unrouted)
      logger.warn(
        { err: error, method: request.method, url: String(request.url).slice(0, 200) },
        'request could not be routed',
      );
    response.writeHead(unrouted ? 404 : 400);
    response.end();
  };
}
