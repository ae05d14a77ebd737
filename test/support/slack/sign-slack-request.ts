/**
 * Slack's request signing (v0), byte for byte as Slack does it and as @slack/bolt's `verifySlackRequest` checks it:
 * `v0=` + hex HMAC-SHA256(signing secret, `v0:${timestamp}:${rawBody}`), sent with `X-Slack-Request-Timestamp`.
 * See https://docs.slack.dev/authentication/verifying-requests-from-slack
 */
import { createHmac } from 'node:crypto';

/** The `X-Slack-Signature` value for a raw body sent at `timestamp` (Unix seconds). */
export function signSlackRequest(signingSecret: string, timestamp: number | string, rawBody: string): string {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return `v0=${digest}`;
}
