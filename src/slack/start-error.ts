/**
 * What Slack's refusal at start-up means for the operator, in one line: which variable holds the token Slack refused,
 * what Slack said (its documented error code), and what to do. Without this, Bolt's `auth.test` failure ended the
 * start in a `WebAPIPlatformError` and its stack trace, and an unreachable Slack in a stack trace after the retries.
 * Pure: the lifecycle passes Bolt's error through it.
 */
import { PilotError } from '../errors';

export interface SlackCall {
  /** The environment variable that holds the token used (SLACK_BOT_TOKEN, SLACK_APP_TOKEN). */
  variable: string;
  /** The Web API method Slack answered (auth.test, apps.connections.open). */
  method: string;
  /** The Web API base URL, when not Slack's own (SLACK_API_URL). */
  apiUrl?: string;
  /** Retries made before giving up (slack.retries). */
  retries: number;
}

/** Slack's documented answers for a token it will not take, and what the operator does about each. */
const TOKEN_FIXES: Record<string, string> = {
  invalid_auth: 'copy the Bot User OAuth Token (xoxb-…) from the app’s OAuth & Permissions page',
  not_authed: 'set it to the Bot User OAuth Token (xoxb-…) from the app’s OAuth & Permissions page',
  token_revoked: 'the app was removed or its token revoked: reinstall the app to the workspace and copy the new token',
  token_expired: 'the token expired (token rotation is on): copy a fresh token, or turn rotation off for this app',
  account_inactive:
    'the app or its bot user was deactivated: reinstall the app to the workspace and copy the new token',
  not_allowed_token_type:
    'this method needs another kind of token: a bot token (xoxb-…) in SLACK_BOT_TOKEN, an app-level token (xapp-…) in SLACK_APP_TOKEN',
  invalid_token: 'the value is not a Slack token: copy the token again, whole',
  ekm_access_denied: 'your workspace’s Enterprise Key Management revoked access: ask its administrators',
  org_login_required: 'the workspace is migrating to an Enterprise Grid org: wait for it to finish, then start again',
};

/** Network errors a fetch or socket reports, as the operator reads them. */
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'the name does not resolve',
  EAI_AGAIN: 'the name does not resolve (DNS did not answer)',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'no route to the network',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    'its TLS certificate cannot be verified (a TLS-inspecting proxy? set NODE_EXTRA_CA_CERTS)',
  SELF_SIGNED_CERT_IN_CHAIN:
    'its TLS certificate chain is self-signed (a TLS-inspecting proxy? set NODE_EXTRA_CA_CERTS)',
};

/** Bolt's (or the Web API client's) error from a start-up call, as one PilotError line; anything else passes through. */
export function slackStartError(err: unknown, call: SlackCall): unknown {
  const e = err as { code?: unknown; data?: { error?: unknown }; statusCode?: unknown; original?: unknown } | undefined;
  const where = call.apiUrl ? ` at ${call.apiUrl}` : '';
  if (e?.code === 'slack_webapi_platform_error' && typeof e.data?.error === 'string') {
    const said = e.data.error;
    const fix = TOKEN_FIXES[said];
    return new PilotError(
      'SLACK_AUTH_FAILED',
      `Slack refused ${call.variable}: ${call.method}${where} answered ${said}`,
      {
        hint: fix
          ? `${fix}, put it in ${call.variable} (environment or .env), then start again`
          : `look up ${said} under https://api.slack.com/methods/${call.method}, fix ${call.variable} or the app, then start again`,
        cause: err,
      },
    );
  }
  const unreachable = (reason: string) =>
    new PilotError(
      'SLACK_UNREACHABLE',
      `Slack did not answer ${call.method}${where || ' at https://slack.com/api/'} (${reason}${call.retries ? `, after ${call.retries} ${call.retries === 1 ? 'retry' : 'retries'}` : ''})`,
      {
        hint: call.apiUrl
          ? 'check SLACK_API_URL (unset it for Slack’s own) and that it is up, then start again'
          : 'check this machine’s network path to slack.com (DNS, firewall, HTTPS_PROXY), then start again',
        cause: err,
      },
    );
  if (e?.code === 'slack_webapi_http_error' && typeof e.statusCode === 'number')
    return unreachable(`HTTP ${e.statusCode}`);
  if (e?.code === 'slack_webapi_request_error') return unreachable(networkReason(e.original ?? err));
  return err;
}

/** The innermost system error code of a (fetch) error chain, in words; its message when there is none. */
function networkReason(err: unknown): string {
  let cur: unknown = err;
  let innermost = err;
  for (let i = 0; i < 5 && cur; i++) {
    const c = cur as { code?: unknown; cause?: unknown; name?: unknown; errors?: unknown };
    if (typeof c.code === 'string') return NETWORK_WORDS[c.code] ? `${NETWORK_WORDS[c.code]}, ${c.code}` : c.code;
    if (c.name === 'AbortError' || c.name === 'TimeoutError') return 'no answer in time';
    innermost = cur;
    // Node's connect to several addresses (IPv4 and IPv6) fails as an AggregateError of each.
    cur = c.cause ?? (Array.isArray(c.errors) ? c.errors[0] : undefined);
  }
  // fetch says "fetch failed" and keeps the reason in its cause: the innermost message says more.
  const message = innermost instanceof Error ? innermost.message : String(innermost);
  return message.split('\n')[0].slice(0, 200);
}
