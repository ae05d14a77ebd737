/**
 * The bot's connection to Slack, started and stopped: Bolt's auth.test of the bot token, then listening over HTTP or
 * Socket Mode; at stop the receiver closed (and, in Socket Mode, the WebSocket's close handshake waited for). A refusal
 * is one line that names the token to fix (start-error.ts).
 */

import { Server } from 'node:http';
import type { App, SocketModeReceiver } from '@slack/bolt';
import { PilotError } from '../errors';
import type { Logger } from '../logger';
import { withDeadline } from '../with-deadline';
import { slackStartError } from './start-error';

/** The Bolt App and, in Socket Mode, its receiver. */
export interface Receiving {
  app: App;
  socketReceiver?: SocketModeReceiver;
}

export interface ConnectionSettings {
  /** SLACK_API_URL, when not Slack's own. */
  apiUrl?: string;
  /** slack.retries, said in the error when Slack cannot be reached. */
  retries: number;
}

/** Bolt's init: auth.test of the bot token; a refusal or an unreachable Slack is one line that names the variable. */
export async function checkSlackToken(receiving: Receiving, settings: ConnectionSettings): Promise<void> {
  await receiving.app.init().catch((err: unknown) => {
    throw slackStartError(err, {
      variable: 'SLACK_BOT_TOKEN',
      method: 'auth.test',
      ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
      retries: settings.retries,
    });
  });
}

/** Listens, over HTTP or Socket Mode; resolves with the bound port (useful with PORT=0). */
export async function listenForSlack(receiving: Receiving, port: number): Promise<number> {
  return receiving.socketReceiver
    ? await startSocketMode(receiving.app, receiving.socketReceiver, port)
    : await startHttp(receiving.app, port);
}

/** The receiver closed (Socket Mode: the WebSocket too, waited for up to 5 s): no request reaches the bot any more. */
export async function disconnectFromSlack(receiving: Receiving, logger: Logger): Promise<void> {
  const { app, socketReceiver } = receiving;
  // Bolt's stop() does not wait for the WebSocket's close handshake; this resolves with the socket closed.
  const disconnected = socketReceiver
    ? new Promise<boolean>((r) => socketReceiver.client.once('disconnected', () => r(true)))
    : Promise.resolve(true);
  await app.stop().catch((err: unknown) => logger.warn({ err }, 'receiver did not stop cleanly'));
  if (!(await withDeadline(disconnected, 5000))) logger.warn('the Socket Mode connection did not close within 5 s');
}

async function startHttp(app: App, port: number): Promise<number> {
  const server: unknown = await app.start(port);
  return boundPort(server instanceof Server ? server : undefined, port);
}

/**
 * Socket Mode: Bolt starts listening for the custom routes (/healthz, /metrics, /alertmanager) without waiting for it
 * and resolves once Slack's `hello` arrives. If either fails, what did start is stopped again: a token Slack refuses
 * becomes a PilotError that says which token to fix.
 */
async function startSocketMode(app: App, socket: SocketModeReceiver, port: number): Promise<number> {
  // Bolt 5.1 keeps this server private; it exists whenever customRoutes are given, as they are here.
  const server = (socket as unknown as { httpServer: Server }).httpServer;
  const listening = new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const [listened, connected] = await Promise.allSettled([listening, app.start()]);
  const failed = [listened, connected].find((r) => r.status === 'rejected');
  if (failed) {
    await app.stop().catch(() => undefined);
    throw socketModeStartError(failed.reason);
  }
  return boundPort(server, port);
}

/** The port a server is bound to (PORT=0 picks one), or the one asked for when it cannot tell. */
function boundPort(server: Server | undefined, asked: number): number {
  const address = server?.address();
  return typeof address === 'object' && address ? address.port : asked;
}

/**
 * What a failed Socket Mode start means for the operator: Slack's answer to apps.connections.open (invalid_auth for a
 * wrong or revoked app-level token) names the token to fix; anything else (a port in use, say) passes through.
 */
export function socketModeStartError(err: unknown): unknown {
  const slackError =
    (err as { code?: string; data?: { error?: unknown } } | undefined)?.code === 'slack_webapi_platform_error'
      ? (err as { data: { error?: unknown } }).data.error
      : undefined;
  if (typeof slackError !== 'string') return err;
  return new PilotError(
    'SLACK_CONNECT_FAILED',
    `Slack refused the Socket Mode connection: apps.connections.open answered ${slackError}`,
    { cause: err },
  );
}
