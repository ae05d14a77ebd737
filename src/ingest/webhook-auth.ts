/**
 * Who may post to POST /alertmanager: Alertmanager with the configured credentials, as its webhook_config's
 * `http_config` sends them — `authorization: { credentials }` (a bearer token) or `basic_auth: { username, password }`.
 * Comparisons take the same time whatever the guess, so the answer's timing says nothing about the secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema';
import { PilotError } from '../errors';

export interface WebhookCredentials {
  /** Bearer token; empty when not set. */
  token: string;
  basic?: { username: string; password: string };
}

/** The credentials the webhook accepts, from the config. */
export function webhookCredentials(config: Readonly<Pick<Config, 'alertmanager'>>): WebhookCredentials {
  return {
    token: config.alertmanager.token,
    ...(config.alertmanager.basicAuth ? { basic: { ...config.alertmanager.basicAuth } } : {}),
  };
}

/** True when no credentials are configured, i.e. anyone who reaches the port could post alerts. */
export function webhookOpen(creds: WebhookCredentials): boolean {
  return !creds.token && !creds.basic;
}

/**
 * Refuses to start with an open webhook unless the operator said so (`alertmanager.allowUnauthenticated: true`).
 * Throws CONFIG_INVALID with one line that says both ways out.
 */
export function assertWebhookClosed(config: Readonly<Pick<Config, 'alertmanager'>>): void {
  if (!webhookOpen(webhookCredentials(config)) || config.alertmanager.allowUnauthenticated) return;
  throw new PilotError(
    'CONFIG_INVALID',
    'alertmanager.token is empty and alertmanager.basicAuth is not set: POST /alertmanager would accept alerts from anyone who can reach the bot',
    {
      hint: "set alertmanager.token (and the same in the webhook_config's http_config.authorization.credentials) or alertmanager.basicAuth, or set alertmanager.allowUnauthenticated: true if the port is reachable only by Alertmanager",
    },
  );
}

/**
 * Whether an Authorization header carries the configured credentials. Open (nothing configured) accepts anything;
 * the start-up check makes that an explicit choice.
 */
export function webhookAuthorized(header: string | string[] | undefined, creds: WebhookCredentials): boolean {
  if (webhookOpen(creds)) return true;
  if (typeof header !== 'string') return false;
  const m = /^(Bearer|Basic)[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  if (!m) return false;
  const scheme = m[1].toLowerCase();
  if (scheme === 'bearer') return creds.token !== '' && sameSecret(m[2], creds.token);
  if (!creds.basic) return false;
  const decoded = Buffer.from(m[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Both halves are always compared (no early exit on a wrong user name).
  const userOk = sameSecret(decoded.slice(0, colon), creds.basic.username);
  const passOk = sameSecret(decoded.slice(colon + 1), creds.basic.password);
  return userOk && passOk;
}

/**
 * Constant-time equality of two strings of any length: both are hashed to 32 bytes first, so neither the content nor
 * the length of the secret shows in the time taken.
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
